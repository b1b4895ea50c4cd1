// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Registered buffers: machio_buffer_register.  A buffer is a name of the
// space, released with mach_port_deallocate.
#include "internal.hpp"

#include <cerrno>
#include <sys/ioctl.h>

namespace machio::detail {

kern_return_t buffer_register(int fd, void* addr, std::size_t len, mach_port_t* buffer) noexcept {
    if (!buffer)
        return KERN_INVALID_ARGUMENT;
    struct machio_buffer_register arg = {};
    arg.addr = reinterpret_cast<std::uintptr_t>(addr);
    arg.len = len;
    if (::ioctl(fd, MACHIO_IOC_BUFFER_REGISTER, &arg) != 0) {
        // ENOMEM here is RLIMIT_MEMLOCK (or memory): a resource shortage.
        return errno_to_kern(errno, call_kind::generic);
    }
    *buffer = arg.name;
    return KERN_SUCCESS;
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" kern_return_t machio_buffer_register(void* addr, size_t len, mach_port_t* buffer) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    return buffer_register(space->fd, addr, len, buffer);
}
