// errno -> Mach code mapping and mach_error_string().
#include "internal.hpp"

#include <machio/mach.h>

#include <cerrno>
#include <gtest/gtest.h>
#include <set>
#include <string>

using machio::detail::call_kind;
using machio::detail::errno_to_kern;

namespace {

struct mapping {
    int err;
    call_kind kind;
    kern_return_t expected;
};

void PrintTo(const mapping& m, std::ostream* os) {
    *os << "errno " << m.err << " kind " << static_cast<int>(m.kind) << " -> " << m.expected;
}

class ErrnoMapping : public ::testing::TestWithParam<mapping> {};

TEST_P(ErrnoMapping, MapsToMachCode) {
    const mapping& m = GetParam();
    EXPECT_EQ(errno_to_kern(m.err, m.kind), m.expected);
}

// The table of the kernel ABI (uapi/linux/machio.h), then the per-call
// refinements.
INSTANTIATE_TEST_SUITE_P(
    Generic, ErrnoMapping,
    ::testing::Values(mapping{0, call_kind::generic, KERN_SUCCESS},
                      mapping{EINVAL, call_kind::generic, KERN_INVALID_ARGUMENT},
                      mapping{ENOSPC, call_kind::generic, KERN_RESOURCE_SHORTAGE},
                      mapping{ENOMEM, call_kind::generic, KERN_RESOURCE_SHORTAGE},
                      // Submit at a space's max_requests or pinned-page bound.
                      mapping{EAGAIN, call_kind::generic, KERN_RESOURCE_SHORTAGE},
                      mapping{ESHUTDOWN, call_kind::generic, KERN_TERMINATED},
                      mapping{EINTR, call_kind::generic, KERN_ABORTED},
                      mapping{EFAULT, call_kind::generic, KERN_INVALID_ADDRESS},
                      mapping{EBADF, call_kind::generic, KERN_FAILURE},
                      mapping{ENOTTY, call_kind::generic, KERN_FAILURE},
                      mapping{EIO, call_kind::generic, KERN_FAILURE},
                      mapping{EBUSY, call_kind::generic, KERN_FAILURE},
                      mapping{EPERM, call_kind::generic, KERN_FAILURE},
                      mapping{12345, call_kind::generic, KERN_FAILURE}));

INSTANTIATE_TEST_SUITE_P(Wait, ErrnoMapping,
                         ::testing::Values(mapping{EFAULT, call_kind::wait, KERN_INVALID_ARGUMENT},
                                           mapping{EINVAL, call_kind::wait, KERN_INVALID_ARGUMENT},
                                           mapping{ESHUTDOWN, call_kind::wait, KERN_TERMINATED},
                                           mapping{EINTR, call_kind::wait, KERN_ABORTED},
                                           mapping{ENOMEM, call_kind::wait, KERN_RESOURCE_SHORTAGE},
                                           mapping{EIO, call_kind::wait, KERN_FAILURE}));

INSTANTIATE_TEST_SUITE_P(
    DeviceOpen, ErrnoMapping,
    ::testing::Values(mapping{EBADF, call_kind::device_open_rd, D_NO_SUCH_DEVICE},
                      mapping{ENOTBLK, call_kind::device_open_rd, D_NO_SUCH_DEVICE},
                      mapping{ENODEV, call_kind::device_open_rd, D_NO_SUCH_DEVICE},
                      mapping{ENXIO, call_kind::device_open_rd, D_NO_SUCH_DEVICE},
                      mapping{ENOENT, call_kind::device_open_rd, D_NO_SUCH_DEVICE},
                      mapping{ENOTDIR, call_kind::device_open_rd, D_NO_SUCH_DEVICE},
                      mapping{EISDIR, call_kind::device_open_wr, D_NO_SUCH_DEVICE},
                      mapping{EROFS, call_kind::device_open_wr, D_READ_ONLY},
                      mapping{EACCES, call_kind::device_open_wr, D_READ_ONLY},
                      mapping{EPERM, call_kind::device_open_wr, D_READ_ONLY},
                      mapping{EACCES, call_kind::device_open_rd, KERN_NO_ACCESS},
                      mapping{EPERM, call_kind::device_open_rd, KERN_NO_ACCESS},
                      mapping{EBUSY, call_kind::device_open_rd, D_ALREADY_OPEN},
                      mapping{EIO, call_kind::device_open_rd, D_IO_ERROR},
                      mapping{ENOMEDIUM, call_kind::device_open_rd, D_DEVICE_DOWN},
                      mapping{EMFILE, call_kind::device_open_rd, KERN_RESOURCE_SHORTAGE},
                      mapping{ENFILE, call_kind::device_open_rd, KERN_RESOURCE_SHORTAGE},
                      mapping{ENOMEM, call_kind::device_open_rd, KERN_RESOURCE_SHORTAGE},
                      mapping{ENOSPC, call_kind::device_open_rd, KERN_RESOURCE_SHORTAGE},
                      mapping{EINVAL, call_kind::device_open_rd, KERN_INVALID_ARGUMENT},
                      mapping{EINTR, call_kind::device_open_rd, KERN_ABORTED},
                      mapping{EFAULT, call_kind::device_open_rd, KERN_INVALID_ADDRESS}));

INSTANTIATE_TEST_SUITE_P(
    DeviceAndPorts, ErrnoMapping,
    ::testing::Values(mapping{EINVAL, call_kind::device, D_NO_SUCH_DEVICE},
                      mapping{ESHUTDOWN, call_kind::device, D_NO_SUCH_DEVICE},
                      mapping{EBUSY, call_kind::device, D_NO_SUCH_DEVICE},
                      mapping{ENOMEM, call_kind::device, KERN_RESOURCE_SHORTAGE},
                      mapping{EINVAL, call_kind::port_deallocate, KERN_INVALID_NAME},
                      mapping{ESHUTDOWN, call_kind::port_deallocate, KERN_INVALID_NAME},
                      mapping{EBUSY, call_kind::port_deallocate, KERN_INVALID_RIGHT},
                      mapping{EIO, call_kind::port_deallocate, KERN_FAILURE}));

// Only device_open knows the device errnos.
TEST(ErrnoMappingScope, DeviceErrnosAreGenericElsewhere) {
    for (int err : {EBADF, ENOTBLK, ENODEV, EROFS, EACCES}) {
        EXPECT_EQ(errno_to_kern(err, call_kind::generic), KERN_FAILURE) << err;
        EXPECT_EQ(errno_to_kern(err, call_kind::wait), KERN_FAILURE) << err;
    }
}

TEST(MachErrorString, CoversEveryKernCode) {
    std::set<std::string> seen;
    for (kern_return_t code = KERN_SUCCESS; code <= KERN_OPERATION_TIMED_OUT; ++code) {
        const char* s = mach_error_string(code);
        ASSERT_NE(s, nullptr) << code;
        EXPECT_NE(std::string(s).find("(os/kern)"), std::string::npos) << code << ": " << s;
        EXPECT_STRNE(s, mach_error_string(-12345)) << code;
        EXPECT_TRUE(seen.insert(s).second) << "duplicate text for " << code << ": " << s;
    }
}

TEST(MachErrorString, CoversEveryDeviceCode) {
    std::set<std::string> seen;
    for (kern_return_t code = D_IO_ERROR; code <= D_NOT_CLONED; ++code) {
        const char* s = mach_error_string(code);
        ASSERT_NE(s, nullptr) << code;
        EXPECT_NE(std::string(s).find("(device)"), std::string::npos) << code << ": " << s;
        EXPECT_TRUE(seen.insert(s).second) << "duplicate text for " << code << ": " << s;
    }
    EXPECT_NE(std::string(mach_error_string(D_IO_QUEUED)).find("queued"), std::string::npos);
}

TEST(MachErrorString, SpecificTexts) {
    EXPECT_STREQ(mach_error_string(KERN_SUCCESS), "(os/kern) successful");
    EXPECT_STREQ(mach_error_string(D_SUCCESS), "(os/kern) successful");
    EXPECT_STREQ(mach_error_string(KERN_INVALID_ARGUMENT), "(os/kern) invalid argument");
    EXPECT_STREQ(mach_error_string(KERN_TERMINATED), "(os/kern) object terminated");
    EXPECT_STREQ(mach_error_string(KERN_NO_THREAD), "(os/kern) no thread");
    EXPECT_STREQ(mach_error_string(D_IO_ERROR), "(device) hardware I/O error");
    EXPECT_STREQ(mach_error_string(D_READ_ONLY), "(device) device is read-only");
}

TEST(MachErrorString, MessageNameServiceAndMigCodes) {
    EXPECT_STREQ(mach_error_string(MACH_SEND_INVALID_DEST), "(ipc/send) invalid destination port");
    EXPECT_STREQ(mach_error_string(MACH_SEND_INTERRUPTED), "(ipc/send) interrupted");
    EXPECT_STREQ(mach_error_string(MACH_RCV_TIMED_OUT), "(ipc/rcv) timed out");
    EXPECT_STREQ(mach_error_string(MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE),
                 "(ipc/rcv) body error");
    EXPECT_STREQ(mach_error_string(NETNAME_NOT_YOURS), "(netname) name is not yours");
    EXPECT_STREQ(mach_error_string(MIG_BAD_ID), "(ipc/mig) bad request message ID");
}

TEST(MachErrorString, UnknownCodes) {
    for (kern_return_t code : {-2, 50, 0x100, 2499, 2512, 0x10000000, 0x10000011, 0x10004000,
                               0x1000400d, 999, 1005, -299, -306}) {
        const char* s = mach_error_string(code);
        ASSERT_NE(s, nullptr);
        EXPECT_STREQ(s, "(machio) unknown error code") << code;
    }
}

TEST(MachErrorString, CodeStringIsNullForUnknown) {
    EXPECT_EQ(machio::detail::code_string(50), nullptr);
    EXPECT_EQ(machio::detail::code_string(2512), nullptr);
    EXPECT_STREQ(machio::detail::code_string(KERN_FAILURE), "(os/kern) failure");
}

} // namespace
