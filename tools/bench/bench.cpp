// The shared parts of bench.hpp that no engine loop calls per op.
#include "bench.hpp"

#include <fcntl.h>
#include <sys/resource.h>

#include <cmath>
#include <new>

namespace machio_bench {

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

// ---- Latency histogram ----------------------------------------------------

void histogram::merge(const histogram& o) {
    for (size_t i = 0; i < counts_.size(); i++)
        counts_[i] += o.counts_[i];
    n_ += o.n_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
}

double histogram::percentile(double q) const {
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

uint64_t histogram::lower(size_t i) {
    size_t g = i >> sub_bits, sub = i & ((1u << sub_bits) - 1);
    return g == 0 ? sub : ((uint64_t(1) << sub_bits) + sub) << (g - 1);
}

uint64_t histogram::width(size_t i) {
    size_t g = i >> sub_bits;
    return g == 0 ? 1 : uint64_t(1) << (g - 1);
}

// ---- Offsets, data, results ---------------------------------------------

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

result meter::finish(std::span<tally> tallies, first_error& err) const {
    result r;
    r.cpu_ns = cpu_ns() - cpu0_;
    int64_t last = t0_;
    for (auto& t : tallies) {
        r.ops += t.ops;
        r.syscalls += t.syscalls;
        r.lat.merge(t.lat);
        r.by_class.resize(std::max(r.by_class.size(), t.by_class.size()));
        for (size_t c = 0; c < t.by_class.size(); c++)
            r.by_class[c].merge(t.by_class[c]);
        last = std::max(last, t.last);
    }
    r.wall_ns = last - t0_;
    r.error = err.take();
    return r;
}

result failed(std::string msg) {
    result r;
    r.error = std::move(msg);
    return r;
}

slot_buffers::slot_buffers(uint32_t count, uint32_t bs)
    : stride_((bs + page_size - 1) / page_size * page_size),
      mem_(static_cast<char*>(std::aligned_alloc(page_size, size_t(count) * stride_))) {
    if (!mem_)
        throw std::bad_alloc();
    for (uint32_t i = 0; i < count; i++)
        fill_pattern((*this)[i], bs, uint64_t(i) * bs, 0x6d616368696f); // "machio"
}

uint64_t thread_seed(unsigned i) {
    return mix64(uint64_t(now_ns()) ^ (uint64_t(i) << 40));
}

// ---- The device -----------------------------------------------------------

int open_device(const std::string& path, bool write) {
    return open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
}

} // namespace machio_bench
