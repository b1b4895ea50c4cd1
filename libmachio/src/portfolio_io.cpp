// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Portfolio I/O requests over the module (module/pf_ioreq.c):
// CreateIOReq builds the tag list Opera's clib built; SendIO, DoIO,
// WaitIO and AbortIO are one call each; CheckIO reads the item view.
#include "internal.hpp"

#include <machio/portfolio.h>

#include <cstddef>

namespace {

// The module reads IOInfo as its own struct, and the view as IOReq.
static_assert(sizeof(IOInfo) == sizeof(struct machio_pf_ioinfo));
static_assert(offsetof(IOInfo, ioi_Offset) == offsetof(struct machio_pf_ioinfo, ioi_Offset));
static_assert(offsetof(IOInfo, ioi_Send) == offsetof(struct machio_pf_ioinfo, ioi_Send));
static_assert(offsetof(IOInfo, ioi_Recv) == offsetof(struct machio_pf_ioinfo, ioi_Recv));
static_assert(offsetof(IOBuf, iob_Len) == offsetof(struct machio_pf_iobuf, iob_Len));
static_assert(sizeof(IOReq) == sizeof(struct machio_pf_ioreq_view));
static_assert(offsetof(IOReq, io_Info) == offsetof(struct machio_pf_ioreq_view, io_Info));
static_assert(offsetof(IOReq, io_Actual) == offsetof(struct machio_pf_ioreq_view, io_Actual));
static_assert(offsetof(IOReq, io_Flags) == offsetof(struct machio_pf_ioreq_view, io_Flags));
static_assert(offsetof(IOReq, io_Error) == offsetof(struct machio_pf_ioreq_view, io_Error));
static_assert(offsetof(IOReq, io_MsgItem) == offsetof(struct machio_pf_ioreq_view, io_MsgItem));
static_assert(sizeof(DeviceStatus) == sizeof(struct machio_pf_device_status));

Err send_io(Item ior, const IOInfo* ioiP, uint32_t flags) {
    struct machio_pf_io arg = {};
    arg.ioreq = ior;
    arg.flags = flags;
    arg.info = reinterpret_cast<uintptr_t>(ioiP);
    if (int32 err = machio::detail::portfolio_ioctl(MACHIO_IOC_PF_SEND_IO, &arg))
        return err;
    // DoIO's wait ended by a Linux signal: the request is still running.
    if (arg.flags & MACHIO_PF_IO_PENDING)
        return WaitIO(ior);
    return arg.result;
}

} // namespace

extern "C" Item CreateIOReq(const char* name, uint8 pri, Item dev, Item mp) {
    // Opera's clib: the reply port only when there is one.
    TagArg tags[5];
    size_t n = 0;
    tags[n++] = TagArg{TAG_ITEM_PRI, reinterpret_cast<TagData>(uintptr_t(pri))};
    if (name)
        tags[n++] = TagArg{TAG_ITEM_NAME, const_cast<char*>(name)};
    tags[n++] = TagArg{CREATEIOREQ_TAG_DEVICE, reinterpret_cast<TagData>(intptr_t(dev))};
    if (mp > 0)
        tags[n++] = TagArg{CREATEIOREQ_TAG_REPLYPORT, reinterpret_cast<TagData>(intptr_t(mp))};
    tags[n] = TagArg{TAG_END, nullptr};
    return CreateItem(MKNODEID(KERNELNODE, IOREQNODE), tags);
}

extern "C" Err SendIO(Item ior, const IOInfo* ioiP) {
    return send_io(ior, ioiP, 0);
}

extern "C" Err DoIO(Item ior, const IOInfo* ioiP) {
    return send_io(ior, ioiP, MACHIO_PF_IO_WAIT);
}

extern "C" Err WaitIO(Item ior) {
    return machio::detail::portfolio_item_call(MACHIO_IOC_PF_WAIT_IO, ior);
}

extern "C" Err AbortIO(Item ior) {
    return machio::detail::portfolio_item_call(MACHIO_IOC_PF_ABORT_IO, ior);
}

extern "C" int32 CheckIO(Item ior) {
    auto* req = static_cast<const IOReq*>(CheckItem(ior, KERNELNODE, IOREQNODE));
    if (!req)
        return BADITEM;
    uint32 flags = __atomic_load_n(&req->io_Flags, __ATOMIC_ACQUIRE);
    // Deleted while we read: the slot is no longer this IOReq.
    if (__atomic_load_n(&req->io.n_Item, __ATOMIC_ACQUIRE) != ior)
        return BADITEM;
    return (flags & IO_DONE) ? 1 : 0;
}
