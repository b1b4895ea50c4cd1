// The demo's second half: the same device through 3DO Portfolio's calls
// (<machio/portfolio.h>), on the same kernel path -- items, I/O requests
// notified by signal and by message, and message ports between threads.
#include "portfolio_tour.hpp"

#include <machio/portfolio.h>

#include <fmt/core.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

struct free_deleter {
    void operator()(char* p) const noexcept { std::free(p); }
};
using page_buffer = std::unique_ptr<char[], free_deleter>;

page_buffer make_page_buffer(std::size_t size) {
    return page_buffer(static_cast<char*>(std::aligned_alloc(4096, size)));
}

std::string err_text(Err err) {
    char text[128];
    GetSysErr(text, sizeof(text), err);
    return text;
}

// Prints what failed; true if err is no error.
bool ok(Err err, const char* what) {
    if (err >= 0)
        return true;
    fmt::print("   {} failed: {}\n", what, err_text(err));
    return false;
}

IOInfo transfer(uint8 command, char* buf, int32 len, int32 block, uint32 user = 0) {
    IOInfo info{};
    info.ioi_Command = command;
    info.ioi_Offset = block;
    info.ioi_User = user;
    IOBuf& b = command == CMD_WRITE ? info.ioi_Send : info.ioi_Recv;
    b.iob_Buffer = buf;
    b.iob_Len = len;
    return info;
}

// 7: DoIO and SendIO with SIGF_IODONE; CMD_STATUS.
int signal_io(Item dev) {
    int failures = 0;
    constexpr int32 len = 16 * 1024;
    auto out = make_page_buffer(len), in = make_page_buffer(len);
    for (int32 i = 0; i < len; i++)
        out[i] = char('A' + i % 26);

    Item ior = CreateIOReq("demo-signal", 0, dev, 0);
    if (!ok(ior, "CreateIOReq"))
        return 1;
    auto* view = static_cast<const IOReq*>(LookupItem(ior));
    IOInfo w = transfer(CMD_WRITE, out.get(), len, 4096);
    Err err = DoIO(ior, &w);
    fmt::print("   DoIO(CMD_WRITE, 16 KiB at block 4096) = {}, io_Actual {}\n", err,
               view->io_Actual);
    failures += err != 0 || view->io_Actual != len;

    IOInfo r = transfer(CMD_READ, in.get(), len, 4096);
    Err sent = SendIO(ior, &r);
    fmt::print("   SendIO(CMD_READ) = {} ({}); CheckIO = {}\n", sent,
               sent == 1 ? "done already" : "in progress", CheckIO(ior));
    uint32 got = uint32(WaitSignal(SIGF_IODONE));
    Err waited = WaitIO(ior);
    bool same = std::memcmp(out.get(), in.get(), len) == 0;
    fmt::print("   WaitSignal(SIGF_IODONE) = {:#x}, WaitIO = {}, the bytes {}\n", got, waited,
               same ? "match" : "DIFFER");
    failures += waited != 0 || !same || !(got & SIGF_IODONE);

    DeviceStatus ds{};
    IOInfo st{};
    st.ioi_Command = CMD_STATUS;
    st.ioi_Recv = IOBuf{&ds, int32(sizeof(ds))};
    err = DoIO(ior, &st);
    fmt::print("   CMD_STATUS: {} blocks of {} bytes{}\n", ds.ds_DeviceBlockCount,
               ds.ds_DeviceBlockSize,
               (ds.ds_DeviceUsageFlags & DS_USAGE_READONLY) ? ", read-only" : "");
    failures += err != 0;

    IOInfo bad{};
    bad.ioi_Command = 42;
    err = DoIO(ior, &bad);
    fmt::print("   command 42: {}\n", err_text(err));
    failures += err != BADCOMMAND;
    failures += DeleteIOReq(ior) != 0;
    return failures;
}

// 8: three IOReqs of different priorities replying to one port.
int message_io(Item dev) {
    int failures = 0;
    Item port = CreateMsgPort("demo-replies", 0, 0);
    if (!ok(port, "CreateMsgPort"))
        return 1;
    constexpr uint8 prios[] = {10, 200, 90};
    Item iors[3];
    auto buf = make_page_buffer(3 * 4096);
    for (int i = 0; i < 3; i++) {
        iors[i] = CreateIOReq(nullptr, prios[i], dev, port);
        if (!ok(iors[i], "CreateIOReq"))
            return 1;
    }
    for (int i = 0; i < 3; i++) {
        IOInfo r = transfer(CMD_READ, buf.get() + i * 4096, 4096, i, 100 + uint32(i));
        failures += SendIO(iors[i], &r) < 0;
    }
    // Let all three complete, then take the messages: the port keeps them
    // by the IOReqs' priority, whatever order they completed in.
    for (int i = 0; i < 3; i++)
        while (CheckIO(iors[i]) == 0)
            std::this_thread::yield();
    uint8 last = 255;
    for (int i = 0; i < 3; i++) {
        Item m = GetMsg(port);
        auto* msg = static_cast<const Message*>(LookupItem(m));
        if (!msg) {
            failures++;
            continue;
        }
        Item which = Item(uintptr_t(msg->msg_DataPtr));
        uint8 pri = static_cast<const ItemNode*>(LookupItem(which))->n_Priority;
        fmt::print("   message {}: IOReq {:#x} (priority {}), msg_Result {}, ioi_User {}\n", i + 1,
                   which, pri, int32(msg->msg_Result), msg->msg_DataSize);
        failures += pri > last || msg->msg_Result != 0;
        last = pri;
    }
    for (Item ior : iors)
        failures += DeleteIOReq(ior) != 0;
    failures += DeleteMsgPort(port) != 0;
    return failures;
}

// 9: a server thread's named port, found and used by another thread.
int ports_between_threads() {
    int failures = 0;
    std::atomic<bool> ready{false};
    std::thread server([&] {
        Item port = CreateMsgPort("demo-server", 0, 0);
        ready = true;
        Item m = WaitPort(port, 0);
        auto* msg = static_cast<const Message*>(LookupItem(m));
        uint32 a = uint32(uintptr_t(msg->msg_DataPtr)), b = uint32(msg->msg_DataSize);
        ReplySmallMsg(m, 0, a + b, 0);
        DeleteMsgPort(port);
    });
    while (!ready)
        std::this_thread::yield();
    Item port = FindMsgPort("DEMO-SERVER");
    Item reply = CreateMsgPort(nullptr, 0, 0);
    Item m = CreateSmallMsg(nullptr, 0, reply);
    failures += SendSmallMsg(port, m, 20, 22) != 0;
    failures += WaitPort(reply, m) != m;
    auto* msg = static_cast<const Message*>(LookupItem(m));
    fmt::print("   FindMsgPort(\"DEMO-SERVER\") = {:#x}; asked 20 + 22, the server replied {}\n",
               port, uint32(uintptr_t(msg->msg_DataPtr)));
    failures += uintptr_t(msg->msg_DataPtr) != 42;
    server.join();
    failures += DeleteMsg(m) != 0 || DeleteMsgPort(reply) != 0;
    return failures;
}

} // namespace

int portfolio_tour(const char* device) {
    int failures = 0;
    fmt::print("\n7. 3DO Portfolio: OpenNamedDevice, an IOReq notified by SIGF_IODONE\n");
    Item dev = OpenNamedDevice(device, nullptr);
    if (!ok(dev, "OpenNamedDevice"))
        return 1;
    fmt::print("   device item {:#x}, task item {:#x}\n", dev, machio_current_task());
    failures += signal_io(dev);
    fmt::print("\n8. IOReqs that reply by message, queued by their priority\n");
    failures += message_io(dev);
    fmt::print("\n9. message ports between threads: found by name, asked, answered\n");
    failures += ports_between_threads();
    failures += CloseNamedDevice(dev) != 0;
    return failures;
}
