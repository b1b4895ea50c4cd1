// The C API (<machio/mach.h>) against the real module, on null_blk disks.
// Runs inside the test VM (selftests/run-in-vm.sh); skipped without
// /dev/machio.  Every test uses the process's implicit name space, so each
// cleans up the names it makes (the fixture's TearDown catches the rest).
#include "vm_support.hpp"

#include <machio/mach.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <initializer_list>
#include <linux/fs.h>
#include <memory>
#include <mutex>
#include <numeric>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using test::aligned_buffer;
using test::fill_pattern;
using test::pattern_mismatch;

constexpr int BS = 512;                       // logical block size of the disks
constexpr recnum_t NBLOCKS = (64 << 20) / BS; // 64 MiB

::testing::AssertionResult kr_is(kern_return_t want, kern_return_t got) {
    if (want == got)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "expected " << want << " (" << mach_error_string(want) << "), got " << got << " ("
           << mach_error_string(got) << ")";
}

class CApi : public ::testing::Test {
  protected:
    void SetUp() override {
        MACHIO_SKIP_WITHOUT_MODULE();
        ASSERT_GE(machio_fd(), 0) << "cannot open " << test::machio_node() << ": "
                                  << mach_error_string(KERN_FAILURE);
    }

    void TearDown() override {
        // Whatever a failed test left behind; errors are expected here.
        for (mach_port_t q : queues_) {
            (void)io_done_queue_terminate(q);
            (void)mach_port_deallocate(mach_task_self(), q);
        }
        for (mach_port_t d : devices_)
            (void)device_close(d);
        disks_.clear();
    }

    mach_port_t make_queue() {
        mach_port_t q = MACH_PORT_NULL;
        EXPECT_TRUE(kr_is(KERN_SUCCESS, io_done_queue_create(mach_host_self(), &q)));
        queues_.push_back(q);
        return q;
    }

    // A fresh null_blk disk (64 MiB, 512-byte blocks, memory backed, plus attrs).
    test::nullb& make_disk(const std::vector<test::nullb::attr>& attrs = {}) {
        disks_.push_back(std::make_unique<test::nullb>(attrs));
        EXPECT_TRUE(disks_.back()->ok()) << disks_.back()->error();
        return *disks_.back();
    }

    mach_port_t open_device(const test::nullb& disk, dev_mode_t mode = D_READ | D_WRITE) {
        mach_port_t dev = MACH_PORT_NULL;
        EXPECT_TRUE(
            kr_is(KERN_SUCCESS, device_open(mach_host_self(), mode, disk.name().c_str(), &dev)));
        devices_.push_back(dev);
        return dev;
    }

    // Wait for one completion, which must be a success.
    static ::testing::AssertionResult completed(mach_port_t q, io_done_result_t& r) {
        std::memset(&r, 0xa5, sizeof(r));
        kern_return_t kr = io_done_queue_wait(q, &r);
        if (kr != KERN_SUCCESS)
            return ::testing::AssertionFailure() << "io_done_queue_wait: " << mach_error_string(kr);
        if (r.qd_code != KERN_SUCCESS)
            return ::testing::AssertionFailure()
                   << "request " << r.qd_reqid << ": " << mach_error_string(r.qd_code);
        return ::testing::AssertionSuccess();
    }

    // Write len bytes of pattern seed at recnum and wait for it.
    void write_pattern(mach_port_t dev, mach_port_t q, recnum_t recnum, std::size_t len,
                       unsigned seed) {
        aligned_buffer buf(len);
        fill_pattern(buf.data(), len, seed);
        ASSERT_TRUE(kr_is(KERN_SUCCESS, device_write_async(dev, q, 0xabc, 0, recnum, buf.chars(),
                                                           static_cast<unsigned>(len))));
        io_done_result_t r;
        ASSERT_TRUE(completed(q, r));
        ASSERT_EQ(r.qd_reqid, 0xabcU);
        ASSERT_EQ(r.qd_count, static_cast<int>(len));
    }

    // Read len bytes at recnum through a caller buffer.
    void read_back(mach_port_t dev, mach_port_t q, recnum_t recnum, aligned_buffer& into) {
        ASSERT_TRUE(kr_is(KERN_SUCCESS, device_read_overwrite_async(dev, q, 0xdef, 0, recnum,
                                                                    static_cast<int>(into.size()),
                                                                    into.chars())));
        io_done_result_t r;
        ASSERT_TRUE(completed(q, r));
        ASSERT_EQ(r.qd_reqid, 0xdefU);
        ASSERT_EQ(r.qd_count, static_cast<int>(into.size()));
    }

    std::vector<mach_port_t> queues_;
    std::vector<mach_port_t> devices_;
    std::vector<std::unique_ptr<test::nullb>> disks_;
};

// A queue and a read-write device on a default disk.
class CDisk : public CApi {
  protected:
    void SetUp() override {
        CApi::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        disk_ = &make_disk(disk_attrs());
        ASSERT_TRUE(disk_->ok());
        q_ = make_queue();
        dev_ = open_device(*disk_);
        ASSERT_TRUE(MACH_PORT_VALID(q_));
        ASSERT_TRUE(MACH_PORT_VALID(dev_));
    }
    virtual std::vector<test::nullb::attr> disk_attrs() { return {{"irqmode", "1"}}; }

    // Nothing is queued on q_: a marker request comes back first.
    void expect_queue_empty() {
        ASSERT_TRUE(kr_is(KERN_SUCCESS,
                          device_read_async_inband(dev_, q_, 0x3a3a3a3a, 0, 0, IO_INBAND_MAX)));
        io_done_result_t r;
        ASSERT_TRUE(completed(q_, r));
        EXPECT_EQ(r.qd_reqid, 0x3a3a3a3aU) << "an unexpected completion was queued";
    }

    test::nullb* disk_ = nullptr;
    mach_port_t q_ = MACH_PORT_NULL;
    mach_port_t dev_ = MACH_PORT_NULL;
};

// ---- the name space -----------------------------------------------------------

TEST_F(CApi, HostAndTaskNamesOfAFreshSpace) {
    // Names are index << 8 | generation; a space starts with the host (1),
    // task (2) and name-server (3) names.
    EXPECT_EQ(mach_host_self(), 0x101U);
    EXPECT_EQ(mach_task_self(), 0x201U);
    EXPECT_EQ(name_server_port, 0x301U);
    machio_info_t info;
    ASSERT_EQ(machio_get_info(&info), KERN_SUCCESS);
    EXPECT_EQ(info.abi_version, unsigned(MACHIO_ABI_VERSION));
    EXPECT_EQ(info.io_inband_max, unsigned(IO_INBAND_MAX));
    EXPECT_EQ(info.host, mach_host_self());
    EXPECT_EQ(info.task, mach_task_self());
    EXPECT_EQ(info.features, MACHIO_FEAT_IO_DONE_QUEUE | MACHIO_FEAT_OOL_READ | MACHIO_FEAT_INBAND |
                                 MACHIO_FEAT_NOWAIT | MACHIO_FEAT_LIMITS |
                                 MACHIO_FEAT_SUBMIT_BATCH | MACHIO_FEAT_QUEUE_SETUP |
                                 MACHIO_FEAT_REAP | MACHIO_FEAT_FIXED_BUFFERS | MACHIO_FEAT_POLLED |
                                 MACHIO_FEAT_DISPATCH | MACHIO_FEAT_PF_SIGNALS | MACHIO_FEAT_PF_IO |
                                 MACHIO_FEAT_PORTS | MACHIO_FEAT_NETNAME | MACHIO_FEAT_DEVICE_RPC |
                                 MACHIO_FEAT_MSG_OVERWRITE);
    std::ifstream param("/sys/module/machio/parameters/max_names");
    unsigned max_names = 0;
    if (param >> max_names)
        EXPECT_EQ(info.max_names, max_names);
    else
        EXPECT_GT(info.max_names, 0U);
    EXPECT_EQ(machio_get_info(nullptr), KERN_INVALID_ARGUMENT);
}

TEST_F(CApi, ProcessSpaceIsOpenedOnce) {
    const int fd = machio_fd();
    EXPECT_EQ(machio_fd(), fd);
    int flags = fcntl(fd, F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_TRUE(flags & FD_CLOEXEC);
    struct stat node, open_file;
    ASSERT_EQ(stat(test::machio_node(), &node), 0);
    ASSERT_EQ(fstat(fd, &open_file), 0);
    EXPECT_TRUE(S_ISCHR(open_file.st_mode));
    EXPECT_EQ(open_file.st_rdev, node.st_rdev);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST_F(CApi, QueueLifecycle) {
    mach_port_t q = MACH_PORT_NULL;
    EXPECT_EQ(io_done_queue_create(mach_task_self(), &q), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_create(MACH_PORT_NULL, &q), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_create(0x7f01, &q), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_create(mach_host_self(), nullptr), KERN_INVALID_ARGUMENT);
    q = make_queue();
    ASSERT_TRUE(MACH_PORT_VALID(q));
    EXPECT_NE(q & 0xff, 0U) << "generation";
    EXPECT_GE(q >> 8, 3U) << "index: 1 and 2 are the host and task";

    // A live queue cannot be deallocated; terminate it first.
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_INVALID_RIGHT);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    // Now a dead name.
    EXPECT_EQ(io_done_queue_terminate(q), KERN_TERMINATED);
    io_done_result_t r;
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_TERMINATED);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    // Gone.
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_INVALID_NAME);
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_INVALID_ARGUMENT);

    // The freed slot comes back with the next generation: the old name
    // stays stale.
    mach_port_t again = make_queue();
    EXPECT_EQ(again >> 8, q >> 8);
    EXPECT_EQ(again & 0xff, ((q & 0xff) % 255) + 1);
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_terminate(again), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), again), KERN_SUCCESS);
}

TEST_F(CApi, BadQueueNames) {
    io_done_result_t r;
    for (mach_port_t name : {MACH_PORT_NULL, MACH_PORT_DEAD, mach_host_self(), mach_task_self(),
                             mach_port_t{0x7fff01}, mach_port_t{0x300}}) {
        SCOPED_TRACE(name);
        EXPECT_EQ(io_done_queue_wait(name, &r), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(io_done_queue_terminate(name), KERN_INVALID_ARGUMENT);
    }
}

TEST_F(CApi, PortDeallocateSpecialNames) {
    EXPECT_EQ(mach_port_deallocate(mach_host_self(), 0x301), KERN_INVALID_TASK);
    EXPECT_EQ(mach_port_deallocate(MACH_PORT_NULL, 0x301), KERN_INVALID_TASK);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), MACH_PORT_NULL), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), MACH_PORT_DEAD), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), mach_host_self()), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), mach_task_self()), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), 0x7fff01), KERN_INVALID_NAME);
    // The host name still works.
    mach_port_t q = make_queue();
    EXPECT_TRUE(MACH_PORT_VALID(q));
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
}

TEST_F(CApi, VmDeallocateRoundsToPages) {
    const long page = sysconf(_SC_PAGESIZE);
    auto* p = static_cast<char*>(
        mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_EQ(vm_deallocate(mach_host_self(), reinterpret_cast<vm_address_t>(p), page),
              KERN_INVALID_ARGUMENT);
    // [p + 100, p + 100 + page + 10) covers pages 0 and 1.
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(p + 100), page + 10),
              KERN_SUCCESS);
    EXPECT_FALSE(test::mapped(p));
    EXPECT_FALSE(test::mapped(p + page));
    EXPECT_TRUE(test::mapped(p + 2 * page));
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(p + 2 * page), 0),
              KERN_SUCCESS);
    EXPECT_TRUE(test::mapped(p + 2 * page));
    EXPECT_EQ(vm_deallocate(mach_task_self(), ~vm_address_t{0} - 10, 100), KERN_INVALID_ARGUMENT);
    munmap(p + 2 * page, page);
}

// ---- devices ----------------------------------------------------------------------

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
    // Character devices and regular files are no block devices.
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "null", &dev), D_NO_SUCH_DEVICE);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, "/dev/machio", &dev), D_NO_SUCH_DEVICE);
    char file[] = "/tmp/machio-vm-test-XXXXXX";
    int fd = mkstemp(file);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
    EXPECT_EQ(device_open(mach_host_self(), D_READ, file, &dev), D_NO_SUCH_DEVICE);
    // Past the library's checks, the module refuses a regular file itself.
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), fd, D_READ, &dev), D_NO_SUCH_DEVICE);
    close(fd);
    unlink(file);
    EXPECT_EQ(dev, MACH_PORT_NULL);
}

// The synchronous device calls: a request and its reply on the thread's own
// reply port, the bytes checked.
TEST_F(CDisk, SynchronousDeviceReadAndWrite) {
    aligned_buffer out(4 * BS), in(4 * BS);
    fill_pattern(out.data(), 4 * BS, 33);
    io_buf_len_t written = 0;
    ASSERT_EQ(device_write(dev_, 0, 8, out.chars(), 4 * BS, &written), D_SUCCESS);
    EXPECT_EQ(written, 4 * BS);
    io_buf_ptr_t data = nullptr;
    mach_msg_type_number_t count = 0;
    ASSERT_EQ(device_read(dev_, 0, 8, 4 * BS, &data, &count), D_SUCCESS);
    ASSERT_EQ(count, 4U * BS);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(pattern_mismatch(data, 4 * BS, 33), std::size_t(4 * BS));
    EXPECT_EQ(vm_deallocate(mach_task_self(), vm_address_t(data), count), KERN_SUCCESS);
    mach_msg_type_number_t got = 0;
    ASSERT_EQ(device_read_overwrite(dev_, 0, 8, 4 * BS, vm_address_t(in.data()), &got), D_SUCCESS);
    EXPECT_EQ(got, 4U * BS);
    EXPECT_EQ(std::memcmp(in.data(), out.data(), 4 * BS), 0);
    char small[16] = "inband bytes!!!";
    ASSERT_EQ(device_write_inband(dev_, 0, 20, small, sizeof(small), &written), D_SUCCESS);
    EXPECT_EQ(written, io_buf_len_t(sizeof(small)));
    io_buf_ptr_inband_t back = {};
    ASSERT_EQ(device_read_inband(dev_, 0, 20, sizeof(small), back, &got), D_SUCCESS);
    EXPECT_EQ(got, sizeof(small));
    EXPECT_EQ(std::memcmp(back, small, sizeof(small)), 0);
    // Device errors are the calls' returns.
    EXPECT_EQ(device_read(dev_, 0, 0x7fffffff, BS, &data, &count), D_INVALID_RECNUM);
    EXPECT_EQ(data, nullptr);
    EXPECT_EQ(device_write(dev_, 0, 0, out.chars(), 100, &written), D_INVALID_SIZE);
    EXPECT_EQ(device_read(mach_host_self(), 0, 0, BS, &data, &count), MACH_SEND_INVALID_DEST);
    EXPECT_EQ(device_read(dev_, 0, 0, BS, nullptr, &count), KERN_INVALID_ADDRESS);
}

namespace {
// The program's device_reply_server handlers: what they were given.
struct replies {
    int calls = 0;
    kern_return_t code = -1;
    io_buf_len_t count = -1;
    char inband[IO_INBAND_MAX] = {};
} g_replies;
} // namespace

extern "C" kern_return_t ds_device_write_reply(mach_port_t, kern_return_t code,
                                               io_buf_len_t bytes) {
    g_replies.calls++;
    g_replies.code = code;
    g_replies.count = bytes;
    return KERN_SUCCESS;
}

extern "C" kern_return_t ds_device_read_reply_inband(mach_port_t, kern_return_t code,
                                                     io_buf_ptr_t data,
                                                     mach_msg_type_number_t count) {
    g_replies.calls++;
    g_replies.code = code;
    g_replies.count = io_buf_len_t(count);
    std::memcpy(g_replies.inband, data, count);
    return KERN_SUCCESS;
}

// Requests answered by message, handed to the handlers by device_reply_server.
TEST_F(CDisk, DeviceRequestsAndTheReplyServer) {
    mach_port_t reply = mach_reply_port();
    ASSERT_NE(reply, MACH_PORT_NULL);
    aligned_buffer out(BS);
    fill_pattern(out.data(), BS, 44);
    g_replies = {};
    ASSERT_EQ(device_write_request(dev_, reply, 0, 3, out.chars(), BS), KERN_SUCCESS);
    union {
        mach_msg_header_t head;
        char bytes[256];
    } in = {}, outmsg = {};
    ASSERT_EQ(mach_msg(&in.head, MACH_RCV_MSG, 0, sizeof(in), reply, 0, MACH_PORT_NULL),
              MACH_MSG_SUCCESS);
    EXPECT_EQ(in.head.msgh_id, DEVICE_WRITE_REPLY_ID);
    EXPECT_TRUE(device_reply_server(&in.head, &outmsg.head));
    EXPECT_EQ(reinterpret_cast<mig_reply_error_t*>(&outmsg)->RetCode, MIG_NO_REPLY);
    EXPECT_EQ(outmsg.head.msgh_id, DEVICE_WRITE_REPLY_ID + 100);
    EXPECT_EQ(g_replies.calls, 1);
    EXPECT_EQ(g_replies.code, D_SUCCESS);
    EXPECT_EQ(g_replies.count, BS);

    ASSERT_EQ(device_read_request_inband(dev_, reply, 0, 3, 100), KERN_SUCCESS);
    ASSERT_EQ(mach_msg(&in.head, MACH_RCV_MSG, 0, sizeof(in), reply, 0, MACH_PORT_NULL),
              MACH_MSG_SUCCESS);
    EXPECT_TRUE(device_reply_server(&in.head, &outmsg.head));
    EXPECT_EQ(g_replies.calls, 2);
    EXPECT_EQ(g_replies.count, 100);
    EXPECT_EQ(std::memcmp(g_replies.inband, out.data(), 100), 0);

    // No handler for this one in the program: MIG_BAD_ID.
    ASSERT_EQ(device_read_overwrite_request(dev_, reply, 0, 3, BS, vm_address_t(out.data())),
              KERN_SUCCESS);
    ASSERT_EQ(mach_msg(&in.head, MACH_RCV_MSG, 0, sizeof(in), reply, 0, MACH_PORT_NULL),
              MACH_MSG_SUCCESS);
    EXPECT_EQ(in.head.msgh_id, DEVICE_READ_REPLY_OVERWRITE_ID);
    EXPECT_FALSE(device_reply_server(&in.head, &outmsg.head));
    EXPECT_EQ(reinterpret_cast<mig_reply_error_t*>(&outmsg)->RetCode, MIG_BAD_ID);
    EXPECT_EQ(device_read_request(dev_, MACH_PORT_NULL, 0, 0, BS), MACH_SEND_INVALID_REPLY);
    EXPECT_EQ(mach_port_destroy(mach_task_self(), reply), KERN_SUCCESS);
}

TEST_F(CDisk, DeviceOpenByNameOrPath) {
    mach_port_t by_path = MACH_PORT_NULL;
    ASSERT_EQ(device_open(mach_host_self(), D_READ, disk_->path().c_str(), &by_path), KERN_SUCCESS);
    devices_.push_back(by_path);
    EXPECT_TRUE(MACH_PORT_VALID(by_path));
    EXPECT_NE(by_path, dev_);
    // Both names are the same disk.
    write_pattern(dev_, q_, 5, BS, 42);
    aligned_buffer in(BS);
    read_back(by_path, q_, 5, in);
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 42), std::size_t(BS));

    EXPECT_EQ(device_close(by_path), KERN_SUCCESS);
    EXPECT_EQ(device_close(by_path), D_NO_SUCH_DEVICE);
    EXPECT_EQ(device_read_async_inband(by_path, q_, 1, 0, 0, 16), KERN_INVALID_ARGUMENT);
    // mach_port_deallocate releases a device name too.
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), dev_), KERN_SUCCESS);
    EXPECT_EQ(device_close(dev_), D_NO_SUCH_DEVICE);
    // Queue names are no device names, and the other way round.
    EXPECT_EQ(device_close(q_), D_NO_SUCH_DEVICE);
    int status[DEV_GET_SIZE_COUNT];
    mach_msg_type_number_t count = DEV_GET_SIZE_COUNT;
    EXPECT_EQ(device_get_status(q_, DEV_GET_SIZE, status, &count), D_NO_SUCH_DEVICE);
    EXPECT_EQ(device_get_status(mach_host_self(), DEV_GET_SIZE, status, &count), D_NO_SUCH_DEVICE);
    mach_port_t dev2 = open_device(*disk_, D_READ);
    io_done_result_t r;
    EXPECT_EQ(io_done_queue_wait(dev2, &r), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_terminate(dev2), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_close(dev2), KERN_SUCCESS);
}

TEST_F(CDisk, DeviceOpenModes) {
    aligned_buffer buf(BS);
    fill_pattern(buf.data(), BS, 3);
    io_done_result_t r;

    // D_READ only, and no access bits at all (which means D_READ): writes
    // complete with D_READ_ONLY, reads work.
    for (dev_mode_t mode : {dev_mode_t{D_READ}, dev_mode_t{0}, dev_mode_t{D_READ | D_NODELAY},
                            dev_mode_t{D_READ | D_NOWAIT}}) {
        SCOPED_TRACE(mode);
        mach_port_t ro = open_device(*disk_, mode);
        ASSERT_EQ(device_write_async(ro, q_, 1, 0, 0, buf.chars(), BS), KERN_SUCCESS);
        ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
        EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
        EXPECT_EQ(r.qd_reqid, 1U);
        EXPECT_EQ(r.qd_code, D_READ_ONLY);
        EXPECT_EQ(r.qd_count, 0);
        ASSERT_EQ(device_write_async_inband(ro, q_, 2, 0, 0, buf.chars(), 16), KERN_SUCCESS);
        ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
        EXPECT_EQ(r.qd_code, D_READ_ONLY);
        ASSERT_EQ(device_read_async_inband(ro, q_, 3, 0, 0, 16), KERN_SUCCESS);
        ASSERT_TRUE(completed(q_, r));
        EXPECT_EQ(device_close(ro), KERN_SUCCESS);
    }

    // D_WRITE only: reads are invalid operations, writes work.
    mach_port_t wo = open_device(*disk_, D_WRITE);
    ASSERT_EQ(device_read_async(wo, q_, 4, 0, 0, BS), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_INVALID_OPERATION);
    EXPECT_EQ(r.qd_data, nullptr);
    ASSERT_EQ(device_read_async_inband(wo, q_, 5, 0, 0, 16), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_INVALID_OPERATION);
    ASSERT_EQ(device_read_overwrite_async(wo, q_, 6, 0, 0, BS, buf.chars()), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_type, IO_DONE_OVERWRITE);
    EXPECT_EQ(r.qd_code, D_INVALID_OPERATION);
    ASSERT_EQ(device_write_async(wo, q_, 7, 0, 9, buf.chars(), BS), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(device_close(wo), KERN_SUCCESS);
    aligned_buffer in(BS);
    read_back(dev_, q_, 9, in);
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 3), std::size_t(BS));
}

TEST_F(CDisk, ReadOnlyBlockDevice) {
    int bfd = open(disk_->path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(bfd, 0);
    int ro = 1;
    ASSERT_EQ(ioctl(bfd, BLKROSET, &ro), 0);

    // The block layer lets a read-only disk be opened for writing (6.1 and
    // 6.12 alike); every write then completes with D_READ_ONLY, through a
    // device opened before as well as after.
    mach_port_t after = open_device(*disk_, D_READ | D_WRITE);
    aligned_buffer buf(BS);
    io_done_result_t r;
    for (mach_port_t dev : {dev_, after}) {
        SCOPED_TRACE(dev);
        ASSERT_EQ(device_write_async(dev, q_, 1, 0, 0, buf.chars(), BS), KERN_SUCCESS);
        ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
        EXPECT_EQ(r.qd_code, D_READ_ONLY);
        EXPECT_EQ(r.qd_count, 0);
        ASSERT_EQ(device_write_async_inband(dev, q_, 2, 0, 0, buf.chars(), 8), KERN_SUCCESS);
        ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
        EXPECT_EQ(r.qd_code, D_READ_ONLY);
        ASSERT_EQ(device_read_async_inband(dev, q_, 3, 0, 0, 8), KERN_SUCCESS);
        EXPECT_TRUE(completed(q_, r));
    }

    ro = 0;
    ASSERT_EQ(ioctl(bfd, BLKROSET, &ro), 0);
    close(bfd);
    ASSERT_EQ(device_write_async(after, q_, 4, 0, 0, buf.chars(), BS), KERN_SUCCESS);
    EXPECT_TRUE(completed(q_, r));
    EXPECT_EQ(device_close(after), KERN_SUCCESS);
}

TEST_F(CDisk, AccessRefusedToOtherUsers) {
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to switch users";
    // The disk node is root's; a child that dropped its privileges shares
    // our space but cannot open the disk.
    const std::string name = disk_->name();
    int rc = test::in_child([&]() -> int {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            return 10;
        mach_port_t dev = MACH_PORT_NULL;
        if (device_open(mach_host_self(), D_READ, name.c_str(), &dev) != KERN_NO_ACCESS)
            return 11;
        if (device_open(mach_host_self(), D_WRITE, name.c_str(), &dev) != D_READ_ONLY)
            return 12;
        if (device_open(mach_host_self(), D_READ | D_WRITE, name.c_str(), &dev) != D_READ_ONLY)
            return 13;
        return dev == MACH_PORT_NULL ? 0 : 14;
    });
    EXPECT_EQ(rc, 0);
}

TEST_F(CDisk, SubmitBatch) {
    constexpr unsigned n = 64;
    aligned_buffer out(n * BS), in(n * BS);
    for (unsigned i = 0; i < n * BS; i++)
        out.chars()[i] = static_cast<char>(i * 7 + i / BS);
    std::vector<machio_io_request> reqs(n);
    for (unsigned i = 0; i < n; i++) {
        reqs[i] = {};
        reqs[i].op = MACHIO_OP_WRITE;
        reqs[i].device = dev_;
        reqs[i].queue = q_;
        reqs[i].reqid = i;
        reqs[i].recnum = i;
        reqs[i].count = BS;
        reqs[i].buffer = reinterpret_cast<std::uintptr_t>(out.chars() + i * BS);
    }
    unsigned accepted = 99;
    ASSERT_EQ(machio_submit_batch(reqs.data(), n, &accepted), KERN_SUCCESS);
    EXPECT_EQ(accepted, n);
    io_done_result_t r;
    for (unsigned i = 0; i < n; i++) {
        ASSERT_TRUE(completed(q_, r));
        EXPECT_EQ(r.qd_code, KERN_SUCCESS);
    }
    for (unsigned i = 0; i < n; i++) {
        reqs[i].op = MACHIO_OP_READ_OVERWRITE;
        reqs[i].buffer = reinterpret_cast<std::uintptr_t>(in.chars() + i * BS);
    }
    // A bad name in the middle: a short batch; at the front: its error.
    reqs[n / 2].device = 0x7f7f01;
    ASSERT_EQ(machio_submit_batch(reqs.data(), n, &accepted), KERN_SUCCESS);
    EXPECT_EQ(accepted, n / 2);
    EXPECT_EQ(machio_submit_batch(reqs.data() + n / 2, n / 2, &accepted), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(accepted, 0U);
    reqs[n / 2].device = dev_;
    ASSERT_EQ(machio_submit_batch(reqs.data() + n / 2, n / 2, &accepted), KERN_SUCCESS);
    EXPECT_EQ(accepted, n / 2);
    for (unsigned i = 0; i < n; i++) {
        ASSERT_TRUE(completed(q_, r));
        EXPECT_EQ(r.qd_code, KERN_SUCCESS);
    }
    EXPECT_EQ(std::memcmp(out.chars(), in.chars(), n * BS), 0);
    EXPECT_EQ(machio_submit_batch(reqs.data(), 0, &accepted), KERN_SUCCESS);
    EXPECT_EQ(accepted, 0U);
    EXPECT_EQ(machio_submit_batch(nullptr, 1, &accepted), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_submit_batch(reqs.data(), 1, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_submit_batch(reqs.data(), MACHIO_SUBMIT_BATCH_MAX + 1, &accepted),
              KERN_INVALID_ARGUMENT);
    expect_queue_empty();
}

TEST_F(CDisk, DeviceOpenFd) {
    write_pattern(dev_, q_, 3, BS, 17);

    int rd = open(disk_->path().c_str(), O_RDONLY | O_CLOEXEC); // no O_DIRECT needed
    ASSERT_GE(rd, 0);
    mach_port_t dev = MACH_PORT_NULL;
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), rd, D_WRITE, &dev), D_READ_ONLY);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), rd, D_READ | D_WRITE, &dev), D_READ_ONLY);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), -1, D_READ, &dev), D_NO_SUCH_DEVICE);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), 9999, D_READ, &dev), D_NO_SUCH_DEVICE);
    EXPECT_EQ(machio_device_open_fd(mach_task_self(), rd, D_READ, &dev), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), rd, D_READ, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), rd, 0x40, &dev), KERN_INVALID_ARGUMENT);
    ASSERT_EQ(machio_device_open_fd(mach_host_self(), rd, D_READ, &dev), KERN_SUCCESS);
    devices_.push_back(dev);
    // The caller still owns its descriptor, and may close it: the device
    // holds its own reference.
    EXPECT_GE(fcntl(rd, F_GETFD), 0);
    close(rd);
    ASSERT_EQ(device_read_async_inband(dev, q_, 1, 0, 3, 64), KERN_SUCCESS);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    ASSERT_EQ(r.qd_count, 64);
    EXPECT_EQ(pattern_mismatch(r.qd_inline, 64, 17), 64U);
    aligned_buffer buf(BS);
    ASSERT_EQ(device_write_async(dev, q_, 2, 0, 0, buf.chars(), BS), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_READ_ONLY);
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);

    int wr = open(disk_->path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(wr, 0);
    EXPECT_EQ(machio_device_open_fd(mach_host_self(), wr, D_READ, &dev), KERN_NO_ACCESS);
    ASSERT_EQ(machio_device_open_fd(mach_host_self(), wr, D_WRITE, &dev), KERN_SUCCESS);
    devices_.push_back(dev);
    close(wr);
    fill_pattern(buf.data(), BS, 18);
    ASSERT_EQ(device_write_async(dev, q_, 3, 0, 4, buf.chars(), BS), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);
    aligned_buffer in(BS);
    read_back(dev_, q_, 4, in);
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 18), std::size_t(BS));
}

TEST_F(CDisk, DeviceGetStatus) {
    int status[DEV_STATUS_MAX];
    std::fill(std::begin(status), std::end(status), -1);
    mach_msg_type_number_t count = DEV_STATUS_MAX;
    ASSERT_EQ(device_get_status(dev_, DEV_GET_SIZE, status, &count), D_SUCCESS);
    EXPECT_EQ(count, unsigned(DEV_GET_SIZE_COUNT));
    EXPECT_EQ(status[DEV_GET_SIZE_DEVICE_SIZE], 64 << 20);
    EXPECT_EQ(status[DEV_GET_SIZE_RECORD_SIZE], BS);
    EXPECT_EQ(status[DEV_GET_SIZE_COUNT], -1);

    count = 1;
    EXPECT_EQ(device_get_status(dev_, DEV_GET_SIZE, status, &count), D_INVALID_SIZE);
    count = DEV_GET_SIZE_COUNT;
    EXPECT_EQ(device_get_status(dev_, 7, status, &count), D_INVALID_OPERATION);
    EXPECT_EQ(device_get_status(dev_, DEV_GET_SIZE, nullptr, &count), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_get_status(dev_, DEV_GET_SIZE, status, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_get_status(0x7fff01, DEV_GET_SIZE, status, &count), D_NO_SUCH_DEVICE);

    uint64_t size = 0;
    unsigned int bs = 0;
    ASSERT_EQ(machio_device_size(dev_, &size, &bs), KERN_SUCCESS);
    EXPECT_EQ(size, 64ULL << 20);
    EXPECT_EQ(bs, unsigned(BS));
    EXPECT_EQ(machio_device_size(dev_, &size, nullptr), KERN_SUCCESS);
    EXPECT_EQ(machio_device_size(dev_, nullptr, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_device_size(0x7fff01, &size, nullptr), D_NO_SUCH_DEVICE);
    EXPECT_EQ(machio_device_size(q_, &size, nullptr), D_NO_SUCH_DEVICE);
}

// MDIOCSETL / MDIOCGETL: the disk's in-progress limit, 0 (none) by default.
TEST_F(CDisk, InProgressLimit) {
    int status[DEV_STATUS_MAX] = {};
    mach_msg_type_number_t count = DEV_STATUS_MAX;
    ASSERT_EQ(device_get_status(dev_, MDIOCGETL, status, &count), D_SUCCESS);
    EXPECT_EQ(count, 1U);
    EXPECT_EQ(status[0], 0);

    status[0] = 3;
    ASSERT_EQ(device_set_status(dev_, MDIOCSETL, status, 1), D_SUCCESS);
    status[0] = -1;
    count = 1;
    ASSERT_EQ(device_get_status(dev_, MDIOCGETL, status, &count), D_SUCCESS);
    EXPECT_EQ(status[0], 3);

    // With a limit, requests still complete, and their data is right.
    aligned_buffer out(BS), in(BS);
    fill_pattern(out.data(), BS, 21);
    io_done_result_t r;
    ASSERT_EQ(device_write_async(dev_, q_, 1, 0, 5, out.chars(), BS), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_code, D_SUCCESS);
    read_back(dev_, q_, 5, in);
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 21), std::size_t(BS));

    status[0] = IO_IN_PROGRESS_MAX + 1;
    EXPECT_EQ(device_set_status(dev_, MDIOCSETL, status, 1), D_INVALID_OPERATION);
    status[0] = -1;
    EXPECT_EQ(device_set_status(dev_, MDIOCSETL, status, 1), D_INVALID_OPERATION);
    EXPECT_EQ(device_set_status(dev_, MDIOCSETL, status, 0), D_INVALID_SIZE);
    EXPECT_EQ(device_set_status(dev_, DEV_GET_SIZE, status, 1), D_INVALID_OPERATION);
    EXPECT_EQ(device_set_status(dev_, MDIOCSETL, nullptr, 1), KERN_INVALID_ARGUMENT);
    count = 0;
    EXPECT_EQ(device_get_status(dev_, MDIOCGETL, status, &count), D_INVALID_SIZE);
    status[0] = 1;
    EXPECT_EQ(device_set_status(q_, MDIOCSETL, status, 1), D_NO_SUCH_DEVICE);
    // A device opened for reading only may read the limit, not set it.
    mach_port_t ro = open_device(*disk_, D_READ);
    EXPECT_EQ(device_set_status(ro, MDIOCSETL, status, 1), D_READ_ONLY);
    count = 1;
    ASSERT_EQ(device_get_status(ro, MDIOCGETL, status, &count), D_SUCCESS);
    EXPECT_EQ(status[0], 3);
    EXPECT_EQ(device_close(ro), KERN_SUCCESS);

    status[0] = 0;
    EXPECT_EQ(device_set_status(dev_, MDIOCSETL, status, 1), D_SUCCESS);
}

TEST_F(CApi, LargeDeviceSizeSaturates) {
    // 4 GiB with 4 KiB blocks (memory backed: only what is written is kept).
    test::nullb& big = make_disk({{"size", "4096"}, {"blocksize", "4096"}});
    ASSERT_TRUE(big.ok());
    mach_port_t dev = open_device(big, D_READ | D_WRITE);
    int status[DEV_GET_SIZE_COUNT] = {};
    mach_msg_type_number_t count = DEV_GET_SIZE_COUNT;
    ASSERT_EQ(device_get_status(dev, DEV_GET_SIZE, status, &count), D_SUCCESS);
    EXPECT_EQ(status[DEV_GET_SIZE_DEVICE_SIZE], INT_MAX);
    EXPECT_EQ(status[DEV_GET_SIZE_RECORD_SIZE], 4096);
    uint64_t size = 0;
    unsigned int bs = 0;
    ASSERT_EQ(machio_device_size(dev, &size, &bs), KERN_SUCCESS);
    EXPECT_EQ(size, 4ULL << 30);
    EXPECT_EQ(bs, 4096U);

    // recnum counts 4 KiB blocks; 512-byte transfers are no whole blocks.
    mach_port_t q = make_queue();
    aligned_buffer out(4096), in(4096);
    fill_pattern(out.data(), 4096, 77);
    const recnum_t last = (4ULL << 30) / 4096 - 1;
    io_done_result_t r;
    ASSERT_EQ(device_write_async(dev, q, 1, 0, last, out.chars(), 512), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_INVALID_SIZE);
    ASSERT_EQ(device_write_async(dev, q, 2, 0, last, out.chars(), 8192), KERN_SUCCESS);
    ASSERT_TRUE(completed(q, r));
    EXPECT_EQ(r.qd_count, 4096); // cut short at the end
    ASSERT_EQ(device_read_overwrite_async(dev, q, 3, 0, last, 4096, in.chars()), KERN_SUCCESS);
    ASSERT_TRUE(completed(q, r));
    EXPECT_EQ(pattern_mismatch(in.data(), 4096, 77), 4096U);
    ASSERT_EQ(device_read_async_inband(dev, q, 4, 0, last + 1, 8), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_INVALID_RECNUM);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);
}

// ---- submitting ---------------------------------------------------------------------

TEST_F(CDisk, SubmitArgumentErrors) {
    aligned_buffer buf(BS);
    char* b = buf.chars();
    const mach_port_t bad = 0x7fff01;

    // Bad device names.
    for (mach_port_t d : {MACH_PORT_NULL, bad, mach_host_self(), q_}) {
        SCOPED_TRACE(d);
        EXPECT_EQ(device_read_async(d, q_, 1, 0, 0, BS), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(device_read_async_inband(d, q_, 1, 0, 0, 8), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(device_read_overwrite_async(d, q_, 1, 0, 0, BS, b), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(device_write_async(d, q_, 1, 0, 0, b, BS), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(device_write_async_inband(d, q_, 1, 0, 0, b, 8), KERN_INVALID_ARGUMENT);
    }
    // Bad queue names; reads must have a queue.
    for (mach_port_t q : {bad, mach_task_self(), dev_}) {
        SCOPED_TRACE(q);
        EXPECT_EQ(device_read_async(dev_, q, 1, 0, 0, BS), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(device_write_async(dev_, q, 1, 0, 0, b, BS), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(device_write_async_inband(dev_, q, 1, 0, 0, b, 8), KERN_INVALID_ARGUMENT);
    }
    EXPECT_EQ(device_read_async(dev_, MACH_PORT_NULL, 1, 0, 0, BS), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_read_async_inband(dev_, MACH_PORT_NULL, 1, 0, 0, 8), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_read_overwrite_async(dev_, MACH_PORT_NULL, 1, 0, 0, BS, b),
              KERN_INVALID_ARGUMENT);
    // Unknown mode bits.
    EXPECT_EQ(device_read_async(dev_, q_, 1, 0x40, 0, BS), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_write_async(dev_, q_, 1, D_READ | 0x100, 0, b, BS), KERN_INVALID_ARGUMENT);
    // Too large for the ABI's signed count: refused before the kernel.
    EXPECT_EQ(device_write_async(dev_, q_, 1, 0, 0, b, 0x80000000U), KERN_INVALID_ARGUMENT);

    // Buffers the kernel cannot use.
    const long page = sysconf(_SC_PAGESIZE);
    auto* none =
        static_cast<char*>(mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    auto* rdonly =
        static_cast<char*>(mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(none, MAP_FAILED);
    ASSERT_NE(rdonly, MAP_FAILED);
    EXPECT_EQ(device_write_async(dev_, q_, 1, 0, 0, none, BS), KERN_INVALID_ADDRESS);
    EXPECT_EQ(device_write_async(dev_, q_, 1, 0, 0, nullptr, BS), KERN_INVALID_ADDRESS);
    EXPECT_EQ(device_write_async_inband(dev_, q_, 1, 0, 0, none, 8), KERN_INVALID_ADDRESS);
    EXPECT_EQ(device_read_overwrite_async(dev_, q_, 1, 0, 0, BS, none), KERN_INVALID_ADDRESS);
    // The device writes into the buffer: it must be writable.
    EXPECT_EQ(device_read_overwrite_async(dev_, q_, 1, 0, 0, BS, rdonly), KERN_INVALID_ADDRESS);
    // ... but a read-only buffer is fine to write from.
    ASSERT_EQ(device_write_async(dev_, q_, 2, 0, 0, rdonly, BS), KERN_SUCCESS);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 2U);
    munmap(none, page);
    munmap(rdonly, page);

    // None of the refused calls queued anything.
    expect_queue_empty();

    // A terminated queue takes nothing more.
    mach_port_t dead = make_queue();
    ASSERT_EQ(io_done_queue_terminate(dead), KERN_SUCCESS);
    EXPECT_EQ(device_read_async(dev_, dead, 1, 0, 0, BS), KERN_TERMINATED);
    EXPECT_EQ(device_read_async_inband(dev_, dead, 1, 0, 0, 8), KERN_TERMINATED);
    EXPECT_EQ(device_read_overwrite_async(dev_, dead, 1, 0, 0, BS, b), KERN_TERMINATED);
    EXPECT_EQ(device_write_async(dev_, dead, 1, 0, 0, b, BS), KERN_TERMINATED);
    EXPECT_EQ(device_write_async_inband(dev_, dead, 1, 0, 0, b, 8), KERN_TERMINATED);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), dead), KERN_SUCCESS);
    // A released one is no name at all.
    EXPECT_EQ(device_write_async(dev_, dead, 1, 0, 0, b, BS), KERN_INVALID_ARGUMENT);
}

TEST_F(CDisk, DeviceOutcomesArriveInTheCompletion) {
    aligned_buffer buf(4 * BS);
    io_done_result_t r;
    auto outcome = [&](kern_return_t submitted, int type, kern_return_t code, int count) {
        ASSERT_EQ(submitted, KERN_SUCCESS);
        std::memset(&r, 0xa5, sizeof(r));
        ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
        EXPECT_EQ(r.qd_type, type);
        EXPECT_EQ(r.qd_code, code) << mach_error_string(r.qd_code);
        EXPECT_EQ(r.qd_count, count);
        if (code != KERN_SUCCESS) {
            EXPECT_EQ(r.qd_data, nullptr);
        }
    };

    // Not whole blocks, or a misaligned buffer: D_INVALID_SIZE.
    outcome(device_read_async(dev_, q_, 1, 0, 0, 1000), IO_DONE_READ, D_INVALID_SIZE, 0);
    outcome(device_read_async(dev_, q_, 1, 0, 0, -BS), IO_DONE_READ, D_INVALID_SIZE, 0);
    outcome(device_read_overwrite_async(dev_, q_, 1, 0, 0, 100, buf.chars()), IO_DONE_OVERWRITE,
            D_INVALID_SIZE, 0);
    outcome(device_read_overwrite_async(dev_, q_, 1, 0, 0, BS, buf.chars() + 1), IO_DONE_OVERWRITE,
            D_INVALID_SIZE, 0);
    outcome(device_write_async(dev_, q_, 1, 0, 0, buf.chars(), 700), IO_DONE_WRITE, D_INVALID_SIZE,
            0);
    outcome(device_write_async(dev_, q_, 1, 0, 0, buf.chars() + 8, BS), IO_DONE_WRITE,
            D_INVALID_SIZE, 0);
    outcome(device_read_async_inband(dev_, q_, 1, 0, 0, -1), IO_DONE_READ, D_INVALID_SIZE, 0);

    // Starting at or past the end: D_INVALID_RECNUM.
    for (recnum_t rec : {NBLOCKS, NBLOCKS + 1, recnum_t{0xffffffff}}) {
        SCOPED_TRACE(rec);
        outcome(device_read_async(dev_, q_, 2, 0, rec, BS), IO_DONE_READ, D_INVALID_RECNUM, 0);
        outcome(device_read_async_inband(dev_, q_, 2, 0, rec, 8), IO_DONE_READ, D_INVALID_RECNUM,
                0);
        outcome(device_read_overwrite_async(dev_, q_, 2, 0, rec, BS, buf.chars()),
                IO_DONE_OVERWRITE, D_INVALID_RECNUM, 0);
        outcome(device_write_async(dev_, q_, 2, 0, rec, buf.chars(), BS), IO_DONE_WRITE,
                D_INVALID_RECNUM, 0);
        outcome(device_write_async_inband(dev_, q_, 2, 0, rec, buf.chars(), 8), IO_DONE_WRITE,
                D_INVALID_RECNUM, 0);
    }

    // Running off the end: cut short.
    fill_pattern(buf.data(), 4 * BS, 9);
    outcome(device_write_async(dev_, q_, 3, 0, NBLOCKS - 1, buf.chars(), 4 * BS), IO_DONE_WRITE,
            KERN_SUCCESS, BS);
    outcome(device_read_async(dev_, q_, 3, 0, NBLOCKS - 2, 4 * BS), IO_DONE_READ, KERN_SUCCESS,
            2 * BS);
    ASSERT_NE(r.qd_data, nullptr);
    EXPECT_EQ(pattern_mismatch(r.qd_data + BS, BS, 9), std::size_t(BS));
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(r.qd_data),
                            static_cast<vm_size_t>(r.qd_count)),
              KERN_SUCCESS);
    aligned_buffer in(4 * BS);
    outcome(device_read_overwrite_async(dev_, q_, 3, 0, NBLOCKS - 1, 4 * BS, in.chars()),
            IO_DONE_OVERWRITE, KERN_SUCCESS, BS);
    EXPECT_EQ(r.qd_data, in.chars());
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 9), std::size_t(BS));

    // Nothing at all: a successful empty transfer.
    outcome(device_read_async(dev_, q_, 4, 0, 0, 0), IO_DONE_READ, KERN_SUCCESS, 0);
    EXPECT_EQ(r.qd_data, nullptr);
}

TEST_F(CDisk, BadBlocksGiveIoError) {
    ASSERT_TRUE(disk_->set("badblocks", "+20-23")) << disk_->error();
    aligned_buffer buf(8 * BS);
    io_done_result_t r;
    ASSERT_EQ(device_read_overwrite_async(dev_, q_, 1, 0, 16, 8 * BS, buf.chars()), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_IO_ERROR);
    EXPECT_EQ(r.qd_count, 0);
    ASSERT_EQ(device_read_async(dev_, q_, 2, 0, 21, BS), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_IO_ERROR);
    EXPECT_EQ(r.qd_data, nullptr);
    ASSERT_EQ(device_write_async_inband(dev_, q_, 3, 0, 22, buf.chars(), 8), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_code, D_IO_ERROR);
    ASSERT_EQ(device_read_async_inband(dev_, q_, 4, 0, 24, 8), KERN_SUCCESS);
    EXPECT_TRUE(completed(q_, r));
}

TEST_F(CDisk, InbandCountsAreClampedAsInOsf) {
    aligned_buffer block(BS);
    fill_pattern(block.data(), BS, 5);
    write_pattern(dev_, q_, 7, BS, 5);

    io_done_result_t r;
    ASSERT_EQ(device_read_async_inband(dev_, q_, 1, 0, 7, 500), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_count, IO_INBAND_MAX);
    EXPECT_EQ(pattern_mismatch(r.qd_inline, IO_INBAND_MAX, 5), std::size_t(IO_INBAND_MAX));

    // Only the first 128 bytes of a larger inband write go out.
    aligned_buffer src(300);
    fill_pattern(src.data(), 300, 6);
    ASSERT_EQ(device_write_async_inband(dev_, q_, 2, 0, 7, src.chars(), 300), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_count, IO_INBAND_MAX);
    aligned_buffer in(BS);
    read_back(dev_, q_, 7, in);
    EXPECT_EQ(std::memcmp(in.data(), src.data(), IO_INBAND_MAX), 0);
    EXPECT_EQ(
        std::memcmp(in.data() + IO_INBAND_MAX, block.data() + IO_INBAND_MAX, BS - IO_INBAND_MAX),
        0);

    // Which matters: the kernel refuses more than IO_INBAND_MAX.
    struct machio_io_request raw = {};
    raw.op = MACHIO_OP_READ_INBAND;
    raw.device = dev_;
    raw.queue = q_;
    raw.reqid = 3;
    raw.count = IO_INBAND_MAX + 1;
    ASSERT_EQ(ioctl(machio_fd(), MACHIO_IOC_SUBMIT, &raw), 0) << std::strerror(errno);
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_reqid, 3U);
    EXPECT_EQ(r.qd_code, D_INVALID_SIZE);
}

TEST_F(CDisk, RequestIdsAreEchoedBitForBit) {
    io_done_result_t r;
    for (mach_port_t id : {0U, 1U, 0x7fffffffU, 0x80000000U, 0xfeedfaceU, 0xffffffffU}) {
        ASSERT_EQ(device_read_async_inband(dev_, q_, id, 0, 0, 4), KERN_SUCCESS);
        ASSERT_TRUE(completed(q_, r));
        EXPECT_EQ(r.qd_reqid, id);
    }
}

TEST_F(CDisk, WritesWithoutAQueueAreDiscarded) {
    static aligned_buffer out(2 * BS); // kept untouched: no completion says when it is done
    fill_pattern(out.data(), 2 * BS, 31);
    ASSERT_EQ(device_write_async(dev_, MACH_PORT_NULL, 1, 0, 100, out.chars(), 2 * BS),
              KERN_SUCCESS);
    char small[40];
    fill_pattern(small, sizeof(small), 32);
    ASSERT_EQ(device_write_async_inband(dev_, MACH_PORT_NULL, 2, 0, 110, small, sizeof(small)),
              KERN_SUCCESS);
    std::memset(small, 0, sizeof(small)); // inband data was copied at submit

    // The data lands (eventually: nothing tells us when).
    aligned_buffer in(2 * BS);
    io_done_result_t r;
    bool landed = false;
    for (int i = 0; i < 200 && !landed; ++i) {
        read_back(dev_, q_, 100, in);
        ASSERT_EQ(device_read_async_inband(dev_, q_, 3, 0, 110, sizeof(small)), KERN_SUCCESS);
        ASSERT_TRUE(completed(q_, r));
        ASSERT_EQ(r.qd_reqid, 3U);
        landed = pattern_mismatch(in.data(), 2 * BS, 31) == 2 * BS &&
                 pattern_mismatch(r.qd_inline, sizeof(small), 32) == sizeof(small);
        if (!landed)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(landed);
    // And no completion for them ever shows up.
    expect_queue_empty();
}

// ---- every transfer variant, on each null_blk completion mode ------------------

class CTransfer : public CDisk, public ::testing::WithParamInterface<const char*> {
  protected:
    std::vector<test::nullb::attr> disk_attrs() override {
        return {{"irqmode", GetParam()}, {"completion_nsec", "20000"}};
    }
};

TEST_P(CTransfer, EveryVariantRoundTrips) {
    constexpr int LEN = 3 * BS;
    constexpr recnum_t REC = 1000;
    aligned_buffer out(LEN);
    fill_pattern(out.data(), LEN, 50);
    io_done_result_t r;

    // device_write_async (zero copy).
    ASSERT_EQ(device_write_async(dev_, q_, 11, 0, REC, out.chars(), LEN), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
    EXPECT_EQ(r.qd_reqid, 11U);
    EXPECT_EQ(r.qd_count, LEN);

    // device_read_async: fresh out-of-line memory, freed with vm_deallocate.
    ASSERT_EQ(device_read_async(dev_, q_, 12, 0, REC, LEN), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_type, IO_DONE_READ);
    EXPECT_EQ(r.qd_reqid, 12U);
    ASSERT_EQ(r.qd_count, LEN);
    ASSERT_NE(r.qd_data, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(r.qd_data) % sysconf(_SC_PAGESIZE), 0U);
    EXPECT_NE(r.qd_data, r.qd_inline);
    EXPECT_EQ(std::memcmp(r.qd_data, out.data(), LEN), 0);
    char* ool = r.qd_data;
    EXPECT_TRUE(test::mapped(ool));
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(ool),
                            static_cast<vm_size_t>(r.qd_count)),
              KERN_SUCCESS);
    EXPECT_FALSE(test::mapped(ool));

    // device_read_overwrite_async: into the caller's buffer.
    aligned_buffer in(LEN);
    ASSERT_EQ(device_read_overwrite_async(dev_, q_, 13, 0, REC, LEN, in.chars()), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_type, IO_DONE_OVERWRITE);
    EXPECT_EQ(r.qd_reqid, 13U);
    EXPECT_EQ(r.qd_count, LEN);
    EXPECT_EQ(r.qd_data, in.chars());
    EXPECT_EQ(std::memcmp(in.data(), out.data(), LEN), 0);

    // device_read_async_inband: the data lands in the result itself.
    ASSERT_EQ(device_read_async_inband(dev_, q_, 14, 0, REC + 1, 100), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_type, IO_DONE_READ);
    EXPECT_EQ(r.qd_reqid, 14U);
    EXPECT_EQ(r.qd_count, 100);
    EXPECT_EQ(r.qd_data, r.qd_inline);
    EXPECT_EQ(std::memcmp(r.qd_inline, out.data() + BS, 100), 0);

    // device_write_async_inband: copied at submit; patches the block.
    char patch[IO_INBAND_MAX];
    fill_pattern(patch, sizeof(patch), 51);
    ASSERT_EQ(device_write_async_inband(dev_, q_, 15, 0, REC + 2, patch, 90), KERN_SUCCESS);
    std::memset(patch + 90, 0, sizeof(patch) - 90);
    fill_pattern(patch, 90, 99); // reusing the buffer at once is fine
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
    EXPECT_EQ(r.qd_reqid, 15U);
    EXPECT_EQ(r.qd_count, 90);
    aligned_buffer block(BS);
    read_back(dev_, q_, REC + 2, block);
    EXPECT_EQ(pattern_mismatch(block.data(), 90, 51), 90U);
    EXPECT_EQ(std::memcmp(block.data() + 90, out.data() + 2 * BS + 90, BS - 90), 0);
    // The blocks around it are untouched.
    read_back(dev_, q_, REC, in);
    EXPECT_EQ(std::memcmp(in.data(), out.data(), 2 * BS), 0);
}

TEST_P(CTransfer, ManyRequestsInFlight) {
    constexpr int N = 32;
    aligned_buffer out(N * BS), in(N * BS);
    fill_pattern(out.data(), N * BS, 60);
    // Writes to N distinct blocks, all in flight together.
    for (int i = 0; i < N; ++i)
        ASSERT_EQ(device_write_async(dev_, q_, 100 + i, 0, 2000 + 2 * i, out.chars() + i * BS, BS),
                  KERN_SUCCESS);
    std::vector<int> seen(N);
    io_done_result_t r;
    for (int i = 0; i < N; ++i) {
        ASSERT_TRUE(completed(q_, r));
        ASSERT_GE(r.qd_reqid, 100U);
        ASSERT_LT(r.qd_reqid, 100U + N);
        seen[r.qd_reqid - 100]++;
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    for (int i = 0; i < N; ++i)
        ASSERT_EQ(device_read_overwrite_async(dev_, q_, 200 + i, 0, 2000 + 2 * i, BS,
                                              in.chars() + i * BS),
                  KERN_SUCCESS);
    std::fill(seen.begin(), seen.end(), 0);
    for (int i = 0; i < N; ++i) {
        ASSERT_TRUE(completed(q_, r));
        ASSERT_GE(r.qd_reqid, 200U);
        ASSERT_LT(r.qd_reqid, 200U + N);
        seen[r.qd_reqid - 200]++;
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    EXPECT_EQ(std::memcmp(in.data(), out.data(), N * BS), 0);
}

INSTANTIATE_TEST_SUITE_P(NullBlk, CTransfer, ::testing::Values("0", "1", "2"),
                         [](const auto& info) { return std::string("irqmode") + info.param; });

// ---- waiting --------------------------------------------------------------------------

TEST_F(CDisk, BadResultPointerKeepsTheCompletionQueued) {
    write_pattern(dev_, q_, 40, 2 * BS, 70);
    const long page = sysconf(_SC_PAGESIZE);
    auto* none = static_cast<io_done_result_t*>(
        mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    auto* rdonly = static_cast<io_done_result_t*>(
        mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(static_cast<void*>(none), MAP_FAILED);
    ASSERT_NE(static_cast<void*>(rdonly), MAP_FAILED);

    // An out-of-line read: its memory must survive the failed deliveries.
    ASSERT_EQ(device_read_async(dev_, q_, 21, 0, 40, 2 * BS), KERN_SUCCESS);
    EXPECT_EQ(io_done_queue_wait(q_, nullptr), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_wait(q_, none), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_wait(q_, rdonly), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_wait(q_, reinterpret_cast<io_done_result_t*>(std::uintptr_t{16})),
              KERN_INVALID_ARGUMENT);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 21U);
    ASSERT_EQ(r.qd_count, 2 * BS);
    EXPECT_EQ(pattern_mismatch(r.qd_data, 2 * BS, 70), std::size_t(2 * BS));
    EXPECT_EQ(vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(r.qd_data),
                            static_cast<vm_size_t>(r.qd_count)),
              KERN_SUCCESS);

    // It stays at the head: FIFO order holds.
    ASSERT_EQ(device_read_async_inband(dev_, q_, 22, 0, 40, 8), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q_, none), KERN_INVALID_ARGUMENT);
    ASSERT_EQ(device_read_async_inband(dev_, q_, 23, 0, 40, 8), KERN_SUCCESS);
    // Let 23 complete behind 22 before looking.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 22U);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 23U);
    munmap(none, page);
    munmap(rdonly, page);
}

TEST_F(CDisk, SignalAbortsTheWait) {
    for (bool restart : {false, true}) {
        SCOPED_TRACE(restart ? "SA_RESTART" : "no SA_RESTART");
        test::sigusr1_handler handler(restart);
        std::atomic<bool> done{false};
        kern_return_t kr = KERN_SUCCESS;
        std::thread waiter([&] {
            io_done_result_t r;
            kr = io_done_queue_wait(q_, &r);
            done = true;
        });
        // Not restarted behind the caller's back, even with SA_RESTART.
        test::interrupt_until(waiter.native_handle(), done);
        waiter.join();
        EXPECT_EQ(kr, KERN_ABORTED);
    }
    // The queue is unharmed and nothing was lost.
    ASSERT_EQ(device_read_async_inband(dev_, q_, 5, 0, 0, 8), KERN_SUCCESS);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 5U);
}

TEST_F(CDisk, SeveralWaitersGetDistinctCompletions) {
    constexpr int THREADS = 4, N = 200;
    std::mutex lock;
    std::vector<int> seen(N);
    std::vector<kern_return_t> last(THREADS, KERN_SUCCESS);
    std::vector<int> got(THREADS);
    std::atomic<int> bad{0};
    std::vector<std::thread> waiters;
    for (int t = 0; t < THREADS; ++t)
        waiters.emplace_back([&, t] {
            for (;;) {
                io_done_result_t r;
                kern_return_t kr = io_done_queue_wait(q_, &r);
                if (kr != KERN_SUCCESS) {
                    last[t] = kr;
                    return;
                }
                if (r.qd_code != KERN_SUCCESS || r.qd_reqid >= N || r.qd_count != 16) {
                    ++bad;
                    continue;
                }
                got[t]++;
                std::lock_guard<std::mutex> guard(lock);
                seen[r.qd_reqid]++;
            }
        });
    for (int i = 0; i < N; ++i)
        ASSERT_EQ(device_read_async_inband(dev_, q_, i, 0, i, 16), KERN_SUCCESS);
    // Wait for every completion to be taken.
    for (int i = 0; i < 1000; ++i) {
        {
            std::lock_guard<std::mutex> guard(lock);
            if (std::accumulate(seen.begin(), seen.end(), 0) == N)
                break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(io_done_queue_terminate(q_), KERN_SUCCESS);
    for (auto& w : waiters)
        w.join();
    EXPECT_EQ(bad, 0);
    for (int i = 0; i < N; ++i)
        EXPECT_EQ(seen[i], 1) << "request " << i;
    int total = 0;
    for (int t = 0; t < THREADS; ++t) {
        EXPECT_EQ(last[t], KERN_TERMINATED) << "thread " << t;
        total += got[t];
    }
    EXPECT_EQ(total, N);
}

TEST_F(CDisk, TerminateWakesEveryWaiter) {
    constexpr int THREADS = 4;
    std::vector<kern_return_t> result(THREADS, KERN_SUCCESS);
    std::vector<pid_t> tids(THREADS);
    std::atomic<int> started{0};
    std::vector<std::thread> waiters;
    for (int t = 0; t < THREADS; ++t)
        waiters.emplace_back([&, t] {
            tids[t] = test::gettid();
            ++started;
            io_done_result_t r;
            result[t] = io_done_queue_wait(q_, &r);
        });
    while (started < THREADS)
        std::this_thread::yield();
    for (pid_t tid : tids)
        EXPECT_TRUE(test::wait_until_blocked(tid));
    EXPECT_EQ(io_done_queue_terminate(q_), KERN_SUCCESS);
    for (auto& w : waiters)
        w.join();
    for (int t = 0; t < THREADS; ++t)
        EXPECT_EQ(result[t], KERN_TERMINATED) << "thread " << t;
}

// ---- io in flight ------------------------------------------------------------------

class CSlowDisk : public CDisk {
  protected:
    std::vector<test::nullb::attr> disk_attrs() override {
        return {{"irqmode", "2"}, {"completion_nsec", "200000000"}}; // 200 ms
    }
};

TEST_F(CSlowDisk, TerminateWaitsForIoInFlightAndDiscardsIt) {
    static aligned_buffer out(4 * BS);
    fill_pattern(out.data(), 4 * BS, 80);
    mach_port_t q = make_queue();
    ASSERT_EQ(device_write_async(dev_, q, 1, 0, 300, out.chars(), 4 * BS), KERN_SUCCESS);
    ASSERT_EQ(device_read_async(dev_, q, 2, 0, 400, 4 * BS), KERN_SUCCESS);
    ASSERT_EQ(device_write_async_inband(dev_, q, 3, 0, 310, out.chars(), 64), KERN_SUCCESS);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
    io_done_result_t r;
    EXPECT_EQ(io_done_queue_wait(q, &r), KERN_TERMINATED);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    // The writes were done when terminate returned.
    aligned_buffer in(4 * BS);
    read_back(dev_, q_, 300, in);
    EXPECT_EQ(pattern_mismatch(in.data(), 4 * BS, 80), std::size_t(4 * BS));
    ASSERT_EQ(device_read_async_inband(dev_, q_, 4, 0, 310, 64), KERN_SUCCESS);
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(pattern_mismatch(r.qd_inline, 64, 80), 64U);
}

TEST_F(CSlowDisk, DeviceCloseLeavesIoInFlightToComplete) {
    write_pattern(dev_, q_, 50, BS, 90);
    mach_port_t dev = open_device(*disk_, D_READ);
    aligned_buffer in(BS);
    ASSERT_EQ(device_read_overwrite_async(dev, q_, 1, 0, 50, BS, in.chars()), KERN_SUCCESS);
    EXPECT_EQ(device_close(dev), KERN_SUCCESS);
    int status[DEV_GET_SIZE_COUNT];
    mach_msg_type_number_t count = DEV_GET_SIZE_COUNT;
    EXPECT_EQ(device_get_status(dev, DEV_GET_SIZE, status, &count), D_NO_SUCH_DEVICE);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 1U);
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 90), std::size_t(BS));
}

// ---- fork -------------------------------------------------------------------------------

TEST_F(CDisk, ForkedChildSharesTheSpace) {
    const int parent_fd = machio_fd();
    const mach_port_t q = q_, dev = dev_;

    // The child's request completes on the shared queue: the parent gets it.
    int rc = test::in_child([&]() -> int {
        if (machio_fd() != parent_fd || mach_host_self() != 0x101U)
            return 10;
        char data[16] = "from the child";
        if (device_write_async_inband(dev, q, 77, 0, 60, data, sizeof(data)) != KERN_SUCCESS)
            return 11;
        return 0;
    });
    ASSERT_EQ(rc, 0);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 77U);
    EXPECT_EQ(r.qd_type, IO_DONE_WRITE);

    // And the other way round: the child waits for the parent's request.
    ASSERT_EQ(device_read_async_inband(dev_, q_, 78, 0, 60, 16), KERN_SUCCESS);
    rc = test::in_child([&]() -> int {
        io_done_result_t cr;
        if (io_done_queue_wait(q, &cr) != KERN_SUCCESS)
            return 20;
        if (cr.qd_reqid != 78 || cr.qd_code != KERN_SUCCESS)
            return 21;
        return std::strcmp(cr.qd_inline, "from the child") == 0 ? 0 : 22;
    });
    EXPECT_EQ(rc, 0);
    // Delivered once: not to the parent as well.
    expect_queue_empty();

    // A terminate in the child is a terminate for the parent.
    mach_port_t shared = make_queue();
    rc = test::in_child([&]() -> int { return io_done_queue_terminate(shared); });
    EXPECT_EQ(rc, KERN_SUCCESS);
    EXPECT_EQ(io_done_queue_wait(shared, &r), KERN_TERMINATED);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), shared), KERN_SUCCESS);
}

TEST_F(CDisk, SpaceResetGivesTheChildAFreshSpace) {
    const int parent_fd = machio_fd();
    const mach_port_t q = q_, dev = dev_;
    const std::string disk = disk_->name();
    int rc = test::in_child([&]() -> int {
        if (machio_space_reset() != KERN_SUCCESS)
            return 10;
        const int fd = machio_fd();
        if (fd < 0 || fd == parent_fd)
            return 11;
        // The inherited number is not closed but names an empty space now:
        // the parent's queue is unknown there.
        if (fcntl(parent_fd, F_GETFD) != FD_CLOEXEC)
            return 12;
        struct machio_queue_wait raw_wait = {};
        io_done_result_t raw_result;
        raw_wait.queue = q;
        raw_wait.result = reinterpret_cast<std::uintptr_t>(&raw_result);
        if (ioctl(parent_fd, MACHIO_IOC_QUEUE_WAIT, &raw_wait) != -1 || errno != EINVAL)
            return 21;
        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            return 13;
        // A fresh space: just the host, task and name-server names.
        if (mach_host_self() != 0x101U || mach_task_self() != 0x201U)
            return 14;
        io_done_result_t r;
        if (io_done_queue_wait(q, &r) != KERN_INVALID_ARGUMENT)
            return 15;
        int status[DEV_GET_SIZE_COUNT];
        mach_msg_type_number_t count = DEV_GET_SIZE_COUNT;
        if (device_get_status(dev, DEV_GET_SIZE, status, &count) != D_NO_SUCH_DEVICE)
            return 16;
        // Its own objects, named from the start.
        mach_port_t mine = MACH_PORT_NULL, mydev = MACH_PORT_NULL;
        if (io_done_queue_create(mach_host_self(), &mine) != KERN_SUCCESS || mine != 0x401U)
            return 17;
        if (device_open(mach_host_self(), D_READ, disk.c_str(), &mydev) != KERN_SUCCESS ||
            mydev != 0x501U)
            return 18;
        if (device_read_async_inband(mydev, mine, 5, 0, 0, 8) != KERN_SUCCESS ||
            io_done_queue_wait(mine, &r) != KERN_SUCCESS || r.qd_reqid != 5)
            return 19;
        if (io_done_queue_terminate(mine) != KERN_SUCCESS)
            return 20;
        return 0;
    });
    EXPECT_EQ(rc, 0);
    // The parent's space is untouched.
    EXPECT_EQ(machio_fd(), parent_fd);
    ASSERT_EQ(device_read_async_inband(dev_, q_, 6, 0, 0, 8), KERN_SUCCESS);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.qd_reqid, 6U);
}

// The /dev/machio descriptors this process holds (each a name space).
std::vector<int> machio_descriptors() {
    std::vector<int> fds;
    struct stat node;
    if (stat(test::machio_node(), &node) != 0)
        return fds;
    for (int fd = 0; fd < 4096; ++fd) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == node.st_rdev)
            fds.push_back(fd);
    }
    return fds;
}

// machio_space_reset() while other threads use the process space.  The old
// space_info is never freed and the old descriptor number never closed (it
// becomes an empty space), so a call racing with a reset succeeds or finds
// the name unknown: never a crash, EBADF (KERN_FAILURE), or an unrelated
// file that took over a closed number (here /dev/null, opened in a loop).
TEST_F(CDisk, SpaceResetIsSafeAgainstOtherThreads) {
    const std::string disk = disk_->name();
    int rc = test::in_child([&]() -> int {
        const std::size_t before = machio_descriptors().size();
        std::atomic<bool> stop{false};
        std::atomic<long> calls{0}, bad{0};
        std::atomic<int> last_bad{KERN_SUCCESS};
        auto check = [&](kern_return_t kr, std::initializer_list<kern_return_t> allowed) {
            if (std::find(allowed.begin(), allowed.end(), kr) == allowed.end()) {
                bad.fetch_add(1);
                last_bad.store(kr);
            }
            calls.fetch_add(1, std::memory_order_relaxed);
        };
        std::thread hammer([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                mach_port_t q = MACH_PORT_NULL;
                kern_return_t kr = io_done_queue_create(mach_host_self(), &q);
                check(kr, {KERN_SUCCESS, KERN_INVALID_ARGUMENT});
                if (kr != KERN_SUCCESS)
                    continue;
                // Created in one space, perhaps gone by now.
                check(io_done_queue_terminate(q), {KERN_SUCCESS, KERN_INVALID_ARGUMENT});
                check(mach_port_deallocate(mach_task_self(), q), {KERN_SUCCESS, KERN_INVALID_NAME});
            }
        });
        std::thread opener([&] {
            int held = -1;
            while (!stop.load(std::memory_order_relaxed)) {
                int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (held >= 0)
                    ::close(held);
                held = fd;
            }
            if (held >= 0)
                ::close(held);
        });
        int resets_failed = 0;
        for (int i = 0; i < 50; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            resets_failed += machio_space_reset() != KERN_SUCCESS;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        stop.store(true);
        hammer.join();
        opener.join();
        if (resets_failed) {
            std::fprintf(stderr, "%d of 50 resets failed\n", resets_failed);
            return 10;
        }
        if (bad.load()) {
            std::fprintf(stderr, "%ld of %ld calls gave an unexpected code, the last %d (%s)\n",
                         bad.load(), calls.load(), last_bad.load(),
                         mach_error_string(last_bad.load()));
            return 11;
        }
        if (calls.load() == 0)
            return 12;
        // Every reset kept its old number open, on an empty space of its own.
        const std::vector<int> fds = machio_descriptors();
        if (fds.size() != before + 50) {
            std::fprintf(stderr, "%zu machio descriptors, want %zu\n", fds.size(), before + 50);
            return 13;
        }
        for (int fd : fds) {
            struct machio_query query = {};
            if (ioctl(fd, MACHIO_IOC_QUERY, &query) != 0 || fcntl(fd, F_GETFD) != FD_CLOEXEC)
                return 14;
        }
        // And the process space works: a fresh queue, a device, I/O.
        mach_port_t q = MACH_PORT_NULL, dev = MACH_PORT_NULL;
        if (io_done_queue_create(mach_host_self(), &q) != KERN_SUCCESS)
            return 15;
        if (device_open(mach_host_self(), D_READ | D_WRITE, disk.c_str(), &dev) != KERN_SUCCESS)
            return 16;
        char data[IO_INBAND_MAX] = "after 50 resets";
        io_done_result_t r;
        if (device_write_async_inband(dev, q, 1, 0, 8, data, sizeof(data)) != KERN_SUCCESS ||
            io_done_queue_wait(q, &r) != KERN_SUCCESS || r.qd_reqid != 1 || r.qd_code)
            return 17;
        if (device_read_async_inband(dev, q, 2, 0, 8, sizeof(data)) != KERN_SUCCESS ||
            io_done_queue_wait(q, &r) != KERN_SUCCESS || r.qd_reqid != 2 || r.qd_code ||
            std::memcmp(r.qd_inline, data, sizeof(data)) != 0)
            return 18;
        if (io_done_queue_terminate(q) != KERN_SUCCESS ||
            mach_port_deallocate(mach_task_self(), q) != KERN_SUCCESS ||
            device_close(dev) != KERN_SUCCESS)
            return 19;
        return 0;
    });
    EXPECT_EQ(rc, 0);
}

} // namespace

// ---- completion rings, batched reaping, queue files ------------------------

namespace {

// Until the ring holds n completions (they complete in the background).
bool ring_holds(mach_port_t q, int n) {
    for (int i = 0; i < 5000; i++) {
        if (machio_io_done_queue_ready(q) >= n)
            return true;
        usleep(1000);
    }
    return false;
}

} // namespace

TEST_F(CDisk, QueuesHaveRingsByDefault) {
    ASSERT_GE(machio_io_done_queue_fd(q_), 0);
    EXPECT_EQ(machio_io_done_queue_ready(q_), 0);
    aligned_buffer out(8 * BS);
    std::memset(out.chars(), 0x5a, 8 * BS);
    for (unsigned i = 0; i < 8; i++)
        ASSERT_TRUE(kr_is(KERN_SUCCESS,
                          device_write_async(dev_, q_, 100 + i, 0, i, out.chars() + i * BS, BS)));
    ASSERT_TRUE(ring_holds(q_, 8));
    // Taken one per call, each once.
    std::vector<bool> seen(8);
    io_done_result_t r;
    for (unsigned i = 0; i < 8; i++) {
        ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
        ASSERT_GE(r.qd_reqid, 100U);
        ASSERT_LT(r.qd_reqid, 108U);
        EXPECT_FALSE(seen[r.qd_reqid - 100]);
        seen[r.qd_reqid - 100] = true;
        EXPECT_EQ(r.qd_type, IO_DONE_WRITE);
        EXPECT_EQ(r.qd_code, KERN_SUCCESS);
        EXPECT_EQ(r.qd_count, int(BS));
    }
    EXPECT_EQ(machio_io_done_queue_ready(q_), 0);
    // An inband read from the ring: its bytes, qd_data at qd_inline.
    ASSERT_TRUE(kr_is(KERN_SUCCESS, device_read_async_inband(dev_, q_, 7, 0, 3, 100)));
    ASSERT_TRUE(ring_holds(q_, 1));
    std::memset(&r, 0xee, sizeof(r));
    ASSERT_EQ(io_done_queue_wait(q_, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_reqid, 7U);
    EXPECT_EQ(r.qd_count, 100);
    EXPECT_EQ(r.qd_data, r.qd_inline);
    EXPECT_EQ(std::memcmp(r.qd_inline, out.chars(), 100), 0);
    // Terminated: KERN_TERMINATED from the ring's dead mark; then the name
    // is gone with its file.
    ASSERT_EQ(io_done_queue_terminate(q_), KERN_SUCCESS);
    EXPECT_EQ(io_done_queue_wait(q_, &r), KERN_TERMINATED);
    ASSERT_EQ(mach_port_deallocate(mach_task_self(), q_), KERN_SUCCESS);
    EXPECT_EQ(machio_io_done_queue_fd(q_), -1);
    EXPECT_EQ(io_done_queue_wait(q_, &r), KERN_INVALID_ARGUMENT);
    q_ = make_queue();
}

TEST_F(CDisk, RingQueueRefusesWhatItCannotHold) {
    machio_queue_options_t o = {.ring_entries = 8, .eventfd = -1, .flags = 0};
    mach_port_t q = MACH_PORT_NULL;
    ASSERT_EQ(machio_io_done_queue_create_with(mach_host_self(), &o, &q), KERN_SUCCESS);
    aligned_buffer in(BS);
    for (unsigned i = 0; i < 8; i++)
        ASSERT_EQ(device_read_overwrite_async(dev_, q, i, 0, 0, BS, in.chars()), KERN_SUCCESS);
    EXPECT_EQ(device_read_overwrite_async(dev_, q, 8, 0, 0, BS, in.chars()),
              KERN_RESOURCE_SHORTAGE);
    io_done_result_t r;
    ASSERT_TRUE(completed(q, r));
    EXPECT_EQ(device_read_overwrite_async(dev_, q, 9, 0, 0, BS, in.chars()), KERN_SUCCESS);
    for (unsigned i = 0; i < 8; i++)
        ASSERT_TRUE(completed(q, r));
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    // Bad options.
    o.ring_entries = 3;
    EXPECT_EQ(machio_io_done_queue_create_with(mach_host_self(), &o, &q), KERN_INVALID_ARGUMENT);
    o.ring_entries = 8;
    o.eventfd = 12345;
    EXPECT_EQ(machio_io_done_queue_create_with(mach_host_self(), &o, &q), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_io_done_queue_create_with(mach_host_self(), nullptr, &q),
              KERN_INVALID_ARGUMENT);
    EXPECT_EQ(machio_io_done_queue_create_with(dev_, &o, &q), KERN_INVALID_ARGUMENT);
}

TEST_F(CDisk, ReapBetweenMinAndMax) {
    for (unsigned entries : {0U, 64U}) {
        SCOPED_TRACE(entries);
        machio_queue_options_t o = {.ring_entries = entries, .eventfd = -1, .flags = 0};
        mach_port_t q = MACH_PORT_NULL;
        ASSERT_EQ(machio_io_done_queue_create_with(mach_host_self(), &o, &q), KERN_SUCCESS);
        EXPECT_EQ(machio_io_done_queue_ready(q), entries ? 0 : -1);
        aligned_buffer in(16 * BS);
        for (unsigned i = 0; i < 16; i++)
            ASSERT_EQ(device_read_overwrite_async(dev_, q, i, 0, i, BS, in.chars() + i * BS),
                      KERN_SUCCESS);
        ASSERT_EQ(device_read_async_inband(dev_, q, 16, 0, 0, IO_INBAND_MAX), KERN_SUCCESS);
        std::vector<machio_cqe> c(32);
        unsigned got = 0, n = 0;
        std::vector<bool> seen(17);
        while (got < 17) {
            ASSERT_EQ(machio_io_done_queue_reap(q, 1, unsigned(c.size()), c.data(), -1, &n),
                      KERN_SUCCESS);
            ASSERT_GE(n, 1U);
            const machio_cqe* p = c.data();
            for (unsigned k = 0; k < n; k++, p = machio_cqe_next(p)) {
                ASSERT_LT(p->reqid, 17U);
                EXPECT_FALSE(seen[p->reqid]);
                seen[p->reqid] = true;
                EXPECT_EQ(p->code, KERN_SUCCESS);
                if (p->reqid == 16) {
                    EXPECT_EQ(p->flags, MACHIO_CQE_INBAND);
                    EXPECT_EQ(p->slots, MACHIO_CQE_MAX_SLOTS);
                    EXPECT_EQ(p->count, IO_INBAND_MAX);
                } else {
                    EXPECT_EQ(p->data,
                              reinterpret_cast<std::uintptr_t>(in.chars() + p->reqid * BS));
                }
            }
            got += n;
        }
        // Nothing left: a zero timeout returns none at once.
        EXPECT_EQ(machio_io_done_queue_reap(q, 1, 8, c.data(), 0, &n), KERN_SUCCESS);
        EXPECT_EQ(n, 0U);
        EXPECT_EQ(machio_io_done_queue_reap(q, 2, 1, c.data(), 0, &n), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(machio_io_done_queue_reap(q, 0, 0, c.data(), 0, &n), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(machio_io_done_queue_reap(q, 1, 8, nullptr, 0, &n), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(machio_io_done_queue_reap(q, 1, 8, c.data(), 0, nullptr), KERN_INVALID_ARGUMENT);
        // An inband read needs five slots: too small a buffer is an argument error.
        ASSERT_EQ(device_read_async_inband(dev_, q, 17, 0, 0, IO_INBAND_MAX), KERN_SUCCESS);
        if (entries)
            ASSERT_TRUE(ring_holds(q, 1));
        else
            usleep(100000);
        EXPECT_EQ(machio_io_done_queue_reap(q, 1, 4, c.data(), -1, &n), KERN_INVALID_ARGUMENT);
        EXPECT_EQ(machio_io_done_queue_reap(q, 1, 5, c.data(), -1, &n), KERN_SUCCESS);
        EXPECT_EQ(n, 1U);
        ASSERT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
        EXPECT_EQ(machio_io_done_queue_reap(q, 1, 8, c.data(), -1, &n), KERN_TERMINATED);
        EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    }
}

TEST_F(CDisk, QueueFileIsReadableWhileCompletionsWait) {
    const int fd = machio_io_done_queue_fd(q_);
    ASSERT_GE(fd, 0);
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    EXPECT_EQ(poll(&p, 1, 0), 0);
    ASSERT_EQ(device_read_async_inband(dev_, q_, 1, 0, 0, 8), KERN_SUCCESS);
    EXPECT_EQ(poll(&p, 1, 5000), 1);
    EXPECT_TRUE(p.revents & POLLIN);
    io_done_result_t r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(poll(&p, 1, 0), 0);
}

TEST_F(CDisk, PolledQueue) {
    machio_queue_options_t o = {.ring_entries = 16, .eventfd = -1, .flags = MACHIO_QUEUE_POLLED};
    mach_port_t q = MACH_PORT_NULL;
    ASSERT_EQ(machio_io_done_queue_create_with(mach_host_self(), &o, &q), KERN_SUCCESS);
    aligned_buffer out(4 * BS), in(4 * BS);
    std::memset(out.chars(), 0x3c, 4 * BS);
    ASSERT_EQ(device_write_async(dev_, q, 1, 0, 0, out.chars(), 4 * BS), KERN_SUCCESS);
    io_done_result_t r;
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS); // polls
    EXPECT_EQ(r.qd_code, KERN_SUCCESS);
    ASSERT_EQ(device_read_overwrite_async(dev_, q, 2, 0, 0, 4 * BS, in.chars()), KERN_SUCCESS);
    ASSERT_EQ(io_done_queue_wait(q, &r), KERN_SUCCESS);
    EXPECT_EQ(r.qd_reqid, 2U);
    EXPECT_EQ(std::memcmp(out.chars(), in.chars(), 4 * BS), 0);
    // Only zero-copy reads and writes.
    EXPECT_EQ(device_read_async(dev_, q, 3, 0, 0, BS), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(device_read_async_inband(dev_, q, 3, 0, 0, 8), KERN_INVALID_ARGUMENT);
    EXPECT_EQ(io_done_queue_terminate(q), KERN_SUCCESS);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), q), KERN_SUCCESS);
    o.flags = 1U << 9;
    EXPECT_EQ(machio_io_done_queue_create_with(mach_host_self(), &o, &q), KERN_INVALID_ARGUMENT);
}

// ---- port rights ----------------------------------------------------------------

TEST_F(CApi, PortRightsCountAndDieAsInOsf) {
    mach_port_t task = mach_task_self();
    mach_port_name_t port = MACH_PORT_NULL;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &port), KERN_SUCCESS);
    EXPECT_EQ(mach_port_insert_right(task, port, port, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
    mach_port_type_t type = 0;
    EXPECT_EQ(mach_port_type(task, port, &type), KERN_SUCCESS);
    EXPECT_EQ(type, MACH_PORT_TYPE_SEND_RECEIVE);
    EXPECT_EQ(mach_port_mod_refs(task, port, MACH_PORT_RIGHT_SEND, 4), KERN_SUCCESS);
    mach_port_urefs_t refs = 0;
    EXPECT_EQ(mach_port_get_refs(task, port, MACH_PORT_RIGHT_SEND, &refs), KERN_SUCCESS);
    EXPECT_EQ(refs, 5U);

    mach_port_name_t so = 0x3301;
    EXPECT_EQ(mach_port_insert_right(task, so, port, MACH_MSG_TYPE_MAKE_SEND_ONCE), KERN_SUCCESS);
    EXPECT_EQ(mach_port_mod_refs(task, port, MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
    EXPECT_EQ(mach_port_type(task, so, &type), KERN_SUCCESS);
    EXPECT_EQ(type, MACH_PORT_TYPE_DEAD_NAME);
    EXPECT_EQ(mach_port_deallocate(task, so), KERN_SUCCESS);
    EXPECT_EQ(mach_port_type(task, so, &type), KERN_INVALID_NAME);
    EXPECT_EQ(mach_port_destroy(task, port), KERN_SUCCESS);

    mach_port_qos_t qos = {};
    qos.rt = 1;
    mach_port_name_t rt = MACH_PORT_NULL;
    EXPECT_EQ(mach_port_allocate_qos(task, MACH_PORT_RIGHT_PORT_SET, &qos, &rt),
              KERN_INVALID_VALUE);
    EXPECT_EQ(mach_port_allocate_qos(task, MACH_PORT_RIGHT_RECEIVE, &qos, &rt), KERN_SUCCESS);
    qos.name = 1;
    mach_port_name_t named = 0x4401;
    EXPECT_EQ(mach_port_allocate_full(task, MACH_PORT_RIGHT_RECEIVE, SUBSYSTEM_NULL, &qos, &named),
              KERN_SUCCESS);
    EXPECT_EQ(named, 0x4401U);
    EXPECT_EQ(mach_port_allocate_name(task, MACH_PORT_RIGHT_DEAD_NAME, 0x4401), KERN_NAME_EXISTS);
    EXPECT_EQ(mach_port_allocate(mach_host_self(), MACH_PORT_RIGHT_RECEIVE, &port),
              KERN_INVALID_TASK);
    mach_port_t reply = mach_reply_port();
    EXPECT_NE(reply, MACH_PORT_NULL);

    mach_port_name_array_t names = nullptr;
    mach_port_type_array_t types = nullptr;
    mach_msg_type_number_t n = 0, nt = 0;
    ASSERT_EQ(mach_port_names(task, &names, &n, &types, &nt), KERN_SUCCESS);
    EXPECT_EQ(n, nt);
    bool found = false;
    for (mach_msg_type_number_t i = 0; i < n; i++)
        found |= names[i] == reply && types[i] == MACH_PORT_TYPE_RECEIVE;
    EXPECT_TRUE(found);
    EXPECT_EQ(vm_deallocate(task, vm_address_t(names), n * sizeof(*names)), KERN_SUCCESS);
    EXPECT_EQ(vm_deallocate(task, vm_address_t(types), n * sizeof(*types)), KERN_SUCCESS);
}

TEST_F(CApi, MachMsgRoundTripWithASendOnceReply) {
    mach_port_t task = mach_task_self();
    mach_port_name_t service = MACH_PORT_NULL;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &service), KERN_SUCCESS);
    ASSERT_EQ(mach_port_insert_right(task, service, service, MACH_MSG_TYPE_MAKE_SEND),
              KERN_SUCCESS);
    mach_port_t reply = mach_reply_port();
    ASSERT_NE(reply, MACH_PORT_NULL);
    struct request {
        mach_msg_header_t head;
        int value;
    };
    std::thread server([&] {
        request in{};
        ASSERT_EQ(mach_msg(&in.head, MACH_RCV_MSG, 0, sizeof(in), service, 0, MACH_PORT_NULL),
                  MACH_MSG_SUCCESS);
        EXPECT_EQ(MACH_MSGH_BITS_REMOTE(in.head.msgh_bits), MACH_MSG_TYPE_PORT_SEND_ONCE);
        in.value *= 2;
        in.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
        in.head.msgh_local_port = MACH_PORT_NULL;
        EXPECT_EQ(
            mach_msg(&in.head, MACH_SEND_MSG, sizeof(in), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
            MACH_MSG_SUCCESS);
    });
    request out{};
    out.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    out.head.msgh_size = sizeof(out);
    out.head.msgh_remote_port = service;
    out.head.msgh_local_port = reply;
    out.head.msgh_id = 7;
    out.value = 21;
    EXPECT_EQ(mach_msg(&out.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(out), sizeof(out), reply, 0,
                       MACH_PORT_NULL),
              MACH_MSG_SUCCESS);
    server.join();
    EXPECT_EQ(out.value, 42);
    EXPECT_EQ(out.head.msgh_id, 7);
    EXPECT_EQ(out.head.msgh_local_port, reply);
    EXPECT_EQ(mach_msg(&out.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(out), reply, 0,
                       MACH_PORT_NULL),
              MACH_RCV_TIMED_OUT);
    EXPECT_EQ(mach_port_destroy(task, service), KERN_SUCCESS);
    EXPECT_EQ(mach_port_destroy(task, reply), KERN_SUCCESS);
}

// mach_msg_overwrite: the reply arrives in its own buffer; the request's stays as it was sent.
TEST_F(CApi, MachMsgOverwriteReceivesIntoItsOwnBuffer) {
    mach_port_t task = mach_task_self();
    mach_port_name_t port = MACH_PORT_NULL;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &port), KERN_SUCCESS);
    struct message {
        mach_msg_header_t head;
        int value;
    };
    message out{}, in{};
    out.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
    out.head.msgh_size = sizeof(out);
    out.head.msgh_remote_port = port;
    out.head.msgh_id = 9;
    out.value = 1234;
    const message sent = out;
    EXPECT_EQ(mach_msg_overwrite(&out.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(out), sizeof(in),
                                 port, 0, MACH_PORT_NULL, &in.head, 0),
              MACH_MSG_SUCCESS);
    EXPECT_EQ(std::memcmp(&out, &sent, sizeof(out)), 0);
    EXPECT_EQ(in.head.msgh_id, 9);
    EXPECT_EQ(in.value, 1234);
    EXPECT_EQ(in.head.msgh_local_port, port);
    // A null receive buffer is mach_msg's: the send buffer.
    EXPECT_EQ(mach_msg_overwrite(&out.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(out), sizeof(out),
                                 port, 0, MACH_PORT_NULL, nullptr, 0),
              MACH_MSG_SUCCESS);
    EXPECT_EQ(out.head.msgh_local_port, port);
    EXPECT_EQ(out.value, 1234);
    EXPECT_EQ(mach_port_destroy(task, port), KERN_SUCCESS);
}

TEST_F(CApi, PortSetReceivesFromItsMembers) {
    mach_port_t task = mach_task_self();
    mach_port_name_t set = MACH_PORT_NULL, a = MACH_PORT_NULL, b = MACH_PORT_NULL;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET, &set), KERN_SUCCESS);
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &a), KERN_SUCCESS);
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &b), KERN_SUCCESS);
    EXPECT_EQ(mach_port_move_member(task, a, MACH_PORT_NULL), KERN_NOT_IN_SET);
    EXPECT_EQ(mach_port_move_member(task, set, set), KERN_INVALID_RIGHT);
    ASSERT_EQ(mach_port_move_member(task, a, set), KERN_SUCCESS);
    ASSERT_EQ(mach_port_move_member(task, b, set), KERN_SUCCESS);
    mach_port_name_array_t members = nullptr;
    mach_msg_type_number_t count = 0;
    ASSERT_EQ(mach_port_get_set_status(task, set, &members, &count), KERN_SUCCESS);
    EXPECT_EQ(count, 2U);
    EXPECT_EQ(vm_deallocate(task, vm_address_t(members), count * sizeof(*members)), KERN_SUCCESS);
    EXPECT_EQ(mach_port_get_set_status(task, a, &members, &count), KERN_INVALID_RIGHT);
    for (mach_port_t to : {b, a}) {
        mach_msg_header_t h = {};
        h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
        h.msgh_size = sizeof(h);
        h.msgh_remote_port = to;
        ASSERT_EQ(mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
                  MACH_MSG_SUCCESS);
    }
    mach_msg_header_t r = {};
    EXPECT_EQ(mach_msg(&r, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(r), a, 0, MACH_PORT_NULL),
              MACH_RCV_IN_SET);
    for (mach_port_t from : {b, a}) {
        ASSERT_EQ(mach_msg(&r, MACH_RCV_MSG, 0, sizeof(r), set, 0, MACH_PORT_NULL),
                  MACH_MSG_SUCCESS);
        EXPECT_EQ(r.msgh_local_port, from);
    }
    EXPECT_EQ(mach_port_destroy(task, set), KERN_SUCCESS);
    EXPECT_EQ(mach_port_destroy(task, a), KERN_SUCCESS);
    EXPECT_EQ(mach_port_destroy(task, b), KERN_SUCCESS);
}

TEST_F(CApi, NoSendersAndSendOnceNotifications) {
    mach_port_t task = mach_task_self();
    mach_port_name_t port = MACH_PORT_NULL, notify = MACH_PORT_NULL;
    mach_port_send_once_t previous = 1;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &port), KERN_SUCCESS);
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &notify), KERN_SUCCESS);
    ASSERT_EQ(mach_port_insert_right(task, port, port, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
    ASSERT_EQ(mach_port_request_notification(task, port, MACH_NOTIFY_NO_SENDERS, 0, notify,
                                             MACH_MSG_TYPE_MAKE_SEND_ONCE, &previous),
              KERN_SUCCESS);
    EXPECT_EQ(previous, MACH_PORT_NULL);
    EXPECT_EQ(mach_port_request_notification(task, port, MACH_NOTIFY_NO_SENDERS, 0, notify,
                                             MACH_MSG_TYPE_MAKE_SEND_ONCE, nullptr),
              KERN_INVALID_ADDRESS);
    ASSERT_EQ(mach_port_deallocate(task, port), KERN_SUCCESS);
    mach_no_senders_notification_t ns = {};
    ASSERT_EQ(mach_msg(&ns.not_header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(ns), notify, 2000,
                       MACH_PORT_NULL),
              MACH_MSG_SUCCESS);
    EXPECT_EQ(ns.not_header.msgh_id, MACH_NOTIFY_NO_SENDERS);
    EXPECT_EQ(ns.not_header.msgh_size, sizeof(ns) - sizeof(ns.trailer));
    EXPECT_EQ(ns.not_count, 1U);
    EXPECT_EQ(ns.NDR.int_rep, 1);
    // A send-once right destroyed unused tells its port.
    mach_port_t reply = mach_reply_port();
    mach_port_name_t once = 0x7101;
    ASSERT_EQ(mach_port_insert_right(task, once, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE),
              KERN_SUCCESS);
    ASSERT_EQ(mach_port_deallocate(task, once), KERN_SUCCESS);
    mach_send_once_notification_t so = {};
    ASSERT_EQ(mach_msg(&so.not_header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(so), reply, 2000,
                       MACH_PORT_NULL),
              MACH_MSG_SUCCESS);
    EXPECT_EQ(so.not_header.msgh_id, MACH_NOTIFY_SEND_ONCE);
    EXPECT_EQ(mach_port_destroy(task, port), KERN_SUCCESS);
    EXPECT_EQ(mach_port_destroy(task, notify), KERN_SUCCESS);
    EXPECT_EQ(mach_port_destroy(task, reply), KERN_SUCCESS);
}

TEST_F(CApi, NetnameCheckInLookUpCheckOut) {
    mach_port_t task = mach_task_self();
    mach_port_name_t port = MACH_PORT_NULL, sig = MACH_PORT_NULL, found = MACH_PORT_NULL;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &port), KERN_SUCCESS);
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &sig), KERN_SUCCESS);
    ASSERT_EQ(mach_port_insert_right(task, sig, sig, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
    const std::string name = "machio-capi-" + std::to_string(getpid());
    EXPECT_EQ(netname_look_up(name_server_port, "", name.c_str(), &found), KERN_INVALID_NAME);
    ASSERT_EQ(netname_check_in(name_server_port, name.c_str(), sig, port), NETNAME_SUCCESS);
    EXPECT_EQ(netname_check_in(name_server_port, name.c_str(), MACH_PORT_NULL, port),
              NETNAME_NOT_YOURS);
    ASSERT_EQ(netname_look_up(name_server_port, "", name.c_str(), &found), NETNAME_SUCCESS);
    EXPECT_EQ(found, port); // its own receive right's name
    EXPECT_EQ(netname_look_up(name_server_port, "elsewhere", name.c_str(), &found),
              NETNAME_NO_SUCH_HOST);
    EXPECT_EQ(netname_look_up(name_server_port, "", name.c_str(), nullptr), KERN_INVALID_ADDRESS);
    EXPECT_EQ(netname_look_up(mach_task_self(), "", name.c_str(), &found), MACH_SEND_INVALID_DEST);
    EXPECT_EQ(netname_check_out(name_server_port, name.c_str(), MACH_PORT_NULL), NETNAME_NOT_YOURS);
    EXPECT_EQ(netname_check_out(name_server_port, name.c_str(), sig), NETNAME_SUCCESS);
    EXPECT_EQ(netname_check_out(name_server_port, name.c_str(), sig), KERN_INVALID_NAME);
    // The name server's right lasts as long as the space.
    EXPECT_EQ(mach_port_deallocate(task, name_server_port), KERN_SUCCESS);
    mach_port_type_t type = 0;
    EXPECT_EQ(mach_port_type(task, name_server_port, &type), KERN_SUCCESS);
    EXPECT_EQ(type, MACH_PORT_TYPE_SEND);
    EXPECT_EQ(mach_port_destroy(task, port), KERN_SUCCESS);
    EXPECT_EQ(mach_port_destroy(task, sig), KERN_SUCCESS);
}

// A forked child with a space of its own finds the parent's port by name and
// asks it for a number, over mach_msg.
TEST_F(CApi, NetnameConnectsTwoProcesses) {
    mach_port_t task = mach_task_self();
    mach_port_name_t service = MACH_PORT_NULL;
    ASSERT_EQ(mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &service), KERN_SUCCESS);
    const std::string name = "machio-capi-rpc-" + std::to_string(getpid());
    ASSERT_EQ(netname_check_in(name_server_port, name.c_str(), MACH_PORT_NULL, service),
              NETNAME_SUCCESS);
    struct request {
        mach_msg_header_t head;
        int value;
    };
    std::thread server([&] {
        request in{};
        ASSERT_EQ(mach_msg(&in.head, MACH_RCV_MSG, 0, sizeof(in), service, 0, MACH_PORT_NULL),
                  MACH_MSG_SUCCESS);
        in.value += 1000;
        in.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
        in.head.msgh_local_port = MACH_PORT_NULL;
        EXPECT_EQ(
            mach_msg(&in.head, MACH_SEND_MSG, sizeof(in), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
            MACH_MSG_SUCCESS);
    });
    int rc = test::in_child([&]() -> int {
        if (machio_space_reset() != KERN_SUCCESS)
            return 10;
        mach_port_t server_port = MACH_PORT_NULL;
        if (netname_look_up(name_server_port, "", name.c_str(), &server_port) != NETNAME_SUCCESS)
            return 11;
        mach_port_t reply = mach_reply_port();
        request out{};
        out.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
        out.head.msgh_size = sizeof(out);
        out.head.msgh_remote_port = server_port;
        out.head.msgh_local_port = reply;
        out.value = 337;
        if (mach_msg(&out.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(out), sizeof(out), reply, 0,
                     MACH_PORT_NULL) != MACH_MSG_SUCCESS)
            return 12;
        return out.value == 1337 ? 0 : 13;
    });
    server.join();
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(mach_port_destroy(task, service), KERN_SUCCESS);
}

TEST_F(CApi, PortAttributesQueueLimitAndStatus) {
    mach_port_t task = mach_task_self();
    mach_port_name_t port = MACH_PORT_NULL;
    mach_port_qos_t qos = {};
    qos.rt = 1;
    ASSERT_EQ(mach_port_allocate_qos(task, MACH_PORT_RIGHT_RECEIVE, &qos, &port), KERN_SUCCESS);
    mach_port_limits_t limits = {};
    mach_msg_type_number_t count = MACH_PORT_LIMITS_INFO_COUNT;
    ASSERT_EQ(mach_port_get_attributes(task, port, MACH_PORT_LIMITS_INFO,
                                       reinterpret_cast<mach_port_info_t>(&limits), &count),
              KERN_SUCCESS);
    EXPECT_EQ(limits.mpl_qlimit, unsigned(MACH_PORT_QLIMIT_DEFAULT));
    limits.mpl_qlimit = MACH_PORT_QLIMIT_MAX;
    EXPECT_EQ(mach_port_set_attributes(task, port, MACH_PORT_LIMITS_INFO,
                                       reinterpret_cast<mach_port_info_t>(&limits),
                                       MACH_PORT_LIMITS_INFO_COUNT),
              KERN_SUCCESS);
    mach_port_status_t status = {};
    count = MACH_PORT_RECEIVE_STATUS_COUNT;
    ASSERT_EQ(mach_port_get_attributes(task, port, MACH_PORT_RECEIVE_STATUS,
                                       reinterpret_cast<mach_port_info_t>(&status), &count),
              KERN_SUCCESS);
    EXPECT_EQ(count, unsigned(MACH_PORT_RECEIVE_STATUS_COUNT));
    EXPECT_EQ(status.mps_qlimit, unsigned(MACH_PORT_QLIMIT_MAX));
    EXPECT_EQ(status.mps_flags, unsigned(MACH_PORT_FLAGS_RT));
    EXPECT_EQ(status.mps_pset, MACH_PORT_NULL);
    count = 1;
    EXPECT_EQ(mach_port_get_attributes(task, port, MACH_PORT_RECEIVE_STATUS,
                                       reinterpret_cast<mach_port_info_t>(&status), &count),
              KERN_FAILURE);
    EXPECT_EQ(mach_port_destroy(task, port), KERN_SUCCESS);
}
