// SPDX-License-Identifier: LGPL-2.1-or-later
//
// io_done_queue_create, io_done_queue_wait, io_done_queue_terminate, and
// the machio extensions for queues: options, batched reaping, the queue's
// file for event loops.
//
// io_done_queue_create gives a queue a completion ring (default_ring_entries()
// slots) when the module can, so io_done_queue_wait takes completions
// without a system call while there are some; otherwise, or when the ring's
// memory is refused, a plain queue, which behaves the same, slower.
#include "internal.hpp"

#include <cerrno>

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

namespace {

// A queue of the process space made with options; its file (and ring) are
// remembered by name for io_done_queue_wait and machio_io_done_queue_fd.
kern_return_t create_with(const space_info& space, mach_port_t host, const queue_options& options,
                          mach_port_t* queue) noexcept {
    ring_map ring;
    kern_return_t kr = queue_setup(space.fd, host, options, queue, &ring);
    if (kr != KERN_SUCCESS)
        return kr;
    if (!ring_register(space.epoch, *queue, ring))
        ring_unmap(&ring); // no memory to remember it: the queue works without
    return KERN_SUCCESS;
}

// The last result pointer this thread handed the kernel successfully.  A
// completion taken from the ring is stored by us, not by the kernel; a bad
// pointer must still get KERN_INVALID_ARGUMENT (with the completion kept),
// so a pointer is first used through the kernel, which checks it.
thread_local io_done_result_t* t_checked_result = nullptr;

} // namespace

extern "C" kern_return_t io_done_queue_create(mach_port_t host, mach_port_t* queue) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (!queue)
        return KERN_INVALID_ARGUMENT;
    const std::uint32_t entries = default_ring_entries();
    if (entries && (space->features & MACHIO_FEAT_QUEUE_SETUP)) {
        kern_return_t kr = create_with(*space, host, {.ring_entries = entries}, queue);
        // Out of ring memory (or the file could not be made): a plain queue.
        if (kr != KERN_RESOURCE_SHORTAGE && kr != KERN_FAILURE)
            return kr;
    }
    return queue_create(space->fd, host, queue);
}

extern "C" kern_return_t io_done_queue_wait(mach_port_t queue, io_done_result_t* result) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (result && result == t_checked_result) {
        if (ring_entry* e = ring_get(space->epoch, queue)) {
            kern_return_t kr = queue_wait_ring(space->fd, queue, &ring_of(e), result);
            ring_put(e);
            return kr;
        }
    }
    kern_return_t kr = queue_wait(space->fd, queue, result);
    if (kr == KERN_SUCCESS)
        t_checked_result = result;
    return kr;
}

extern "C" kern_return_t machio_io_done_queue_create_with(mach_port_t host,
                                                          const machio_queue_options_t* options,
                                                          mach_port_t* queue) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (!options || !queue)
        return KERN_INVALID_ARGUMENT;
    if (!(space->features & MACHIO_FEAT_QUEUE_SETUP))
        return KERN_FAILURE;
    if (options->flags & ~MACHIO_QUEUE_POLLED)
        return KERN_INVALID_ARGUMENT;
    return create_with(*space, host,
                       {.ring_entries = options->ring_entries,
                        .eventfd = options->eventfd,
                        .polled = (options->flags & MACHIO_QUEUE_POLLED) != 0},
                       queue);
}

extern "C" int machio_io_done_queue_fd(mach_port_t queue) {
    const space_info* space = process_space();
    if (!space)
        return -1;
    ring_entry* e = ring_get(space->epoch, queue);
    if (!e) {
        errno = ENOENT;
        return -1;
    }
    const int fd = ring_of(e).qfd;
    ring_put(e);
    return fd;
}

extern "C" int machio_io_done_queue_ready(mach_port_t queue) {
    const space_info* space = process_space();
    if (!space)
        return -1;
    ring_entry* e = ring_get(space->epoch, queue);
    if (!e || !ring_of(e).hdr) {
        if (e)
            ring_put(e);
        errno = ENOENT;
        return -1;
    }
    const int n = static_cast<int>(ring_ready(ring_of(e)));
    ring_put(e);
    return n;
}

extern "C" kern_return_t machio_io_done_queue_reap(mach_port_t queue, unsigned int min,
                                                   unsigned int max, struct machio_cqe* completions,
                                                   long long timeout_ns, unsigned int* count) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    ring_entry* e = ring_get(space->epoch, queue);
    kern_return_t kr = queue_reap(space->fd, queue, e ? &ring_of(e) : nullptr, min, max,
                                  completions, timeout_ns, count);
    if (e)
        ring_put(e);
    return kr;
}

extern "C" kern_return_t io_done_queue_terminate(mach_port_t queue) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    return queue_terminate(space->fd, queue);
}
