// <machio/portfolio.h> and machio::portfolio against the real module: tasks
// and signals between threads, a thread's task ending with the thread,
// devices, and I/O requests.
#include "vm_support.hpp"

#include <machio/machio.hpp>
#include <machio/portfolio.h>

#include <uapi/linux/machio.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <span>
#include <thread>

namespace {

TEST(PortfolioSignals, TaskItemsAndSignalsBetweenThreads) {
    MACHIO_SKIP_WITHOUT_MODULE();
    Item me = machio_current_task();
    ASSERT_GT(me, 0);
    EXPECT_EQ(machio_current_task(), me);

    int32 mine = AllocSignal(0);
    ASSERT_GT(mine, 0);
    std::atomic<Item> peer{0};
    std::atomic<int32> peer_sig{0};
    std::thread t([&] {
        peer = machio_current_task();
        peer_sig = AllocSignal(0);
        EXPECT_EQ(SendSignal(me, uint32(mine)), 0);
        EXPECT_EQ(WaitSignal(uint32(peer_sig.load())), peer_sig.load());
    });
    // Sent after the peer's task and signal exist.
    EXPECT_EQ(WaitSignal(uint32(mine)), mine);
    ASSERT_GT(peer.load(), 0);
    EXPECT_NE(peer.load(), me);
    EXPECT_EQ(SendSignal(peer, uint32(peer_sig.load())), 0);
    t.join();
    // The exited thread's task is gone with it.
    EXPECT_EQ(SendSignal(peer, 0), BADITEM);

    EXPECT_EQ(SendSignal(0, uint32(mine)), 0);
    EXPECT_EQ(GetCurrentSignals(), uint32(mine));
    EXPECT_EQ(ClearCurrentSignals(uint32(mine)), mine);
    EXPECT_EQ(GetCurrentSignals(), 0U);
    EXPECT_EQ(SendSignal(me, SIGF_IODONE), BADPRIV);
    EXPECT_EQ(WaitSignal(0x40000000), ILLEGALSIGNAL);
    EXPECT_EQ(FreeSignal(uint32(mine)), 0);
    EXPECT_EQ(FreeSignal(uint32(mine)), ILLEGALSIGNAL);
    EXPECT_EQ(AllocSignal(SIGF_ABORT), ILLEGALSIGNAL);
}

TEST(PortfolioItems, LookupItemShowsTheTaskUntilItEnds) {
    MACHIO_SKIP_WITHOUT_MODULE();
    Item me = machio_current_task();
    ASSERT_GT(me, 0);
    auto* n = static_cast<const ItemNode*>(LookupItem(me));
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->n_Item, me);
    EXPECT_EQ(n->n_Type, TASKNODE);
    EXPECT_EQ(n->n_Owner, me);
    EXPECT_EQ(CheckItem(me, KERNELNODE, TASKNODE), n);
    EXPECT_EQ(CheckItem(me, KERNELNODE, IOREQNODE), nullptr);
    EXPECT_EQ(LookupItem(me + 0x10000), nullptr); // another generation
    EXPECT_EQ(LookupItem(0), nullptr);
    EXPECT_EQ(LookupItem(-1), nullptr);
    EXPECT_EQ(LookupItem(5), nullptr); // below index 16

    std::atomic<Item> peer{0};
    std::thread([&] { peer = machio_current_task(); }).join();
    ASSERT_GT(peer.load(), 0);
    EXPECT_EQ(LookupItem(peer), nullptr); // its thread is gone
}

TEST(PortfolioDevices, OpenNamedDeviceByNameOrPathAndClose) {
    MACHIO_SKIP_WITHOUT_MODULE();
    test::nullb disk;
    ASSERT_TRUE(disk.ok()) << disk.error();
    Item dev = OpenNamedDevice(disk.name().c_str(), nullptr);
    ASSERT_GT(dev, 0);
    EXPECT_EQ(OpenNamedDevice(disk.path().c_str(), nullptr), dev); // one item, opens nest
    EXPECT_NE(CheckItem(dev, KERNELNODE, DEVICENODE), nullptr);
    EXPECT_EQ(CloseNamedDevice(dev), 0);
    EXPECT_EQ(CloseNamedDevice(dev), 0);
    EXPECT_EQ(LookupItem(dev), nullptr); // the last close deleted it
    EXPECT_EQ(CloseNamedDevice(dev), BADITEM);
    EXPECT_EQ(CloseItem(machio_current_task()), MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_ItemNotOpen));

    Err not_found = MakeKErr(ER_SEVERE, ER_C_STND, ER_NotFound);
    EXPECT_EQ(OpenNamedDevice("machio-no-such-device", nullptr), not_found);
    EXPECT_EQ(OpenNamedDevice("/dev/null", nullptr), not_found); // not a block device
    EXPECT_EQ(OpenNamedDevice("", nullptr), not_found);
    EXPECT_EQ(OpenNamedDevice(nullptr, nullptr), not_found);
}

// The uapi's codes are Portfolio's.
TEST(PortfolioSignals, KernelCodesAreOperas) {
    EXPECT_EQ(MACHIO_PF_BADITEM, BADITEM);
    EXPECT_EQ(MACHIO_PF_BADPRIV, BADPRIV);
    EXPECT_EQ(MACHIO_PF_NOMEM, NOMEM);
    EXPECT_EQ(MACHIO_PF_ILLEGALSIGNAL, ILLEGALSIGNAL);
    EXPECT_EQ(MACHIO_PF_ITEMTABLEFULL, MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_ItemTableFull));
    EXPECT_EQ(MACHIO_PF_SIGF_IODONE, SIGF_IODONE);
    EXPECT_EQ(MACHIO_PF_SIGF_ABORT, SIGF_ABORT);
}

} // namespace

namespace {

// 4 KiB-aligned bytes: O_DIRECT's rule, and so machio's.
struct aligned_bytes {
    explicit aligned_bytes(std::size_t n)
        : p(static_cast<std::byte*>(std::aligned_alloc(4096, n))), size(n) {}
    ~aligned_bytes() { std::free(p); }
    std::span<std::byte> span() { return {p, size}; }
    std::byte* p;
    std::size_t size;
};

TEST(PortfolioIO, CreateIOReqThenDoIOAndSendIOMoveTheBytes) {
    MACHIO_SKIP_WITHOUT_MODULE();
    test::nullb disk;
    ASSERT_TRUE(disk.ok()) << disk.error();
    Item dev = OpenNamedDevice(disk.name().c_str(), nullptr);
    ASSERT_GT(dev, 0);
    Item ior = CreateIOReq("reader", 30, dev, 0);
    ASSERT_GT(ior, 0);
    auto* r = static_cast<const IOReq*>(CheckItem(ior, KERNELNODE, IOREQNODE));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->io.n_Priority, 30);
    EXPECT_EQ(r->io.n_Owner, machio_current_task());
    EXPECT_EQ(CheckIO(ior), 1);

    aligned_bytes out(8192), in(8192);
    test::fill_pattern(out.p, out.size, 4);
    IOInfo w{};
    w.ioi_Command = CMD_WRITE;
    w.ioi_Offset = 16;
    w.ioi_Send = IOBuf{out.p, 8192};
    EXPECT_EQ(DoIO(ior, &w), 0);
    EXPECT_EQ(r->io_Actual, 8192);

    IOInfo rd{};
    rd.ioi_Command = CMD_READ;
    rd.ioi_Offset = 16;
    rd.ioi_Recv = IOBuf{in.p, 8192};
    Err sent = SendIO(ior, &rd);
    ASSERT_GE(sent, 0);
    EXPECT_EQ(WaitIO(ior), 0);
    EXPECT_EQ(CheckIO(ior), 1);
    EXPECT_EQ(r->io_Error, 0);
    EXPECT_EQ(r->io_Actual, 8192);
    EXPECT_EQ(std::memcmp(out.p, in.p, 8192), 0);
    // The one done without IO_QUICK notified; collect it.
    EXPECT_EQ(ClearCurrentSignals(SIGF_IODONE), SIGF_IODONE);

    DeviceStatus ds{};
    IOInfo st{};
    st.ioi_Command = CMD_STATUS;
    st.ioi_Recv = IOBuf{&ds, sizeof(ds)};
    EXPECT_EQ(DoIO(ior, &st), 0);
    EXPECT_EQ(ds.ds_DeviceBlockSize, 512U);
    EXPECT_EQ(ds.ds_DeviceBlockCount, uint32(64 * 1024 * 1024 / 512));
    EXPECT_EQ(ds.ds_FamilyCode, DS_DEVTYPE_HARDDISK);

    IOInfo bad{};
    bad.ioi_Command = 77;
    EXPECT_EQ(DoIO(ior, &bad), BADCOMMAND);
    EXPECT_EQ(AbortIO(ior), 0);
    EXPECT_EQ(SendIO(ior, nullptr), BADPTR);
    EXPECT_EQ(SendIO(dev, &st), BADITEM);
    EXPECT_EQ(CheckIO(dev), BADITEM);

    EXPECT_EQ(DeleteIOReq(ior), 0);
    EXPECT_EQ(CheckIO(ior), BADITEM);
    EXPECT_EQ(DeleteIOReq(ior), BADITEM);
    EXPECT_EQ(CloseNamedDevice(dev), 0);
}

TEST(PortfolioIO, CreateItemTakesOperasTagLists) {
    MACHIO_SKIP_WITHOUT_MODULE();
    test::nullb disk;
    ASSERT_TRUE(disk.ok()) << disk.error();
    Item dev = OpenNamedDevice(disk.name().c_str(), nullptr);
    ASSERT_GT(dev, 0);
    Item ior = CreateItemVA(MKNODEID(KERNELNODE, IOREQNODE), TAG_ITEM_PRI, (void*)9,
                            CREATEIOREQ_TAG_DEVICE, (void*)intptr_t(dev), TAG_END);
    ASSERT_GT(ior, 0);
    EXPECT_EQ(static_cast<const ItemNode*>(LookupItem(ior))->n_Priority, 9);
    EXPECT_EQ(DeleteItem(ior), 0);

    EXPECT_EQ(CreateIOReq(nullptr, 0, dev, 77), BADITEM); // no such message port
    EXPECT_EQ(CreateIOReq(nullptr, 0, machio_current_task(), 0), BADITEM);
    EXPECT_EQ(CreateItemVA(MKNODEID(KERNELNODE, IOREQNODE), 40, nullptr, TAG_END), BADTAG);
    EXPECT_EQ(CreateItem(MKNODEID(KERNELNODE, MESSAGENODE + 100), nullptr), BADSUBTYPE);
    EXPECT_EQ(CreateItem(MKNODEID(3, IOREQNODE), nullptr),
              MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_BadType));
    EXPECT_EQ(DeleteItem(dev), BADPRIV); // the kernel's
    EXPECT_EQ(CloseNamedDevice(dev), 0);
    // Not open now: the device item went with the last close.
    EXPECT_EQ(CreateIOReq(nullptr, 0, dev, 0), BADITEM);
}

TEST(PortfolioIO, CxxTypesOwnTheirItems) {
    MACHIO_SKIP_WITHOUT_MODULE();
    namespace pf = machio::portfolio;
    test::nullb disk;
    ASSERT_TRUE(disk.ok()) << disk.error();
    auto dev = pf::device::open(disk.name());
    ASSERT_TRUE(dev) << dev.error().message();
    auto ior = pf::io_request::create(*dev, 5, "cxx");
    ASSERT_TRUE(ior) << ior.error().message();
    pf::item_t number = ior->item();

    aligned_bytes out(4096), in(4096);
    test::fill_pattern(out.p, out.size, 8);
    auto wrote = ior->write(out.span(), 3);
    ASSERT_TRUE(wrote);
    EXPECT_EQ(*wrote, 4096U);
    ASSERT_FALSE(ior->start_read(in.span(), 3));
    auto got = ior->wait();
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, 4096U);
    EXPECT_TRUE(ior->done());
    EXPECT_EQ(std::memcmp(out.p, in.p, 4096), 0);
    auto st = ior->status();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->block_size, 512U);
    EXPECT_FALSE(st->read_only);

    // A misaligned buffer: BADIOARG, as an invalid argument.
    auto odd = ior->read(in.span().subspan(8, 512), 0);
    ASSERT_FALSE(odd);
    EXPECT_EQ(odd.error(), std::errc::invalid_argument);
    EXPECT_EQ(odd.error().message(), "FKr-Severe-System-Standard-bad IOArgs in ioinfo");
    EXPECT_EQ(pf::make_error(NOMEM), std::errc::not_enough_memory);
    EXPECT_FALSE(pf::make_error(0));

    auto missing = pf::device::open("machio-no-such-disk");
    EXPECT_FALSE(missing);
    { auto gone = std::move(*ior); }
    EXPECT_EQ(CheckIO(number), BADITEM); // deleted with its owner object
}

} // namespace

namespace {

TEST(PortfolioMessages, PortsAndMessagesBetweenThreads) {
    MACHIO_SKIP_WITHOUT_MODULE();
    Item reply = CreateMsgPort("client", 0, 0);
    ASSERT_GT(reply, 0);
    auto* rp = static_cast<const MsgPort*>(CheckItem(reply, KERNELNODE, MSGPORTNODE));
    ASSERT_NE(rp, nullptr);
    EXPECT_NE(rp->mp_Signal, 0U);
    Item msg = CreateSmallMsg("ask", 50, reply);
    ASSERT_GT(msg, 0);
    auto* m = static_cast<const Message*>(LookupItem(msg));
    EXPECT_EQ(m->msg.n_Flags, MESSAGE_SMALL);

    std::atomic<Item> server{0};
    std::thread t([&] {
        Item port = CreateUniqueMsgPort("machio-api-server", 10, 0);
        server = port;
        Item got = WaitPort(port, 0);
        EXPECT_EQ(got, msg);
        auto* gm = static_cast<const Message*>(LookupItem(got));
        EXPECT_EQ(uintptr_t(gm->msg_DataPtr), 7U);
        EXPECT_EQ(ReplySmallMsg(got, 99, 8, 9), 0);
        EXPECT_EQ(DeleteMsgPort(port), 0);
    });
    while (!server.load())
        std::this_thread::yield();
    EXPECT_EQ(FindMsgPort("MACHIO-API-SERVER"), server.load());
    EXPECT_EQ(CreateMsgPort("machio-api-server", 0, 0),
              MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_UniqueItemExists));
    EXPECT_EQ(SendSmallMsg(server, msg, 7, 0), 0);
    EXPECT_EQ(WaitPort(reply, msg), msg);
    t.join();
    EXPECT_EQ(int32(m->msg_Result), 99);
    EXPECT_EQ(uintptr_t(m->msg_DataPtr), 8U);
    EXPECT_EQ(m->msg_DataSize, 9);
    EXPECT_EQ(GetMsg(reply), 0);
    EXPECT_EQ(GetThisMsg(msg), -1); // on no port
    EXPECT_EQ(SendMsg(reply, msg, nullptr, 0), 0);
    EXPECT_EQ(GetThisMsg(msg), msg);
    EXPECT_EQ(ReplyMsg(msg, 0, nullptr, 0), 0); // back to its own reply port
    EXPECT_EQ(GetMsg(reply), msg);
    EXPECT_EQ(CreateMsg(nullptr, 0, 0), MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_ReplyPortNeeded));
    EXPECT_EQ(FindMsgPort("machio-api-server"), MakeKErr(ER_SEVERE, ER_C_STND, ER_NotFound));
    EXPECT_EQ(DeleteMsg(msg), 0);
    EXPECT_EQ(DeleteMsgPort(reply), 0);
    EXPECT_EQ(LookupItem(reply), nullptr);
}

TEST(PortfolioMessages, AnIOReqCompletesByMessage) {
    MACHIO_SKIP_WITHOUT_MODULE();
    test::nullb disk;
    ASSERT_TRUE(disk.ok()) << disk.error();
    Item dev = OpenNamedDevice(disk.name().c_str(), nullptr);
    ASSERT_GT(dev, 0);
    EXPECT_EQ(FindDevice(disk.name().c_str()), dev);
    Item port = CreateMsgPort(nullptr, 0, 0);
    ASSERT_GT(port, 0);
    Item ior = CreateIOReq(nullptr, 3, dev, port);
    ASSERT_GT(ior, 0);
    auto* r = static_cast<const IOReq*>(LookupItem(ior));
    aligned_bytes buf(4096);
    IOInfo rd{};
    rd.ioi_Command = CMD_READ;
    rd.ioi_User = 0xfeed;
    rd.ioi_Recv = IOBuf{buf.p, 4096};
    ASSERT_GE(SendIO(ior, &rd), 0);
    Item got = WaitPort(port, 0);
    ASSERT_EQ(got, r->io_MsgItem);
    auto* m = static_cast<const Message*>(LookupItem(got));
    EXPECT_EQ(Item(uintptr_t(m->msg_DataPtr)), ior);
    EXPECT_EQ(m->msg_DataSize, 0xfeed);
    EXPECT_EQ(int32(m->msg_Result), 0);
    EXPECT_EQ(WaitIO(ior), 0);
    EXPECT_EQ(DoIO(ior, &rd), 0); // quick: no message
    EXPECT_EQ(GetMsg(port), 0);
    EXPECT_EQ(DeleteIOReq(ior), 0);
    EXPECT_EQ(DeleteMsgPort(port), 0);
    EXPECT_EQ(CloseNamedDevice(dev), 0);
}

} // namespace

namespace {

TEST(PortfolioDevices, FindAndOpenByTheDevicesName) {
    MACHIO_SKIP_WITHOUT_MODULE();
    test::nullb disk;
    ASSERT_TRUE(disk.ok()) << disk.error();
    const char* name = disk.name().c_str();
    Err not_found = MakeKErr(ER_SEVERE, ER_C_STND, ER_NotFound);
    EXPECT_EQ(FindDevice(name), not_found); // nobody has it open
    Item dev = FindAndOpenDevice(name);     // opened by name all the same
    ASSERT_GT(dev, 0);
    EXPECT_EQ(FindDevice(name), dev);
    EXPECT_EQ(OpenItem(dev, nullptr), dev); // opens nest
    EXPECT_EQ(static_cast<const Device*>(LookupItem(dev))->dev_OpenCnt, 2);
    EXPECT_EQ(OpenItem(dev, &disk), BADPTR);
    EXPECT_EQ(OpenItem(machio_current_task(), nullptr),
              MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_CantOpen));
    EXPECT_EQ(OpenItem(dev + 0x10000, nullptr), BADITEM);
    EXPECT_EQ(FindAndOpenNamedItem(MKNODEID(KERNELNODE, MSGPORTNODE), "none"), not_found);
    EXPECT_EQ(CloseItem(dev), 0);
    EXPECT_EQ(CloseItem(dev), 0);
    EXPECT_EQ(LookupItem(dev), nullptr);
}

} // namespace
