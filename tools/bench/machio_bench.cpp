// machio-bench: machio against its peers -- io_uring, Linux AIO and
// synchronous pread/pwrite, all O_DIRECT -- on the same block device.
//
//   machio-bench [OPTIONS]         (machio-bench --help lists them)
//
// For each workload (pattern, block size, queue depth) every engine keeps QD
// requests in flight for a fixed time or op count, reaping each completion
// and resubmitting its slot at once; one table row per engine gives IOPS,
// MiB/s, completion latency (submit to reap) and CPU time per op.  With
// --verify each engine first writes a pattern, which is read back with plain
// pread and with the engine itself, so the figures cannot come from a path
// that does not move the data.
//
// A benchmark prints figures, never a verdict: the exit status is non-zero
// only for errors (bad options, failed I/O, a failed --verify).
#include <libaio.h>
#include <liburing.h>

#include <machio/mach.h>

#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <latch>
#include <limits>
#include <mutex>
#include <new>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint32_t page_size = 4096;
constexpr uint32_t max_qd = 1024;

int64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// User + system time of the whole process (every thread, live or joined).
int64_t cpu_ns() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    auto ns = [](const timeval& tv) {
        return int64_t(tv.tv_sec) * 1'000'000'000 + tv.tv_usec * 1000;
    };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string size_text(uint64_t bytes) {
    if (bytes >= MiB && bytes % MiB == 0)
        return fmt::format("{} MiB", bytes / MiB);
    if (bytes >= KiB && bytes % KiB == 0)
        return fmt::format("{} KiB", bytes / KiB);
    return fmt::format("{} B", bytes);
}

// ---- Workloads and options ----------------------------------------------

enum class pattern { read, write, randread, randwrite };

bool is_write(pattern p) {
    return p == pattern::write || p == pattern::randwrite;
}
bool is_random(pattern p) {
    return p == pattern::randread || p == pattern::randwrite;
}

const char* pattern_name(pattern p) {
    switch (p) {
    case pattern::read:
        return "read";
    case pattern::write:
        return "write";
    case pattern::randread:
        return "randread";
    case pattern::randwrite:
        return "randwrite";
    }
    return "?";
}

struct workload {
    pattern rw;
    uint32_t bs;
    uint32_t qd;
};

enum class engine_id {
    machio,
    machio_batch,
    machio_ring,
    machio_fixed,
    machio_poll,
    io_uring,
    io_uring_fixed,
    io_uring_poll,
    aio,
    sync,
};
constexpr engine_id all_engines[] = {engine_id::machio,
                                     engine_id::machio_batch,
                                     engine_id::machio_ring,
                                     engine_id::machio_fixed,
                                     engine_id::machio_poll,
                                     engine_id::io_uring,
                                     engine_id::io_uring_fixed,
                                     engine_id::io_uring_poll,
                                     engine_id::aio,
                                     engine_id::sync};

const char* engine_name(engine_id e) {
    switch (e) {
    case engine_id::machio:
        return "machio";
    case engine_id::machio_batch:
        return "machio-batch";
    case engine_id::machio_ring:
        return "machio-ring";
    case engine_id::machio_fixed:
        return "machio-fixed";
    case engine_id::machio_poll:
        return "machio-poll";
    case engine_id::io_uring:
        return "io_uring";
    case engine_id::io_uring_fixed:
        return "io_uring-fixed";
    case engine_id::io_uring_poll:
        return "io_uring-poll";
    case engine_id::aio:
        return "aio";
    case engine_id::sync:
        return "sync";
    }
    return "?";
}

struct options {
    std::string device = "/dev/nullb0";
    pattern rw = pattern::randread;
    uint32_t bs = 4 * KiB;
    uint32_t qd = 32;
    std::vector<workload> workloads; // -j; else the one of -w/-b/-q
    double seconds = 0;              // 0: none (then --ops), both 0: 5 s
    uint64_t ops = 0;
    double warmup = 0.5;
    unsigned waiters = 1;
    std::vector<engine_id> engines; // empty: all
    bool uring_fixed = false;
    uint64_t span = 0; // 0: the whole device
    bool verify = false;
    uint64_t verify_bytes = 8 * MiB;
    bool allow_write = false;
    bool json = false;
};

const char usage_text[] = R"(usage: machio-bench [options]

Measures machio (the Mach io_done_queue API) against io_uring, Linux AIO and
synchronous pread/pwrite on one block device, all with O_DIRECT. Prints one
table per workload; exits non-zero only on errors.

  -d, --device PATH        block device (default /dev/nullb0)
  -w, --rw MODE            read, write, randread or randwrite (default randread)
  -b, --bs SIZE            block size, e.g. 4k, 128k, 1m (default 4k)
  -q, --qd N               requests kept in flight (default 32); the sync
                           engine runs N threads of blocking calls
  -j, --workload MODE:BS:QD  a workload, e.g. randread:4k:32; repeatable,
                           replaces -w/-b/-q
  -t, --time SECONDS       measure each engine for this long (default 5)
  -n, --ops N              ... or for N ops (with -t: whichever ends first)
      --warmup SECONDS     unmeasured run of each engine first (default 0.5)
  -e, --engines LIST       comma-separated subset of machio, machio-batch,
                           machio-ring, machio-fixed, io_uring, io_uring-fixed,
                           aio, sync (default: all, in that order)
  -T, --waiters N          machio: threads waiting on the io_done_queue, each
                           reaping and resubmitting (default 1)
      --uring-fixed        io_uring: registered buffers (READ/WRITE_FIXED)
      --json               print only one JSON object ({"runs": [...]}) on
                           standard output
      --span SIZE          use only the first SIZE bytes of the device
      --verify             per workload and engine, before measuring: write a
                           pattern with the engine, read it back with pread
                           and with the engine, compare (needs a device that
                           stores data: null_blk memory_backed=1, a disk)
      --verify-size SIZE   bytes the verify pass covers (default 8m)
      --allow-write        allow writes (write workloads, --verify) to a
                           device that is not a null_blk disk (nullb*)
  -h, --help
)";

[[noreturn]] void usage_error(const std::string& msg) {
    fmt::print(stderr, "machio-bench: {}\n(machio-bench --help for usage)\n", msg);
    std::exit(2);
}

uint64_t parse_u64(std::string_view s, const char* what) {
    uint64_t v = 0;
    if (s.empty())
        usage_error(fmt::format("empty {}", what));
    for (char c : s) {
        if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
            usage_error(fmt::format("bad {} '{}'", what, s));
        v = v * 10 + uint64_t(c - '0');
    }
    return v;
}

// 4096, 4k, 4K, 4KiB, 4kb, 1m, 2g.
uint64_t parse_size(std::string_view s, const char* what) {
    size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    uint64_t v = parse_u64(s.substr(0, digits), what);
    std::string unit(s.substr(digits));
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](char c) { return char(std::tolower(static_cast<unsigned char>(c))); });
    uint64_t mult = 0;
    if (unit.empty() || unit == "b")
        mult = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib")
        mult = KiB;
    else if (unit == "m" || unit == "mb" || unit == "mib")
        mult = MiB;
    else if (unit == "g" || unit == "gb" || unit == "gib")
        mult = 1024 * MiB;
    if (!mult || v > UINT64_MAX / mult)
        usage_error(fmt::format("bad {} '{}'", what, s));
    return v * mult;
}

double parse_seconds(std::string_view s, const char* what) {
    std::string str(s);
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(str.c_str(), &end);
    if (str.empty() || *end || errno || !(v >= 0) || v > 1e6)
        usage_error(fmt::format("bad {} '{}'", what, s));
    return v;
}

pattern parse_pattern(std::string_view s) {
    for (pattern p : {pattern::read, pattern::write, pattern::randread, pattern::randwrite})
        if (s == pattern_name(p))
            return p;
    usage_error(fmt::format("bad I/O pattern '{}' (read, write, randread, randwrite)", s));
}

uint32_t check_bs(uint64_t bs) {
    if (bs < 512 || bs > 64 * MiB || bs % 512)
        usage_error(
            fmt::format("block size {} is not a multiple of 512 between 512 and 64 MiB", bs));
    return uint32_t(bs);
}

uint32_t check_qd(uint64_t qd) {
    if (qd < 1 || qd > max_qd)
        usage_error(fmt::format("queue depth {} out of range 1..{}", qd, max_qd));
    return uint32_t(qd);
}

workload parse_workload(std::string_view s) {
    size_t a = s.find(':');
    size_t b = a == s.npos ? s.npos : s.find(':', a + 1);
    if (b == s.npos)
        usage_error(fmt::format("bad workload '{}' (want MODE:BS:QD, e.g. randread:4k:32)", s));
    return {parse_pattern(s.substr(0, a)), check_bs(parse_size(s.substr(a + 1, b - a - 1), "size")),
            check_qd(parse_u64(s.substr(b + 1), "queue depth"))};
}

std::vector<engine_id> parse_engines(std::string_view s) {
    std::vector<engine_id> out;
    while (!s.empty()) {
        size_t comma = s.find(',');
        std::string_view name = s.substr(0, comma);
        s = comma == s.npos ? std::string_view() : s.substr(comma + 1);
        if (name == "all") {
            out.assign(std::begin(all_engines), std::end(all_engines));
            continue;
        }
        std::optional<engine_id> e;
        for (engine_id id : all_engines)
            if (name == engine_name(id))
                e = id;
        if (e)
            ;
        else if (name == "uring" || name == "io-uring")
            e = engine_id::io_uring;
        else if (name == "aio" || name == "libaio")
            e = engine_id::aio;
        else if (name == "sync" || name == "psync")
            e = engine_id::sync;
        else
            usage_error(fmt::format("unknown engine '{}' (machio, machio-batch, machio-ring, "
                                    "machio-fixed, io_uring, io_uring-fixed, aio, sync)",
                                    name));
        if (std::find(out.begin(), out.end(), *e) == out.end())
            out.push_back(*e);
    }
    if (out.empty())
        usage_error("no engines given");
    return out;
}

options parse_options(int argc, char** argv) {
    enum {
        opt_warmup = 256,
        opt_uring_fixed,
        opt_json,
        opt_span,
        opt_verify,
        opt_verify_size,
        opt_allow_write,
    };
    static const struct option longopts[] = {
        {"device", required_argument, nullptr, 'd'},
        {"rw", required_argument, nullptr, 'w'},
        {"bs", required_argument, nullptr, 'b'},
        {"qd", required_argument, nullptr, 'q'},
        {"workload", required_argument, nullptr, 'j'},
        {"time", required_argument, nullptr, 't'},
        {"ops", required_argument, nullptr, 'n'},
        {"warmup", required_argument, nullptr, opt_warmup},
        {"engines", required_argument, nullptr, 'e'},
        {"waiters", required_argument, nullptr, 'T'},
        {"uring-fixed", no_argument, nullptr, opt_uring_fixed},
        {"json", no_argument, nullptr, opt_json},
        {"span", required_argument, nullptr, opt_span},
        {"verify", no_argument, nullptr, opt_verify},
        {"verify-size", required_argument, nullptr, opt_verify_size},
        {"allow-write", no_argument, nullptr, opt_allow_write},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    options o;
    int c;
    while ((c = getopt_long(argc, argv, "d:w:b:q:j:t:n:e:T:h", longopts, nullptr)) != -1) {
        switch (c) {
        case 'd':
            o.device = optarg;
            break;
        case 'w':
            o.rw = parse_pattern(optarg);
            break;
        case 'b':
            o.bs = check_bs(parse_size(optarg, "block size"));
            break;
        case 'q':
            o.qd = check_qd(parse_u64(optarg, "queue depth"));
            break;
        case 'j':
            o.workloads.push_back(parse_workload(optarg));
            break;
        case 't':
            o.seconds = parse_seconds(optarg, "time");
            if (o.seconds <= 0)
                usage_error("--time must be positive");
            break;
        case 'n':
            o.ops = parse_u64(optarg, "op count");
            if (!o.ops)
                usage_error("--ops must be positive");
            break;
        case opt_warmup:
            o.warmup = parse_seconds(optarg, "warm-up time");
            break;
        case 'e':
            o.engines = parse_engines(optarg);
            break;
        case 'T':
            o.waiters = unsigned(parse_u64(optarg, "waiter count"));
            if (o.waiters < 1 || o.waiters > 256)
                usage_error("--waiters out of range 1..256");
            break;
        case opt_json:
            o.json = true;
            break;
        case opt_uring_fixed:
            o.uring_fixed = true;
            break;
        case opt_span:
            o.span = parse_size(optarg, "span");
            break;
        case opt_verify:
            o.verify = true;
            break;
        case opt_verify_size:
            o.verify_bytes = parse_size(optarg, "verify size");
            if (!o.verify_bytes)
                usage_error("--verify-size must be positive");
            break;
        case opt_allow_write:
            o.allow_write = true;
            break;
        case 'h':
            fmt::print("{}", usage_text);
            std::exit(0);
        default:
            usage_error("bad option");
        }
    }
    if (optind < argc)
        usage_error(fmt::format("unexpected argument '{}'", argv[optind]));
    if (o.workloads.empty())
        o.workloads.push_back({o.rw, o.bs, o.qd});
    if (o.engines.empty())
        o.engines.assign(std::begin(all_engines), std::end(all_engines));
    if (o.seconds == 0 && o.ops == 0)
        o.seconds = 5;
    return o;
}

// ---- The device -----------------------------------------------------------

struct device_info {
    std::string path;
    std::string name; // of the node the path resolves to, e.g. "nullb0"
    uint64_t size = 0;
    unsigned lbs = 0;    // logical block size
    uint64_t max_io = 0; // max_sectors_kb in bytes; 0: unknown
};

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
int open_device(const std::string& path, bool write) {
    return open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
}

std::optional<device_info> probe_device(const std::string& path, std::string& err) {
    struct stat st;
    if (stat(path.c_str(), &st)) {
        err = fmt::format("{}: {}", path, errno_text(errno));
        return std::nullopt;
    }
    if (!S_ISBLK(st.st_mode)) {
        err = fmt::format("{}: not a block device", path);
        return std::nullopt;
    }
    fd_guard fd(open_device(path, false));
    if (fd.get() < 0) {
        err = fmt::format("{}: {}", path, errno_text(errno));
        return std::nullopt;
    }
    device_info d;
    d.path = path;
    int lbs = 0;
    if (ioctl(fd.get(), BLKGETSIZE64, &d.size) || ioctl(fd.get(), BLKSSZGET, &lbs) || lbs <= 0) {
        err = fmt::format("{}: cannot get its size: {}", path, errno_text(errno));
        return std::nullopt;
    }
    d.lbs = unsigned(lbs);
    std::error_code ec;
    d.name = std::filesystem::canonical(path, ec).filename().string();
    if (ec)
        d.name = std::filesystem::path(path).filename().string();
    if (std::FILE* f = std::fopen(
            fmt::format("/sys/class/block/{}/queue/max_sectors_kb", d.name).c_str(), "r")) {
        unsigned long kb = 0;
        if (std::fscanf(f, "%lu", &kb) == 1)
            d.max_io = uint64_t(kb) * 1024;
        std::fclose(f);
    }
    return d;
}

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

    void merge(const histogram& o) {
        for (size_t i = 0; i < counts_.size(); i++)
            counts_[i] += o.counts_[i];
        n_ += o.n_;
        sum_ += o.sum_;
        max_ = std::max(max_, o.max_);
    }

    uint64_t count() const { return n_; }
    double mean() const { return n_ ? double(sum_) / double(n_) : 0; }

    // Nearest-rank percentile, q in (0, 1], in ns (bucket middle).
    double percentile(double q) const {
        if (!n_)
            return 0;
        auto rank = uint64_t(std::ceil(q * double(n_)));
        rank = std::clamp<uint64_t>(rank, 1, n_);
        uint64_t seen = 0;
        for (size_t i = 0; i < counts_.size(); i++) {
            seen += counts_[i];
            if (seen >= rank)
                return std::min(double(lower(i)) + double(width(i) - 1) / 2, double(max_));
        }
        return double(max_);
    }

  private:
    static constexpr unsigned sub_bits = 7;
    static constexpr size_t groups = 64 - sub_bits + 1;

    static size_t index(uint64_t v) {
        if (v < (uint64_t(1) << sub_bits))
            return size_t(v);
        unsigned shift = unsigned(std::bit_width(v)) - 1 - sub_bits;
        return (size_t(shift + 1) << sub_bits) + size_t((v >> shift) & ((1u << sub_bits) - 1));
    }
    static uint64_t lower(size_t i) {
        size_t g = i >> sub_bits, sub = i & ((1u << sub_bits) - 1);
        return g == 0 ? sub : ((uint64_t(1) << sub_bits) + sub) << (g - 1);
    }
    static uint64_t width(size_t i) {
        size_t g = i >> sub_bits;
        return g == 0 ? 1 : uint64_t(1) << (g - 1);
    }

    std::vector<uint64_t> counts_;
    uint64_t n_ = 0, sum_ = 0, max_ = 0;
};

// ---- Offsets, data, results ---------------------------------------------

uint64_t mix64(uint64_t x) {
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
void fill_pattern(char* buf, uint32_t len, uint64_t off, uint64_t seed) {
    for (uint32_t i = 0; i + 8 <= len; i += 8) {
        uint64_t v = mix64(seed ^ (off + i));
        std::memcpy(buf + i, &v, 8);
    }
}

std::string check_pattern(const char* buf, uint32_t len, uint64_t off, uint64_t seed) {
    for (uint32_t i = 0; i + 8 <= len; i += 8) {
        uint64_t want = mix64(seed ^ (off + i)), got;
        std::memcpy(&got, buf + i, 8);
        if (got == want)
            continue;
        uint64_t poisoned;
        std::memset(&poisoned, poison, 8);
        return fmt::format("data mismatch at device offset {}: expected {:#018x}, read {:#018x}{}",
                           off + i, want, got,
                           got == poisoned ? " (the read left the buffer untouched: does the "
                                             "device store data? null_blk needs memory_backed=1)"
                                           : "");
    }
    return {};
}

// One run of one engine.
struct job {
    std::string device;
    unsigned lbs;
    bool write;
    uint32_t bs;
    uint32_t qd;
    unsigned waiters;
    bool uring_fixed;
    offset_source* src;
    data_plan data;

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
    int64_t last = 0; // time of its last reap
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
    result finish(std::span<tally> tallies, first_error& err) const {
        result r;
        r.cpu_ns = cpu_ns() - cpu0_;
        int64_t last = t0_;
        for (auto& t : tallies) {
            r.ops += t.ops;
            r.syscalls += t.syscalls;
            r.lat.merge(t.lat);
            last = std::max(last, t.last);
        }
        r.wall_ns = last - t0_;
        r.error = err.take();
        return r;
    }

  private:
    offset_source& src_;
    int64_t t0_ = 0, cpu0_ = 0;
};

result failed(std::string msg) {
    result r;
    r.error = std::move(msg);
    return r;
}

// One page-aligned buffer per slot (what O_DIRECT and machio's zero-copy
// transfers need), touched once so that no page fault lands in a run.
class slot_buffers {
  public:
    slot_buffers(uint32_t count, uint32_t bs)
        : stride_((bs + page_size - 1) / page_size * page_size),
          mem_(static_cast<char*>(std::aligned_alloc(page_size, size_t(count) * stride_))) {
        if (!mem_)
            throw std::bad_alloc();
        for (uint32_t i = 0; i < count; i++)
            fill_pattern((*this)[i], bs, uint64_t(i) * bs, 0x6d616368696f); // "machio"
    }
    ~slot_buffers() { std::free(mem_); }
    slot_buffers(const slot_buffers&) = delete;
    slot_buffers& operator=(const slot_buffers&) = delete;

    char* operator[](uint32_t i) const { return mem_ + size_t(i) * stride_; }
    size_t stride() const { return stride_; }

  private:
    size_t stride_;
    char* mem_;
};

uint64_t thread_seed(unsigned i) {
    return mix64(uint64_t(now_ns()) ^ (uint64_t(i) << 40));
}

// ---- Engine: machio (the Mach C API) ---------------------------------------

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

// ---- Engines: machio-batch, machio-ring -------------------------------------

// One thread, the io_uring engine's loop with machio's extensions: every
// resubmission of a round in one machio_submit_batch(), then every
// completion there is in one machio_io_done_queue_reap(min 1).  machio-batch
// uses a queue without a ring (each reap is a system call); machio-ring a
// ring queue, whose reaps need no system call while completions wait;
// machio-fixed adds registered buffers (no pinning per request).
result run_machio_batch(const job& j, bool ring, bool fixed, bool polled = false) {
    mach_port_t dev = MACH_PORT_NULL, queue = MACH_PORT_NULL;
    kern_return_t kr =
        device_open(mach_host_self(), D_READ | (j.write ? D_WRITE : 0), j.device.c_str(), &dev);
    if (kr != KERN_SUCCESS)
        return failed(fmt::format("device_open {}: {}", j.device, mach_error_string(kr)));
    uint32_t entries = 1;
    while (entries < j.qd)
        entries <<= 1;
    machio_queue_options_t qo = {.ring_entries = ring ? entries : 0,
                                 .eventfd = -1,
                                 .flags = polled ? unsigned(MACHIO_QUEUE_POLLED) : 0U};
    kr = machio_io_done_queue_create_with(mach_host_self(), &qo, &queue);
    if (kr != KERN_SUCCESS) {
        device_close(dev);
        return failed(fmt::format("machio_io_done_queue_create_with: {}", mach_error_string(kr)));
    }

    slot_buffers buf(j.qd, j.bs);
    mach_port_t fixed_name = MACH_PORT_NULL;
    if (fixed) {
        kr = machio_buffer_register(buf[0], buf.stride() * j.qd, &fixed_name);
        if (kr != KERN_SUCCESS) {
            io_done_queue_terminate(queue);
            mach_port_deallocate(mach_task_self(), queue);
            device_close(dev);
            return failed(fmt::format("machio_buffer_register: {}", mach_error_string(kr)));
        }
    }
    std::vector<uint64_t> offs(j.qd);
    std::vector<int64_t> submitted(j.qd);
    std::vector<machio_io_request> pending;
    pending.reserve(j.qd);
    std::vector<machio_cqe> cqes(entries);
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
        machio_io_request rq = {};
        rq.device = dev;
        rq.queue = queue;
        rq.reqid = s;
        rq.recnum = uint32_t(*off / j.lbs);
        rq.count = int32_t(j.bs);
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
            kern_return_t kr = machio_submit_batch(pending.data() + done,
                                                   unsigned(pending.size() - done), &accepted);
            t.syscalls++;
            if (kr != KERN_SUCCESS || accepted == 0) {
                err.set(fmt::format("machio_submit_batch: {}", mach_error_string(kr)));
                inflight -= uint32_t(pending.size() - done);
                break;
            }
            done += accepted;
        }
        pending.clear();
    };

    m.start();
    int64_t now = now_ns();
    while (inflight < j.qd && issue(inflight, now))
        inflight++;
    submit();
    while (inflight > 0) {
        if (!ring || machio_io_done_queue_ready(queue) <= 0)
            t.syscalls++;
        unsigned n = 0;
        kr = machio_io_done_queue_reap(queue, 1, unsigned(cqes.size()), cqes.data(), -1, &n);
        if (kr == KERN_ABORTED)
            continue;
        if (kr != KERN_SUCCESS) {
            err.set(fmt::format("machio_io_done_queue_reap: {}", mach_error_string(kr)));
            break;
        }
        for (const machio_cqe* c = cqes.data(); n--; c = machio_cqe_next(c)) {
            now = now_ns();
            uint32_t s = c->reqid;
            if (s >= j.qd) {
                err.set(fmt::format("completion for unknown request {:#x}", s));
                inflight--;
                continue;
            }
            if (c->code != KERN_SUCCESS)
                err.set(fmt::format("{} at offset {}: {}", j.op_name(), offs[s],
                                    mach_error_string(c->code)));
            else if (auto why = j.after(buf[s], offs[s], c->count); !why.empty())
                err.set(std::move(why));
            else {
                t.lat.add(now - submitted[s]);
                t.ops++;
            }
            t.last = now;
            if (!issue(s, now))
                inflight--;
        }
        submit();
    }
    // Requests still in flight after an error: terminate waits for them.
    io_done_queue_terminate(queue);
    mach_port_deallocate(mach_task_self(), queue);
    if (fixed_name)
        mach_port_deallocate(mach_task_self(), fixed_name);
    device_close(dev);
    return m.finish({&t, 1}, err);
}

// ---- Engine: io_uring ------------------------------------------------------

// One ring of QD entries: reap every completion there is, prepare the
// resubmissions, then submit them and wait for the next completion in one
// io_uring_submit_and_wait().
result run_io_uring(const job& j, unsigned setup_flags = 0) {
    fd_guard fd(open_device(j.device, j.write));
    if (fd.get() < 0)
        return failed(fmt::format("{}: {}", j.device, errno_text(errno)));
    slot_buffers buf(j.qd, j.bs);
    struct io_uring ring;
    if (int rc = io_uring_queue_init(j.qd, &ring, setup_flags); rc < 0)
        return failed(fmt::format("io_uring_queue_init: {}", errno_text(-rc)));
    struct ring_guard {
        struct io_uring* ring;
        ~ring_guard() { io_uring_queue_exit(ring); }
    } guard{&ring};
    if (j.uring_fixed) {
        std::vector<iovec> iov(j.qd);
        for (uint32_t s = 0; s < j.qd; s++)
            iov[s] = {buf[s], j.bs};
        if (int rc = io_uring_register_buffers(&ring, iov.data(), j.qd); rc < 0)
            return failed(fmt::format("io_uring_register_buffers: {}", errno_text(-rc)));
    }

    std::vector<uint64_t> offs(j.qd);
    std::vector<int64_t> submitted(j.qd);
    tally t;
    first_error err(*j.src);
    meter m(*j.src);
    rng r{thread_seed(0)};

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
            io_uring_prep_write_fixed(sqe, fd.get(), buf[s], j.bs, *off, int(s));
        else if (j.uring_fixed)
            io_uring_prep_read_fixed(sqe, fd.get(), buf[s], j.bs, *off, int(s));
        else if (j.write)
            io_uring_prep_write(sqe, fd.get(), buf[s], j.bs, *off);
        else
            io_uring_prep_read(sqe, fd.get(), buf[s], j.bs, *off);
        io_uring_sqe_set_data64(sqe, s);
        submitted[s] = now_ns();
        return true;
    };

    m.start();
    uint32_t inflight = 0;
    int64_t now = now_ns();
    while (inflight < j.qd && issue(inflight, now))
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
                t.lat.add(now - submitted[s]);
                t.ops++;
            }
            t.last = now;
            if (!issue(s, now))
                inflight--;
        }
        io_uring_cq_advance(&ring, seen);
    }
    return m.finish({&t, 1}, err);
}

// ---- Engine: Linux AIO (libaio) --------------------------------------------

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

// ---- Engine: synchronous pread/pwrite ---------------------------------------

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

result run_engine(engine_id e, const job& j) {
    switch (e) {
    case engine_id::machio:
        return run_machio(j);
    case engine_id::machio_batch:
        return run_machio_batch(j, false, false);
    case engine_id::machio_ring:
        return run_machio_batch(j, true, false);
    case engine_id::machio_fixed:
        return run_machio_batch(j, true, true);
    case engine_id::machio_poll:
        return run_machio_batch(j, true, false, true);
    case engine_id::io_uring:
        return run_io_uring(j);
    case engine_id::io_uring_fixed: {
        job jf = j;
        jf.uring_fixed = true;
        return run_io_uring(jf);
    }
    case engine_id::io_uring_poll:
        return run_io_uring(j, IORING_SETUP_IOPOLL);
    case engine_id::aio:
        return run_aio(j);
    case engine_id::sync:
        return run_sync(j);
    }
    return failed("unknown engine");
}

// ---- Verification -----------------------------------------------------------

// Read [0, blocks * bs) with plain pread and look for the pattern.
std::string reference_check(const device_info& d, uint64_t blocks, uint32_t bs, uint64_t seed) {
    fd_guard fd(open_device(d.path, false));
    if (fd.get() < 0)
        return fmt::format("{}: {}", d.path, errno_text(errno));
    slot_buffers buf(1, bs);
    for (uint64_t b = 0; b < blocks; b++) {
        std::memset(buf[0], poison, bs);
        ssize_t n = pread(fd.get(), buf[0], bs, off_t(b * bs));
        if (n != ssize_t(bs))
            return fmt::format("pread at offset {}: {}", b * bs,
                               n < 0 ? errno_text(errno) : fmt::format("{} bytes", n));
        if (auto why = check_pattern(buf[0], bs, b * bs, seed); !why.empty())
            return why;
    }
    return {};
}

// The engine writes a pattern over the start of the device (in random
// order for random workloads), pread checks it, then the engine reads it
// back (in another order, into poisoned buffers) and checks it.  Empty if
// all matched.
std::string verify(engine_id e, const options& o, const device_info& d, const workload& w,
                   uint64_t region, unsigned round) {
    uint64_t blocks = std::max<uint64_t>(1, std::min(o.verify_bytes, region) / w.bs);
    std::vector<uint64_t> order(blocks);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 gen(mix64(uint64_t(now_ns()) ^ round));
    uint64_t seed = gen();
    job base{d.path, d.lbs, true, w.bs, w.qd, o.waiters, o.uring_fixed, nullptr, {}};

    if (is_random(w.rw))
        std::shuffle(order.begin(), order.end(), gen);
    offset_source wsrc(offset_source::order::list, blocks, w.bs, 0, 0, order);
    job jw = base;
    jw.src = &wsrc;
    jw.data = {data_plan::fill, seed};
    if (result r = run_engine(e, jw); !r.error.empty())
        return fmt::format("writing: {}", r.error);
    if (auto why = reference_check(d, blocks, w.bs, seed); !why.empty())
        return fmt::format("{} wrote, pread checked: {}", engine_name(e), why);

    std::shuffle(order.begin(), order.end(), gen);
    offset_source rsrc(offset_source::order::list, blocks, w.bs, 0, 0, order);
    job jr = base;
    jr.write = false;
    jr.src = &rsrc;
    jr.data = {data_plan::check, seed};
    if (result r = run_engine(e, jr); !r.error.empty())
        return fmt::format("reading back: {}", r.error);
    return {};
}

// ---- Report -------------------------------------------------------------------

void print_table_header() {
    fmt::print("  {:<14} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>7}\n",
               "engine", "ops", "IOPS", "MiB/s", "mean", "p50", "p99", "p99.9", "CPU/op", "CPU",
               "syscalls", "vs");
    fmt::print("  {:<14} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>7}\n", "",
               "", "", "", "µs", "µs", "µs", "µs", "µs", "%", "/op", "machio");
}

void print_row(engine_id e, const result& r, uint32_t bs, double machio_iops) {
    double secs = double(r.wall_ns) / 1e9;
    double iops = secs > 0 ? double(r.ops) / secs : 0;
    std::string rel = machio_iops > 0 ? fmt::format("{:.2f}x", iops / machio_iops) : "-";
    fmt::print("  {:<14} {:>9} {:>9.0f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.2f} "
               "{:>6.0f} {:>8.2f} {:>7}\n",
               engine_name(e), r.ops, iops, iops * bs / double(MiB), r.lat.mean() / 1e3,
               r.lat.percentile(0.50) / 1e3, r.lat.percentile(0.99) / 1e3,
               r.lat.percentile(0.999) / 1e3, r.ops ? double(r.cpu_ns) / double(r.ops) / 1e3 : 0,
               secs > 0 ? double(r.cpu_ns) / 1e9 / secs * 100 : 0,
               r.ops ? double(r.syscalls) / double(r.ops) : 0, rel);
}

// Threads doing I/O in an engine's run.
unsigned engine_threads(engine_id e, const options& o, const workload& w) {
    switch (e) {
    case engine_id::machio:
        return o.waiters;
    case engine_id::sync:
        return w.qd;
    default:
        return 1;
    }
}

// One run as a JSON object (tools/bench/README.md lists the fields).
std::string json_run(const workload& w, engine_id e, const result& r, const options& o) {
    double secs = double(r.wall_ns) / 1e9;
    double iops = secs > 0 ? double(r.ops) / secs : 0;
    double ops = r.ops ? double(r.ops) : 1;
    return fmt::format("{{\"workload\": \"{}\", \"bs\": {}, \"qd\": {}, \"threads\": {}, "
                       "\"engine\": \"{}\", \"ops\": {}, \"iops\": {:.0f}, \"p50_us\": {:.2f}, "
                       "\"p99_us\": {:.2f}, \"p999_us\": {:.2f}, \"cpu_us_per_io\": {:.3f}, "
                       "\"syscalls_per_io\": {:.3f}}}",
                       pattern_name(w.rw), w.bs, w.qd, engine_threads(e, o, w), engine_name(e),
                       r.ops, iops, r.lat.percentile(0.50) / 1e3, r.lat.percentile(0.99) / 1e3,
                       r.lat.percentile(0.999) / 1e3, double(r.cpu_ns) / ops / 1e3,
                       double(r.syscalls) / ops);
}

void print_intro(const options& o, const device_info& d, uint64_t region) {
    struct utsname u;
    std::string kernel = uname(&u) == 0 ? u.release : "?";
    fmt::print("machio-bench: {} ({}, {}-byte blocks{}), kernel {}, {} CPUs\n", d.path,
               size_text(d.size), d.lbs,
               region < d.size ? fmt::format(", first {} used", size_text(region)) : "", kernel,
               std::thread::hardware_concurrency());
    std::string engines;
    for (engine_id e : o.engines) {
        if (!engines.empty())
            engines += ", ";
        engines += engine_name(e);
        if (e == engine_id::machio) {
            machio_info_t info;
            if (machio_get_info(&info) == KERN_SUCCESS)
                engines += fmt::format(" (ABI {}, {} waiter thread{})", info.abi_version, o.waiters,
                                       o.waiters == 1 ? "" : "s");
        } else if (e == engine_id::io_uring && o.uring_fixed) {
            engines += " (registered buffers)";
        } else if (e == engine_id::io_uring_fixed) {
            engines += " (registered buffers)";
        } else if (e == engine_id::sync) {
            engines += " (QD threads)";
        }
    }
    std::string limit;
    if (o.seconds > 0)
        limit = fmt::format("{:g} s", o.seconds);
    if (o.ops)
        limit += fmt::format("{}{} ops", limit.empty() ? "" : " or ", o.ops);
    fmt::print("engines: {}; all O_DIRECT\n", engines);
    fmt::print("each engine: {}{}; latency from submit to reap; CPU = user+sys of the process\n",
               limit, o.warmup > 0 ? fmt::format(" after a {:g} s warm-up", o.warmup) : "");
}

} // namespace

int main(int argc, char** argv) try {
    options o = parse_options(argc, argv);

    std::string err;
    auto dev = probe_device(o.device, err);
    if (!dev) {
        fmt::print(stderr, "machio-bench: {}\n", err);
        return 1;
    }
    bool writes = o.verify || std::any_of(o.workloads.begin(), o.workloads.end(),
                                          [](const workload& w) { return is_write(w.rw); });
    if (writes && !o.allow_write && !dev->name.starts_with("nullb")) {
        fmt::print(stderr,
                   "machio-bench: refusing to write to {} ({}): it is not a null_blk disk and "
                   "its data would be overwritten; pass --allow-write if that is what you want\n",
                   o.device, dev->name);
        return 1;
    }
    // The region every engine uses; machio's recnum is 32 bits of blocks.
    uint64_t region = o.span ? std::min(o.span, dev->size) : dev->size;
    region = std::min<uint64_t>(region, uint64_t(UINT32_MAX) * dev->lbs);
    for (const auto& w : o.workloads) {
        if (w.bs % dev->lbs)
            usage_error(fmt::format("block size {} is not a multiple of {}'s {}-byte blocks", w.bs,
                                    o.device, dev->lbs));
        if (w.bs > region)
            usage_error(fmt::format("block size {} exceeds the {} bytes in use", w.bs, region));
    }

    if (!o.json)
        print_intro(o, *dev, region);
    int failures = 0;
    unsigned round = 0;
    std::vector<std::string> json_runs;
    const size_t nr_runs = o.workloads.size() * o.engines.size();
    size_t run_no = 0;
    // Progress on standard error: a line rewritten in place on a terminal
    // (unless the tables go to the same terminal: they show the progress),
    // a line per run elsewhere.
    const bool tty = isatty(STDERR_FILENO);
    const bool show_progress = !tty || !isatty(STDOUT_FILENO) || o.json;
    auto progress = [&](const workload& w, engine_id e) {
        ++run_no;
        if (!show_progress)
            return;
        fmt::print(stderr, "{}machio-bench: [{}/{}] {} {} QD {}: {}{}", tty ? "\r\033[K" : "",
                   run_no, nr_runs, pattern_name(w.rw), size_text(w.bs), w.qd, engine_name(e),
                   tty ? "" : "\n");
        std::fflush(stderr);
    };
    for (const auto& w : o.workloads) {
        if (!o.json)
            fmt::print("\n{} {}, QD {}\n", pattern_name(w.rw), size_text(w.bs), w.qd);
        uint64_t blocks = region / w.bs;
        auto order =
            is_random(w.rw) ? offset_source::order::random : offset_source::order::sequential;

        std::vector<engine_id> engines;
        for (engine_id e : o.engines) {
            if (!o.verify) {
                engines.push_back(e);
                continue;
            }
            uint64_t vblocks = std::max<uint64_t>(1, std::min(o.verify_bytes, region) / w.bs);
            std::string why = verify(e, o, *dev, w, region, ++round);
            if (why.empty()) {
                fmt::print("  verify {}: {} in {} blocks written by {}, read back by pread and "
                           "by {}: match\n",
                           engine_name(e), size_text(vblocks * w.bs), vblocks, engine_name(e),
                           engine_name(e));
                engines.push_back(e);
            } else {
                fmt::print("  verify {}: FAILED: {}\n", engine_name(e), why);
                failures++;
            }
        }
        if (engines.empty())
            continue;

        // Rows are printed once every engine has run: "vs machio" needs
        // machio's figure whatever the order.
        std::vector<std::pair<engine_id, result>> rows;
        for (engine_id e : engines) {
            progress(w, e);
            // IOPOLL cannot split a request: in 6.1 such a read never completes.
            if (e == engine_id::io_uring_poll && dev->max_io && w.bs > dev->max_io) {
                result r;
                r.skipped = fmt::format("{} is over the device's {} per request, which IOPOLL "
                                        "cannot split",
                                        size_text(w.bs), size_text(dev->max_io));
                rows.emplace_back(e, std::move(r));
                continue;
            }
            job j{dev->path, dev->lbs,      is_write(w.rw), w.bs, w.qd,
                  o.waiters, o.uring_fixed, nullptr,        {}};
            if (o.warmup > 0) {
                offset_source warm(order, blocks, w.bs, 0, o.warmup);
                j.src = &warm;
                if (result r = run_engine(e, j); !r.error.empty()) {
                    rows.emplace_back(e, std::move(r));
                    continue;
                }
            }
            offset_source src(order, blocks, w.bs, o.ops, o.seconds);
            j.src = &src;
            rows.emplace_back(e, run_engine(e, j));
        }
        double machio_iops = 0;
        for (const auto& [e, r] : rows)
            if (e == engine_id::machio && r.error.empty() && r.wall_ns > 0)
                machio_iops = double(r.ops) / (double(r.wall_ns) / 1e9);
        if (!o.json)
            print_table_header();
        for (const auto& [e, r] : rows) {
            if (!r.skipped.empty()) {
                fmt::print(o.json ? stderr : stdout, "  {:<14} skipped: {}\n", engine_name(e),
                           r.skipped);
            } else if (!r.error.empty()) {
                fmt::print(o.json ? stderr : stdout, "  {:<9} error: {}\n", engine_name(e),
                           r.error);
                failures++;
            } else if (o.json) {
                json_runs.push_back(json_run(w, e, r, o));
            } else {
                print_row(e, r, w.bs, machio_iops);
            }
        }
        std::fflush(stdout);
    }
    if (tty && show_progress)
        fmt::print(stderr, "\r\033[K");
    if (o.json)
        fmt::print("{{\"runs\": [\n  {}\n]}}\n", fmt::join(json_runs, ",\n  "));
    if (failures)
        fmt::print(stderr, "\nmachio-bench: {} error{}\n", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "machio-bench: {}\n", e.what());
    return 1;
}
