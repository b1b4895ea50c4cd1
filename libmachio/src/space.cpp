// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Name spaces: opening /dev/machio, and the process's implicit space.
//
// The process space is an immutable space_info published through one
// atomic pointer, so the hot path of every C call is a single acquire load.
// Threads racing to open it each open /dev/machio; the first to publish
// wins and the others close their (still empty) spaces again.  A failed
// open is not cached: the next call tries again.
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

std::atomic<space_info*> g_space{nullptr};
std::atomic<int> g_space_error{0};
std::atomic<std::uint64_t> g_space_epoch{0};

constexpr const char* default_device_path = "/dev/machio";

// A heap copy of info, or nullptr.  malloc keeps this file free of
// libstdc++ link dependencies (see internal.hpp).
space_info* publishable(const space_info& info) noexcept {
    void* mem = std::malloc(sizeof(space_info));
    if (!mem)
        return nullptr;
    return new (mem) space_info(info);
}

void discard(space_info* info) noexcept {
    if (!info)
        return;
    ::close(info->fd);
    std::free(info);
}

// Open a new space and make a publishable copy of it; nullptr and *err set
// on failure.
space_info* open_publishable(int* err) noexcept {
    space_info info;
    *err = open_space(&info);
    if (*err)
        return nullptr;
    space_info* copy = publishable(info);
    if (!copy) {
        ::close(info.fd);
        *err = ENOMEM;
    }
    return copy;
}

const space_info* process_space_slow(int* err) noexcept {
    int e = 0;
    space_info* fresh = open_publishable(&e);
    if (!fresh) {
        g_space_error.store(e, std::memory_order_relaxed);
        if (err)
            *err = e;
        return nullptr;
    }
    space_info* expected = nullptr;
    if (g_space.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        g_space_error.store(0, std::memory_order_relaxed);
        return fresh;
    }
    discard(fresh); // another thread got there first
    return expected;
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
    if (const space_info* space = g_space.load(std::memory_order_acquire))
        return space;
    return process_space_slow(err);
}

std::uint64_t process_space_epoch() noexcept {
    return g_space_epoch.load(std::memory_order_acquire);
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
    // Open the new space before closing the old one, so that the two never
    // share a descriptor number.
    int err = 0;
    space_info* fresh = open_publishable(&err);
    space_info* old = g_space.exchange(fresh, std::memory_order_acq_rel);
    g_space_epoch.fetch_add(1, std::memory_order_acq_rel);
    g_space_error.store(err, std::memory_order_relaxed);
    discard(old);
    return fresh ? KERN_SUCCESS : KERN_FAILURE;
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
