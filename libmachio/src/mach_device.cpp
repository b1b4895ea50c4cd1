// SPDX-License-Identifier: LGPL-2.1-or-later
//
// device_open, device_close, device_get_status and their machio variants.
//
// The library opens the block device itself (O_DIRECT, with no more access
// than asked for) and hands the descriptor to the module, which keeps its
// own reference to the open file; the library's descriptor is closed again
// at once.
#include "internal.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace machio::detail {

namespace {

constexpr dev_mode_t known_open_modes = D_READ | D_WRITE | D_NODELAY | D_NOWAIT;

// The access part of a device_open mode; 0 for unknown bits.  No access
// bit at all means read access.
dev_mode_t open_access(dev_mode_t mode) noexcept {
    if (mode & ~known_open_modes)
        return 0;
    dev_mode_t access = mode & (D_READ | D_WRITE);
    return access ? access : D_READ;
}

call_kind open_kind(dev_mode_t access) noexcept {
    return access & D_WRITE ? call_kind::device_open_wr : call_kind::device_open_rd;
}

kern_return_t device_open_ioctl(int fd, int dev_fd, dev_mode_t access, mach_port_t* device,
                                device_geometry* geometry) noexcept {
    struct machio_device_open arg = {};
    arg.fd = dev_fd;
    arg.mode = access;
    kern_return_t kr = ioctl_kern(fd, MACHIO_IOC_DEVICE_OPEN, &arg, open_kind(access));
    if (kr != KERN_SUCCESS)
        return kr;
    *device = arg.device;
    if (geometry) {
        geometry->block_size = arg.block_size;
        geometry->size = arg.size;
    }
    return KERN_SUCCESS;
}

} // namespace

bool resolve_device_path(const char* name, char* out, std::size_t out_size) noexcept {
    const char* prefix = std::strchr(name, '/') ? "" : "/dev/";
    int len = std::snprintf(out, out_size, "%s%s", prefix, name);
    return len >= 0 && static_cast<std::size_t>(len) < out_size;
}

kern_return_t device_open_path(int fd, const char* path, dev_mode_t mode, mach_port_t* device,
                               device_geometry* geometry) noexcept {
    if (!path || !device)
        return KERN_INVALID_ARGUMENT;
    const dev_mode_t access = open_access(mode);
    if (!access)
        return KERN_INVALID_ARGUMENT;
    if (!*path)
        return D_NO_SUCH_DEVICE;

    int flags = access == (D_READ | D_WRITE) ? O_RDWR : access == D_WRITE ? O_WRONLY : O_RDONLY;
    int dev_fd = ::open(path, flags | O_DIRECT | O_CLOEXEC);
    if (dev_fd < 0) {
        // EINVAL from open(2) here means the node cannot do O_DIRECT: it is
        // no block device.
        int err = errno == EINVAL ? ENOTBLK : errno;
        return errno_to_kern(err, open_kind(access));
    }
    kern_return_t kr = device_open_ioctl(fd, dev_fd, access, device, geometry);
    ::close(dev_fd); // the module holds its own reference
    return kr;
}

kern_return_t device_open_fd(int fd, int dev_fd, dev_mode_t mode, mach_port_t* device,
                             device_geometry* geometry) noexcept {
    if (!device)
        return KERN_INVALID_ARGUMENT;
    const dev_mode_t access = open_access(mode);
    if (!access)
        return KERN_INVALID_ARGUMENT;

    // Tell "no such descriptor" from "descriptor too weak" before the
    // module answers both with EBADF.
    int flags = ::fcntl(dev_fd, F_GETFL);
    if (flags < 0)
        return D_NO_SUCH_DEVICE;
    int acc = flags & O_ACCMODE;
    if ((access & D_WRITE) && acc == O_RDONLY)
        return D_READ_ONLY;
    if ((access & D_READ) && acc == O_WRONLY)
        return KERN_NO_ACCESS;
    return device_open_ioctl(fd, dev_fd, access, device, geometry);
}

kern_return_t device_status(int fd, mach_port_t device, device_geometry* geometry) noexcept {
    struct machio_device_status arg = {};
    arg.device = device;
    kern_return_t kr = ioctl_kern(fd, MACHIO_IOC_DEVICE_STATUS, &arg, call_kind::device);
    if (kr == KERN_SUCCESS) {
        geometry->block_size = arg.block_size;
        geometry->size = arg.size;
    }
    return kr;
}

// MACHIO_IOC_DEVICE_LIMIT: set *set if given, and read the limit into *now if given.
kern_return_t device_limit(int fd, mach_port_t device, const unsigned int* set,
                           unsigned int* now) noexcept {
    struct machio_device_limit arg = {};
    arg.device = device;
    if (set) {
        arg.flags = MACHIO_LIMIT_SET;
        arg.limit = *set;
    }
    if (::ioctl(fd, MACHIO_IOC_DEVICE_LIMIT, &arg) != 0)
        return errno == EPERM ? D_READ_ONLY : errno_to_kern(errno, call_kind::device);
    if (now)
        *now = arg.limit;
    return KERN_SUCCESS;
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" kern_return_t device_open(mach_port_t master_port, dev_mode_t mode, const char* name,
                                     mach_port_t* device) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (master_port != space->host || !name || !device)
        return KERN_INVALID_ARGUMENT;
    // name is a dev_name_t: 1 to 127 characters and a NUL.
    const std::size_t len = ::strnlen(name, sizeof(dev_name_t));
    if (len == 0 || len == sizeof(dev_name_t))
        return D_NO_SUCH_DEVICE;
    char path[sizeof("/dev/") + sizeof(dev_name_t)];
    if (!resolve_device_path(name, path, sizeof(path)))
        return D_NO_SUCH_DEVICE;
    return device_open_path(space->fd, path, mode, device, nullptr);
}

extern "C" kern_return_t machio_device_open_fd(mach_port_t master_port, int fd, dev_mode_t mode,
                                               mach_port_t* device) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (master_port != space->host)
        return KERN_INVALID_ARGUMENT;
    return device_open_fd(space->fd, fd, mode, device, nullptr);
}

extern "C" kern_return_t device_close(mach_port_t device) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    return port_deallocate(space->fd, device, call_kind::device);
}

extern "C" kern_return_t device_get_status(mach_port_t device, dev_flavor_t flavor,
                                           dev_status_t status,
                                           mach_msg_type_number_t* status_count) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (!status || !status_count)
        return KERN_INVALID_ARGUMENT;
    if (flavor == MDIOCGETL) {
        if (*status_count < 1)
            return D_INVALID_SIZE;
        unsigned int limit = 0;
        kern_return_t kr = device_limit(space->fd, device, nullptr, &limit);
        if (kr != KERN_SUCCESS)
            return kr;
        status[0] = static_cast<int>(limit);
        *status_count = 1;
        return D_SUCCESS;
    }
    if (flavor != DEV_GET_SIZE)
        return D_INVALID_OPERATION;
    if (*status_count < DEV_GET_SIZE_COUNT)
        return D_INVALID_SIZE;

    device_geometry geometry;
    kern_return_t kr = device_status(space->fd, device, &geometry);
    if (kr != KERN_SUCCESS)
        return kr;
    status[DEV_GET_SIZE_DEVICE_SIZE] =
        geometry.size > INT_MAX ? INT_MAX : static_cast<int>(geometry.size);
    status[DEV_GET_SIZE_RECORD_SIZE] = static_cast<int>(geometry.block_size);
    *status_count = DEV_GET_SIZE_COUNT;
    return D_SUCCESS;
}

extern "C" kern_return_t device_set_status(mach_port_t device, dev_flavor_t flavor,
                                           dev_status_t status,
                                           mach_msg_type_number_t status_count) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (!status)
        return KERN_INVALID_ARGUMENT;
    if (flavor != MDIOCSETL)
        return D_INVALID_OPERATION;
    if (status_count < 1)
        return D_INVALID_SIZE;
    if (status[0] < 0 || status[0] > IO_IN_PROGRESS_MAX)
        return D_INVALID_OPERATION;
    auto limit = static_cast<unsigned int>(status[0]);
    return device_limit(space->fd, device, &limit, nullptr);
}

extern "C" kern_return_t machio_device_size(mach_port_t device, uint64_t* size,
                                            unsigned int* block_size) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (!size)
        return KERN_INVALID_ARGUMENT;
    device_geometry geometry;
    kern_return_t kr = device_status(space->fd, device, &geometry);
    if (kr != KERN_SUCCESS)
        return kr;
    *size = geometry.size;
    if (block_size)
        *block_size = geometry.block_size;
    return KERN_SUCCESS;
}
