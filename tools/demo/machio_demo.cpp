// machio-demo: a guided tour of machio on a real block device.  It writes
// and reads the device through one Mach io_done_queue with several threads
// waiting on it, then through 3DO Portfolio's I/O requests and message
// ports (portfolio_tour.cpp), then with Mach ports (ports_tour.cpp: the
// device answering by message, a second process reading through this one),
// and says what happened in plain words.
//
//   machio-demo [DEVICE]     (default: nullb0, i.e. /dev/nullb0)
//
// Exit status 0 means every byte read back matched what was written.
#include "portfolio_tour.hpp"
#include "ports_tour.hpp"

#include <machio/mach.h>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr int waiter_count = 4;
constexpr int chunk_count = 8;
constexpr io_buf_len_t chunk_size = 64 * 1024;

// Page-aligned memory for zero-copy transfers (the device needs its DMA
// alignment; a page always satisfies it).
struct aligned_deleter {
    void operator()(char* p) const noexcept { std::free(p); }
};
using aligned_buffer = std::unique_ptr<char[], aligned_deleter>;

aligned_buffer make_buffer(std::size_t size) {
    return aligned_buffer(static_cast<char*>(std::aligned_alloc(4096, size)));
}

void fill(std::span<char> buf, unsigned seed) {
    for (std::size_t i = 0; i < buf.size(); i++)
        buf[i] = static_cast<char>(seed * 131 + i * 7 + (i >> 9));
}

const char* type_name(int type) {
    switch (type) {
    case IO_DONE_READ:
        return "read";
    case IO_DONE_WRITE:
        return "write";
    case IO_DONE_OVERWRITE:
        return "overwrite-read";
    default:
        return "?";
    }
}

// What the waiter threads saw, and the submit times to time them against.
class tracker {
  public:
    void submitted(mach_port_t id, std::string what) {
        std::lock_guard lock(mutex_);
        pending_[id] = {clock_type::now(), std::move(what)};
    }

    // Called by a waiter with one completion.
    void completed(int waiter, const io_done_result_t& r) {
        std::lock_guard lock(mutex_);
        auto it = pending_.find(r.qd_reqid);
        double ms = 0;
        std::string what = "unknown request";
        if (it != pending_.end()) {
            ms = std::chrono::duration<double, std::milli>(clock_type::now() - it->second.at)
                     .count();
            what = it->second.what;
            pending_.erase(it);
        }
        fmt::print("  waiter {} got request {:#06x} ({}, {}): code {} \"{}\", {} bytes, {:.2f} ms "
                   "after submit\n",
                   waiter, r.qd_reqid, what, type_name(r.qd_type), r.qd_code,
                   mach_error_string(r.qd_code), r.qd_count, ms);
        results_.push_back(r);
        done_.notify_all();
    }

    // Block until @n completions were seen; hand them over.
    std::vector<io_done_result_t> collect(std::size_t n) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return results_.size() >= n; });
        return std::exchange(results_, {});
    }

  private:
    struct entry {
        clock_type::time_point at;
        std::string what;
    };
    std::mutex mutex_;
    std::condition_variable done_;
    std::map<mach_port_t, entry> pending_;
    std::vector<io_done_result_t> results_;
};

void waiter_main(int id, mach_port_t queue, tracker& t, std::atomic<int>& terminated) {
    for (;;) {
        io_done_result_t r;
        kern_return_t kr = io_done_queue_wait(queue, &r);
        if (kr == KERN_TERMINATED) {
            fmt::print("  waiter {} woke up: the queue was terminated ({})\n", id,
                       mach_error_string(kr));
            terminated++;
            return;
        }
        if (kr != KERN_SUCCESS) {
            fmt::print("  waiter {}: io_done_queue_wait failed: {}\n", id, mach_error_string(kr));
            return;
        }
        t.completed(id, r);
    }
}

bool check(kern_return_t kr, const char* what) {
    if (kr == KERN_SUCCESS)
        return true;
    fmt::print("machio-demo: {} failed: {} ({})\n", what, mach_error_string(kr), kr);
    return false;
}

} // namespace

int main(int argc, char** argv) {
    const char* name = argc > 1 ? argv[1] : "nullb0";
    int failures = 0;

    machio_info_t info;
    if (!check(machio_get_info(&info), "opening /dev/machio"))
        return 1;
    fmt::print("machio ABI {}: this process's name space has host port {:#x}, task port {:#x}\n",
               info.abi_version, info.host, info.task);

    mach_port_t device;
    if (!check(device_open(mach_host_self(), D_READ | D_WRITE, name, &device), "device_open"))
        return 1;
    uint64_t size = 0;
    unsigned block = 0;
    if (!check(machio_device_size(device, &size, &block), "machio_device_size"))
        return 1;
    fmt::print("opened {} as device port {:#x}: {} MiB, {}-byte blocks\n", name, device, size >> 20,
               block);

    mach_port_t queue;
    if (!check(io_done_queue_create(mach_host_self(), &queue), "io_done_queue_create"))
        return 1;
    fmt::print("created io_done_queue {:#x}; starting {} threads that all wait on it\n\n", queue,
               waiter_count);

    tracker t;
    std::atomic<int> terminated{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < waiter_count; i++)
        waiters.emplace_back(waiter_main, i, queue, std::ref(t), std::ref(terminated));

    const recnum_t blocks_per_chunk = chunk_size / block;

    // 1. Zero-copy writes straight from our buffers.
    fmt::print("1. {} writes of {} KiB (device_write_async, zero-copy from pinned pages):\n",
               chunk_count, chunk_size / 1024);
    auto out = make_buffer(std::size_t(chunk_count) * chunk_size);
    fill({out.get(), std::size_t(chunk_count) * chunk_size}, 42);
    for (int i = 0; i < chunk_count; i++) {
        mach_port_t id = 0x1000 + i;
        t.submitted(id, fmt::format("write of blocks {}..{}", i * blocks_per_chunk,
                                    (i + 1) * blocks_per_chunk - 1));
        if (!check(device_write_async(device, queue, id, 0, i * blocks_per_chunk,
                                      out.get() + i * chunk_size, chunk_size),
                   "device_write_async"))
            return 1;
    }
    for (auto& r : t.collect(chunk_count))
        failures += r.qd_code != KERN_SUCCESS || r.qd_count != chunk_size;

    // 2. Reads into our own buffers.
    fmt::print("\n2. {} reads back into our own buffer (device_read_overwrite_async):\n",
               chunk_count);
    auto in = make_buffer(std::size_t(chunk_count) * chunk_size);
    std::memset(in.get(), 0, std::size_t(chunk_count) * chunk_size);
    for (int i = 0; i < chunk_count; i++) {
        mach_port_t id = 0x2000 + i;
        t.submitted(id, fmt::format("read of blocks {}..{}", i * blocks_per_chunk,
                                    (i + 1) * blocks_per_chunk - 1));
        if (!check(device_read_overwrite_async(device, queue, id, 0, i * blocks_per_chunk,
                                               chunk_size, in.get() + i * chunk_size),
                   "device_read_overwrite_async"))
            return 1;
    }
    for (auto& r : t.collect(chunk_count))
        failures += r.qd_code != KERN_SUCCESS;
    bool same = std::memcmp(out.get(), in.get(), std::size_t(chunk_count) * chunk_size) == 0;
    fmt::print("   the {} KiB read back {} the {} KiB written\n", chunk_count * chunk_size / 1024,
               same ? "match" : "DO NOT match", chunk_count * chunk_size / 1024);
    failures += !same;

    // 3. Out-of-line read: the kernel maps fresh memory into us.
    fmt::print("\n3. an out-of-line read (device_read_async): the kernel maps new memory for "
               "the data\n");
    t.submitted(0x3000, "out-of-line read of the first chunk");
    if (!check(device_read_async(device, queue, 0x3000, 0, 0, chunk_size), "device_read_async"))
        return 1;
    for (auto& r : t.collect(1)) {
        bool ok = r.qd_code == KERN_SUCCESS &&
                  std::memcmp(r.qd_data, out.get(), std::size_t(chunk_size)) == 0;
        fmt::print("   data arrived at {} and {} the first chunk; vm_deallocate gives it back\n",
                   static_cast<void*>(r.qd_data), ok ? "matches" : "DOES NOT match");
        failures += !ok;
        if (r.qd_code == KERN_SUCCESS)
            vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(r.qd_data), r.qd_count);
    }

    // 4. Inband: a few bytes carried in the request and in the result.
    fmt::print("\n4. inband: 100 bytes written inside the request, then read back inside the "
               "result\n");
    std::array<char, 100> note{};
    std::snprintf(note.data(), note.size(), "hello from machio-demo, pid %d", int(getpid()));
    t.submitted(0x4000, "inband write");
    if (!check(device_write_async_inband(device, queue, 0x4000, 0, 2000, note.data(), note.size()),
               "device_write_async_inband"))
        return 1;
    for (auto& r : t.collect(1))
        failures += r.qd_code != KERN_SUCCESS;
    t.submitted(0x4001, "inband read");
    if (!check(device_read_async_inband(device, queue, 0x4001, 0, 2000, note.size()),
               "device_read_async_inband"))
        return 1;
    for (auto& r : t.collect(1)) {
        bool ok =
            r.qd_code == KERN_SUCCESS && std::memcmp(r.qd_inline, note.data(), note.size()) == 0;
        fmt::print("   qd_inline says \"{}\" ({})\n", std::string(r.qd_inline),
                   ok ? "as written" : "WRONG");
        failures += !ok;
    }

    // 5. Device errors arrive through the queue, not from the call.
    fmt::print("\n5. a read past the end of the device: the call succeeds, the error arrives "
               "in the queue\n");
    t.submitted(0x5000, "read past the end");
    if (!check(device_read_async_inband(device, queue, 0x5000, 0,
                                        static_cast<recnum_t>(size / block), 16),
               "device_read_async_inband"))
        return 1;
    for (auto& r : t.collect(1))
        failures += r.qd_code != D_INVALID_RECNUM;

    // 6. Terminate wakes every waiter.
    fmt::print("\n6. io_done_queue_terminate: every waiting thread is woken\n");
    check(io_done_queue_terminate(queue), "io_done_queue_terminate");
    for (auto& w : waiters)
        w.join();
    failures += terminated != waiter_count;
    io_done_result_t r;
    kern_return_t kr = io_done_queue_wait(queue, &r);
    fmt::print("   waiting on the old queue name now says: {}\n", mach_error_string(kr));
    failures += kr != KERN_TERMINATED;
    mach_port_deallocate(mach_task_self(), queue);

    failures += portfolio_tour(name);
    failures += ports_tour(device, block);
    device_close(device);

    fmt::print("\n{}\n", failures ? fmt::format("machio-demo: {} things went wrong", failures)
                                  : std::string("machio-demo: all data verified, all done"));
    return failures ? 1 : 0;
}
