// Engines "machio-batch", "machio-ring", "machio-fixed", "machio-poll":
// machio's extensions (batched submission, completion rings, registered
// buffers, polled queues) in the io_uring engine's loop.
#include "bench.hpp"
#include "engine.hpp"

#include <machio/mach.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <vector>

namespace machio_bench {
namespace {

// One thread, the io_uring engine's loop with machio's extensions: every
// resubmission of a round in one machio_submit_batch(), then every
// completion there is in one machio_io_done_queue_reap(min 1).  machio-batch
// uses a queue without a ring (each reap is a system call); machio-ring a
// ring queue, whose reaps need no system call while completions wait;
// machio-fixed adds registered buffers (no pinning per request).
//
// With j.queues > 1 (--scaling) the thread's slot s goes to queue s % Q,
// each queue with a ring for its share of the slots: a round first takes
// what every ring holds (min 0, no system call), and only when all are
// empty waits (min 1) on the queue with the most requests in flight.
// With j.classes (--priority) each request carries its slot's priority.
std::string batch_loop(const job& j, mach_port_t dev, bool ring, bool fixed, bool polled,
                       unsigned thread, uint32_t qd, tally& t, first_error& err,
                       const std::function<void()>& start) {
    const uint32_t nq = std::max(1u, j.queues);
    std::vector<mach_port_t> queues;
    auto close_queues = [&] {
        // Requests still in flight after an error: terminate waits for them.
        for (mach_port_t q : queues) {
            io_done_queue_terminate(q);
            mach_port_deallocate(mach_task_self(), q);
        }
    };
    uint32_t entries = 1; // the largest ring, queue 0's
    for (uint32_t q = 0; q < nq; q++) {
        uint32_t share = q < qd ? (qd - q + nq - 1) / nq : 0;
        machio_queue_options_t qo = {.ring_entries = ring ? std::bit_ceil(share) : 0,
                                     .eventfd = -1,
                                     .flags = polled ? unsigned(MACHIO_QUEUE_POLLED) : 0U};
        entries = std::max(entries, std::bit_ceil(share));
        mach_port_t queue = MACH_PORT_NULL;
        kern_return_t kr = machio_io_done_queue_create_with(mach_host_self(), &qo, &queue);
        if (kr != KERN_SUCCESS) {
            close_queues();
            return fmt::format("machio_io_done_queue_create_with: {}", mach_error_string(kr));
        }
        queues.push_back(queue);
    }

    slot_buffers buf(qd, j.bs);
    mach_port_t fixed_name = MACH_PORT_NULL;
    if (fixed) {
        kern_return_t kr = machio_buffer_register(buf[0], buf.stride() * qd, &fixed_name);
        if (kr != KERN_SUCCESS) {
            close_queues();
            return fmt::format("machio_buffer_register: {}", mach_error_string(kr));
        }
    }
    std::vector<mach_port_t> slot_queue(qd);
    for (uint32_t s = 0; s < qd; s++)
        slot_queue[s] = queues[s % nq];
    std::vector<uint32_t> queued(nq); // per queue: slots in flight
    std::vector<uint64_t> offs(qd);
    std::vector<int64_t> submitted(qd);
    std::vector<machio_io_request> pending;
    pending.reserve(qd);
    std::vector<machio_cqe> cqes(entries);
    rng r{thread_seed(thread)};
    uint32_t inflight = 0;

    auto issue = [&](uint32_t s, int64_t now) {
        auto off = j.src->next(r, now);
        if (!off)
            return false;
        offs[s] = *off;
        j.before(buf[s], *off);
        machio_io_request rq = {};
        rq.device = dev;
        rq.queue = slot_queue[s];
        rq.reqid = s;
        rq.recnum = uint32_t(*off / j.lbs);
        rq.count = int32_t(j.bs);
        rq.priority = j.slot_priority(s);
        if (fixed) {
            rq.op = j.write ? MACHIO_OP_WRITE_FIXED : MACHIO_OP_READ_FIXED;
            rq.fixed = fixed_name;
            rq.buffer = uint64_t(s) * buf.stride();
        } else {
            rq.op = j.write ? MACHIO_OP_WRITE : MACHIO_OP_READ_OVERWRITE;
            rq.buffer = reinterpret_cast<uintptr_t>(buf[s]);
        }
        pending.push_back(rq);
        submitted[s] = now_ns();
        return true;
    };
    // Those the batch refuses are dropped (and the run ends).
    auto submit = [&] {
        size_t done = 0;
        while (done < pending.size()) {
            unsigned accepted = 0;
            kern_return_t kr = machio_submit_batch(
                pending.data() + done,
                unsigned(std::min<size_t>(pending.size() - done, MACHIO_SUBMIT_BATCH_MAX)),
                &accepted);
            t.syscalls++;
            if (kr != KERN_SUCCESS || accepted == 0) {
                err.set(fmt::format("machio_submit_batch: {}", mach_error_string(kr)));
                for (size_t i = done; i < pending.size(); i++)
                    queued[pending[i].reqid % nq]--;
                inflight -= uint32_t(pending.size() - done);
                break;
            }
            done += accepted;
        }
        pending.clear();
    };
    // Completes what one reap of queue @q took and resubmits the slots;
    // false after an error of the reap.
    auto reap = [&](uint32_t q, unsigned min) {
        unsigned n = 0;
        kern_return_t kr =
            machio_io_done_queue_reap(queues[q], min, unsigned(cqes.size()), cqes.data(), -1, &n);
        if (kr == KERN_ABORTED)
            return true;
        if (kr != KERN_SUCCESS) {
            err.set(fmt::format("machio_io_done_queue_reap: {}", mach_error_string(kr)));
            return false;
        }
        for (const machio_cqe* c = cqes.data(); n--; c = machio_cqe_next(c)) {
            int64_t now = now_ns();
            uint32_t s = c->reqid;
            if (s >= qd) {
                err.set(fmt::format("completion for unknown request {:#x}", s));
                queued[q]--;
                inflight--;
                continue;
            }
            if (c->code != KERN_SUCCESS)
                err.set(fmt::format("{} at offset {}: {}", j.op_name(), offs[s],
                                    mach_error_string(c->code)));
            else if (auto why = j.after(buf[s], offs[s], c->count); !why.empty())
                err.set(std::move(why));
            else
                t.done(j, s, now - submitted[s]);
            t.last = now;
            if (!issue(s, now)) {
                queued[q]--;
                inflight--;
            }
        }
        return true;
    };

    start();
    int64_t now = now_ns();
    while (inflight < qd && issue(inflight, now))
        queued[inflight++ % nq]++;
    submit();
    while (inflight > 0) {
        bool ok = true, reaped = false;
        for (uint32_t q = 0; nq > 1 && ok && q < nq; q++)
            if (queued[q] && machio_io_done_queue_ready(queues[q]) > 0) {
                ok = reap(q, 0);
                reaped = true;
            }
        if (ok && !reaped) {
            auto q = uint32_t(
                nq > 1 ? std::max_element(queued.begin(), queued.end()) - queued.begin() : 0);
            if (!ring || machio_io_done_queue_ready(queues[q]) <= 0)
                t.syscalls++;
            ok = reap(q, 1);
        }
        if (!ok)
            break;
        submit();
    }
    close_queues();
    if (fixed_name)
        mach_port_deallocate(mach_task_self(), fixed_name);
    return {};
}

// The device is the threads' one; everything else is each thread's own.
result run_machio_batch(const job& j, bool ring, bool fixed, bool polled = false) {
    mach_port_t dev = MACH_PORT_NULL;
    kern_return_t kr =
        device_open(mach_host_self(), D_READ | (j.write ? D_WRITE : 0), j.device.c_str(), &dev);
    if (kr != KERN_SUCCESS)
        return failed(fmt::format("device_open {}: {}", j.device, mach_error_string(kr)));
    result res = run_threads(j, [&](unsigned thread, uint32_t qd, tally& t, first_error& err,
                                    const std::function<void()>& start) {
        return batch_loop(j, dev, ring, fixed, polled, thread, qd, t, err, start);
    });
    device_close(dev);
    return res;
}

} // namespace

extern const engine machio_batch_engine = {
    .name = "machio-batch",
    .about = nullptr,
    .run = [](const job& j) { return run_machio_batch(j, false, false); },
    .threads = loop_threads,
};

extern const engine machio_ring_engine = {
    .name = "machio-ring",
    .about = nullptr,
    .run = [](const job& j) { return run_machio_batch(j, true, false); },
    .threads = loop_threads,
    .multi_queue = true,
};

extern const engine machio_fixed_engine = {
    .name = "machio-fixed",
    .about = nullptr,
    .run = [](const job& j) { return run_machio_batch(j, true, true); },
    .threads = loop_threads,
    .multi_queue = true,
};

// Polled completions appear only when a reap polls the device: checking
// the other queues' rings without a system call would not find them.
extern const engine machio_poll_engine = {
    .name = "machio-poll",
    .about = nullptr,
    .run = [](const job& j) { return run_machio_batch(j, true, false, true); },
    .threads = loop_threads,
};

} // namespace machio_bench
