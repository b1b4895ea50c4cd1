// Engine "aio": Linux AIO (libaio).
#include "bench.hpp"
#include "engine.hpp"

#include <libaio.h>

#include <cerrno>
#include <vector>

namespace machio_bench {
namespace {

// io_submit() the resubmissions in one batch, io_getevents() at least one
// completion (up to QD) at a time.
result run_aio(const job& j) {
    fd_guard fd(open_device(j.device, j.write));
    if (fd.get() < 0)
        return failed(fmt::format("{}: {}", j.device, errno_text(errno)));
    slot_buffers buf(j.qd, j.bs);
    io_context_t ctx{};
    if (int rc = io_setup(int(j.qd), &ctx); rc < 0)
        return failed(fmt::format("io_setup: {}", errno_text(-rc)));
    struct ctx_guard {
        io_context_t ctx;
        ~ctx_guard() { io_destroy(ctx); }
    } guard{ctx};

    std::vector<struct iocb> cbs(j.qd);
    std::vector<struct iocb*> pending;
    pending.reserve(j.qd);
    std::vector<struct io_event> events(j.qd);
    std::vector<uint64_t> offs(j.qd);
    std::vector<int64_t> submitted(j.qd);
    tally t;
    first_error err(*j.src);
    meter m(*j.src);
    rng r{thread_seed(0)};
    uint32_t inflight = 0;

    auto issue = [&](uint32_t s, int64_t now) {
        auto off = j.src->next(r, now);
        if (!off)
            return false;
        offs[s] = *off;
        j.before(buf[s], *off);
        if (j.write)
            io_prep_pwrite(&cbs[s], fd.get(), buf[s], j.bs, (long long)*off);
        else
            io_prep_pread(&cbs[s], fd.get(), buf[s], j.bs, (long long)*off);
        cbs[s].data = reinterpret_cast<void*>(uintptr_t(s));
        submitted[s] = now_ns();
        pending.push_back(&cbs[s]);
        return true;
    };
    // Those io_submit() refuses are dropped (and the run ends).
    auto submit = [&] {
        size_t done = 0;
        while (done < pending.size()) {
            int rc = io_submit(ctx, long(pending.size() - done), pending.data() + done);
            t.syscalls++;
            if (rc == -EINTR)
                continue;
            if (rc <= 0) {
                err.set(fmt::format("io_submit: {}", errno_text(rc ? -rc : EAGAIN)));
                inflight -= uint32_t(pending.size() - done);
                break;
            }
            done += size_t(rc);
        }
        pending.clear();
    };

    m.start();
    int64_t now = now_ns();
    while (inflight < j.qd && issue(inflight, now))
        inflight++;
    submit();
    while (inflight > 0) {
        int n = io_getevents(ctx, 1, long(j.qd), events.data(), nullptr);
        t.syscalls++;
        if (n == -EINTR)
            continue;
        if (n < 0) { // io_destroy() waits for what is still in flight
            err.set(fmt::format("io_getevents: {}", errno_text(-n)));
            break;
        }
        for (int i = 0; i < n; i++) {
            now = now_ns();
            auto s = uint32_t(reinterpret_cast<uintptr_t>(events[size_t(i)].data));
            auto res = static_cast<long>(events[size_t(i)].res);
            if (res < 0) {
                err.set(fmt::format("{} at offset {}: {}", j.op_name(), offs[s],
                                    errno_text(int(-res))));
            } else if (auto why = j.after(buf[s], offs[s], res); !why.empty()) {
                err.set(std::move(why));
            } else {
                t.lat.add(now - submitted[s]);
                t.ops++;
            }
            t.last = now;
            if (!issue(s, now))
                inflight--;
        }
        submit();
    }
    return m.finish({&t, 1}, err);
}

unsigned one_thread(const job&) {
    return 1;
}

} // namespace

extern const engine aio_engine = {
    .name = "aio",
    .about = nullptr,
    .run = run_aio,
    .threads = one_thread,
};

} // namespace machio_bench
