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
// that does not move the data.  --scaling replaces the tables by one table
// of IOPS and CPU per op by queue depth, threads and queues; --priority by
// one of the latency of high- and low-priority requests in flight together.
//
// A benchmark prints figures, never a verdict: the exit status is non-zero
// only for errors (bad options, failed I/O, a failed --verify).
//
// This file is the driver: options, the device, --verify, --scaling,
// --priority and the report.  The engines are engines/*.cpp behind
// engine.hpp; what they share with the driver is bench.hpp.
#include "bench.hpp"
#include "engine.hpp"
#include "ipc.hpp"

#include <getopt.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <machio/mach.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace machio_bench {
namespace {

// ---- Options --------------------------------------------------------------

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
    std::vector<const engine*> engines; // empty: all
    bool uring_fixed = false;
    uint64_t span = 0; // 0: the whole device
    bool verify = false;
    uint64_t verify_bytes = 8 * MiB;
    bool allow_write = false;
    bool json = false;
    bool scaling = false;
    bool priority = false;
    unsigned priority_limit = 4; // --priority: machio's in-progress limit
    bool ipc = false;            // --ipc: the IPC table after the others
};

// --scaling: its rows (QD 32 also for the ratio under the table), its
// configurations (per engine: threads x queues per thread) and engines.
constexpr uint32_t scaling_qds[] = {1, 4, 16, 32, 64, 256, 4096};

struct scaling_config {
    unsigned threads, queues;
};
// An engine without engine::multi_queue runs only those of one queue.
constexpr scaling_config scaling_configs[] = {{1, 1}, {2, 1}, {1, 16}, {1, 256}};

std::vector<const engine*> scaling_engines() {
    return {find_engine("machio-ring"), find_engine("io_uring")};
}

// The block layer's I/O priorities, as <linux/ioprio.h> makes them (which
// C++ cannot include: the header's ioprio_value() names a parameter
// "class"): the class in the bits from 13 up, the level (0 highest) below.
enum class ioprio_class : uint32_t { rt = 1, be = 2, idle = 3 };
constexpr unsigned ioprio_class_shift = 13;

constexpr uint32_t ioprio_value(ioprio_class c, uint32_t level) {
    return uint32_t(c) << ioprio_class_shift | level;
}

// --priority: its runs, each of one engine with the slots in two classes
// (even slots high, odd ones low), and for machio the disk's in-progress
// limit during the run (0: none).
struct priority_run {
    const engine* e;
    priority_classes classes; // machio request priorities, or io_uring ioprios
    bool machio;              // the classes are machio priorities
    unsigned limit;
};

std::vector<priority_run> priority_runs(const options& o) {
    const engine* ring = find_engine("machio-ring");
    const engine* uring = find_engine("io_uring");
    const priority_classes machio_classes = {{200, 0}};
    return {
        {ring, machio_classes, true, o.priority_limit},
        {ring, machio_classes, true, 0},
        {uring, {{ioprio_value(ioprio_class::be, 0), ioprio_value(ioprio_class::be, 7)}}, false, 0},
        {uring,
         {{ioprio_value(ioprio_class::rt, 0), ioprio_value(ioprio_class::idle, 0)}},
         false,
         0},
    };
}

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
      --ipc                after the tables: request/reply round trips between two
                           threads, mach_msg against a pipe pair, a UNIX socket pair
                           and an eventfd pair
      --scaling            instead of the tables: IOPS and CPU per op at QD 1
                           to 4096 (in flight in all threads) of machio-ring
                           with 1 thread of 1 queue, 2 threads of 1, 1 of 16
                           and 1 of 256, and of io_uring with 1 and 2 threads
                           (a ring each); -w/-b give the workload (default
                           randread 4k), -t/-n/--warmup each run
      --priority           instead of the tables: p50/p99 latency of high- and
                           low-priority requests (even and odd slots) in
                           flight together: machio-ring with priorities 200
                           and 0 under the disk's in-progress limit (set with
                           device_set_status MDIOCSETL, put back afterwards)
                           and without one, and io_uring with ioprio BE 0 vs
                           BE 7 and RT 0 vs IDLE (RT needs CAP_SYS_ADMIN or
                           CAP_SYS_NICE); -w/-b/-q give the workload (default
                           randread 4k QD 32; QD at least 2), -t/-n/--warmup
                           each run; opens the device for writing
      --priority-limit N   --priority: machio's in-progress limit, 1..255
                           (default 4)
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

std::vector<const engine*> every_engine() {
    std::vector<const engine*> out;
    for (const engine& e : all_engines())
        out.push_back(&e);
    return out;
}

std::vector<const engine*> parse_engines(std::string_view s) {
    std::vector<const engine*> out;
    while (!s.empty()) {
        size_t comma = s.find(',');
        std::string_view name = s.substr(0, comma);
        s = comma == s.npos ? std::string_view() : s.substr(comma + 1);
        if (name == "all") {
            out = every_engine();
            continue;
        }
        const engine* e = find_engine(name);
        if (!e)
            usage_error(fmt::format("unknown engine '{}' (machio, machio-batch, machio-ring, "
                                    "machio-fixed, io_uring, io_uring-fixed, aio, sync)",
                                    name));
        if (std::find(out.begin(), out.end(), e) == out.end())
            out.push_back(e);
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
        opt_scaling,
        opt_priority,
        opt_priority_limit,
        opt_ipc,
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
        {"scaling", no_argument, nullptr, opt_scaling},
        {"priority", no_argument, nullptr, opt_priority},
        {"priority-limit", required_argument, nullptr, opt_priority_limit},
        {"ipc", no_argument, nullptr, opt_ipc},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    options o;
    // Options of what --scaling and --priority set themselves: -q (not for
    // --priority), and -j, -e, -T, --verify (for neither).
    bool qd_given = false, mode_clash = false, limit_given = false;
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
            qd_given = true;
            break;
        case 'j':
            o.workloads.push_back(parse_workload(optarg));
            mode_clash = true;
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
            mode_clash = true;
            break;
        case 'T':
            o.waiters = unsigned(parse_u64(optarg, "waiter count"));
            if (o.waiters < 1 || o.waiters > 256)
                usage_error("--waiters out of range 1..256");
            mode_clash = true;
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
            mode_clash = true;
            break;
        case opt_verify_size:
            o.verify_bytes = parse_size(optarg, "verify size");
            if (!o.verify_bytes)
                usage_error("--verify-size must be positive");
            break;
        case opt_allow_write:
            o.allow_write = true;
            break;
        case opt_scaling:
            o.scaling = true;
            break;
        case opt_ipc:
            o.ipc = true;
            break;
        case opt_priority:
            o.priority = true;
            break;
        case opt_priority_limit:
            if (uint64_t v = parse_u64(optarg, "limit"); v >= 1 && v <= MACHIO_LIMIT_MAX)
                o.priority_limit = unsigned(v);
            else
                usage_error(fmt::format("--priority-limit out of range 1..{}", MACHIO_LIMIT_MAX));
            limit_given = true;
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
    if (o.scaling && o.priority)
        usage_error("--scaling and --priority print tables of their own: one at a time");
    if (o.scaling && (qd_given || mode_clash))
        usage_error("--scaling chooses the queue depths, engines and threads itself: it takes "
                    "no -q, -j, -e, -T or --verify");
    if (o.priority && mode_clash)
        usage_error("--priority chooses its engines itself and runs one workload (-w, -b, -q): "
                    "it takes no -j, -e, -T or --verify");
    if (limit_given && !o.priority)
        usage_error("--priority-limit goes with --priority");
    if (o.priority && o.qd < 2)
        usage_error("--priority needs a queue depth of at least 2: half the slots are of each "
                    "class");
    if (o.scaling)
        o.engines = scaling_engines();
    if (o.priority)
        o.engines = {find_engine("machio-ring"), find_engine("io_uring")};
    if (o.workloads.empty())
        o.workloads.push_back({o.rw, o.bs, o.qd});
    if (o.engines.empty())
        o.engines = every_engine();
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

// The job of workload @w for every engine; its src is the caller's to set.
job make_job(const options& o, const device_info& d, const workload& w) {
    return {d.path, d.lbs, is_write(w.rw), w.bs, w.qd, o.waiters, o.uring_fixed, nullptr, {}};
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
std::string verify(const engine& e, const options& o, const device_info& d, const workload& w,
                   uint64_t region, unsigned round) {
    uint64_t blocks = std::max<uint64_t>(1, std::min(o.verify_bytes, region) / w.bs);
    std::vector<uint64_t> order(blocks);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 gen(mix64(uint64_t(now_ns()) ^ round));
    uint64_t seed = gen();
    job base = make_job(o, d, w);
    base.write = true;

    if (is_random(w.rw))
        std::shuffle(order.begin(), order.end(), gen);
    offset_source wsrc(offset_source::order::list, blocks, w.bs, 0, 0, order);
    job jw = base;
    jw.src = &wsrc;
    jw.data = {data_plan::fill, seed};
    if (result r = e.run(jw); !r.error.empty())
        return fmt::format("writing: {}", r.error);
    if (auto why = reference_check(d, blocks, w.bs, seed); !why.empty())
        return fmt::format("{} wrote, pread checked: {}", e.name, why);

    std::shuffle(order.begin(), order.end(), gen);
    offset_source rsrc(offset_source::order::list, blocks, w.bs, 0, 0, order);
    job jr = base;
    jr.write = false;
    jr.src = &rsrc;
    jr.data = {data_plan::check, seed};
    if (result r = e.run(jr); !r.error.empty())
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

void print_row(const engine& e, const result& r, uint32_t bs, double machio_iops) {
    double secs = double(r.wall_ns) / 1e9;
    double iops = secs > 0 ? double(r.ops) / secs : 0;
    std::string rel = machio_iops > 0 ? fmt::format("{:.2f}x", iops / machio_iops) : "-";
    fmt::print("  {:<14} {:>9} {:>9.0f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.2f} "
               "{:>6.0f} {:>8.2f} {:>7}\n",
               e.name, r.ops, iops, iops * bs / double(MiB), r.lat.mean() / 1e3,
               r.lat.percentile(0.50) / 1e3, r.lat.percentile(0.99) / 1e3,
               r.lat.percentile(0.999) / 1e3, r.ops ? double(r.cpu_ns) / double(r.ops) / 1e3 : 0,
               secs > 0 ? double(r.cpu_ns) / 1e9 / secs * 100 : 0,
               r.ops ? double(r.syscalls) / double(r.ops) : 0, rel);
}

// One run as a JSON object (tools/bench/README.md lists the fields), with
// @extra fields (each followed by ", ") after "threads": a --scaling run
// says its queues per thread.  With @cls, one class of a --priority run:
// ops, IOPS and latency are the class's, CPU and system calls per I/O the
// run's.
std::string json_run(const workload& w, const engine& e, const job& j, const result& r,
                     std::string_view extra = {}, const histogram* cls = nullptr) {
    const histogram& lat = cls ? *cls : r.lat;
    const uint64_t n = cls ? cls->count() : r.ops;
    double secs = double(r.wall_ns) / 1e9;
    double iops = secs > 0 ? double(n) / secs : 0;
    double ops = r.ops ? double(r.ops) : 1;
    return fmt::format("{{\"workload\": \"{}\", \"bs\": {}, \"qd\": {}, \"threads\": {}, {}"
                       "\"engine\": \"{}\", \"ops\": {}, \"iops\": {:.0f}, \"p50_us\": {:.2f}, "
                       "\"p99_us\": {:.2f}, \"p999_us\": {:.2f}, \"cpu_us_per_io\": {:.3f}, "
                       "\"syscalls_per_io\": {:.3f}}}",
                       pattern_name(w.rw), w.bs, w.qd, e.threads(j), extra, e.name, n, iops,
                       lat.percentile(0.50) / 1e3, lat.percentile(0.99) / 1e3,
                       lat.percentile(0.999) / 1e3, double(r.cpu_ns) / ops / 1e3,
                       double(r.syscalls) / ops);
}

void print_intro(const options& o, const device_info& d, uint64_t region) {
    struct utsname u;
    std::string kernel = uname(&u) == 0 ? u.release : "?";
    fmt::print("machio-bench: {} ({}, {}-byte blocks{}), kernel {}, {} CPUs\n", d.path,
               size_text(d.size), d.lbs,
               region < d.size ? fmt::format(", first {} used", size_text(region)) : "", kernel,
               std::thread::hardware_concurrency());
    const job j = make_job(o, d, o.workloads.front()); // what about() looks at: the options
    std::string engines;
    for (const engine* e : o.engines) {
        if (!engines.empty())
            engines += ", ";
        engines += e->name;
        if (e->about)
            engines += e->about(j);
    }
    std::string limit;
    if (o.seconds > 0)
        limit = fmt::format("{:g} s", o.seconds);
    if (o.ops)
        limit += fmt::format("{}{} ops", limit.empty() ? "" : " or ", o.ops);
    fmt::print("engines: {}; all O_DIRECT\n", engines);
    fmt::print("each {}: {}{}; latency from submit to reap; CPU = user+sys of the process\n",
               o.scaling || o.priority ? "run" : "engine", limit,
               o.warmup > 0 ? fmt::format(" after a {:g} s warm-up", o.warmup) : "");
}

// Progress on standard error: a line rewritten in place on a terminal
// (unless the tables go to the same terminal: they show the progress),
// a line per run elsewhere.
class progress_line {
  public:
    progress_line(size_t runs, bool json)
        : runs_(runs), tty_(isatty(STDERR_FILENO)), show_(!tty_ || !isatty(STDOUT_FILENO) || json) {
    }

    void operator()(const workload& w, std::string_view what) {
        ++run_no_;
        if (!show_)
            return;
        fmt::print(stderr, "{}machio-bench: [{}/{}] {} {} QD {}: {}{}", tty_ ? "\r\033[K" : "",
                   run_no_, runs_, pattern_name(w.rw), size_text(w.bs), w.qd, what,
                   tty_ ? "" : "\n");
        std::fflush(stderr);
    }

    void clear() const {
        if (tty_ && show_)
            fmt::print(stderr, "\r\033[K");
    }

  private:
    size_t runs_, run_no_ = 0;
    bool tty_, show_;
};

// The order of a workload's offsets.
offset_source::order offsets_of(pattern p) {
    return is_random(p) ? offset_source::order::random : offset_source::order::sequential;
}

// A warm-up run of the engine (unless --warmup 0), then the measured one.
result measure(const engine& e, job j, const options& o, offset_source::order order,
               uint64_t blocks) {
    if (o.warmup > 0) {
        offset_source warm(order, blocks, j.bs, 0, o.warmup);
        j.src = &warm;
        if (result r = e.run(j); !r.error.empty())
            return r;
    }
    offset_source src(order, blocks, j.bs, o.ops, o.seconds);
    j.src = &src;
    return e.run(j);
}

// One table per workload, one row per engine; the number of errors.
int run_tables(const options& o, const device_info& d, uint64_t region, progress_line& progress,
               std::vector<std::string>& json_runs) {
    int failures = 0;
    unsigned round = 0;
    for (const auto& w : o.workloads) {
        if (!o.json)
            fmt::print("\n{} {}, QD {}\n", pattern_name(w.rw), size_text(w.bs), w.qd);
        uint64_t blocks = region / w.bs;
        auto order = offsets_of(w.rw);

        std::vector<const engine*> engines;
        for (const engine* e : o.engines) {
            if (!o.verify) {
                engines.push_back(e);
                continue;
            }
            uint64_t vblocks = std::max<uint64_t>(1, std::min(o.verify_bytes, region) / w.bs);
            std::string why = verify(*e, o, d, w, region, ++round);
            if (why.empty()) {
                fmt::print("  verify {}: {} in {} blocks written by {}, read back by pread and "
                           "by {}: match\n",
                           e->name, size_text(vblocks * w.bs), vblocks, e->name, e->name);
                engines.push_back(e);
            } else {
                fmt::print("  verify {}: FAILED: {}\n", e->name, why);
                failures++;
            }
        }
        if (engines.empty())
            continue;

        // Rows are printed once every engine has run: "vs machio" needs
        // machio's figure whatever the order.
        const job base = make_job(o, d, w);
        std::vector<std::pair<const engine*, result>> rows;
        for (const engine* e : engines) {
            progress(w, e->name);
            // IOPOLL cannot split a request: in 6.1 such a read never completes.
            if (e->needs_unsplit_io && d.max_io && w.bs > d.max_io) {
                result r;
                r.skipped = fmt::format("{} is over the device's {} per request, which IOPOLL "
                                        "cannot split",
                                        size_text(w.bs), size_text(d.max_io));
                rows.emplace_back(e, std::move(r));
                continue;
            }
            rows.emplace_back(e, measure(*e, base, o, order, blocks));
        }
        double machio_iops = 0;
        for (const auto& [e, r] : rows)
            if (e->baseline && r.error.empty() && r.wall_ns > 0)
                machio_iops = double(r.ops) / (double(r.wall_ns) / 1e9);
        if (!o.json)
            print_table_header();
        for (const auto& [e, r] : rows) {
            if (!r.skipped.empty()) {
                fmt::print(o.json ? stderr : stdout, "  {:<14} skipped: {}\n", e->name, r.skipped);
            } else if (!r.error.empty()) {
                fmt::print(o.json ? stderr : stdout, "  {:<9} error: {}\n", e->name, r.error);
                failures++;
            } else if (o.json) {
                json_runs.push_back(json_run(w, *e, base, r));
            } else {
                print_row(*e, r, w.bs, machio_iops);
            }
        }
        std::fflush(stdout);
    }
    return failures;
}

// ---- --scaling ----------------------------------------------------------------

size_t scaling_runs(const options& o) {
    size_t n = 0;
    for (const engine* e : o.engines)
        for (const scaling_config& c : scaling_configs)
            n += c.queues == 1 || e->multi_queue;
    return n * std::size(scaling_qds);
}

std::string scaling_label(const scaling_config& c) {
    return fmt::format("{}×{}", c.threads, c.queues);
}

// A column pair of the table: IOPS and CPU µs per op.
std::string scaling_cell(std::string_view iops, std::string_view cpu) {
    return fmt::format("  {:>8} {:>6}", iops, cpu);
}

void print_scaling_header(const options& o, const workload& w) {
    fmt::print("\n{} {}, scaling: QD = requests in flight in all threads (QD/T each, at least "
               "1)\n  T×Q: T threads, each with Q queues (io_uring: a ring per thread); "
               "-: not run\n",
               pattern_name(w.rw), size_text(w.bs));
    // An engine's name over its columns, a configuration's over its pair.
    const size_t pair = scaling_cell("", "").size();
    const size_t span = std::size(scaling_configs) * pair;
    std::string engines = fmt::format("  {:>6}", ""), configs = engines, units = engines;
    std::string names = fmt::format("  {:>6}", "QD");
    for (const engine* e : o.engines) {
        engines += fmt::format("  {:<{}}", e->name, span - 2);
        for (const scaling_config& c : scaling_configs) {
            configs += fmt::format("  {:>{}}", scaling_label(c), pair - 2);
            names += scaling_cell("IOPS", "CPU/op");
            units += scaling_cell("", "µs");
        }
    }
    engines.erase(engines.find_last_not_of(' ') + 1);
    fmt::print("{}\n{}\n{}\n{}\n", engines, configs, names, units);
}

// The --scaling table: rows by QD (each printed when it is done), per
// engine and configuration IOPS and CPU per op; the number of errors.
int run_scaling(const options& o, const device_info& d, uint64_t region, progress_line& progress,
                std::vector<std::string>& json_runs) {
    const workload& spec = o.workloads.front();
    const uint64_t blocks = region / spec.bs;
    const auto order = offsets_of(spec.rw);
    if (!o.json)
        print_scaling_header(o, spec);
    int failures = 0;
    std::vector<std::string> errors;
    // CPU µs per op of the first engine's first configuration (machio-ring 1×1).
    std::optional<double> cpu_at_32, cpu_at_4096;
    for (uint32_t qd : scaling_qds) {
        const workload w{spec.rw, spec.bs, qd};
        std::string row = fmt::format("  {:>6}", qd);
        for (const engine* e : o.engines) {
            for (const scaling_config& c : scaling_configs) {
                if (c.queues > 1 && !e->multi_queue) {
                    row += scaling_cell("-", "-");
                    continue;
                }
                std::string what = fmt::format("{} {}", e->name, scaling_label(c));
                progress(w, what);
                job j = make_job(o, d, w);
                j.threads = c.threads;
                j.queues = c.queues;
                result r = measure(*e, j, o, order, blocks);
                if (!r.error.empty()) {
                    errors.push_back(fmt::format("  {} QD {} error: {}", what, qd, r.error));
                    failures++;
                    row += scaling_cell("error", "-");
                    continue;
                }
                double secs = double(r.wall_ns) / 1e9;
                double iops = secs > 0 ? double(r.ops) / secs : 0;
                double cpu = r.ops ? double(r.cpu_ns) / double(r.ops) / 1e3 : 0;
                row += fmt::format("  {:>8.0f} {:>6.2f}", iops, cpu);
                if (o.json)
                    json_runs.push_back(
                        json_run(w, *e, j, r, fmt::format("\"queues\": {}, ", j.queues)));
                if (e == o.engines.front() && &c == &scaling_configs[0] && qd == 32)
                    cpu_at_32 = cpu;
                if (e == o.engines.front() && &c == &scaling_configs[0] && qd == 4096)
                    cpu_at_4096 = cpu;
            }
        }
        if (!o.json) {
            fmt::print("{}\n", row);
            std::fflush(stdout);
        }
    }
    for (const auto& line : errors)
        fmt::print(o.json ? stderr : stdout, "{}\n", line);
    if (!o.json) {
        std::string ratio = "- (a run failed)";
        if (cpu_at_32 && cpu_at_4096 && *cpu_at_32 > 0)
            ratio = fmt::format("{:.2f}x ({:.2f} vs {:.2f} µs)", *cpu_at_4096 / *cpu_at_32,
                                *cpu_at_4096, *cpu_at_32);
        fmt::print("  {} {}: CPU per op at QD 4096 vs QD 32: {}\n", o.engines.front()->name,
                   scaling_label(scaling_configs[0]), ratio);
    }
    return failures;
}

// ---- --priority ---------------------------------------------------------------

// The disk's machio in-progress limit during --priority's machio runs, set
// through a device port of its own: opened for writing (MDIOCSETL needs
// that) and held across the runs, each of which opens and closes a port of
// its own (the limit lasts while one is open).  The limit it found is put
// back when it goes, also after an error.
class disk_limit {
  public:
    explicit disk_limit(const std::string& path) {
        kern_return_t kr = device_open(mach_host_self(), D_READ | D_WRITE, path.c_str(), &dev_);
        if (kr != KERN_SUCCESS) {
            dev_ = MACH_PORT_NULL;
            error_ = fmt::format("device_open {} for writing, to set its limit: {}", path,
                                 mach_error_string(kr));
            return;
        }
        int found = 0;
        if (error_ = get(found); error_.empty())
            saved_ = found;
    }
    ~disk_limit() {
        if (dev_ == MACH_PORT_NULL)
            return;
        if (saved_) {
            int v = *saved_;
            device_set_status(dev_, MDIOCSETL, &v, 1);
        }
        device_close(dev_);
    }
    disk_limit(const disk_limit&) = delete;
    disk_limit& operator=(const disk_limit&) = delete;

    // Sets the limit (0: none) and reads it back; empty if it is now @limit.
    std::string set(unsigned limit) {
        if (!error_.empty())
            return error_;
        int v = int(limit), now = 0;
        if (kern_return_t kr = device_set_status(dev_, MDIOCSETL, &v, 1); kr != KERN_SUCCESS)
            return fmt::format("device_set_status(MDIOCSETL, {}): {}", limit,
                               mach_error_string(kr));
        if (std::string why = get(now); !why.empty())
            return why;
        if (now != v)
            return fmt::format("device_get_status(MDIOCGETL) reads {} after setting {}", now, v);
        return {};
    }

  private:
    std::string get(int& limit) const {
        mach_msg_type_number_t n = 1;
        kern_return_t kr = device_get_status(dev_, MDIOCGETL, &limit, &n);
        return kr == KERN_SUCCESS
                   ? ""
                   : fmt::format("device_get_status(MDIOCGETL): {}", mach_error_string(kr));
    }

    mach_port_t dev_ = MACH_PORT_NULL;
    std::optional<int> saved_;
    std::string error_; // why no limit can be set
};

// "BE0", "RT0", "IDLE" (whose level means nothing).
std::string ioprio_name(uint32_t v) {
    const uint32_t level = v & ((1u << ioprio_class_shift) - 1);
    switch (ioprio_class(v >> ioprio_class_shift)) {
    case ioprio_class::rt:
        return fmt::format("RT{}", level);
    case ioprio_class::be:
        return fmt::format("BE{}", level);
    case ioprio_class::idle:
        return "IDLE";
    }
    return fmt::format("{:#x}", v);
}

// What a run's classes are, high / low.
std::string priority_label(const priority_run& p) {
    const uint32_t* v = p.classes.value;
    return p.machio ? fmt::format("priority {} / {}", v[0], v[1])
                    : fmt::format("ioprio {} / {}", ioprio_name(v[0]), ioprio_name(v[1]));
}

// A row of the --priority table, and its header.
void print_priority_line(std::string_view engine, std::string_view classes, std::string_view limit,
                         std::string_view iops, std::string_view hi50, std::string_view hi99,
                         std::string_view lo50, std::string_view lo99, std::string_view ratio) {
    fmt::print("  {:<12} {:<18} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", engine, classes,
               limit, iops, hi50, hi99, lo50, lo99, ratio);
}

void print_priority_header(const workload& w) {
    fmt::print("\n{} {}, QD {}, priority: even slots high, odd slots low; limit: machio's "
               "in-progress limit of the disk\n",
               pattern_name(w.rw), size_text(w.bs), w.qd);
    print_priority_line("engine", "high / low", "limit", "IOPS", "high p50", "high p99", "low p50",
                        "low p99", "low/high");
    print_priority_line("", "", "", "", "µs", "µs", "µs", "µs", "p99");
}

// A percentile of a class in µs; "-" for a class without ops.
std::string class_us(const histogram& h, double q) {
    return h.count() ? fmt::format("{:.1f}", h.percentile(q) / 1e3) : "-";
}

// The --priority table: a row per run, each with its IOPS and the p50 and
// p99 latency of either class; the number of errors.
int run_priority(const options& o, const device_info& d, uint64_t region, progress_line& progress,
                 std::vector<std::string>& json_runs) {
    const workload& w = o.workloads.front();
    if (!o.json)
        print_priority_header(w);
    disk_limit limit(d.path);
    int failures = 0;
    for (const priority_run& p : priority_runs(o)) {
        const std::string label = priority_label(p);
        const std::string limit_text = !p.machio ? "-"
                                       : p.limit ? fmt::format("{}", p.limit)
                                                 : "none";
        progress(w, p.machio ? fmt::format("{} {}, limit {}", p.e->name, label, limit_text)
                             : fmt::format("{} {}", p.e->name, label));
        job j = make_job(o, d, w);
        j.classes = &p.classes;
        std::string why = p.machio ? limit.set(p.limit) : "";
        result r = why.empty() ? measure(*p.e, j, o, offsets_of(w.rw), region / w.bs)
                               : failed(std::move(why));
        if (!r.error.empty()) {
            fmt::print(o.json ? stderr : stdout, "  {:<12} {:<18} {:>5} error: {}\n", p.e->name,
                       label, limit_text, r.error);
            failures++;
            continue;
        }
        if (o.json) {
            for (unsigned c = 0; c < priority_classes::count; c++)
                json_runs.push_back(
                    json_run(w, *p.e, j, r,
                             fmt::format("\"class\": \"{}\", \"{}\": {}, {}", c ? "low" : "high",
                                         p.machio ? "priority" : "ioprio", p.classes.value[c],
                                         p.machio ? fmt::format("\"limit\": {}, ", p.limit) : ""),
                             &r.by_class[c]));
            continue;
        }
        const histogram &hi = r.by_class[0], &lo = r.by_class[1];
        double secs = double(r.wall_ns) / 1e9;
        double hi99 = hi.percentile(0.99), lo99 = lo.percentile(0.99);
        print_priority_line(
            p.e->name, label, limit_text,
            fmt::format("{:.0f}", secs > 0 ? double(r.ops) / secs : 0), class_us(hi, 0.50),
            class_us(hi, 0.99), class_us(lo, 0.50), class_us(lo, 0.99),
            hi.count() && lo.count() && hi99 > 0 ? fmt::format("{:.2f}x", lo99 / hi99) : "-");
        std::fflush(stdout);
    }
    return failures;
}

} // namespace
} // namespace machio_bench

using namespace machio_bench;

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
    // --priority opens the device for writing, to set machio's limit on it.
    if ((writes || o.priority) && !o.allow_write && !dev->name.starts_with("nullb")) {
        fmt::print(stderr,
                   "machio-bench: refusing to {} {} ({}): it is not a null_blk disk{}; pass "
                   "--allow-write if that is what you want\n",
                   writes ? "write to" : "open for writing", o.device, dev->name,
                   writes ? " and its data would be overwritten"
                          : " (--priority sets machio's in-progress limit of the disk)");
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
    std::vector<std::string> json_runs;
    progress_line progress(o.scaling    ? scaling_runs(o)
                           : o.priority ? priority_runs(o).size()
                                        : o.workloads.size() * o.engines.size(),
                           o.json);
    int failures = o.scaling    ? run_scaling(o, *dev, region, progress, json_runs)
                   : o.priority ? run_priority(o, *dev, region, progress, json_runs)
                                : run_tables(o, *dev, region, progress, json_runs);
    progress.clear();
    if (o.ipc && !o.json)
        print_ipc_table(o.seconds ? o.seconds : 5, dev->path, region, dev->lbs);
    if (o.json)
        fmt::print("{{\"runs\": [\n  {}\n]}}\n", fmt::join(json_runs, ",\n  "));
    if (failures)
        fmt::print(stderr, "\nmachio-bench: {} error{}\n", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "machio-bench: {}\n", e.what());
    return 1;
}
