// Support for the libmachio tests that run against the real module (inside
// the test VM, see tools/vm/run.sh): skipping when /dev/machio is absent,
// null_blk disks made through configfs, aligned buffers, test patterns,
// and helpers for threads blocked in the kernel and for forked children.
#ifndef MACHIO_TESTS_VM_SUPPORT_HPP
#define MACHIO_TESTS_VM_SUPPORT_HPP

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <pthread.h>
#include <signal.h>
#include <span>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace test {

// The node the library opens: $MACHIO_DEVICE or /dev/machio.
inline const char* machio_node() {
    const char* path = ::secure_getenv("MACHIO_DEVICE");
    return path && *path ? path : "/dev/machio";
}

inline bool machio_present() {
    return ::access(machio_node(), F_OK) == 0;
}

// Every test starts with this: skipped (not failed) without the module.
#define MACHIO_SKIP_WITHOUT_MODULE()                                                               \
    do {                                                                                           \
        if (!::test::machio_present())                                                             \
            GTEST_SKIP() << ::test::machio_node() << " is absent: is machio.ko loaded?";           \
    } while (0)

// ---- null_blk disks -------------------------------------------------------

inline constexpr const char* nullb_configfs = "/sys/kernel/config/nullb";

// A memory-backed null_blk disk made through configfs (null_blk loaded with
// nr_devices=0): size 64 MiB and 512-byte blocks unless overridden, powered
// on in the constructor, powered off and removed in the destructor.  Check
// ok() (error() says what failed).  Devices opened on it should be closed
// before it goes.
class nullb {
  public:
    using attr = std::pair<std::string_view, std::string_view>;

    explicit nullb(const std::vector<attr>& attrs = {}) {
        static std::atomic<int> seq{0};
        name_ = "lmt" + std::to_string(::getpid()) + "_" + std::to_string(seq++);
        dir_ = std::string(nullb_configfs) + "/" + name_;
        if (::mkdir(dir_.c_str(), 0755) != 0) {
            const int err = errno;
            error_ = "mkdir " + dir_ + ": " + std::strerror(err) +
                     " (is null_blk loaded with nr_devices=0, and are we root?)";
            dir_.clear();
            return;
        }
        if (!set("size", "64") || !set("blocksize", "512") || !set("memory_backed", "1"))
            return;
        for (const auto& [key, value] : attrs)
            if (!set(key, value))
                return;
        if (!set("power", "1"))
            return;
        // The node comes from devtmpfs; give it a moment.
        const std::string dev = path();
        for (int i = 0; i < 200 && ::access(dev.c_str(), F_OK) != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (::access(dev.c_str(), F_OK) != 0) {
            error_ = dev + " did not appear";
            return;
        }
        ok_ = true;
    }
    ~nullb() {
        if (dir_.empty())
            return;
        (void)set("power", "0");
        ::rmdir(dir_.c_str());
    }
    nullb(const nullb&) = delete;
    nullb& operator=(const nullb&) = delete;

    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    // The name under /dev ("lmt123_0"), as device_open() takes it.
    const std::string& name() const { return name_; }
    std::string path() const { return "/dev/" + name_; }

    // Write a configfs attribute of this disk (e.g. "badblocks").
    bool set(std::string_view key, std::string_view value) {
        const std::string file = dir_ + "/" + std::string(key);
        int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
        ssize_t n = -1;
        int err = errno;
        if (fd >= 0) {
            n = ::write(fd, value.data(), value.size());
            err = n < 0 ? errno : EIO;
            ::close(fd);
        }
        if (n != static_cast<ssize_t>(value.size())) {
            if (error_.empty())
                error_ =
                    "writing '" + std::string(value) + "' to " + file + ": " + std::strerror(err);
            return false;
        }
        return true;
    }

  private:
    std::string name_;
    std::string dir_;
    std::string error_;
    bool ok_ = false;
};

// ---- buffers ----------------------------------------------------------------

// Page-aligned, zeroed memory (direct I/O wants aligned buffers).
class aligned_buffer {
  public:
    explicit aligned_buffer(std::size_t size, std::size_t align = 4096) : size_(size) {
        void* p = nullptr;
        if (::posix_memalign(&p, align, size ? size : 1) == 0) {
            data_ = static_cast<std::byte*>(p);
            std::memset(data_, 0, size);
        }
    }
    ~aligned_buffer() { std::free(data_); }
    aligned_buffer(const aligned_buffer&) = delete;
    aligned_buffer& operator=(const aligned_buffer&) = delete;

    std::byte* data() const { return data_; }
    char* chars() const { return reinterpret_cast<char*>(data_); }
    std::size_t size() const { return size_; }
    std::span<std::byte> span() const { return {data_, size_}; }
    std::byte& operator[](std::size_t i) const { return data_[i]; }

  private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

// Deterministic data: byte i of a buffer seeded with seed.
inline std::byte pattern_byte(unsigned seed, std::size_t i) {
    return static_cast<std::byte>(seed * 131 + i * 7 + (i >> 9));
}
inline void fill_pattern(void* buf, std::size_t len, unsigned seed) {
    auto* p = static_cast<std::byte*>(buf);
    for (std::size_t i = 0; i < len; ++i)
        p[i] = pattern_byte(seed, i);
}
// Index of the first byte that differs from the pattern, or len.
inline std::size_t pattern_mismatch(const void* buf, std::size_t len, unsigned seed) {
    const auto* p = static_cast<const std::byte*>(buf);
    for (std::size_t i = 0; i < len; ++i)
        if (p[i] != pattern_byte(seed, i))
            return i;
    return len;
}

// Whether the page holding p is mapped.
inline bool mapped(const void* p) {
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    auto* start = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~(page - 1));
    return ::msync(start, 1, MS_ASYNC) == 0;
}

// ---- threads and signals ----------------------------------------------------

inline pid_t gettid() {
    return static_cast<pid_t>(::syscall(SYS_gettid));
}

// Wait (up to 5 s) until thread tid sleeps in a system call, e.g. the ioctl
// of io_done_queue_wait.  Returns false if that could not be seen.
inline bool wait_until_blocked(pid_t tid) {
    const std::string file = "/proc/self/task/" + std::to_string(tid) + "/stat";
    for (int i = 0; i < 500; ++i) {
        std::ifstream in(file);
        std::string stat;
        std::getline(in, stat);
        // "tid (comm) S ...": the state follows the last ')'.
        auto paren = stat.rfind(')');
        if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S')
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// SIGUSR1 with a handler that does nothing, so that it only interrupts a
// blocking call (restored on destruction).
class sigusr1_handler {
  public:
    explicit sigusr1_handler(bool restart = false) {
        struct sigaction sa = {};
        sa.sa_handler = [](int) {};
        sa.sa_flags = restart ? SA_RESTART : 0;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGUSR1, &sa, &old_);
    }
    ~sigusr1_handler() { ::sigaction(SIGUSR1, &old_, nullptr); }
    sigusr1_handler(const sigusr1_handler&) = delete;
    sigusr1_handler& operator=(const sigusr1_handler&) = delete;

  private:
    struct sigaction old_ = {};
};

// Send SIGUSR1 to thread t until done is set (a signal that arrives before
// the thread is blocked is simply repeated).
inline void interrupt_until(pthread_t t, const std::atomic<bool>& done) {
    while (!done.load()) {
        ::pthread_kill(t, SIGUSR1);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// ---- processes --------------------------------------------------------------

// Run fn in a forked child, which leaves with _exit(fn()) (no destructors,
// no atexit handlers); returns its exit status, or -1 if it died otherwise.
template <class F> int in_child(F fn) {
    pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(fn());
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

} // namespace test

#endif // MACHIO_TESTS_VM_SUPPORT_HPP
