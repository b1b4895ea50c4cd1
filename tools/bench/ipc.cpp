// The IPC table: request/reply round trips between two threads of the
// process and between two processes, for mach_msg (the client's request
// and the wait for its reply in one call, the server's reply and the wait
// for the next request in another) against the classic ways: a pipe pair,
// a UNIX socket pair, an eventfd pair.  Latency is one round trip as the
// client sees it; CPU is the time both sides spent on the CPU per round
// trip, which is what mach_msg's receivers pay for spinning (a second
// mach_msg row turns that off).  Then the device row: the same 4 KiB read
// answered through an io_done_queue and by a reply message.
#include "ipc.hpp"

#include <machio/mach.h>

#include <fmt/core.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <optional>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace machio_bench {
namespace {

struct ipc_result {
    uint64_t trips = 0;
    int64_t ns = 0;
    int64_t cpu_ns = 0; // both sides, user and system
    histogram lat;
    std::string error;
};

int64_t process_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t rusage_ns(const rusage& ru) {
    auto ns = [](const timeval& tv) { return int64_t(tv.tv_sec) * 1000000000 + tv.tv_usec * 1000; };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

ipc_result failed_ipc(std::string why) {
    ipc_result r;
    r.error = std::move(why);
    return r;
}

// Where the server runs: a thread of this process, or a child process.
bool g_fork = false;

// Round trips until @seconds are up: client() does one and says whether it
// went; the server, a thread or (g_fork) a child process, runs server()
// until it returns.  ready(), if any, runs in the client once the server
// has started (a child's name to look up).
ipc_result measure(double seconds, const std::function<bool()>& client,
                   const std::function<void()>& server_loop, const std::function<void()>& stop,
                   const std::function<bool()>& ready = {}) {
    ipc_result r;
    std::thread server;
    pid_t child = -1;
    int64_t cpu0 = process_cpu_ns();
    if (g_fork) {
        child = fork();
        if (child < 0)
            return failed_ipc(errno_text(errno));
        if (child == 0) {
            server_loop();
            _exit(0);
        }
    } else {
        server = std::thread(server_loop);
    }
    if (ready && !ready()) {
        r.error = "the server did not come up";
        stop();
    }
    int64_t t0 = now_ns(), end = t0 + int64_t(seconds * 1e9), now = t0;
    if (!r.error.empty())
        end = t0;
    while (now < end) {
        int64_t start = now_ns();
        if (!client()) {
            r.error = fmt::format("round trip {}: {}", r.trips + 1, errno_text(errno));
            break;
        }
        now = now_ns();
        r.lat.add(now - start);
        r.trips++;
    }
    r.ns = now - t0;
    if (r.error.empty())
        stop();
    rusage child_ru{};
    if (g_fork) {
        // A server that cannot hear the stop (its setup failed) is ended.
        if (!r.error.empty())
            kill(child, SIGKILL);
        wait4(child, nullptr, 0, &child_ru);
    } else {
        server.join();
    }
    r.cpu_ns = process_cpu_ns() - cpu0 + rusage_ns(child_ru);
    return r;
}

// Two fds each way (pipes, eventfds) or one socket pair: one word each.
ipc_result fd_pair(double seconds, int to_server_w, int to_server_r, int to_client_w,
                   int to_client_r) {
    std::atomic<bool> done{false};
    auto client = [&] {
        uint64_t v = 1;
        return write(to_server_w, &v, sizeof(v)) == sizeof(v) &&
               read(to_client_r, &v, sizeof(v)) == sizeof(v);
    };
    // A request is 1; 2 says stop (a forked server cannot see `done`).
    auto server = [&] {
        uint64_t v;
        while (read(to_server_r, &v, sizeof(v)) == sizeof(v) && v == 1 && !done.load())
            if (write(to_client_w, &v, sizeof(v)) != sizeof(v))
                return;
    };
    auto stop = [&] {
        done = true;
        uint64_t v = 2;
        [[maybe_unused]] ssize_t n = write(to_server_w, &v, sizeof(v));
    };
    return measure(seconds, client, server, stop);
}

ipc_result run_pipes(double seconds) {
    int a[2], b[2];
    if (pipe(a) || pipe(b))
        return failed_ipc(errno_text(errno));
    ipc_result r = fd_pair(seconds, a[1], a[0], b[1], b[0]);
    for (int fd : {a[0], a[1], b[0], b[1]})
        close(fd);
    return r;
}

ipc_result run_socketpair(double seconds) {
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
        return failed_ipc(errno_text(errno));
    ipc_result r = fd_pair(seconds, s[0], s[1], s[1], s[0]);
    close(s[0]);
    close(s[1]);
    return r;
}

ipc_result run_eventfd(double seconds) {
    int to_server = eventfd(0, 0), to_client = eventfd(0, 0);
    if (to_server < 0 || to_client < 0)
        return failed_ipc(errno_text(errno));
    ipc_result r = fd_pair(seconds, to_server, to_server, to_client, to_client);
    close(to_server);
    close(to_client);
    return r;
}

struct rpc_msg {
    mach_msg_header_t head;
    uint64_t value;
};

ipc_result run_mach_msg(double seconds) {
    mach_port_t task = mach_task_self();
    mach_port_name_t service = MACH_PORT_NULL;
    std::string name = fmt::format("machio-bench-{}", int(getpid()));
    // Between processes the server makes its port in a space of its own and
    // checks it in; the client finds it with netname_look_up.  A pipe says
    // when it is there.
    int up[2] = {-1, -1};
    if (g_fork) {
        if (pipe(up))
            return failed_ipc(errno_text(errno));
    } else if (mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &service) ||
               mach_port_insert_right(task, service, service, MACH_MSG_TYPE_MAKE_SEND)) {
        return failed_ipc("mach_port_allocate");
    }
    mach_port_t reply = mach_reply_port();
    std::atomic<bool> done{false};
    auto client = [&] {
        rpc_msg m{};
        m.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
        m.head.msgh_size = sizeof(m);
        m.head.msgh_remote_port = service;
        m.head.msgh_local_port = reply;
        m.head.msgh_id = 1;
        return mach_msg(&m.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m), sizeof(m), reply, 0,
                        MACH_PORT_NULL) == MACH_MSG_SUCCESS;
    };
    auto server = [&] {
        rpc_msg m{};
        if (g_fork) {
            char c = 'u';
            if (machio_space_reset() != KERN_SUCCESS ||
                mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &service) ||
                netname_check_in(name_server_port, name.c_str(), MACH_PORT_NULL, service)) {
                c = 'x'; // the parent must not wait for nothing
                [[maybe_unused]] ssize_t n = write(up[1], &c, 1);
                return;
            }
            if (write(up[1], &c, 1) != 1)
                return;
        }
        if (mach_msg(&m.head, MACH_RCV_MSG, 0, sizeof(m), service, 0, MACH_PORT_NULL))
            return;
        // Reply, and wait for the next request, in one call.
        while (!done.load() && m.head.msgh_id == 1) {
            m.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
            m.head.msgh_local_port = MACH_PORT_NULL;
            m.value++;
            if (mach_msg(&m.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m), sizeof(m), service, 0,
                         MACH_PORT_NULL))
                return;
        }
    };
    auto stop = [&] {
        done = true;
        rpc_msg m{};
        m.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
        m.head.msgh_size = sizeof(m);
        m.head.msgh_remote_port = service;
        m.head.msgh_id = 2; // the end
        mach_msg(&m.head, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
    };
    auto ready = [&] {
        if (!g_fork)
            return true;
        char c;
        return read(up[0], &c, 1) == 1 && c == 'u' &&
               netname_look_up(name_server_port, "", name.c_str(), &service) == NETNAME_SUCCESS;
    };
    ipc_result r = measure(seconds, client, server, stop, ready);
    mach_port_destroy(task, service);
    mach_port_destroy(task, reply);
    if (g_fork) {
        close(up[0]);
        close(up[1]);
    }
    return r;
}

// ---- The device row: one 4 KiB read at a time, answered two ways ----

struct io_rate {
    uint64_t ios = 0;
    int64_t ns = 0;
    histogram lat;
    std::string error;
};

// 4 KiB reads at random 4 KiB offsets of the first @region bytes, each
// answered before the next, through @one (which says whether it went).
io_rate run_reads(double seconds, uint64_t region, unsigned lbs,
                  const std::function<bool(recnum_t)>& one) {
    io_rate r;
    uint64_t slots = region / 4096, x = 88172645463325252ULL;
    int64_t t0 = now_ns(), end = t0 + int64_t(seconds * 1e9), now = t0;
    while (now < end && slots) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        recnum_t recnum = recnum_t((x % slots) * (4096 / lbs));
        int64_t start = now_ns();
        if (!one(recnum)) {
            r.error = fmt::format("read {} failed", r.ios + 1);
            break;
        }
        now = now_ns();
        r.lat.add(now - start);
        r.ios++;
    }
    r.ns = now - t0;
    return r;
}

#pragma pack(push, 4)
struct overwrite_reply {
    mach_msg_header_t head;
    NDR_record_t ndr;
    kern_return_t code;
    io_buf_len_t count;
};
#pragma pack(pop)

void print_device_rows(double seconds, const std::string& path, uint64_t region, unsigned lbs) {
    mach_port_t dev = MACH_PORT_NULL, queue = MACH_PORT_NULL, reply = MACH_PORT_NULL;
    void* buf = nullptr;
    fmt::print("\nDevice: one 4 KiB read at a time (QD 1) on {}, {:.0f} s each\n", path, seconds);
    if (device_open(mach_host_self(), D_READ, path.c_str(), &dev) ||
        io_done_queue_create(mach_host_self(), &queue) ||
        mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &reply) ||
        posix_memalign(&buf, 4096, 4096)) {
        fmt::print("  error: cannot set up the device, queue and reply port\n");
        return;
    }
    auto queue_read = [&](recnum_t recnum) {
        io_done_result_t res;
        return device_read_overwrite_async(dev, queue, 1, 0, recnum, 4096,
                                           static_cast<io_buf_ptr_t>(buf)) == KERN_SUCCESS &&
               io_done_queue_wait(queue, &res) == KERN_SUCCESS && res.qd_code == D_SUCCESS;
    };
    auto message_read = [&](recnum_t recnum) {
        union {
            mach_msg_header_t head;
            overwrite_reply r;
        } m;
        return device_read_overwrite_request(dev, reply, 0, recnum, 4096, vm_address_t(buf)) ==
                   KERN_SUCCESS &&
               mach_msg(&m.head, MACH_RCV_MSG, 0, sizeof(m), reply, 0, MACH_PORT_NULL) ==
                   MACH_MSG_SUCCESS &&
               m.r.code == D_SUCCESS;
    };
    auto sync_read = [&](recnum_t recnum) {
        mach_msg_type_number_t got = 0;
        return device_read_overwrite(dev, 0, recnum, 4096, vm_address_t(buf), &got) == D_SUCCESS &&
               got == 4096;
    };
    struct row {
        const char* name;
        std::function<bool(recnum_t)> one;
    };
    const row rows[] = {
        {"io_done_queue", queue_read},
        {"reply message", message_read},
        {"device_read*", sync_read},
    };
    fmt::print("  {:<14} {:>10} {:>10} {:>9} {:>9} {:>9}\n", "answered by", "reads", "IOPS",
               "p50 us", "p99 us", "vs queue");
    double queue_rate = 0;
    for (const row& w : rows) {
        io_rate r = run_reads(seconds, region, lbs, w.one);
        if (!r.error.empty()) {
            fmt::print("  {:<14} error: {}\n", w.name, r.error);
            continue;
        }
        double rate = r.ns ? double(r.ios) * 1e9 / double(r.ns) : 0;
        if (!queue_rate)
            queue_rate = rate;
        fmt::print("  {:<14} {:>10} {:>10.0f} {:>9.1f} {:>9.1f} {:>8.2f}x\n", w.name, r.ios, rate,
                   r.lat.percentile(0.5) / 1e3, r.lat.percentile(0.99) / 1e3,
                   queue_rate ? rate / queue_rate : 0);
    }
    std::free(buf);
    mach_port_destroy(mach_task_self(), reply);
    io_done_queue_terminate(queue);
    mach_port_deallocate(mach_task_self(), queue);
    device_close(dev);
}

// machio's msg_spin_us, set to @us for the life of this object when this
// process may write it (root), and put back after.
class spin_setting {
  public:
    explicit spin_setting(unsigned us) {
        std::ifstream in(path_);
        unsigned was = 0;
        if (!(in >> was))
            return;
        std::ofstream out(path_);
        if (out << us << '\n' && out.flush())
            was_ = was;
    }
    ~spin_setting() {
        if (was_) {
            std::ofstream out(path_);
            out << *was_ << '\n';
        }
    }
    spin_setting(const spin_setting&) = delete;
    spin_setting& operator=(const spin_setting&) = delete;
    bool set() const { return was_.has_value(); }

  private:
    static constexpr const char* path_ = "/sys/module/machio/parameters/msg_spin_us";
    std::optional<unsigned> was_;
};

ipc_result run_mach_msg_no_spin(double seconds) {
    spin_setting off(0);
    if (!off.set())
        return failed_ipc("skipped: only root may set msg_spin_us to 0");
    return run_mach_msg(seconds);
}

} // namespace

void print_ipc_table(double seconds, const std::string& device, uint64_t region, unsigned lbs) {
    struct row {
        const char* name;
        ipc_result (*run)(double);
    };
    static constexpr row rows[] = {
        {"mach_msg", run_mach_msg},    {"  no spin", run_mach_msg_no_spin},
        {"pipe pair", run_pipes},      {"socketpair", run_socketpair},
        {"eventfd pair", run_eventfd},
    };
    for (bool processes : {false, true}) {
        g_fork = processes;
        fmt::print("\nIPC: request/reply round trips between two {}, {:.0f} s each\n",
                   processes ? "processes" : "threads", seconds);
        fmt::print("  {:<14} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9}\n", "way", "trips", "trips/s",
                   "p50 us", "p99 us", "CPU us", "vs socket");
        double socket_rate = 0;
        std::vector<std::pair<const row*, ipc_result>> results;
        for (const row& r : rows)
            results.emplace_back(&r, r.run(seconds));
        for (const auto& [r, res] : results)
            if (std::string_view(r->name) == "socketpair" && res.ns)
                socket_rate = double(res.trips) * 1e9 / double(res.ns);
        for (const auto& [r, res] : results) {
            if (!res.error.empty()) {
                bool skipped = res.error.starts_with("skipped");
                fmt::print("  {:<14} {}{}\n", r->name, skipped ? "" : "error: ", res.error);
                continue;
            }
            double rate = res.ns ? double(res.trips) * 1e9 / double(res.ns) : 0;
            fmt::print("  {:<14} {:>10} {:>10.0f} {:>9.1f} {:>9.1f} {:>9.1f} {:>8.2f}x\n", r->name,
                       res.trips, rate, res.lat.percentile(0.5) / 1e3,
                       res.lat.percentile(0.99) / 1e3,
                       res.trips ? double(res.cpu_ns) / 1e3 / double(res.trips) : 0,
                       socket_rate ? rate / socket_rate : 0);
        }
    }
    g_fork = false;
    print_device_rows(seconds, device, region, lbs);
}

} // namespace machio_bench
