// SPDX-License-Identifier: LGPL-2.1-or-later
//
// io_done_queue_create, io_done_queue_wait, io_done_queue_terminate.
#include "internal.hpp"

namespace machio::detail {

kern_return_t queue_create(int fd, mach_port_t host, mach_port_t* queue) noexcept {
    if (!queue)
        return KERN_INVALID_ARGUMENT;
    struct machio_queue_create arg = {};
    arg.host = host;
    kern_return_t kr = ioctl_kern(fd, MACHIO_IOC_QUEUE_CREATE, &arg, call_kind::generic);
    if (kr == KERN_SUCCESS)
        *queue = arg.queue;
    return kr;
}

kern_return_t queue_terminate(int fd, mach_port_t queue) noexcept {
    struct machio_queue_terminate arg = {};
    arg.queue = queue;
    return ioctl_kern(fd, MACHIO_IOC_QUEUE_TERMINATE, &arg, call_kind::generic);
}

kern_return_t queue_wait(int fd, mach_port_t queue, io_done_result_t* result) noexcept {
    // The kernel writes the completion straight into *result: the pointer is
    // passed on unchecked, so that a bad one is answered by the kernel
    // (which then keeps the completion queued).
    struct machio_queue_wait arg = {};
    arg.queue = queue;
    arg.flags = 0;
    arg.result = reinterpret_cast<std::uintptr_t>(result);
    return ioctl_kern(fd, MACHIO_IOC_QUEUE_WAIT, &arg, call_kind::wait);
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" kern_return_t io_done_queue_create(mach_port_t host, mach_port_t* queue) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    return queue_create(space->fd, host, queue);
}

extern "C" kern_return_t io_done_queue_wait(mach_port_t queue, io_done_result_t* result) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    return queue_wait(space->fd, queue, result);
}

extern "C" kern_return_t io_done_queue_terminate(mach_port_t queue) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    return queue_terminate(space->fd, queue);
}
