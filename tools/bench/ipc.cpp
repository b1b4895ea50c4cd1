// The IPC table: request/reply round trips between two threads of the
// process, for mach_msg (the client's request and the wait for its reply
// in one call, the server's reply and the wait for the next request in
// another) against the classic ways: a pipe pair, a UNIX socket pair, an
// eventfd pair.  Latency is one round trip as the client sees it.
#include "ipc.hpp"

#include <machio/mach.h>

#include <fmt/core.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace machio_bench {
namespace {

struct ipc_result {
    uint64_t trips = 0;
    int64_t ns = 0;
    histogram lat;
    std::string error;
};

ipc_result failed_ipc(std::string why) {
    ipc_result r;
    r.error = std::move(why);
    return r;
}

// Round trips until @seconds are up: client() does one and says whether it
// went; the server thread runs server() until it returns false.
ipc_result measure(double seconds, const std::function<bool()>& client,
                   const std::function<void()>& server_loop, const std::function<void()>& stop) {
    ipc_result r;
    std::thread server(server_loop);
    int64_t t0 = now_ns(), end = t0 + int64_t(seconds * 1e9), now = t0;
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
    stop();
    server.join();
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
    auto server = [&] {
        uint64_t v;
        while (read(to_server_r, &v, sizeof(v)) == sizeof(v) && !done.load())
            if (write(to_client_w, &v, sizeof(v)) != sizeof(v))
                return;
    };
    auto stop = [&] {
        done = true;
        uint64_t v = 1;
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
    if (mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &service) ||
        mach_port_insert_right(task, service, service, MACH_MSG_TYPE_MAKE_SEND))
        return failed_ipc("mach_port_allocate");
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
    ipc_result r = measure(seconds, client, server, stop);
    mach_port_destroy(task, service);
    mach_port_destroy(task, reply);
    return r;
}

} // namespace

void print_ipc_table(double seconds) {
    struct row {
        const char* name;
        ipc_result (*run)(double);
    };
    static constexpr row rows[] = {
        {"mach_msg", run_mach_msg},
        {"pipe pair", run_pipes},
        {"socketpair", run_socketpair},
        {"eventfd pair", run_eventfd},
    };
    fmt::print("\nIPC: request/reply round trips between two threads, {:.0f} s each\n", seconds);
    fmt::print("  {:<14} {:>10} {:>10} {:>9} {:>9} {:>9}\n", "way", "trips", "trips/s", "p50 us",
               "p99 us", "vs socket");
    double socket_rate = 0;
    std::vector<std::pair<const row*, ipc_result>> results;
    for (const row& r : rows)
        results.emplace_back(&r, r.run(seconds));
    for (const auto& [r, res] : results)
        if (std::string_view(r->name) == "socketpair" && res.ns)
            socket_rate = double(res.trips) * 1e9 / double(res.ns);
    for (const auto& [r, res] : results) {
        if (!res.error.empty()) {
            fmt::print("  {:<14} error: {}\n", r->name, res.error);
            continue;
        }
        double rate = res.ns ? double(res.trips) * 1e9 / double(res.ns) : 0;
        fmt::print("  {:<14} {:>10} {:>10.0f} {:>9.1f} {:>9.1f} {:>8.2f}x\n", r->name, res.trips,
                   rate, res.lat.percentile(0.5) / 1e3, res.lat.percentile(0.99) / 1e3,
                   socket_rate ? rate / socket_rate : 0);
    }
}

} // namespace machio_bench
