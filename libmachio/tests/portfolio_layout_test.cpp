// Opera's ItemNode in <machio/portfolio.h> is the module's view slot header
// (struct machio_pf_node): LookupItem hands out pointers into the view.
#include <machio/portfolio.h>

#include <uapi/linux/machio.h>

#include <gtest/gtest.h>

#include <cstddef>

namespace {

#define SAME_FIELD(f)                                                                              \
    static_assert(offsetof(ItemNode, f) == offsetof(machio_pf_node, f));                           \
    static_assert(sizeof(ItemNode::f) == sizeof(machio_pf_node::f))

SAME_FIELD(n_Next);
SAME_FIELD(n_Prev);
SAME_FIELD(n_SubsysType);
SAME_FIELD(n_Type);
SAME_FIELD(n_Priority);
SAME_FIELD(n_Flags);
SAME_FIELD(n_Size);
SAME_FIELD(n_Name);
SAME_FIELD(n_Version);
SAME_FIELD(n_Revision);
SAME_FIELD(n_FolioFlags);
SAME_FIELD(n_ItemFlags);
SAME_FIELD(n_Item);
SAME_FIELD(n_Owner);
SAME_FIELD(n_ReservedP);
static_assert(sizeof(ItemNode) == sizeof(machio_pf_node));

TEST(PortfolioLayout, ItemNodeIsTheViewsNode) {
    EXPECT_EQ(sizeof(ItemNode), 56U);
    EXPECT_EQ(KERNELNODE, MACHIO_PF_KERNELNODE);
    EXPECT_EQ(TASKNODE, MACHIO_PF_TASKNODE);
    EXPECT_EQ(MKNODEID(KERNELNODE, IOREQNODE), 0x10E);
    EXPECT_EQ(MKNODEID(KERNELNODE, MSGPORTNODE), 0x10A);
    EXPECT_EQ(SUBSYSPART(0x10E), 1U);
    EXPECT_EQ(NODEPART(0x10E), 14);
}

} // namespace
