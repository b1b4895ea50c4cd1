// SPDX-License-Identifier: LGPL-2.1-or-later
//
// mach_port_deallocate.
#include "internal.hpp"

namespace machio::detail {

kern_return_t port_deallocate(int fd, mach_port_t name, call_kind kind) noexcept {
    struct machio_port_deallocate arg = {};
    arg.name = name;
    return ioctl_kern(fd, MACHIO_IOC_PORT_DEALLOCATE, &arg, kind);
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" kern_return_t mach_port_deallocate(mach_port_t task, mach_port_t name) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (task != space->task)
        return KERN_INVALID_TASK;
    // As in Mach: null and dead are no names at all.  The host and task
    // names last as long as the space; their user references are not
    // counted, so releasing one is a no-op.
    if (!MACH_PORT_VALID(name) || name == space->host || name == space->task)
        return KERN_SUCCESS;
    kern_return_t kr = port_deallocate(space->fd, name, call_kind::port_deallocate);
    // A (terminated) queue's file and ring go with its name.
    if (kr == KERN_SUCCESS)
        ring_unregister(space->epoch, name);
    return kr;
}
