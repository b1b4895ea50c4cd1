// Engine "machio": the Mach C API as a Mach program uses it.
#include "bench.hpp"
#include "engine.hpp"

#include <machio/mach.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace machio_bench {
namespace {

// device_open + io_done_queue_create; QD slots submitted with
// device_read_overwrite_async / device_write_async; each waiter thread
// reaps one completion per io_done_queue_wait and resubmits its slot.
result run_machio(const job& j) {
    mach_port_t dev = MACH_PORT_NULL, queue = MACH_PORT_NULL;
    kern_return_t kr =
        device_open(mach_host_self(), D_READ | (j.write ? D_WRITE : 0), j.device.c_str(), &dev);
    if (kr != KERN_SUCCESS)
        return failed(fmt::format("device_open {}: {}", j.device, mach_error_string(kr)));
    kr = io_done_queue_create(mach_host_self(), &queue);
    if (kr != KERN_SUCCESS) {
        device_close(dev);
        return failed(fmt::format("io_done_queue_create: {}", mach_error_string(kr)));
    }

    slot_buffers buf(j.qd, j.bs);
    // A slot belongs to whoever submits it until a waiter reaps it: the
    // submit time is stored (release) after the offset and the data, and
    // the waiter loads it (acquire) before looking at them.
    struct slot {
        uint64_t off = 0;
        std::atomic<int64_t> submitted{0};
    };
    std::vector<slot> slots(j.qd);
    std::vector<tally> tallies(j.waiters);
    first_error err(*j.src);
    meter m(*j.src);
    std::atomic<uint64_t> submits{0};

    std::mutex end_mutex;
    std::condition_variable end_cv;
    uint32_t inflight = 0; // slots submitted and not yet finished with
    bool broken = false;   // a waiter gave up: drain by terminating the queue
    auto finish_slot = [&] {
        std::lock_guard lock(end_mutex);
        if (--inflight == 0)
            end_cv.notify_all();
    };

    auto issue = [&](uint32_t s, rng& r, int64_t now) {
        auto off = j.src->next(r, now);
        if (!off)
            return false;
        slots[s].off = *off;
        j.before(buf[s], *off);
        auto recnum = recnum_t(*off / j.lbs);
        slots[s].submitted.store(now_ns(), std::memory_order_release);
        submits.fetch_add(1, std::memory_order_relaxed);
        kern_return_t kr = j.write ? device_write_async(dev, queue, s, 0, recnum, buf[s], j.bs)
                                   : device_read_overwrite_async(dev, queue, s, 0, recnum,
                                                                 io_buf_len_t(j.bs), buf[s]);
        if (kr != KERN_SUCCESS) {
            err.set(fmt::format("device_{}_async at offset {}: {}",
                                j.write ? "write" : "read_overwrite", *off, mach_error_string(kr)));
            return false;
        }
        return true;
    };

    std::latch go(1);
    auto waiter = [&](unsigned w) {
        rng r{thread_seed(w + 1)};
        tally& t = tallies[w];
        go.wait();
        for (;;) {
            io_done_result_t res;
            // The library waits in the kernel only when the ring is empty
            // (and, once, to check a new result pointer).
            if (machio_io_done_queue_ready(queue) <= 0)
                t.syscalls++;
            kern_return_t kr = io_done_queue_wait(queue, &res);
            if (kr == KERN_TERMINATED)
                return;
            if (kr == KERN_ABORTED)
                continue;
            int64_t now = now_ns();
            uint32_t s = res.qd_reqid;
            if (kr != KERN_SUCCESS || s >= j.qd) {
                err.set(kr != KERN_SUCCESS
                            ? fmt::format("io_done_queue_wait: {}", mach_error_string(kr))
                            : fmt::format("completion for unknown request {:#x}", s));
                std::lock_guard lock(end_mutex);
                broken = true;
                end_cv.notify_all();
                return;
            }
            int64_t submitted = slots[s].submitted.load(std::memory_order_acquire);
            uint64_t off = slots[s].off;
            if (res.qd_code != KERN_SUCCESS) {
                err.set(fmt::format("{} at offset {}: {}", j.op_name(), off,
                                    mach_error_string(res.qd_code)));
            } else if (auto why = j.after(buf[s], off, res.qd_count); !why.empty()) {
                err.set(std::move(why));
            } else {
                t.lat.add(now - submitted);
                t.ops++;
            }
            t.last = now;
            if (!issue(s, r, now))
                finish_slot();
        }
    };

    std::vector<std::thread> threads;
    for (unsigned w = 0; w < j.waiters; w++)
        threads.emplace_back(waiter, w);
    m.start();
    go.count_down();
    rng r{thread_seed(0)};
    int64_t now = now_ns();
    for (uint32_t s = 0; s < j.qd; s++) {
        {
            std::lock_guard lock(end_mutex);
            inflight++;
        }
        if (!issue(s, r, now)) {
            finish_slot();
            break;
        }
    }
    {
        std::unique_lock lock(end_mutex);
        end_cv.wait(lock, [&] { return inflight == 0 || broken; });
    }
    // Wakes every waiter with KERN_TERMINATED (and, after a breakdown,
    // waits for the I/O still in flight and discards it).
    io_done_queue_terminate(queue);
    for (auto& t : threads)
        t.join();
    result res = m.finish(tallies, err);
    res.syscalls += submits.load();
    mach_port_deallocate(mach_task_self(), queue);
    device_close(dev);
    return res;
}

std::string about_machio(const job& j) {
    machio_info_t info;
    if (machio_get_info(&info) != KERN_SUCCESS)
        return {};
    return fmt::format(" (ABI {}, {} waiter thread{})", info.abi_version, j.waiters,
                       j.waiters == 1 ? "" : "s");
}

unsigned waiter_threads(const job& j) {
    return j.waiters;
}

} // namespace

extern const engine machio_engine = {
    .name = "machio",
    .about = about_machio,
    .run = run_machio,
    .threads = waiter_threads,
    .baseline = true,
};

} // namespace machio_bench
