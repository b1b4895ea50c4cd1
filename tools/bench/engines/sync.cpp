// Engine "sync": synchronous pread/pwrite.
#include "bench.hpp"
#include "engine.hpp"

#include <latch>
#include <thread>
#include <vector>

namespace machio_bench {
namespace {

// QD threads, each with one blocking pread/pwrite at a time: the same number
// of requests in flight, the classic way.
result run_sync(const job& j) {
    fd_guard fd(open_device(j.device, j.write));
    if (fd.get() < 0)
        return failed(fmt::format("{}: {}", j.device, errno_text(errno)));
    slot_buffers buf(j.qd, j.bs);
    std::vector<tally> tallies(j.qd);
    first_error err(*j.src);
    meter m(*j.src);
    std::latch go(1);

    auto worker = [&](uint32_t s) {
        rng r{thread_seed(s)};
        tally& t = tallies[s];
        char* b = buf[s];
        go.wait();
        int64_t now = now_ns();
        while (auto off = j.src->next(r, now)) {
            j.before(b, *off);
            int64_t start = now_ns();
            ssize_t n = j.write ? pwrite(fd.get(), b, j.bs, off_t(*off))
                                : pread(fd.get(), b, j.bs, off_t(*off));
            int e = errno;
            t.syscalls++;
            now = now_ns();
            t.last = now;
            if (n < 0) {
                err.set(fmt::format("p{} at offset {}: {}", j.op_name(), *off, errno_text(e)));
                return;
            }
            if (auto why = j.after(b, *off, n); !why.empty()) {
                err.set(std::move(why));
                return;
            }
            t.lat.add(now - start);
            t.ops++;
        }
    };

    std::vector<std::thread> threads;
    for (uint32_t s = 0; s < j.qd; s++)
        threads.emplace_back(worker, s);
    m.start();
    go.count_down();
    for (auto& t : threads)
        t.join();
    return m.finish(tallies, err);
}

std::string about_sync(const job&) {
    return " (QD threads)";
}

unsigned qd_threads(const job& j) {
    return j.qd;
}

} // namespace

extern const engine sync_engine = {
    .name = "sync",
    .about = about_sync,
    .run = run_sync,
    .threads = qd_threads,
};

} // namespace machio_bench
