// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Name spaces: opening /dev/machio, and the process's implicit space.
//
// The process space is an immutable space_info published through one
// atomic pointer, so the hot path of every C call is a single acquire load.
// Threads racing to open it each open /dev/machio; the first to publish
// wins and the others close their (still empty, never published) spaces
// again.  A failed open is not cached: the next call tries again.
//
// A published space_info is never freed and its descriptor number never
// closed, because another thread may have loaded the pointer and be about
// to use it.  machio_space_reset() retires the old one instead: it stays
// allocated (on a list, so leak checkers see it reachable) and its
// descriptor number is atomically switched over, by dup3(), to another
// fresh and empty space.  A thread still using the old descriptor or old
// names then gets the answers of that empty space (KERN_INVALID_NAME, or
// KERN_INVALID_ARGUMENT / D_NO_SUCH_DEVICE for an unknown queue or device):
// never another machio object, never an unrelated file that a later open()
// was given the number of.  Each reset so keeps one descriptor and one
// small allocation for the life of the process; resets are rare.
#include "internal.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <new>
#include <sys/ioctl.h>
#include <unistd.h>

namespace machio::detail {

namespace {

// A space_info as published, with its link on the retired list.
struct published {
    space_info info;
    published* next_retired = nullptr;
};

std::atomic<published*> g_space{nullptr};
std::atomic<published*> g_retired{nullptr};
std::atomic<int> g_space_error{0};
std::atomic<std::uint64_t> g_space_epoch{0};

constexpr const char* default_device_path = "/dev/machio";

// A heap copy of info, or nullptr.  malloc keeps this file free of
// libstdc++ link dependencies (see internal.hpp).
published* publishable(const space_info& info) noexcept {
    void* mem = std::malloc(sizeof(published));
    if (!mem)
        return nullptr;
    published* p = new (mem) published;
    p->info = info;
    return p;
}

// Only for a copy that was never published: no other thread can know it.
void discard_unpublished(published* p) noexcept {
    ::close(p->info.fd);
    std::free(p);
}

// Open a new space and make a publishable copy of it; nullptr and *err set
// on failure.
published* open_publishable(int* err) noexcept {
    space_info info;
    *err = open_space(&info);
    if (*err)
        return nullptr;
    published* copy = publishable(info);
    if (!copy) {
        ::close(info.fd);
        *err = ENOMEM;
    }
    return copy;
}

// Take a published space out of service for good.  Other threads may still
// hold the pointer or the descriptor: the memory stays, and the descriptor
// number is switched atomically to `empty_fd`'s space (a fresh one nobody
// else knows), whose file then holds the number until the process ends.
// The space the number referred to is released in this process (after a
// fork, the parent's stays open there).  empty_fd is closed.
void retire(published* old, int empty_fd) noexcept {
    // dup3 fails only if the caller closed machio_fd() behind our back
    // (EBADF): then there is nothing left to replace.
    (void)::dup3(empty_fd, old->info.fd, O_CLOEXEC);
    ::close(empty_fd);
    published* head = g_retired.load(std::memory_order_relaxed);
    do {
        old->next_retired = head;
    } while (!g_retired.compare_exchange_weak(head, old, std::memory_order_release,
                                              std::memory_order_relaxed));
}

const space_info* process_space_slow(int* err) noexcept {
    int e = 0;
    published* fresh = open_publishable(&e);
    if (!fresh) {
        g_space_error.store(e, std::memory_order_relaxed);
        if (err)
            *err = e;
        return nullptr;
    }
    fresh->info.epoch = g_space_epoch.load(std::memory_order_acquire);
    published* expected = nullptr;
    if (g_space.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        g_space_error.store(0, std::memory_order_relaxed);
        return &fresh->info;
    }
    discard_unpublished(fresh); // another thread got there first
    return &expected->info;
}

} // namespace

const char* device_path() noexcept {
    const char* path = ::secure_getenv("MACHIO_DEVICE");
    return path && *path ? path : default_device_path;
}

int open_space(space_info* out) noexcept {
    int fd = ::open(device_path(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno;

    struct machio_query query = {};
    if (::ioctl(fd, MACHIO_IOC_QUERY, &query) != 0) {
        int err = errno;
        ::close(fd);
        // Not a machio device (or not one we can talk to).
        return err == ENOTTY || err == EINVAL ? ENOTTY : err;
    }
    if (query.abi_version != MACHIO_ABI_VERSION) {
        ::close(fd);
        return EPROTONOSUPPORT;
    }
    out->fd = fd;
    out->host = query.host_name;
    out->task = query.task_name;
    out->abi_version = query.abi_version;
    out->io_inband_max = query.io_inband_max;
    out->features = query.features;
    out->max_names = query.max_names;
    return 0;
}

const space_info* process_space(int* err) noexcept {
    if (const published* space = g_space.load(std::memory_order_acquire))
        return &space->info;
    return process_space_slow(err);
}

std::uint64_t process_space_epoch() noexcept {
    const space_info* space = process_space();
    return space ? space->epoch : g_space_epoch.load(std::memory_order_acquire);
}

int process_space_error() noexcept {
    if (g_space.load(std::memory_order_acquire))
        return 0;
    return g_space_error.load(std::memory_order_relaxed);
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" mach_port_t mach_host_self(void) {
    const space_info* space = process_space();
    return space ? space->host : MACH_PORT_NULL;
}

extern "C" mach_port_t mach_task_self(void) {
    const space_info* space = process_space();
    return space ? space->task : MACH_PORT_NULL;
}

extern "C" int machio_fd(void) {
    int err = 0;
    const space_info* space = process_space(&err);
    if (!space) {
        errno = err;
        return -1;
    }
    return space->fd;
}

extern "C" kern_return_t machio_space_reset(void) {
    // Two new spaces: the fresh one to publish, and an empty one to put at
    // the old descriptor's number.  Both are opened before anything
    // changes, so a failure leaves the process space as it was.
    int err = 0;
    published* fresh = open_publishable(&err);
    space_info empty;
    if (fresh) {
        err = open_space(&empty);
        if (err) {
            discard_unpublished(fresh);
            fresh = nullptr;
        }
    }
    if (!fresh) {
        g_space_error.store(err, std::memory_order_relaxed);
        return KERN_FAILURE;
    }
    fresh->info.epoch = g_space_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
    published* old = g_space.exchange(fresh, std::memory_order_acq_rel);
    g_space_error.store(0, std::memory_order_relaxed);
    if (old)
        retire(old, empty.fd);
    else
        ::close(empty.fd);
    // The old space's queue rings: their names mean nothing any more.
    ring_unregister_before(fresh->info.epoch);
    return KERN_SUCCESS;
}

extern "C" kern_return_t machio_get_info(machio_info_t* info) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (!info)
        return KERN_INVALID_ARGUMENT;
    info->abi_version = space->abi_version;
    info->io_inband_max = space->io_inband_max;
    info->features = space->features;
    info->max_names = space->max_names;
    info->host = space->host;
    info->task = space->task;
    return KERN_SUCCESS;
}
