// The demo's third part: Mach ports on the same device -- a realtime reply
// port answered by the device itself, and a second process that reads the
// device through this one, over messages it found by name.
#include "ports_tour.hpp"

#include <machio/mach.h>

#include <fmt/core.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr io_buf_len_t block_size = 4096;
constexpr recnum_t first_kib_block = 1024; // this part's 4 KiB: at 4 MiB into the device

struct free_deleter {
    void operator()(char* p) const noexcept { std::free(p); }
};
using page_buffer = std::unique_ptr<char[], free_deleter>;

page_buffer make_page_buffer(std::size_t size) {
    return page_buffer(static_cast<char*>(std::aligned_alloc(4096, size)));
}

void fill(char* p, std::size_t n, unsigned seed) {
    for (std::size_t i = 0; i < n; i++)
        p[i] = static_cast<char>(seed * 29 + i * 13 + (i >> 8));
}

bool check(kern_return_t kr, const char* what) {
    if (kr == KERN_SUCCESS)
        return true;
    fmt::print("   {} failed: {}\n", what, mach_error_string(kr));
    return false;
}

// The reply a device_read_request gets (device_reply.defs, MIG's layout).
#pragma pack(push, 4)
struct read_reply {
    mach_msg_header_t head;
    mach_msg_body_t body;
    mach_msg_ool_descriptor_t data;
    NDR_record_t ndr;
    kern_return_t code;
    mach_msg_type_number_t count;
};
struct write_reply {
    mach_msg_header_t head;
    NDR_record_t ndr;
    kern_return_t code;
    io_buf_len_t count;
};
#pragma pack(pop)

// The little protocol between the two processes: "read this block", and the
// bytes back, inline in the reply.
constexpr mach_msg_id_t read_block_id = 500;
struct block_request {
    mach_msg_header_t head;
    recnum_t recnum;
};
struct block_reply {
    mach_msg_header_t head;
    kern_return_t code;
    char data[block_size];
};

// The second process: finds the server by name, asks for a block, and
// checks its bytes.  Its exit status says whether they matched.
int client(const std::string& service, recnum_t recnum, unsigned seed) {
    if (machio_space_reset() != KERN_SUCCESS) // a name space of its own
        return 10;
    mach_port_t server = MACH_PORT_NULL;
    if (netname_look_up(name_server_port, "", service.c_str(), &server) != NETNAME_SUCCESS)
        return 11;
    fmt::print("   [client pid {}] netname_look_up(\"{}\") gave a send right: name {:#x}\n",
               int(getpid()), service, server);
    mach_port_t reply = mach_reply_port();
    union {
        block_request req;
        block_reply rep;
    } m = {};
    m.req.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    m.req.head.msgh_size = sizeof(m.req);
    m.req.head.msgh_remote_port = server;
    m.req.head.msgh_local_port = reply;
    m.req.head.msgh_id = read_block_id;
    m.req.recnum = recnum;
    // The request and its reply in one call.
    if (mach_msg(&m.req.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m.req), sizeof(m), reply, 0,
                 MACH_PORT_NULL) != MACH_MSG_SUCCESS)
        return 12;
    auto expected = make_page_buffer(block_size);
    fill(expected.get(), block_size, seed);
    bool same = m.rep.code == D_SUCCESS && std::memcmp(m.rep.data, expected.get(), block_size) == 0;
    fmt::print("   [client pid {}] got {} bytes back in one mach_msg call: {}\n", int(getpid()),
               m.rep.head.msgh_size - offsetof(block_reply, data),
               same ? "the bytes written in 10" : fmt::format("WRONG ({})", m.rep.code));
    return same ? 0 : 13;
}

} // namespace

int ports_tour(mach_port_t device, unsigned block) {
    int failures = 0;
    mach_port_t task = mach_task_self();
    // Record numbers count the device's blocks; this part moves 4 KiB at a time.
    recnum_t recnum = first_kib_block * recnum_t(block_size / block);

    // 10. A realtime reply port, and the device answering by message.
    fmt::print("\n10. a realtime reply port (mach_port_allocate_qos), answered by the device\n");
    mach_port_qos_t qos = {};
    qos.rt = 1;
    mach_port_t reply = MACH_PORT_NULL;
    if (!check(mach_port_allocate_qos(task, MACH_PORT_RIGHT_RECEIVE, &qos, &reply),
               "mach_port_allocate_qos"))
        return 1;
    fmt::print("   its messages come from buffers reserved with it: a send with room never "
               "allocates\n");
    auto out = make_page_buffer(block_size);
    fill(out.get(), block_size, 77);
    if (!check(device_write_request(device, reply, 0, recnum, out.get(), block_size),
               "device_write_request"))
        return 1;
    union {
        mach_msg_header_t head;
        write_reply w;
        read_reply r;
    } m = {};
    if (!check(mach_msg(&m.head, MACH_RCV_MSG, 0, sizeof(m), reply, 0, MACH_PORT_NULL),
               "mach_msg receive"))
        return 1;
    fmt::print("   device_write_request: reply {} says {} bytes written ({})\n", m.head.msgh_id,
               m.w.count, mach_error_string(m.w.code));
    failures += m.w.code != D_SUCCESS || m.w.count != block_size;
    if (!check(device_read_request(device, reply, 0, recnum, block_size), "device_read_request"))
        return failures + 1;
    if (!check(mach_msg(&m.head, MACH_RCV_MSG, 0, sizeof(m), reply, 0, MACH_PORT_NULL),
               "mach_msg receive"))
        return failures + 1;
    bool same = m.r.code == D_SUCCESS && m.r.count == unsigned(block_size) &&
                std::memcmp(m.r.data.address, out.get(), block_size) == 0;
    fmt::print("   device_read_request: reply {} carries {} bytes out of line at {}: {}\n",
               m.head.msgh_id, m.r.count, m.r.data.address, same ? "as written" : "WRONG");
    failures += !same;
    vm_deallocate(task, vm_address_t(m.r.data.address), m.r.count);
    mach_port_destroy(task, reply);

    // 11. Another process reads the device through this one, over messages.
    fmt::print("\n11. a second process reads the device through this one, found by name\n");
    mach_port_t service = MACH_PORT_NULL;
    if (!check(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &service), "mach_port_allocate"))
        return failures + 1;
    std::string name = fmt::format("machio-demo-{}", int(getpid()));
    if (!check(netname_check_in(name_server_port, name.c_str(), MACH_PORT_NULL, service),
               "netname_check_in"))
        return failures + 1;
    fmt::print("   [server pid {}] netname_check_in(\"{}\") for port {:#x}\n", int(getpid()), name,
               service);
    pid_t pid = fork();
    if (pid == 0)
        _exit(client(name, recnum, 77));
    // The service leaves the name service once the client has it: then the
    // client's send right is the port's last, and its exit shows.
    block_request req{};
    union {
        block_request req;
        block_reply rep;
    } msg = {};
    if (check(mach_msg(&msg.req.head, MACH_RCV_MSG, 0, sizeof(msg), service, 0, MACH_PORT_NULL),
              "mach_msg receive") &&
        msg.req.head.msgh_id == read_block_id) {
        req = msg.req;
        fmt::print("   [server] request for block {}: device_read_overwrite, then the reply\n",
                   req.recnum);
        netname_check_out(name_server_port, name.c_str(), MACH_PORT_NULL);
        mach_port_t client_reply = req.head.msgh_remote_port;
        mach_msg_type_number_t got = 0;
        auto page = make_page_buffer(block_size); // the device's alignment
        msg.rep = {};
        msg.rep.code = device_read_overwrite(device, 0, req.recnum, block_size,
                                             vm_address_t(page.get()), &got);
        std::memcpy(msg.rep.data, page.get(), block_size);
        msg.rep.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
        msg.rep.head.msgh_size = sizeof(msg.rep);
        msg.rep.head.msgh_remote_port = client_reply;
        msg.rep.head.msgh_id = read_block_id + 100;
        check(mach_msg(&msg.rep.head, MACH_SEND_MSG, sizeof(msg.rep), 0, MACH_PORT_NULL, 0,
                       MACH_PORT_NULL),
              "mach_msg send");
    } else {
        failures++;
    }

    // 12. The client's exit is its last send right going: no-senders.
    mach_port_t previous = MACH_PORT_NULL;
    check(mach_port_request_notification(task, service, MACH_NOTIFY_NO_SENDERS, 1, service,
                                         MACH_MSG_TYPE_MAKE_SEND_ONCE, &previous),
          "mach_port_request_notification");
    int status = 0;
    waitpid(pid, &status, 0);
    bool client_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    failures += !client_ok;
    fmt::print("   [server] the client exited {}\n", client_ok ? "happy" : "UNHAPPY");
    fmt::print("\n12. its last send right went with it: a no-senders notification\n");
    mach_no_senders_notification_t ns = {};
    kern_return_t kr = mach_msg(&ns.not_header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(ns),
                                service, 5000, MACH_PORT_NULL);
    bool told = kr == MACH_MSG_SUCCESS && ns.not_header.msgh_id == MACH_NOTIFY_NO_SENDERS;
    fmt::print(
        "   [server] {}\n",
        told ? fmt::format("MACH_NOTIFY_NO_SENDERS arrived (make-send count {})", ns.not_count)
             : fmt::format("no notification: {}", mach_error_string(kr)));
    failures += !told;
    mach_port_destroy(task, service);
    return failures;
}
