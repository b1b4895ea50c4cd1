// Engines "io_uring", "io_uring-fixed", "io_uring-poll" (liburing).
#include "bench.hpp"
#include "engine.hpp"

#include <liburing.h>

#include <sys/uio.h>

#include <cerrno>
#include <functional>
#include <vector>

namespace machio_bench {
namespace {

// One ring of QD entries: reap every completion there is, prepare the
// resubmissions, then submit them and wait for the next completion in one
// io_uring_submit_and_wait().  With j.threads > 1 (--scaling), every thread
// runs this loop on a ring of its own for its share of the QD.  With
// j.classes (--priority) each SQE carries its slot's ioprio.
std::string ring_loop(const job& j, int fd, unsigned setup_flags, unsigned thread, uint32_t qd,
                      tally& t, first_error& err, const std::function<void()>& start) {
    slot_buffers buf(qd, j.bs);
    struct io_uring ring;
    if (int rc = io_uring_queue_init(qd, &ring, setup_flags); rc < 0)
        return fmt::format("io_uring_queue_init: {}", errno_text(-rc));
    struct ring_guard {
        struct io_uring* ring;
        ~ring_guard() { io_uring_queue_exit(ring); }
    } guard{&ring};
    if (j.uring_fixed) {
        std::vector<iovec> iov(qd);
        for (uint32_t s = 0; s < qd; s++)
            iov[s] = {buf[s], j.bs};
        if (int rc = io_uring_register_buffers(&ring, iov.data(), qd); rc < 0)
            return fmt::format("io_uring_register_buffers: {}", errno_text(-rc));
    }

    std::vector<uint64_t> offs(qd);
    std::vector<int64_t> submitted(qd);
    rng r{thread_seed(thread)};

    auto issue = [&](uint32_t s, int64_t now) {
        auto off = j.src->next(r, now);
        if (!off)
            return false;
        struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        if (!sqe) { // cannot happen: no more than QD in flight
            err.set("io_uring: submission queue full");
            return false;
        }
        offs[s] = *off;
        j.before(buf[s], *off);
        if (j.uring_fixed && j.write)
            io_uring_prep_write_fixed(sqe, fd, buf[s], j.bs, *off, int(s));
        else if (j.uring_fixed)
            io_uring_prep_read_fixed(sqe, fd, buf[s], j.bs, *off, int(s));
        else if (j.write)
            io_uring_prep_write(sqe, fd, buf[s], j.bs, *off);
        else
            io_uring_prep_read(sqe, fd, buf[s], j.bs, *off);
        if (j.classes) // the prep_* calls left it 0: the task's own
            sqe->ioprio = uint16_t(j.slot_priority(s));
        io_uring_sqe_set_data64(sqe, s);
        submitted[s] = now_ns();
        return true;
    };

    start();
    uint32_t inflight = 0;
    int64_t now = now_ns();
    while (inflight < qd && issue(inflight, now))
        inflight++;
    while (inflight > 0) {
        int rc = io_uring_submit_and_wait(&ring, 1);
        t.syscalls++; // one io_uring_enter: no SQPOLL, so it always enters
        if (rc == -EINTR)
            continue;
        if (rc < 0) { // the ring's exit cancels what is still in flight
            err.set(fmt::format("io_uring_submit_and_wait: {}", errno_text(-rc)));
            break;
        }
        unsigned head, seen = 0;
        struct io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring, head, cqe) {
            now = now_ns();
            seen++;
            auto s = uint32_t(io_uring_cqe_get_data64(cqe));
            if (cqe->res < 0) {
                err.set(fmt::format("{} at offset {}: {}", j.op_name(), offs[s],
                                    errno_text(-cqe->res)));
            } else if (auto why = j.after(buf[s], offs[s], cqe->res); !why.empty()) {
                err.set(std::move(why));
            } else {
                t.done(j, s, now - submitted[s]);
            }
            t.last = now;
            if (!issue(s, now))
                inflight--;
        }
        io_uring_cq_advance(&ring, seen);
    }
    return {};
}

// The device's descriptor is the threads' one; each has its own ring.
result run_io_uring(const job& j, unsigned setup_flags = 0) {
    fd_guard fd(open_device(j.device, j.write));
    if (fd.get() < 0)
        return failed(fmt::format("{}: {}", j.device, errno_text(errno)));
    return run_threads(j, [&](unsigned thread, uint32_t qd, tally& t, first_error& err,
                              const std::function<void()>& start) {
        return ring_loop(j, fd.get(), setup_flags, thread, qd, t, err, start);
    });
}

std::string about_io_uring(const job& j) {
    return j.uring_fixed ? " (registered buffers)" : "";
}

std::string about_io_uring_fixed(const job&) {
    return " (registered buffers)";
}

} // namespace

extern const engine io_uring_engine = {
    .name = "io_uring",
    .about = about_io_uring,
    .run = [](const job& j) { return run_io_uring(j); },
    .threads = loop_threads,
};

extern const engine io_uring_fixed_engine = {
    .name = "io_uring-fixed",
    .about = about_io_uring_fixed,
    .run =
        [](const job& j) {
            job jf = j;
            jf.uring_fixed = true;
            return run_io_uring(jf);
        },
    .threads = loop_threads,
};

// IOPOLL cannot split a request: in 6.1 such a read never completes.
extern const engine io_uring_poll_engine = {
    .name = "io_uring-poll",
    .about = nullptr,
    .run = [](const job& j) { return run_io_uring(j, IORING_SETUP_IOPOLL); },
    .threads = loop_threads,
    .needs_unsplit_io = true,
};

} // namespace machio_bench
