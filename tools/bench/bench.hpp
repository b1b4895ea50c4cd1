// What every engine (engines/*.cpp) and the driver (main.cpp) of
// machio-bench share: workloads, the offsets of a run, its data, what it
// counts and how it is timed.  What an engine's loop calls per op is
// defined here, inline; the rest is in bench.cpp.
#pragma once

#include <fmt/core.h>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace machio_bench {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint32_t page_size = 4096;
constexpr uint32_t max_qd = 1024;

inline int64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// User + system time of the whole process (every thread, live or joined).
int64_t cpu_ns();

std::string errno_text(int err);
std::string size_text(uint64_t bytes);

// ---- Workloads --------------------------------------------------------------

enum class pattern { read, write, randread, randwrite };

inline bool is_write(pattern p) {
    return p == pattern::write || p == pattern::randwrite;
}
inline bool is_random(pattern p) {
    return p == pattern::randread || p == pattern::randwrite;
}

const char* pattern_name(pattern p);

struct workload {
    pattern rw;
    uint32_t bs;
    uint32_t qd;
};

// ---- Latency histogram ----------------------------------------------------

// Log-linear buckets (HdrHistogram style): 128 per power of two, so a
// percentile is off by less than 0.8 %; exact below 128 ns.  Constant
// memory and no allocation while measuring.
class histogram {
  public:
    histogram() : counts_(groups << sub_bits) {}

    void add(int64_t ns) {
        uint64_t v = ns < 0 ? 0 : uint64_t(ns);
        counts_[index(v)]++;
        n_++;
        sum_ += v;
        max_ = std::max(max_, v);
    }

    void merge(const histogram& o);

    uint64_t count() const { return n_; }
    double mean() const { return n_ ? double(sum_) / double(n_) : 0; }

    // Nearest-rank percentile, q in (0, 1], in ns (bucket middle).
    double percentile(double q) const;

  private:
    static constexpr unsigned sub_bits = 7;
    static constexpr size_t groups = 64 - sub_bits + 1;

    static size_t index(uint64_t v) {
        if (v < (uint64_t(1) << sub_bits))
            return size_t(v);
        unsigned shift = unsigned(std::bit_width(v)) - 1 - sub_bits;
        return (size_t(shift + 1) << sub_bits) + size_t((v >> shift) & ((1u << sub_bits) - 1));
    }
    static uint64_t lower(size_t i);
    static uint64_t width(size_t i);

    std::vector<uint64_t> counts_;
    uint64_t n_ = 0, sum_ = 0, max_ = 0;
};

// ---- Offsets, data, results ---------------------------------------------

inline uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct rng {
    uint64_t state;
    uint64_t next() { return mix64(state += 0x9e3779b97f4a7c15ULL); }
    uint64_t below(uint64_t n) { return uint64_t((unsigned __int128)next() * n >> 64); }
};

// Hands out the byte offsets of the I/Os of one run and says when it is over
// (time up, op count reached, or stopped after an error).  Thread-safe.
class offset_source {
  public:
    enum class order { sequential, random, list };

    offset_source(order o, uint64_t blocks, uint32_t bs, uint64_t op_limit, double seconds,
                  std::span<const uint64_t> list = {})
        : order_(o), blocks_(blocks), bs_(bs), limit_(o == order::list ? list.size() : op_limit),
          duration_ns_(int64_t(seconds * 1e9)), list_(list) {}

    // The measured run starts now: the time limit counts from here.
    void start(int64_t now) {
        if (duration_ns_ > 0)
            deadline_ = now + duration_ns_;
    }

    std::optional<uint64_t> next(rng& r, int64_t now) {
        if (stopped_.load(std::memory_order_relaxed) || (deadline_ && now >= deadline_))
            return std::nullopt;
        uint64_t i = issued_.fetch_add(1, std::memory_order_relaxed);
        if (limit_ && i >= limit_)
            return std::nullopt;
        switch (order_) {
        case order::sequential:
            return i % blocks_ * bs_;
        case order::random:
            return r.below(blocks_) * bs_;
        case order::list:
            return list_[i] * bs_;
        }
        return std::nullopt;
    }

    void stop() { stopped_.store(true, std::memory_order_relaxed); }

  private:
    order order_;
    uint64_t blocks_;
    uint32_t bs_;
    uint64_t limit_;
    int64_t duration_ns_;
    int64_t deadline_ = 0;
    std::span<const uint64_t> list_;
    std::atomic<uint64_t> issued_{0};
    std::atomic<bool> stopped_{false};
};

// The data of a run: whatever the buffers hold (measuring), a pattern to
// write, or a pattern to find in what was read (--verify).
struct data_plan {
    enum { none, fill, check } what = none;
    uint64_t seed = 0;
};

constexpr unsigned char poison = 0x5a;

// Every 8 bytes of the device get their own value, from the seed and their
// device offset: data at the wrong place or from another run does not match.
void fill_pattern(char* buf, uint32_t len, uint64_t off, uint64_t seed);
std::string check_pattern(const char* buf, uint32_t len, uint64_t off, uint64_t seed);

// --priority: a run's slots in two classes, the even ones "high" (0) and
// the odd ones "low" (1), each class with a priority of the engine's own
// kind (a machio request's priority, an io_uring SQE's ioprio); latency is
// kept per class as well (tally::by_class).  The machio-batch family's and
// io_uring's loops honour it; every other run has none.
struct priority_classes {
    static constexpr unsigned count = 2;
    static constexpr unsigned of(uint32_t slot) { return slot % count; }
    uint32_t value[count];
};

// One run of one engine.
struct job {
    std::string device;
    unsigned lbs;
    bool write;
    uint32_t bs;
    uint32_t qd; // in all: an engine of several threads gives each its share
    unsigned waiters;
    bool uring_fixed;
    offset_source* src;
    data_plan data;
    // --scaling: threads of the engine's loop (run_threads), and queues per
    // thread (engine::multi_queue); the other engines run 1 and 1.
    unsigned threads = 1;
    unsigned queues = 1;
    const priority_classes* classes = nullptr; // --priority; else none

    // The priority of slot @s's requests: its class's, 0 without classes.
    uint32_t slot_priority(uint32_t s) const {
        return classes ? classes->value[priority_classes::of(s)] : 0;
    }

    // Before a submit: the pattern a write carries, or the poison a read
    // must overwrite.
    void before(char* buf, uint64_t off) const {
        if (data.what == data_plan::fill)
            fill_pattern(buf, bs, off, data.seed);
        else if (data.what == data_plan::check)
            std::memset(buf, poison, bs);
    }

    // After a completion of @done bytes: empty if all is well.
    std::string after(const char* buf, uint64_t off, int64_t done) const {
        if (done != int64_t(bs))
            return fmt::format("short transfer at offset {}: {} of {} bytes", off, done, bs);
        if (data.what == data_plan::check)
            return check_pattern(buf, bs, off, data.seed);
        return {};
    }

    std::string op_name() const { return write ? "write" : "read"; }
};

struct result {
    uint64_t ops = 0;
    uint64_t syscalls = 0; // the engine's own system calls for I/O, counted by it
    histogram lat;
    std::vector<histogram> by_class; // with job::classes: latency per class
    int64_t wall_ns = 0;
    int64_t cpu_ns = 0;
    std::string error;   // the first one; empty if none
    std::string skipped; // why the engine cannot run this workload
};

// What one thread of an engine counted.
struct tally {
    uint64_t ops = 0;
    uint64_t syscalls = 0;
    histogram lat;
    std::vector<histogram> by_class; // with job::classes (run_threads sizes it)
    int64_t last = 0;                // time of its last reap

    // One op of slot @s done in @ns.
    void done(const job& j, uint32_t s, int64_t ns) {
        lat.add(ns);
        ops++;
        if (j.classes)
            by_class[priority_classes::of(s)].add(ns);
    }
};

// The first error of a run, from any thread; it also ends the run.
class first_error {
  public:
    explicit first_error(offset_source& src) : src_(src) {}
    void set(std::string msg) {
        src_.stop();
        std::lock_guard lock(mutex_);
        if (msg_.empty())
            msg_ = std::move(msg);
    }
    std::string take() {
        std::lock_guard lock(mutex_);
        return std::move(msg_);
    }

  private:
    offset_source& src_;
    std::mutex mutex_;
    std::string msg_;
};

// Wall and CPU time from the first submit to the last reap.
class meter {
  public:
    explicit meter(offset_source& src) : src_(src) {}
    void start() {
        cpu0_ = cpu_ns();
        t0_ = now_ns();
        src_.start(t0_);
    }
    result finish(std::span<tally> tallies, first_error& err) const;

  private:
    offset_source& src_;
    int64_t t0_ = 0, cpu0_ = 0;
};

result failed(std::string msg);

// One page-aligned buffer per slot (what O_DIRECT and machio's zero-copy
// transfers need), touched once so that no page fault lands in a run.
class slot_buffers {
  public:
    slot_buffers(uint32_t count, uint32_t bs);
    ~slot_buffers() { std::free(mem_); }
    slot_buffers(const slot_buffers&) = delete;
    slot_buffers& operator=(const slot_buffers&) = delete;

    char* operator[](uint32_t i) const { return mem_ + size_t(i) * stride_; }
    size_t stride() const { return stride_; }

  private:
    size_t stride_;
    char* mem_;
};

uint64_t thread_seed(unsigned i);

// One engine loop per thread of the job (j.threads; with one, in the calling
// thread), each with its own tally and its share of the slots: QD / threads,
// at least one.  loop(thread, qd, tally, err, start) sets itself up, calls
// start() -- which returns once every thread is set up and the meter runs --
// and runs; it returns why it could not set up, or nothing once it has run.
// A setup error fails the run (the other threads find the run over).
template <class Loop> result run_threads(const job& j, Loop loop) {
    const unsigned n = std::max(1u, j.threads);
    const uint32_t qd = std::max<uint32_t>(1, j.qd / n);
    std::vector<tally> tallies(n);
    if (j.classes)
        for (tally& t : tallies)
            t.by_class.resize(priority_classes::count);
    first_error err(*j.src);
    meter m(*j.src);
    if (n == 1) {
        const std::function<void()> start = [&] { m.start(); };
        std::string why = loop(0u, qd, tallies[0], err, start);
        return why.empty() ? m.finish(tallies, err) : failed(std::move(why));
    }
    std::barrier ready(std::ptrdiff_t(n), [&]() noexcept { m.start(); });
    std::vector<std::string> why(n);
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < n; i++)
        threads.emplace_back([&, i] {
            bool started = false;
            const std::function<void()> start = [&] {
                started = true;
                ready.arrive_and_wait();
            };
            try {
                why[i] = loop(i, qd, tallies[i], err, start);
            } catch (const std::exception& e) {
                why[i] = e.what();
            }
            if (!started) { // the others must neither wait for it nor run on
                err.set(why[i]);
                ready.arrive_and_drop();
            }
        });
    for (auto& t : threads)
        t.join();
    for (auto& w : why)
        if (!w.empty())
            return failed(std::move(w));
    return m.finish(tallies, err);
}

// ---- The device -----------------------------------------------------------

class fd_guard {
  public:
    explicit fd_guard(int fd = -1) : fd_(fd) {}
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    ~fd_guard() {
        if (fd_ >= 0)
            close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

// The device opened as every engine but machio opens it (machio's
// device_open does the same itself).
int open_device(const std::string& path, bool write);

} // namespace machio_bench
