// io_done_result_t is the kernel's struct machio_io_done_result, byte for
// byte, and the Mach constants are the original values.
#include <machio/mach.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <type_traits>

namespace {

// The uapi structure's own field names are hidden by the Mach field macros
// (qd_type -> qd_control.qd_type); lift them for the uapi side.
#pragma push_macro("qd_type")
#pragma push_macro("qd_reqid")
#pragma push_macro("qd_code")
#pragma push_macro("qd_data")
#pragma push_macro("qd_count")
#undef qd_type
#undef qd_reqid
#undef qd_code
#undef qd_data
#undef qd_count
constexpr std::size_t k_type = offsetof(struct machio_io_done_result, qd_type);
constexpr std::size_t k_reqid = offsetof(struct machio_io_done_result, qd_reqid);
constexpr std::size_t k_code = offsetof(struct machio_io_done_result, qd_code);
constexpr std::size_t k_data = offsetof(struct machio_io_done_result, qd_data);
constexpr std::size_t k_count = offsetof(struct machio_io_done_result, qd_count);
constexpr std::size_t k_inline = offsetof(struct machio_io_done_result, qd_inline);

struct kernel_view {
    std::int32_t type;
    std::uint32_t reqid;
    std::int32_t code;
    std::uint64_t data;
    std::int32_t count;
};
kernel_view view(const struct machio_io_done_result& k) {
    return {k.qd_type, k.qd_reqid, k.qd_code, k.qd_data, k.qd_count};
}
#pragma pop_macro("qd_count")
#pragma pop_macro("qd_data")
#pragma pop_macro("qd_code")
#pragma pop_macro("qd_reqid")
#pragma pop_macro("qd_type")

static_assert(k_type == 0 && k_reqid == 4 && k_code == 8 && k_data == 16 && k_count == 24 &&
              k_inline == 32);

// Compile-time: the 64-bit layout of the original structure.
static_assert(sizeof(io_done_result_t) == 160);
static_assert(sizeof(struct machio_io_done_result) == 160);
static_assert(offsetof(io_done_result_t, qd_type) == 0);
static_assert(offsetof(io_done_result_t, qd_reqid) == 4);
static_assert(offsetof(io_done_result_t, qd_code) == 8);
static_assert(offsetof(io_done_result_t, qd_data) == 16);
static_assert(offsetof(io_done_result_t, qd_count) == 24);
static_assert(offsetof(io_done_result_t, qd_inline) == 32);
static_assert(alignof(io_done_result_t) == alignof(struct machio_io_done_result));
static_assert(std::is_standard_layout_v<io_done_result_t>);
static_assert(std::is_trivially_copyable_v<io_done_result_t>);

// Types.
static_assert(std::is_same_v<kern_return_t, int>);
static_assert(std::is_same_v<mach_port_t, unsigned int>);
static_assert(std::is_same_v<recnum_t, unsigned int>);
static_assert(std::is_same_v<io_buf_len_t, int>);
static_assert(std::is_same_v<io_buf_ptr_t, char*>);
static_assert(std::is_same_v<io_buf_ptr_inband_t, char[128]>);
static_assert(std::is_same_v<dev_name_t, char[128]>);
static_assert(std::is_same_v<dev_status_t, int*>);
static_assert(sizeof(vm_address_t) == sizeof(void*));
static_assert(sizeof(vm_size_t) == sizeof(std::size_t));

TEST(Layout, OffsetsMatchKernelAbi) {
    EXPECT_EQ(sizeof(io_done_result_t), sizeof(struct machio_io_done_result));
    EXPECT_EQ(offsetof(io_done_result_t, qd_type), k_type);
    EXPECT_EQ(offsetof(io_done_result_t, qd_reqid), k_reqid);
    EXPECT_EQ(offsetof(io_done_result_t, qd_code), k_code);
    EXPECT_EQ(offsetof(io_done_result_t, qd_data), k_data);
    EXPECT_EQ(offsetof(io_done_result_t, qd_count), k_count);
    EXPECT_EQ(offsetof(io_done_result_t, qd_inline), k_inline);
}

// Write a completion the way the kernel does and read it the Mach way.
TEST(Layout, KernelRecordReadsAsIoDoneResult) {
    alignas(io_done_result_t) unsigned char bytes[sizeof(io_done_result_t)];
    std::memset(bytes, 0xa5, sizeof(bytes));

    // Offsets from the ABI documentation, not from either struct.
    const std::int32_t type = IO_DONE_OVERWRITE;
    const std::uint32_t reqid = 0xdeadbeef;
    const std::int32_t code = D_INVALID_RECNUM;
    const std::uint64_t data = 0x00007f0012345000ULL;
    const std::int32_t count = 4096;
    std::memcpy(bytes + 0, &type, 4);
    std::memcpy(bytes + 4, &reqid, 4);
    std::memcpy(bytes + 8, &code, 4);
    std::memcpy(bytes + 16, &data, 8);
    std::memcpy(bytes + 24, &count, 4);
    for (int i = 0; i < IO_INBAND_MAX; ++i)
        bytes[32 + i] = static_cast<unsigned char>(i);

    io_done_result_t r;
    std::memcpy(&r, bytes, sizeof(r));
    EXPECT_EQ(r.qd_type, IO_DONE_OVERWRITE);
    EXPECT_EQ(r.qd_reqid, 0xdeadbeefU);
    EXPECT_EQ(r.qd_code, D_INVALID_RECNUM);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(r.qd_data), data);
    EXPECT_EQ(r.qd_count, 4096);
    for (int i = 0; i < IO_INBAND_MAX; ++i)
        EXPECT_EQ(static_cast<unsigned char>(r.qd_inline[i]), i);

    // And the same through the uapi structure.
    struct machio_io_done_result k;
    std::memcpy(&k, bytes, sizeof(k));
    kernel_view v = view(k);
    EXPECT_EQ(v.type, r.qd_type);
    EXPECT_EQ(v.reqid, r.qd_reqid);
    EXPECT_EQ(v.code, r.qd_code);
    EXPECT_EQ(v.data, data);
    EXPECT_EQ(v.count, r.qd_count);
    EXPECT_EQ(std::memcmp(k.qd_inline, r.qd_inline, IO_INBAND_MAX), 0);
}

TEST(Layout, FieldMacrosNameTheControlInfo) {
    io_done_result_t r = {};
    // r.qd_type is r.qd_control.qd_type (which, like in Mach, cannot be
    // spelled out while the macros exist).
    const auto* control = reinterpret_cast<const char*>(&r.qd_control);
    EXPECT_EQ(reinterpret_cast<const char*>(&r.qd_type) - control, 0);
    EXPECT_EQ(reinterpret_cast<const char*>(&r.qd_reqid) - control, 4);
    EXPECT_EQ(reinterpret_cast<const char*>(&r.qd_code) - control, 8);
    EXPECT_EQ(reinterpret_cast<const char*>(&r.qd_data) - control, 16);
    EXPECT_EQ(reinterpret_cast<const char*>(&r.qd_count) - control, 24);
    EXPECT_EQ(sizeof(r.qd_control), 32U);
    r.qd_type = IO_DONE_WRITE;
    r.qd_count = 7;
    EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
    EXPECT_EQ(r.qd_count, 7);
}

// OSF's descriptors (mach/message.h), bit-fields as bytes: 12 bytes for a
// port, the type in the twelfth byte of every kind.
TEST(Layout, MessageDescriptors) {
    EXPECT_EQ(sizeof(mach_msg_body_t), 4U);
    EXPECT_EQ(sizeof(mach_msg_port_descriptor_t), 12U);
    EXPECT_EQ(sizeof(mach_msg_type_descriptor_t), 12U);
    EXPECT_EQ(sizeof(mach_msg_ool_descriptor_t), 16U);
    EXPECT_EQ(offsetof(mach_msg_port_descriptor_t, disposition), 10U);
    EXPECT_EQ(offsetof(mach_msg_port_descriptor_t, type), 11U);
    EXPECT_EQ(offsetof(mach_msg_ool_descriptor_t, type), 11U);
    EXPECT_EQ(offsetof(mach_msg_ool_descriptor_t, size), 12U);
    // The same bits as OSF's `pad2:16, disposition:8, type:8` word.
    mach_msg_port_descriptor_t d = {};
    d.disposition = MACH_MSG_TYPE_MAKE_SEND;
    d.type = MACH_MSG_OOL_PORTS_DESCRIPTOR;
    unsigned int word;
    std::memcpy(&word, reinterpret_cast<const char*>(&d) + 8, 4);
    EXPECT_EQ(word,
              (unsigned(MACH_MSG_OOL_PORTS_DESCRIPTOR) << 24) | (MACH_MSG_TYPE_MAKE_SEND << 16));
}

TEST(Constants, OriginalValues) {
    EXPECT_EQ(MACH_PORT_NULL, 0U);
    EXPECT_EQ(MACH_PORT_DEAD, ~0U);
    EXPECT_EQ(KERN_SUCCESS, 0);
    EXPECT_EQ(KERN_INVALID_ADDRESS, 1);
    EXPECT_EQ(KERN_INVALID_ARGUMENT, 4);
    EXPECT_EQ(KERN_FAILURE, 5);
    EXPECT_EQ(KERN_RESOURCE_SHORTAGE, 6);
    EXPECT_EQ(KERN_ABORTED, 14);
    EXPECT_EQ(KERN_INVALID_NAME, 15);
    EXPECT_EQ(KERN_TERMINATED, 37);
    EXPECT_EQ(KERN_NO_THREAD, 46);
    EXPECT_EQ(KERN_OPERATION_TIMED_OUT, 49);
    EXPECT_EQ(KERN_RETURN_MAX, 0x100);
    EXPECT_EQ(D_IO_QUEUED, -1);
    EXPECT_EQ(D_IO_ERROR, 2500);
    EXPECT_EQ(D_READ_ONLY, 2509);
    EXPECT_EQ(D_NOT_CLONED, 2511);
    EXPECT_EQ(D_READ, 1U);
    EXPECT_EQ(D_WRITE, 2U);
    EXPECT_EQ(D_NODELAY, 4U);
    EXPECT_EQ(D_NOWAIT, 8U);
    EXPECT_EQ(IO_INBAND_MAX, 128);
    EXPECT_EQ(DEV_GET_SIZE, 0);
    EXPECT_EQ(DEV_GET_SIZE_COUNT, 2);
    EXPECT_EQ(DEV_GET_SIZE_DEVICE_SIZE, 0);
    EXPECT_EQ(DEV_GET_SIZE_RECORD_SIZE, 1);
    EXPECT_EQ(IO_DONE_READ, 1);
    EXPECT_EQ(IO_DONE_WRITE, 2);
    EXPECT_EQ(IO_DONE_OVERWRITE, 3);
}

} // namespace
