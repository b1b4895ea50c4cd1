// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Portfolio devices: OpenNamedDevice, OpenItem, FindAndOpen*Item and
// CloseItem over the module (module/pf_device.c).  The library opens the block device itself, with
// the caller's permissions, as device_open does; the module keeps its own
// reference to the file.
#include "internal.hpp"

#include <machio/portfolio.h>

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace {

static_assert(sizeof(Device) == MACHIO_PF_DEVICE_SIZE);
static_assert(offsetof(Device, dev_OpenCnt) == MACHIO_PF_DEVICE_OPENCNT);

constexpr Err not_found = MakeKErr(ER_SEVERE, ER_C_STND, ER_NotFound);
constexpr Err cant_open = MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_CantOpen);

// Read and write if the caller may, else read only; -errno if neither.
int open_block_device(const char* path) {
    int fd = ::open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
        fd = ::open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

Err open_error(int err) {
    switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
    case EBUSY:
        return cant_open;
    case ENOMEM:
        return NOMEM;
    default:
        return not_found;
    }
}

} // namespace

extern "C" Item OpenNamedDevice(const char* name, void* /* args: ignored, as in Opera */) {
    const machio::detail::space_info* space = machio::detail::process_space();
    if (!space)
        return NOSUPPORT;
    char path[4096];
    if (!name || !*name || !machio::detail::resolve_device_path(name, path, sizeof(path)))
        return not_found;
    int fd = open_block_device(path);
    if (fd < 0)
        return open_error(-fd);
    struct machio_pf_call arg = {};
    arg.arg = fd;
    int32 err = machio::detail::portfolio_ioctl(MACHIO_IOC_PF_OPEN_DEVICE, &arg);
    ::close(fd); // the module keeps its own reference
    return err ? err : arg.result;
}

extern "C" Err CloseItem(Item item) {
    return machio::detail::portfolio_item_call(MACHIO_IOC_PF_CLOSE_ITEM, item);
}

extern "C" Item OpenItem(Item foundItem, void* args) {
    if (args)
        return BADPTR;
    auto* node = static_cast<const ItemNode*>(LookupItem(foundItem));
    if (!node)
        return BADITEM;
    if (node->n_SubsysType != KERNELNODE || node->n_Type != DEVICENODE)
        return cant_open;
    // A device opens through its block device, with the caller's rights.
    char name[256];
    struct machio_pf_item_name arg = {};
    arg.item = foundItem;
    arg.name = reinterpret_cast<uintptr_t>(name);
    arg.size = sizeof(name);
    if (int32 err = machio::detail::portfolio_ioctl(MACHIO_IOC_PF_ITEM_NAME, &arg))
        return err;
    if (arg.result < 0)
        return arg.result;
    Item opened = OpenNamedDevice(name, nullptr);
    return opened == not_found ? cant_open : opened;
}

extern "C" Item FindAndOpenItem(int32 ct, const TagArg* tp) {
    Item found = FindItem(ct, tp);
    if (found >= 0)
        return OpenItem(found, nullptr);
    if (ct != MKNODEID(KERNELNODE, DEVICENODE) || found != not_found)
        return found;
    // A device nobody has open: Opera loaded it by name; here it opens by name.
    for (const TagArg* t = tp; t && t->ta_Tag != TAG_END; t++) {
        if (t->ta_Tag == TAG_ITEM_NAME)
            return OpenNamedDevice(static_cast<const char*>(t->ta_Arg), nullptr);
    }
    return not_found;
}

extern "C" Item FindAndOpenNamedItem(int32 ct, const char* name) {
    TagArg tags[2] = {{TAG_ITEM_NAME, const_cast<char*>(name)}, {TAG_END, nullptr}};
    return FindAndOpenItem(ct, tags);
}
