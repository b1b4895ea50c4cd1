// The C API against the fake module (MACHIO_DEVICE=/dev/null).
#include "fake_kernel.hpp"
#include "test_files.hpp"

#include <machio/mach.h>
#include <machio/machio.hpp>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

class CApi : public ::testing::Test {
  protected:
    void SetUp() override {
        fake::reset();
        ASSERT_GE(machio_fd(), 0) << "MACHIO_DEVICE must name /dev/null for these tests";
    }

    mach_port_t make_queue() {
        mach_port_t q = MACH_PORT_NULL;
        EXPECT_EQ(io_done_queue_create(mach_host_self(), &q), KERN_SUCCESS);
        return q;
    }

    // A device on a scratch file (the fake does not care that it is not a
    // block device).
    mach_port_t make_device(dev_mode_t mode = D_READ | D_WRITE) {
        mach_port_t dev = MACH_PORT_NULL;
        kern_return_t kr = device_open(mach_host_self(), mode, file_.path().c_str(), &dev);
        EXPECT_EQ(kr, KERN_SUCCESS) << mach_error_string(kr);
        return dev;
    }

    void SkipWithoutDirectIo() {
        if (!file_.direct_io())
            GTEST_SKIP() << "O_DIRECT not supported for " << file_.path();
    }

    test::scratch_file file_;
};

TEST_F(CApi, HostAndTaskNamesComeFromQuery) {
    EXPECT_EQ(mach_host_self(), 0x101U);
    EXPECT_EQ(mach_task_self(), 0x201U);
    machio_info_t info;
    ASSERT_EQ(machio_get_info(&info), KERN_SUCCESS);
    EXPECT_EQ(info.abi_version, unsigned(MACHIO_ABI_VERSION));
    EXPECT_EQ(info.io_inband_max, unsigned(IO_INBAND_MAX));
    EXPECT_EQ(info.host, 0x101U);
    EXPECT_EQ(info.task, 0x201U);
    EXPECT_EQ(info.max_names, 64U);
    EXPECT_TRUE(info.features & MACHIO_FEAT_IO_DONE_QUEUE);
    EXPECT_EQ(machio_get_info(nullptr), KERN_INVALID_ARGUMENT);
}

TEST_F(CApi, ProcessSpaceIsOpenedOnce) {
    int fd = machio_fd();
    const int queries = fake::calls(MACHIO_IOC_QUERY);
    EXPECT_EQ(machio_fd(), fd);
    EXPECT_EQ(mach_host_self(), 0x101U);
    EXPECT_EQ(mach_task_self(), 0x201U);
    EXPECT_EQ(fake::calls(MACHIO_IOC_QUERY), queries);
    int flags = fcntl(fd, F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_TRUE(flags & FD_CLOEXEC);
}

TEST_F(CApi, QueueLifecycle) {
    mach_port_t q = MACH_PORT_NULL;
    EXPECT_EQ(io_done_queue_create(mach_task_self(), &q), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_create(mach_host_self(), nullptr), KERN_INVALID_ARGUMENT);
    q = make_queue();
    ASSERT_TRUE(MACH_PORT_VALID(q));

    // A live queue cannot be deallocated; terminate it first.
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_INVALID_RIGHT);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_TERMINATED);
    io_done_result_t r;
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_TERMINATED);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_INVALID_NAME);
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_INVALID_ARGUMENT);
}

TEST_F(CApi, PortDeallocateSpecialNames) {
    EXPECT_EQ(mach_port_deallocate(mach_host_self(), 0x301), KERN_INVALID_TASK);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), MACH_PORT_NULL), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), MACH_PORT_DEAD), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), mach_host_self()), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), mach_task_self()), KERN_SUCCESS);
    EXPECT_EQ(fake::calls(MACHIO_IOC_PORT_DEALLOCATE), 0);
    EXPECT_EQ(mach_host_self(), 0x101U); // still there
}

TEST_F(CApi, WaitPassesTheCallersPointerThrough) {
    SkipWithoutDirectIo();
    mach_port_t q = make_queue();
    mach_port_t dev = make_device();
    char data[16] = "hello";
    ASSERT_EQ(device_write_async_inband(dev, q, 9, 0, 0, data, 5), KERN_SUCCESS);

    // A bad pointer reaches the kernel, which refuses it (EFAULT ->
    // KERN_INVALID_ARGUMENT, as the man page says) and keeps the completion.
    auto* bad = reinterpret_cast<io_done_result_t*>(std::uintptr_t{16});
    EXPECT_EQ(io_done_queue_wait(q, bad), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(fake::last_wait_result(), 16U);
    EXPECT_EQ(io_done_queue_wait(q, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(fake::last_wait_result(), 0U);
    EXPECT_EQ(fake::pending(machio_fd(), q), 1U);

    io_done_result_t r;
    std::memset(&r, 0xff, sizeof(r));
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(fake::last_wait_result(), reinterpret_cast<std::uintptr_t>(&r));
    EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
    EXPECT_EQ(r.qd_reqid, 9U);
    EXPECT_EQ(r.qd_code, KERN_SUCCESS);
    EXPECT_EQ(r.qd_count, 5);

    // Nothing left: the fake reports a signal, the library KERN_ABORTED.
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_ABORTED);
}

TEST_F(CApi, SubmitMarshalsEveryOperation) {
    char buf[4096];
    std::memset(buf, 0, sizeof(buf));
    const mach_port_t dev = 0x1234, q = 0x5678;
    // The fake rejects the unknown names, but records the arguments first.
    EXPECT_EQ(device_read_async(dev, q, 0xfeedface, D_NOWAIT, 77, 8192), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_read_async_inband(dev, q, 2, 0, 78, 500), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_read_overwrite_async(dev, q, 3, 0, 79, 4096, buf), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_write_async(dev, q, 4, 0, 80, buf, 2048), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_write_async_inband(dev, MACH_PORT_NULL, 5, 0, 81, buf, 300),
              KERN_INVALID_ARGUMENT);
    // Too large for the ABI's signed count: refused before the kernel.
    EXPECT_EQ(device_write_async(dev, q, 6, 0, 0, buf, 0x80000000U), KERN_INVALID_ARGUMENT);

    auto subs = fake::submits();
    ASSERT_EQ(subs.size(), 5U);
    const auto buffer = reinterpret_cast<std::uintptr_t>(buf);
    struct expect {
        std::uint32_t op, queue, reqid, mode, recnum;
        std::int32_t count;
        std::uint64_t buffer;
    } want[] = {
        {MACHIO_OP_READ, q, 0xfeedface, D_NOWAIT, 77, 8192, 0},
        {MACHIO_OP_READ_INBAND, q, 2, 0, 78, IO_INBAND_MAX, 0}, // clamped, as in OSF
        {MACHIO_OP_READ_OVERWRITE, q, 3, 0, 79, 4096, buffer},
        {MACHIO_OP_WRITE, q, 4, 0, 80, 2048, buffer},
        {MACHIO_OP_WRITE_INBAND, MACH_PORT_NULL, 5, 0, 81, IO_INBAND_MAX, buffer},
    };
    for (std::size_t i = 0; i < subs.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(subs[i].op, want[i].op);
        EXPECT_EQ(subs[i].device, dev);
        EXPECT_EQ(subs[i].queue, want[i].queue);
        EXPECT_EQ(subs[i].reqid, want[i].reqid);
        EXPECT_EQ(subs[i].mode, want[i].mode);
        EXPECT_EQ(subs[i].recnum, want[i].recnum);
        EXPECT_EQ(subs[i].count, want[i].count);
        EXPECT_EQ(subs[i].buffer, want[i].buffer);
        EXPECT_EQ(subs[i].pad, 0U);
        EXPECT_EQ(subs[i].reserved[0], 0U);
        EXPECT_EQ(subs[i].reserved[1], 0U);
    }
}

TEST_F(CApi, SubmitErrnosMapToMachCodes) {
    char buf[8] = {};
    fake::inject(MACHIO_IOC_SUBMIT, ENOMEM);
    EXPECT_EQ(device_write_async(1, 2, 3, 0, 0, buf, 8), KERN_RESOURCE_SHORTAGE);
    fake::inject(MACHIO_IOC_SUBMIT, EFAULT);
    EXPECT_EQ(device_write_async(1, 2, 3, 0, 0, buf, 8), KERN_INVALID_ADDRESS);
    fake::inject(MACHIO_IOC_SUBMIT, ESHUTDOWN);
    EXPECT_EQ(device_write_async(1, 2, 3, 0, 0, buf, 8), KERN_TERMINATED);
    fake::inject(MACHIO_IOC_QUEUE_CREATE, ENOSPC);
    mach_port_t q;
    EXPECT_EQ(io_done_queue_create(mach_host_self(), &q), KERN_RESOURCE_SHORTAGE);
    fake::inject(MACHIO_IOC_QUEUE_CREATE, EIO);
    EXPECT_EQ(io_done_queue_create(mach_host_self(), &q), KERN_FAILURE);
    fake::inject(MACHIO_IOC_QUEUE_WAIT, EINTR);
    io_done_result_t r;
    EXPECT_EQ(io_done_queue_wait(0x301, &r), KERN_ABORTED);
}

TEST_F(CApi, ReadsAndWritesEndToEnd) {
    SkipWithoutDirectIo();
    mach_port_t q = make_queue();
    mach_port_t dev = make_device();

    // device_read_async: fresh out-of-line memory, released with vm_deallocate.
    ASSERT_EQ(device_read_async(dev, q, 1, 0, 2, 1000), KERN_SUCCESS);
    io_done_result_t r;
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_type, IO_DONE_READ);
    EXPECT_EQ(r.qd_reqid, 1U);
    ASSERT_EQ(r.qd_code, KERN_SUCCESS);
    ASSERT_EQ(r.qd_count, 1000);
    ASSERT_NE(r.qd_data, nullptr);
    for (int i = 0; i < 1000; ++i)
        ASSERT_EQ(static_cast<std::uint8_t>(r.qd_data[i]), fake::initial_byte(1024 + i)) << i;
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(r.qd_data),
                            static_cast<vm_size_t>(r.qd_count)),
              KERN_SUCCESS);
    EXPECT_EQ(msync(r.qd_data, 1, MS_ASYNC), -1); // unmapped
    EXPECT_EQ(errno, ENOMEM);

    // device_write_async, then read it back into a caller buffer.
    alignas(4096) static char out[1024];
    for (int i = 0; i < 1024; ++i)
        out[i] = static_cast<char>(i ^ 0x5a);
    ASSERT_EQ(device_write_async(dev, q, 2, 0, 4, out, sizeof(out)), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
    EXPECT_EQ(r.qd_count, 1024);

    alignas(4096) static char in[1024];
    ASSERT_EQ(device_read_overwrite_async(dev, q, 3, 0, 4, sizeof(in), in), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_type, IO_DONE_OVERWRITE);
    EXPECT_EQ(r.qd_count, 1024);
    EXPECT_EQ(std::memcmp(in, out, sizeof(in)), 0);

    // device_read_async_inband: the data lands in the result itself.
    ASSERT_EQ(device_read_async_inband(dev, q, 4, 0, 4, 100), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_type, IO_DONE_READ);
    EXPECT_EQ(r.qd_count, 100);
    EXPECT_EQ(r.qd_data, r.qd_inline);
    EXPECT_EQ(std::memcmp(r.qd_inline, out, 100), 0);

    // Write with MACH_PORT_NULL: the completion is discarded.
    ASSERT_EQ(device_write_async_inband(dev, MACH_PORT_NULL, 5, 0, 0, out, 16), KERN_SUCCESS);
    EXPECT_EQ(fake::pending(machio_fd(), q), 0U);

    // Device outcomes arrive as qd_code.
    ASSERT_EQ(device_read_async(dev, q, 6, 0, 1u << 20, 512), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_INVALID_RECNUM);
    EXPECT_EQ(r.qd_count, 0);

    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);
    EXPECT_EQ(device_close(dev), D_NO_SUCH_DEVICE);
}

TEST_F(CApi, DeviceOpenHandsOverADirectCloexecDescriptor) {
    SkipWithoutDirectIo();
    mach_port_t dev = make_device(D_READ);
    ASSERT_TRUE(MACH_PORT_VALID(dev));
    auto rec = fake::last_device_open();
    EXPECT_EQ(rec.mode, unsigned(D_READ));
    EXPECT_EQ(rec.status_flags & O_ACCMODE, O_RDONLY);
    EXPECT_TRUE(rec.status_flags & O_DIRECT);
    EXPECT_TRUE(rec.fd_flags & FD_CLOEXEC);
    // The library closed its own descriptor again.
    EXPECT_EQ(fcntl(rec.fd, F_GETFD), -1);

    mach_port_t rw = make_device(D_READ | D_WRITE);
    EXPECT_EQ(fake::last_device_open().status_flags & O_ACCMODE, O_RDWR);
    mach_port_t wo = make_device(D_WRITE);
    EXPECT_EQ(fake::last_device_open().status_flags & O_ACCMODE, O_WRONLY);
    mach_port_t dflt = make_device(0);
    EXPECT_EQ(fake::last_device_open().mode, unsigned(D_READ));
    EXPECT_EQ(fake::last_device_open().status_flags & O_ACCMODE, O_RDONLY);
    for (mach_port_t d : {dev, rw, wo, dflt})
        EXPECT_EQ(device_close(d), KERN_SUCCESS);
}

TEST_F(CApi, DeviceOpenErrors) {
    mach_port_t dev = MACH_PORT_NULL;
    EXPECT_EQ(device_open(mach_task_self(), D_READ, "null", &dev), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, nullptr, &dev), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "null", nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_open(mach_host_self(), 0x10, "null", &dev), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "", &dev), D_NO_SUCH_DEVICE);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "machio-no-such-device", &dev),
              D_NO_SUCH_DEVICE);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "/nonexistent/dir/dev", &dev),
              D_NO_SUCH_DEVICE);
    std::string long_name(128, 'x');
    EXPECT_EQ(device_open(mach_host_self(), D_READ, long_name.c_str(), &dev), D_NO_SUCH_DEVICE);
    // "null" is /dev/null: a character device cannot be opened O_DIRECT.
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "null", &dev), D_NO_SUCH_DEVICE);
    EXPECT_EQ(fake::calls(MACHIO_IOC_DEVICE_OPEN), 0);
    EXPECT_EQ(dev, MACH_PORT_NULL);

    // The module's refusals.
    if (file_.direct_io()) {
        fake::inject(MACHIO_IOC_DEVICE_OPEN, ENOTBLK);
        EXPECT_EQ(device_open(mach_host_self(), D_READ, file_.path().c_str(), &dev),
                  D_NO_SUCH_DEVICE);
        fake::inject(MACHIO_IOC_DEVICE_OPEN, ENOSPC);
        EXPECT_EQ(device_open(mach_host_self(), D_READ, file_.path().c_str(), &dev),
                  KERN_RESOURCE_SHORTAGE);
        fake::inject(MACHIO_IOC_DEVICE_OPEN, EROFS);
        EXPECT_EQ(device_open(mach_host_self(), D_WRITE, file_.path().c_str(), &dev), D_READ_ONLY);
    }
}

TEST_F(CApi, DeviceOpenFd) {
    int rd = open(file_.path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(rd, 0);
    mach_port_t dev = MACH_PORT_NULL;
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), rd, D_WRITE, &dev), D_READ_ONLY);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), -1, D_READ, &dev), D_NO_SUCH_DEVICE);
    EXPECT_EQ(machio_device_open_fd(mach_task_self(), rd, D_READ, &dev), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), rd, D_READ, nullptr), KERN_INVALID_ARGUMENT);
    ASSERT_EQ(machio_device_open_fd(mach_host_self(), rd, D_READ, &dev), KERN_SUCCESS);
    EXPECT_EQ(fake::last_device_open().fd, rd);
    // The caller still owns its descriptor.
    EXPECT_GE(fcntl(rd, F_GETFD), 0);
    close(rd);
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);

    int wr = open(file_.path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(wr, 0);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), wr, D_READ, &dev), KERN_NO_ACCESS);
    close(wr);
}

TEST_F(CApi, DeviceGetStatus) {
    SkipWithoutDirectIo();
    fake::set_geometry(1 << 20, 4096);
    mach_port_t dev = make_device(D_READ);
    int status[DEV_STATUS_MAX] = {};
    mach_msg_type_number_t count = DEV_STATUS_MAX;
    ASSERT_EQ(device_get_status(dev, DEV_GET_SIZE, status, &count), D_SUCCESS);
    EXPECT_EQ(count, unsigned(DEV_GET_SIZE_COUNT));
    EXPECT_EQ(status[DEV_GET_SIZE_DEVICE_SIZE], 1 << 20);
    EXPECT_EQ(status[DEV_GET_SIZE_RECORD_SIZE], 4096);

    count = 1;
    EXPECT_EQ(device_get_status(dev, DEV_GET_SIZE, status, &count), D_INVALID_SIZE);
    count = 2;
    EXPECT_EQ(device_get_status(dev, 7, status, &count), D_INVALID_OPERATION);
    EXPECT_EQ(device_get_status(dev, DEV_GET_SIZE, nullptr, &count), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_get_status(dev, DEV_GET_SIZE, status, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_get_status(0x9999, DEV_GET_SIZE, status, &count), D_NO_SUCH_DEVICE);

    // 8 GiB saturates the int; machio_device_size has the real size.
    fake::set_geometry(8ULL << 30, 512);
    count = 2;
    ASSERT_EQ(device_get_status(dev, DEV_GET_SIZE, status, &count), D_SUCCESS);
    EXPECT_EQ(status[DEV_GET_SIZE_DEVICE_SIZE], INT_MAX);
    EXPECT_EQ(status[DEV_GET_SIZE_RECORD_SIZE], 512);
    uint64_t size = 0;
    unsigned int bs = 0;
    ASSERT_EQ(machio_device_size(dev, &size, &bs), KERN_SUCCESS);
    EXPECT_EQ(size, 8ULL << 30);
    EXPECT_EQ(bs, 512U);
    EXPECT_EQ(machio_device_size(dev, &size, nullptr), KERN_SUCCESS);
    EXPECT_EQ(machio_device_size(dev, nullptr, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_device_size(0x9999, &size, nullptr), D_NO_SUCH_DEVICE);
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);
}

TEST_F(CApi, VmDeallocateRoundsToPages) {
    const long page = sysconf(_SC_PAGESIZE);
    auto* p = static_cast<char*>(
        mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(p, MAP_FAILED);
    // [p + 100, p + 100 + page + 10) covers pages 0 and 1.
    EXPECT_EQ(vm_deallocate(mach_host_self(), reinterpret_cast<vm_address_t>(p), page),
              KERN_INVALID_ARGUMENT);
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(p + 100), page + 10),
              KERN_SUCCESS);
    EXPECT_EQ(msync(p, 1, MS_ASYNC), -1);
    EXPECT_EQ(msync(p + page, 1, MS_ASYNC), -1);
    EXPECT_EQ(msync(p + 2 * page, 1, MS_ASYNC), 0);
    p[2 * page] = 1;
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(p + 2 * page), 0),
              KERN_SUCCESS);
    EXPECT_EQ(msync(p + 2 * page, 1, MS_ASYNC), 0);
    EXPECT_EQ(vm_deallocate(mach_task_self(), ~vm_address_t{0} - 10, 100), KERN_INVALID_ARGUMENT);
    munmap(p + 2 * page, page);
}

// Run fn in a child process; its return value is the exit status.
template <class F> int in_child(F fn) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

TEST_F(CApi, ForkSharesTheSpaceUntilReset) {
    const int parent_fd = machio_fd();
    struct stat parent_st;
    ASSERT_EQ(fstat(parent_fd, &parent_st), 0);
    mach_port_t q = make_queue();

    int rc = in_child([&]() -> int {
        // Inherited: same descriptor, same open file, same names.
        if (machio_fd() != parent_fd)
            return 10;
        if (mach_host_self() != 0x101)
            return 11;
        // A fresh private space.
        if (machio_space_reset() != KERN_SUCCESS)
            return 12;
        int fd = machio_fd();
        if (fd < 0 || fd == parent_fd)
            return 13;
        if (fcntl(parent_fd, F_GETFD) != -1) // the inherited one is closed
            return 14;
        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            return 15;
        io_done_result_t r;
        // The parent's queue name means nothing in the new space.
        if (io_done_queue_wait(q, &r) != KERN_INVALID_ARGUMENT)
            return 16;
        mach_port_t mine = MACH_PORT_NULL;
        if (io_done_queue_create(mach_host_self(), &mine) != KERN_SUCCESS)
            return 17;
        return 0;
    });
    EXPECT_EQ(rc, 0);
    // The parent is untouched.
    EXPECT_EQ(machio_fd(), parent_fd);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
}

} // namespace
