// <machio/portfolio.h> against the real module: tasks and signals between
// threads, and a thread's task ending with the thread.
#include "vm_support.hpp"

#include <machio/portfolio.h>

#include <uapi/linux/machio.h>

#include <gtest/gtest.h>

#include <atomic>
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
