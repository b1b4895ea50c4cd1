// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The core every queue front end shares: queues made with options
// (MACHIO_IOC_QUEUE_SETUP), their completion rings as mapped memory,
// taking completions from a ring without a system call, and waiting or
// reaping through the kernel when it is empty.
//
// A consumer copies the completion at head and then takes it with one
// compare-and-swap of the 64-bit head (slot index | completion count), so
// any number of threads can consume one ring, and the kernel's own
// consumers (MACHIO_IOC_QUEUE_WAIT/REAP) with them; see
// <uapi/linux/machio.h>.
#include "internal.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace machio::detail {

namespace {

std::uint64_t load_acquire(__u64* v) noexcept {
    return std::atomic_ref<__u64>(*v).load(std::memory_order_acquire);
}

std::uint32_t count_of(std::uint64_t pos) noexcept {
    return static_cast<std::uint32_t>(pos >> 32);
}

} // namespace

std::uint32_t default_ring_entries() noexcept {
    // Read once: a program's queues all get the same size.  (No function-
    // local static: its guard would need libstdc++, see internal.hpp.)
    static std::atomic<std::int64_t> cached{-1};
    std::int64_t v = cached.load(std::memory_order_relaxed);
    if (v >= 0)
        return static_cast<std::uint32_t>(v);
    v = 4096;
    if (const char* env = std::getenv("MACHIO_RING_ENTRIES"); env && *env) {
        char* end = nullptr;
        unsigned long n = std::strtoul(env, &end, 10);
        if (!*end && n <= MACHIO_RING_MAX_ENTRIES && !(n & (n - 1)))
            v = static_cast<std::int64_t>(n);
    }
    cached.store(v, std::memory_order_relaxed);
    return static_cast<std::uint32_t>(v);
}

kern_return_t queue_setup(int fd, mach_port_t host, const queue_options& options,
                          mach_port_t* queue, ring_map* ring) noexcept {
    if (!queue || !ring)
        return KERN_INVALID_ARGUMENT;
    *ring = ring_map{};
    struct machio_queue_setup arg = {};
    arg.host = host;
    if (options.ring_entries) {
        arg.flags |= MACHIO_QUEUE_RING;
        arg.ring_entries = options.ring_entries;
    }
    if (options.eventfd >= 0) {
        arg.flags |= MACHIO_QUEUE_EVENTFD;
        arg.eventfd = options.eventfd;
    }
    if (options.polled)
        arg.flags |= MACHIO_QUEUE_POLLED;
    if (::ioctl(fd, MACHIO_IOC_QUEUE_SETUP, &arg) != 0)
        return errno_to_kern(errno == EBADF ? EINVAL : errno, call_kind::generic);
    ring->qfd = arg.fd;
    if (arg.ring_size) {
        void* map = ::mmap(nullptr, arg.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, arg.fd, 0);
        if (map == MAP_FAILED) {
            // The queue exists; without its ring it still works, slower.
            return KERN_SUCCESS;
        }
        ring->map = map;
        ring->size = arg.ring_size;
        ring->hdr = static_cast<machio_ring_header*>(map);
        ring->cqes = reinterpret_cast<machio_cqe*>(static_cast<char*>(map) + arg.cqes_offset);
        ring->mask = ring->hdr->entries - 1;
    }
    *queue = arg.queue;
    return KERN_SUCCESS;
}

void ring_unmap(ring_map* ring) noexcept {
    if (ring->map)
        ::munmap(ring->map, ring->size);
    if (ring->qfd >= 0)
        ::close(ring->qfd);
    *ring = ring_map{};
}

int ring_pop(const ring_map& ring, machio_cqe* out, unsigned int room) noexcept {
    std::atomic_ref<__u64> head_ref(ring.hdr->head);
    for (;;) {
        if (std::atomic_ref<__u32>(ring.hdr->flags).load(std::memory_order_acquire) &
            MACHIO_RING_DEAD)
            return -1;
        // Head first: a tail read after it is never behind it.
        __u64 head = head_ref.load(std::memory_order_acquire);
        std::uint64_t tail = load_acquire(&ring.hdr->tail);
        // Empty; or head already past this tail (moved after we read tail).
        if (static_cast<std::int32_t>(count_of(tail) - count_of(head)) <= 0)
            return 0;
        const std::uint32_t slot = static_cast<std::uint32_t>(head);
        out[0] = ring.cqes[slot & ring.mask];
        std::uint32_t nr = out[0].slots;
        if (nr < 1 || nr > MACHIO_CQE_MAX_SLOTS)
            nr = 1;
        if (nr > room)
            return ring_no_room;
        for (std::uint32_t i = 1; i < nr; i++)
            out[i] = ring.cqes[(slot + i) & ring.mask];
        // Ours only if nobody took it while we copied it.
        if (head_ref.compare_exchange_weak(head, head + (std::uint64_t{1} << 32) + nr,
                                           std::memory_order_acq_rel, std::memory_order_relaxed))
            return static_cast<int>(nr);
    }
}

std::uint32_t ring_ready(const ring_map& ring) noexcept {
    std::uint64_t head = load_acquire(&ring.hdr->head);
    std::uint64_t tail = load_acquire(&ring.hdr->tail);
    const auto n = static_cast<std::int32_t>(count_of(tail) - count_of(head));
    return n > 0 ? static_cast<std::uint32_t>(n) : 0;
}

void cqe_to_result(const machio_cqe* cqe, io_done_result_t* result) noexcept {
    std::memset(result, 0, sizeof(*result));
    result->qd_type = cqe->type;
    result->qd_reqid = cqe->reqid;
    result->qd_code = cqe->code;
    result->qd_count = cqe->count;
    result->qd_data = reinterpret_cast<io_buf_ptr_t>(static_cast<std::uintptr_t>(cqe->data));
    if (cqe->flags & MACHIO_CQE_INBAND) {
        std::size_t n = cqe->count < 0 ? 0 : static_cast<std::size_t>(cqe->count);
        if (n > sizeof(result->qd_inline))
            n = sizeof(result->qd_inline);
        std::memcpy(result->qd_inline, cqe + 1, n);
        result->qd_data = result->qd_inline;
    }
}

kern_return_t queue_wait_ring(int fd, mach_port_t queue, const ring_map* ring,
                              io_done_result_t* result) noexcept {
    if (ring && ring->hdr && result) {
        machio_cqe cqe[MACHIO_CQE_MAX_SLOTS];
        // Dead: the kernel says whether the name is dead or gone by now.
        int n = ring_pop(*ring, cqe, MACHIO_CQE_MAX_SLOTS);
        if (n > 0) {
            cqe_to_result(cqe, result);
            return KERN_SUCCESS;
        }
    }
    // Empty: the kernel sleeps until there is one and takes it for us.
    return queue_wait(fd, queue, result);
}

kern_return_t queue_reap(int fd, mach_port_t queue, const ring_map* ring, unsigned int min,
                         unsigned int max, machio_cqe* out, std::int64_t timeout_ns,
                         unsigned int* count) noexcept {
    if (!count || !out || !max || min > max)
        return KERN_INVALID_ARGUMENT;
    *count = 0;
    unsigned int used = 0;
    if (ring && ring->hdr) {
        // Everything there is that fits, without a system call.
        int n = 0;
        while (used < max && (n = ring_pop(*ring, out + used, max - used)) > 0) {
            used += static_cast<unsigned int>(n);
            ++*count;
        }
        if (n == ring_dead && *count)
            return KERN_SUCCESS;
        // Dead with nothing taken: the kernel tells whether the name is
        // dead or gone by now.
        if (n != ring_dead && (*count >= min || n == ring_no_room))
            return *count || n != ring_no_room ? KERN_SUCCESS : KERN_INVALID_ARGUMENT;
    }
    struct machio_queue_reap arg = {};
    arg.queue = queue;
    arg.min = min > *count ? min - *count : 0;
    arg.max = max - used;
    arg.cqes = reinterpret_cast<std::uintptr_t>(out + used);
    if (timeout_ns >= 0) {
        arg.flags = MACHIO_REAP_TIMEOUT;
        arg.timeout_ns = static_cast<std::uint64_t>(timeout_ns);
    }
    if (arg.max == 0)
        return KERN_SUCCESS;
    const int n = ::ioctl(fd, MACHIO_IOC_QUEUE_REAP, &arg);
    if (n < 0) {
        if (*count)
            return KERN_SUCCESS; // what was taken is the caller's
        return errno_to_kern(errno == EOVERFLOW ? EINVAL : errno, call_kind::generic);
    }
    *count += static_cast<unsigned int>(n);
    return KERN_SUCCESS;
}

} // namespace machio::detail
