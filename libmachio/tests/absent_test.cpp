// No usable machio device (MACHIO_DEVICE names a missing node, or /dev/null
// which is not a machio device): every call fails cleanly with KERN_FAILURE
// in C and an error_code in C++, and nothing crashes.
#include <machio/mach.h>
#include <machio/machio.hpp>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <sys/mman.h>

namespace {

// What opening the node fails with.
int expected_errno() {
    const char* path = std::getenv("MACHIO_DEVICE");
    return path && std::strcmp(path, "/dev/null") == 0 ? ENOTTY : ENOENT;
}

TEST(AbsentC, PortsAreNull) {
    EXPECT_EQ(mach_host_self(), MACH_PORT_NULL);
    EXPECT_EQ(mach_task_self(), MACH_PORT_NULL);
}

TEST(AbsentC, FdReportsErrno) {
    errno = 0;
    EXPECT_EQ(machio_fd(), -1);
    EXPECT_EQ(errno, expected_errno());
}

TEST(AbsentC, EveryCallFails) {
    mach_port_t name = 0x1234;
    io_done_result_t result;
    char buf[512] = {};
    int status[DEV_GET_SIZE_COUNT] = {};
    mach_msg_type_number_t count = DEV_GET_SIZE_COUNT;
    uint64_t size = 0;
    machio_info_t info;

    EXPECT_EQ(io_done_queue_create(MACH_PORT_NULL, &name), KERN_FAILURE);
    EXPECT_EQ(name, 0x1234U);
    EXPECT_EQ(io_done_queue_create(1, nullptr), KERN_FAILURE);
    EXPECT_EQ(io_done_queue_wait(0x101, &result), KERN_FAILURE);
    EXPECT_EQ(io_done_queue_wait(0x101, nullptr), KERN_FAILURE);
    EXPECT_EQ(io_done_queue_terminate(0x101), KERN_FAILURE);
    EXPECT_EQ(device_open(MACH_PORT_NULL, D_READ, "nullb0", &name), KERN_FAILURE);
    EXPECT_EQ(device_open(MACH_PORT_NULL, D_READ, nullptr, nullptr), KERN_FAILURE);
    EXPECT_EQ(machio_device_open_fd(MACH_PORT_NULL, 0, D_READ, &name), KERN_FAILURE);
    EXPECT_EQ(device_close(0x301), KERN_FAILURE);
    EXPECT_EQ(device_get_status(0x301, DEV_GET_SIZE, status, &count), KERN_FAILURE);
    EXPECT_EQ(machio_device_size(0x301, &size, nullptr), KERN_FAILURE);
    EXPECT_EQ(device_read_async(0x301, 0x401, 1, 0, 0, 512), KERN_FAILURE);
    EXPECT_EQ(device_read_async_inband(0x301, 0x401, 1, 0, 0, 64), KERN_FAILURE);
    EXPECT_EQ(device_read_overwrite_async(0x301, 0x401, 1, 0, 0, 512, buf), KERN_FAILURE);
    EXPECT_EQ(device_write_async(0x301, 0x401, 1, 0, 0, buf, 512), KERN_FAILURE);
    EXPECT_EQ(device_write_async_inband(0x301, MACH_PORT_NULL, 1, 0, 0, buf, 16), KERN_FAILURE);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), 0x301), KERN_FAILURE);
    EXPECT_EQ(machio_get_info(&info), KERN_FAILURE);
    EXPECT_EQ(machio_space_reset(), KERN_FAILURE);
}

TEST(AbsentC, VmDeallocateLeavesMemoryAlone) {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(p), 4096),
              KERN_FAILURE);
    static_cast<char*>(p)[0] = 1; // still mapped
    munmap(p, 4096);
}

TEST(AbsentC, ErrorStringExplains) {
    (void)mach_host_self(); // make sure the open has been tried
    std::string s = mach_error_string(KERN_FAILURE);
    EXPECT_NE(s.find("(os/kern) failure"), std::string::npos) << s;
    if (expected_errno() == ENOENT)
        EXPECT_NE(s.find("module loaded"), std::string::npos) << s;
    else
        EXPECT_NE(s.find("not a machio device"), std::string::npos) << s;
    // Other codes are unaffected.
    EXPECT_STREQ(mach_error_string(KERN_INVALID_ARGUMENT), "(os/kern) invalid argument");
}

TEST(AbsentCxx, SpaceOpenReportsErrno) {
    auto sp = machio::space::open();
    ASSERT_FALSE(sp);
    EXPECT_EQ(sp.error(), std::error_code(expected_errno(), std::system_category()));
    EXPECT_THROW(machio::space s, std::system_error);
}

TEST(AbsentCxx, ProcessSpaceOperationsReportErrno) {
    machio::space sp = machio::space::process();
    EXPECT_TRUE(sp);
    EXPECT_TRUE(sp.is_process());
    EXPECT_EQ(sp.fd(), -1);
    const std::error_code want(expected_errno(), std::system_category());
    EXPECT_EQ(sp.host().error(), want);
    EXPECT_EQ(sp.task().error(), want);
    EXPECT_EQ(sp.info().error(), want);

    auto q = machio::io_done_queue::create(sp);
    EXPECT_EQ(q.error(), want);
    auto dev = machio::device::open(sp, "nullb0", D_READ);
    EXPECT_EQ(dev.error(), want);
    auto dev2 = machio::device::adopt(sp, 0, D_READ);
    EXPECT_EQ(dev2.error(), want);

    // A handle adopted from a name fails on use and is dropped silently.
    machio::io_done_queue adopted = machio::io_done_queue::adopt(sp, 0x401);
    EXPECT_TRUE(adopted);
    EXPECT_EQ(adopted.wait().error(), want);
    EXPECT_EQ(adopted.terminate(), want);
    EXPECT_EQ(adopted.close(), want);
    EXPECT_FALSE(adopted);
}

TEST(AbsentCxx, EmptyHandlesFail) {
    machio::io_done_queue q;
    machio::device dev;
    EXPECT_FALSE(q);
    EXPECT_FALSE(dev);
    EXPECT_EQ(q.wait().error(), machio::kern_errc::invalid_argument);
    io_done_result_t raw;
    EXPECT_EQ(q.wait(raw), machio::kern_errc::invalid_argument);
    EXPECT_EQ(q.terminate(), machio::kern_errc::invalid_argument);
    EXPECT_FALSE(q.close());
    std::array<std::byte, 16> buf{};
    EXPECT_EQ(dev.read_async(q, 1, 0, 512), machio::kern_errc::invalid_argument);
    EXPECT_EQ(dev.write_async(machio::discard, 1, 0, buf), machio::kern_errc::invalid_argument);
    EXPECT_EQ(dev.refresh(), machio::kern_errc::invalid_argument);
    EXPECT_FALSE(dev.close());

    machio::space moved = machio::space::process();
    machio::space target = std::move(moved);
    EXPECT_FALSE(moved); // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(moved.fd(), -1);
    EXPECT_EQ(machio::io_done_queue::create(moved).error(), machio::kern_errc::invalid_argument);
}

} // namespace
