// The C++ API (<machio/machio.hpp>) against the real module, on null_blk
// disks.  Runs inside the test VM (selftests/run-in-vm.sh); skipped without
// /dev/machio.  Most tests use a private space; the lifetime tests use the
// process space, so that the C API can ask the kernel what became of a name.
#include "vm_support.hpp"

#include <machio/machio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace {

using machio::completion;
using machio::completion_record;
using machio::device;
using machio::device_errc;
using machio::io_done_queue;
using machio::io_type;
using machio::kern_errc;
using machio::ool_buffer;
using machio::queue_options;
using machio::receive_right;
using machio::send_right;
using machio::space;
using test::aligned_buffer;
using test::fill_pattern;
using test::pattern_mismatch;

constexpr std::size_t BS = 512;
constexpr recnum_t NBLOCKS = (64 << 20) / BS;

// Move-only handles.
static_assert(!std::is_copy_constructible_v<space> && std::is_nothrow_move_constructible_v<space>);
static_assert(!std::is_copy_assignable_v<space> && std::is_nothrow_move_assignable_v<space>);
static_assert(!std::is_copy_constructible_v<io_done_queue>);
static_assert(std::is_nothrow_move_constructible_v<io_done_queue>);
static_assert(std::is_nothrow_move_assignable_v<io_done_queue>);
static_assert(!std::is_copy_constructible_v<device>);
static_assert(std::is_nothrow_move_constructible_v<device>);
static_assert(std::is_nothrow_move_assignable_v<device>);
static_assert(!std::is_copy_constructible_v<ool_buffer>);
static_assert(std::is_nothrow_move_constructible_v<ool_buffer>);
static_assert(!std::is_copy_constructible_v<completion>);
static_assert(std::is_nothrow_move_constructible_v<completion>);

// What the kernel says about a queue name of the process space.
enum class queue_state { live, dead, gone, other };
std::ostream& operator<<(std::ostream& os, queue_state s) {
    const char* names[] = {"live", "dead", "gone", "other"};
    return os << names[static_cast<int>(s)];
}

queue_state probe_queue(mach_port_t name) {
    // Refused for a live queue (nothing changes), unknown for a gone name;
    // a dead name is released by this (tests only probe at the end).
    switch (mach_port_deallocate(mach_task_self(), name)) {
    case KERN_INVALID_RIGHT:
        return queue_state::live;
    case KERN_INVALID_NAME:
        return queue_state::gone;
    case KERN_SUCCESS:
        return queue_state::dead;
    default:
        return queue_state::other;
    }
}

// Whether a device name of the process space still exists.
bool device_exists(mach_port_t name) {
    std::uint64_t size = 0;
    return machio_device_size(name, &size, nullptr) == KERN_SUCCESS;
}

std::span<const std::byte> bytes(const aligned_buffer& b, std::size_t offset = 0,
                                 std::size_t len = std::size_t(-1)) {
    return std::span<const std::byte>(b.data(), b.size()).subspan(offset, len);
}

class CxxApi : public ::testing::Test {
  protected:
    void SetUp() override {
        MACHIO_SKIP_WITHOUT_MODULE();
        auto sp = space::open();
        ASSERT_TRUE(sp) << "cannot open " << test::machio_node() << ": " << sp.error().message();
        sp_ = std::move(*sp);
    }
    void TearDown() override {
        // Tests close their devices before this; the disks go last.
        disks_.clear();
    }

    test::nullb& make_disk(const std::vector<test::nullb::attr>& attrs = {}) {
        disks_.push_back(std::make_unique<test::nullb>(attrs));
        EXPECT_TRUE(disks_.back()->ok()) << disks_.back()->error();
        return *disks_.back();
    }

    io_done_queue make_queue(const space& sp) {
        auto q = io_done_queue::create(sp);
        EXPECT_TRUE(q) << q.error().message();
        return q ? std::move(*q) : io_done_queue();
    }
    io_done_queue make_queue() { return make_queue(sp_); }

    device open_device(const space& sp, const test::nullb& disk,
                       dev_mode_t mode = D_READ | D_WRITE) {
        auto d = device::open(sp, disk.name(), mode);
        EXPECT_TRUE(d) << d.error().message();
        return d ? std::move(*d) : device();
    }
    device open_device(const test::nullb& disk, dev_mode_t mode = D_READ | D_WRITE) {
        return open_device(sp_, disk, mode);
    }

    // Wait for one completion, which must be a success.
    static ::testing::AssertionResult completed(const io_done_queue& q, completion& out) {
        auto c = q.wait();
        if (!c)
            return ::testing::AssertionFailure() << "wait: " << c.error().message();
        if (!c->ok())
            return ::testing::AssertionFailure()
                   << "request " << c->request_id() << ": " << c->status().message();
        out = std::move(*c);
        return ::testing::AssertionSuccess();
    }

    void write_pattern(const device& d, const io_done_queue& q, recnum_t recnum, std::size_t len,
                       unsigned seed) {
        aligned_buffer buf(len);
        fill_pattern(buf.data(), len, seed);
        ASSERT_FALSE(d.write_async(q, 0xabc, recnum, bytes(buf)));
        completion c;
        ASSERT_TRUE(completed(q, c));
        ASSERT_EQ(c.request_id(), 0xabcU);
        ASSERT_EQ(c.count(), len);
    }

    void read_back(const device& d, const io_done_queue& q, recnum_t recnum, aligned_buffer& into) {
        ASSERT_FALSE(d.read_overwrite_async(q, 0xdef, recnum, into.span()));
        completion c;
        ASSERT_TRUE(completed(q, c));
        ASSERT_EQ(c.request_id(), 0xdefU);
        ASSERT_EQ(c.count(), into.size());
    }

    space sp_ = space::process();
    std::vector<std::unique_ptr<test::nullb>> disks_;
};

// A private space with a queue and a read-write device on a default disk.
class CxxDisk : public CxxApi {
  protected:
    void SetUp() override {
        CxxApi::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        disk_ = &make_disk(disk_attrs());
        ASSERT_TRUE(disk_->ok());
        q_ = make_queue();
        dev_ = open_device(*disk_);
        ASSERT_TRUE(q_);
        ASSERT_TRUE(dev_);
    }
    void TearDown() override {
        q_ = io_done_queue();
        dev_ = device();
        CxxApi::TearDown();
    }
    virtual std::vector<test::nullb::attr> disk_attrs() { return {{"irqmode", "1"}}; }

    void expect_queue_empty() {
        ASSERT_FALSE(dev_.read_inband_async(q_, 0x3a3a3a3a, 0, 8));
        completion c;
        ASSERT_TRUE(completed(q_, c));
        EXPECT_EQ(c.request_id(), 0x3a3a3a3aU) << "an unexpected completion was queued";
    }

    test::nullb* disk_ = nullptr;
    io_done_queue q_;
    device dev_;
};

// ---- Mach ports ----------------------------------------------------------------

TEST_F(CxxApi, PortsCarryAnRpcBetweenThreads) {
    auto service = receive_right::allocate();
    ASSERT_TRUE(service) << service.error().message();
    auto reply = receive_right::allocate(true); // realtime
    ASSERT_TRUE(reply);
    const std::string name = "machio-cxx-" + std::to_string(getpid());
    ASSERT_FALSE(service->check_in(name));
    auto to_service = send_right::look_up(name);
    ASSERT_TRUE(to_service) << to_service.error().message();
    EXPECT_EQ(to_service->name(), service->name()); // one name per port
    EXPECT_EQ(send_right::look_up("machio-cxx-nobody").error(),
              machio::to_error_code(KERN_INVALID_NAME));
    struct request {
        mach_msg_header_t head;
        int value;
    };
    std::thread server([&] {
        request in{};
        auto got = service->receive(std::as_writable_bytes(std::span(&in, 1)));
        ASSERT_TRUE(got) << got.error().message();
        EXPECT_EQ(*got, sizeof(in));
        in.value *= 3;
        in.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
        in.head.msgh_local_port = MACH_PORT_NULL;
        EXPECT_EQ(
            mach_msg(&in.head, MACH_SEND_MSG, sizeof(in), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
            MACH_MSG_SUCCESS);
    });
    request out{};
    out.head.msgh_size = sizeof(out);
    out.value = 14;
    auto answer = to_service->call(out.head, *reply, std::as_writable_bytes(std::span(&out, 1)));
    server.join();
    ASSERT_TRUE(answer) << answer.error().message();
    EXPECT_EQ(out.value, 42);
    // Nothing more: a poll times out, as an error_code in words.
    auto none =
        reply->receive(std::as_writable_bytes(std::span(&out, 1)), std::chrono::milliseconds(0));
    EXPECT_EQ(none.error(), machio::to_error_code(MACH_RCV_TIMED_OUT));
    EXPECT_EQ(none.error().message(), "(ipc/rcv) timed out");
    EXPECT_FALSE(service->check_out(name));
    // A made send right, and one sent message.
    auto made = service->make_send();
    ASSERT_TRUE(made);
    mach_msg_header_t h{};
    h.msgh_size = sizeof(h);
    h.msgh_id = 9;
    EXPECT_FALSE(made->send(h));
    auto got = service->receive(std::as_writable_bytes(std::span(&h, 1)));
    ASSERT_TRUE(got);
    EXPECT_EQ(h.msgh_id, 9);
    // The receive right destroyed: the send rights are dead names.
    mach_port_t n = service->name();
    receive_right gone = std::move(*service);
    { receive_right destroyer = std::move(gone); }
    mach_port_type_t type = 0;
    EXPECT_EQ(mach_port_type(mach_task_self(), n, &type), KERN_SUCCESS);
    EXPECT_EQ(type, MACH_PORT_TYPE_DEAD_NAME);
}

// ---- spaces -------------------------------------------------------------------

TEST_F(CxxApi, PrivateSpaceHasItsOwnDescriptorAndNames) {
    EXPECT_TRUE(sp_);
    EXPECT_FALSE(sp_.is_process());
    ASSERT_GE(sp_.fd(), 0);
    EXPECT_NE(sp_.fd(), machio_fd());
    EXPECT_TRUE(fcntl(sp_.fd(), F_GETFD) & FD_CLOEXEC);
    // A fresh space of its own: the kernel names host and task 1 and 2.
    EXPECT_EQ(sp_.host().value(), 0x101U);
    EXPECT_EQ(sp_.task().value(), 0x201U);
    auto info = sp_.info();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->abi_version, unsigned(MACHIO_ABI_VERSION));
    EXPECT_EQ(info->io_inband_max, unsigned(IO_INBAND_MAX));
    EXPECT_TRUE(info->features & MACHIO_FEAT_IO_DONE_QUEUE);
    EXPECT_EQ(info->host, 0x101U);

    space throwing_ctor; // opens another private space
    EXPECT_GE(throwing_ctor.fd(), 0);
    EXPECT_NE(throwing_ctor.fd(), sp_.fd());

    space p = space::process();
    EXPECT_TRUE(p.is_process());
    EXPECT_EQ(p.fd(), machio_fd());
    EXPECT_EQ(p.host().value(), mach_host_self());
    EXPECT_EQ(p.task().value(), mach_task_self());
}

TEST_F(CxxApi, SpacesAreSeparate) {
    auto other = space::open();
    ASSERT_TRUE(other);
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    io_done_queue a = make_queue(sp_);
    io_done_queue b = make_queue(*other);
    // The first queue of each fresh space: the same name, different queues.
    EXPECT_EQ(a.name(), 0x401U); // after host, task and the name server
    EXPECT_EQ(b.name(), 0x401U);
    device da = open_device(sp_, disk);
    device db = open_device(*other, disk);
    // A queue of another space is refused.
    EXPECT_EQ(da.read_inband_async(b, 1, 0, 8), kern_errc::invalid_argument);
    // Terminating one leaves the other alone.
    EXPECT_FALSE(a.terminate());
    EXPECT_EQ(da.read_inband_async(a, 1, 0, 8), kern_errc::terminated);
    ASSERT_FALSE(db.read_inband_async(b, 2, 0, 8));
    completion c;
    ASSERT_TRUE(completed(b, c));
    EXPECT_EQ(c.request_id(), 2U);
}

TEST_F(CxxApi, SpaceMoveKeepsTheDescriptor) {
    const int fd = sp_.fd();
    space moved = std::move(sp_);
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_FALSE(sp_); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(sp_.fd(), -1);
    EXPECT_EQ(sp_.host().error(), kern_errc::invalid_argument);
    EXPECT_EQ(io_done_queue::create(sp_).error(), kern_errc::invalid_argument);
    sp_ = std::move(moved);
    EXPECT_EQ(sp_.fd(), fd);
    EXPECT_GE(fcntl(fd, F_GETFD), 0);
    EXPECT_EQ(sp_.host().value(), 0x101U);
}

TEST_F(CxxApi, SpaceClosesItsDescriptorWhenTheLastObjectGoes) {
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    const int fd = sp_.fd();
    {
        io_done_queue q = make_queue();
        device d = open_device(disk);
        sp_ = space::process(); // drop the private space object
        // The queue and device keep the space alive and working.
        EXPECT_GE(fcntl(fd, F_GETFD), 0);
        std::array<std::byte, 16> data{};
        ASSERT_FALSE(d.write_inband_async(q, 1, 0, data));
        completion c;
        ASSERT_TRUE(completed(q, c));
        EXPECT_EQ(c.type(), io_type::write);
        q = io_done_queue();
        EXPECT_GE(fcntl(fd, F_GETFD), 0); // the device still holds it
    }
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

// ---- queue lifetimes (process space: the C API probes the names) -----------

TEST_F(CxxApi, QueueDestructorTerminatesAndDeallocates) {
    space p = space::process();
    mach_port_t name;
    {
        io_done_queue q = make_queue(p);
        name = q.name();
        ASSERT_TRUE(MACH_PORT_VALID(name));
        EXPECT_TRUE(q);
        EXPECT_EQ(probe_queue(name), queue_state::live);
    }
    EXPECT_EQ(probe_queue(name), queue_state::gone);

    // A thread blocked on the queue is woken with KERN_TERMINATED.
    io_done_queue q = make_queue(p);
    name = q.name();
    kern_return_t kr = KERN_SUCCESS;
    std::atomic<pid_t> tid{0};
    std::thread waiter([&] {
        tid = test::gettid();
        io_done_result_t r;
        kr = io_done_queue_wait(name, &r);
    });
    while (!tid)
        std::this_thread::yield();
    ASSERT_TRUE(test::wait_until_blocked(tid));
    q = io_done_queue();
    waiter.join();
    EXPECT_EQ(kr, KERN_TERMINATED);
    EXPECT_EQ(probe_queue(name), queue_state::gone);
}

TEST_F(CxxApi, QueueDestructorWaitsForIoInFlight) {
    space p = space::process();
    test::nullb& slow = make_disk({{"irqmode", "2"}, {"completion_nsec", "200000000"}});
    ASSERT_TRUE(slow.ok());
    device d = open_device(p, slow);
    auto out = std::make_unique<aligned_buffer>(4 * BS);
    fill_pattern(out->data(), 4 * BS, 7);
    mach_port_t name;
    {
        io_done_queue q = make_queue(p);
        name = q.name();
        ASSERT_FALSE(d.write_async(q, 1, 10, bytes(*out)));
        ASSERT_FALSE(d.read_async(q, 2, 20, 4 * BS));
    }
    // The write was done when the destructor returned: its buffer may go.
    out.reset();
    EXPECT_EQ(probe_queue(name), queue_state::gone);
    io_done_queue q = make_queue(p);
    aligned_buffer in(4 * BS);
    read_back(d, q, 10, in);
    EXPECT_EQ(pattern_mismatch(in.data(), 4 * BS, 7), 4 * BS);
}

TEST_F(CxxApi, QueueMoveTransfersOwnership) {
    space p = space::process();
    io_done_queue a = make_queue(p);
    const mach_port_t name = a.name();
    io_done_queue b = std::move(a);
    EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.name(), MACH_PORT_NULL);
    EXPECT_EQ(b.name(), name);
    { io_done_queue sink = std::move(a); } // moved-from: nothing happens
    EXPECT_EQ(probe_queue(name), queue_state::live);

    // Move assignment releases the target's queue first.
    io_done_queue c = make_queue(p);
    const mach_port_t other = c.name();
    c = std::move(b);
    EXPECT_EQ(c.name(), name);
    EXPECT_EQ(probe_queue(other), queue_state::gone);
    EXPECT_EQ(probe_queue(name), queue_state::live);

    c = io_done_queue();
    EXPECT_EQ(probe_queue(name), queue_state::gone);
}

TEST_F(CxxApi, TerminateThenWaitThenClose) {
    space p = space::process();
    io_done_queue q = make_queue(p);
    const mach_port_t name = q.name();
    EXPECT_FALSE(q.terminate());
    auto w = q.wait();
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), kern_errc::terminated);
    EXPECT_EQ(&w.error().category(), &machio::kern_category());
    EXPECT_EQ(w.error().value(), KERN_TERMINATED);
    EXPECT_EQ(q.terminate(), kern_errc::terminated);
    // A dead name now, in the kernel's eyes as well.
    io_done_result_t r;
    EXPECT_EQ(io_done_queue_wait(name, &r), KERN_TERMINATED);
    EXPECT_EQ(mach_port_deallocate(mach_task_self(), name), KERN_SUCCESS);
    // close() finds it released already.
    EXPECT_EQ(q.close(), kern_errc::invalid_name);
    EXPECT_FALSE(q);
    EXPECT_FALSE(q.close());

    io_done_queue q2 = make_queue(p);
    const mach_port_t name2 = q2.name();
    EXPECT_FALSE(q2.terminate());
    EXPECT_FALSE(q2.close());
    EXPECT_EQ(probe_queue(name2), queue_state::gone);
}

TEST_F(CxxApi, ReleaseAndAdopt) {
    space p = space::process();
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    device d = open_device(p, disk);
    io_done_queue q = make_queue(p);
    const mach_port_t name = q.release();
    EXPECT_FALSE(q);
    { io_done_queue gone = std::move(q); }
    EXPECT_EQ(probe_queue(name), queue_state::live);

    io_done_queue again = io_done_queue::adopt(p, name);
    EXPECT_EQ(again.name(), name);
    ASSERT_FALSE(d.read_inband_async(again, 5, 0, 16));
    completion c;
    ASSERT_TRUE(completed(again, c));
    EXPECT_EQ(c.request_id(), 5U);
    again = io_done_queue();
    EXPECT_EQ(probe_queue(name), queue_state::gone);

    // A queue made with the C API.
    mach_port_t cq = MACH_PORT_NULL;
    ASSERT_EQ(io_done_queue_create(mach_host_self(), &cq), KERN_SUCCESS);
    {
        io_done_queue adopted = io_done_queue::adopt(p, cq);
        ASSERT_FALSE(d.read_inband_async(adopted, 6, 0, 16));
        io_done_result_t r;
        ASSERT_EQ(io_done_queue_wait(cq, &r), KERN_SUCCESS);
        EXPECT_EQ(r.qd_reqid, 6U);
    }
    EXPECT_EQ(probe_queue(cq), queue_state::gone);
    EXPECT_FALSE(io_done_queue::adopt(p, MACH_PORT_NULL));
    EXPECT_FALSE(io_done_queue::adopt(p, MACH_PORT_DEAD));
}

// ---- devices -----------------------------------------------------------------------

TEST_F(CxxApi, DeviceLifecycleAndMoves) {
    space p = space::process();
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    mach_port_t name;
    {
        device d = open_device(p, disk, D_READ);
        name = d.name();
        EXPECT_TRUE(device_exists(name));
        EXPECT_EQ(d.size(), 64U << 20);
        EXPECT_EQ(d.block_size(), BS);
        EXPECT_FALSE(d.refresh());
        EXPECT_EQ(d.size(), 64U << 20);

        device moved = std::move(d);
        EXPECT_FALSE(d); // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(d.size(), 0U);
        EXPECT_EQ(d.refresh(), kern_errc::invalid_argument);
        EXPECT_EQ(moved.name(), name);
        device target = open_device(p, disk, D_READ);
        const mach_port_t replaced = target.name();
        target = std::move(moved);
        EXPECT_EQ(target.name(), name);
        EXPECT_EQ(target.size(), 64U << 20);
        EXPECT_FALSE(device_exists(replaced));
        EXPECT_TRUE(device_exists(name));
    }
    EXPECT_FALSE(device_exists(name));

    device d = open_device(p, disk);
    name = d.name();
    EXPECT_FALSE(d.close());
    EXPECT_FALSE(d);
    EXPECT_FALSE(device_exists(name));
    EXPECT_FALSE(d.close());

    // Released names outlive the object; device_close() takes them back.
    device r = open_device(p, disk);
    name = r.release();
    EXPECT_FALSE(r);
    { device gone = std::move(r); }
    EXPECT_TRUE(device_exists(name));
    EXPECT_EQ(device_close(name), KERN_SUCCESS);
}

TEST_F(CxxApi, LargeDevice) {
    test::nullb& big = make_disk({{"size", "4096"}, {"blocksize", "4096"}});
    ASSERT_TRUE(big.ok());
    device d = open_device(big);
    EXPECT_EQ(d.size(), 4ULL << 30);
    EXPECT_EQ(d.block_size(), 4096U);
    io_done_queue q = make_queue();
    aligned_buffer buf(4096);
    ASSERT_FALSE(d.read_overwrite_async(q, 1, 0, buf.span().first(512)));
    auto c = q.wait();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status(), device_errc::invalid_size);
    ASSERT_FALSE(d.read_overwrite_async(q, 2, (4ULL << 30) / 4096 - 1, buf.span()));
    ASSERT_TRUE(completed(q, *c));
    EXPECT_EQ(c->count(), 4096U);
}

TEST_F(CxxApi, DeviceOpenErrors) {
    EXPECT_EQ(device::open(sp_, "machio-no-such-device").error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "").error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, std::string_view("a\0b", 3)).error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "null").error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "null").error(), std::errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "/dev/machio").error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "sda", 0x40).error(), kern_errc::invalid_argument);
    EXPECT_EQ(device::adopt(sp_, -1).error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(space(std::move(sp_)), "x").error(), device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "x").error(), kern_errc::invalid_argument); // moved from
    sp_ = space();

    // The module refuses what is no block device.
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(device::adopt(sp_, fd).error(), device_errc::no_such_device);
    close(fd);

    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    int rd = open(disk.path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(rd, 0);
    auto refused = device::adopt(sp_, rd, D_READ | D_WRITE);
    EXPECT_EQ(refused.error(), device_errc::read_only);
    EXPECT_EQ(refused.error(), std::errc::read_only_file_system);
    close(rd);
    int wr = open(disk.path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(wr, 0);
    EXPECT_EQ(device::adopt(sp_, wr, D_READ).error(), kern_errc::no_access);
    EXPECT_EQ(device::adopt(sp_, wr, D_READ).error(), std::errc::permission_denied);
    close(wr);
}

TEST_F(CxxApi, AdoptKeepsTheCallersDescriptor) {
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    int fd = open(disk.path().c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto d = device::adopt(sp_, fd, D_READ | D_WRITE);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(d->size(), 64U << 20);
    EXPECT_EQ(d->block_size(), BS);
    EXPECT_GE(fcntl(fd, F_GETFD), 0);
    close(fd);
    io_done_queue q = make_queue();
    write_pattern(*d, q, 8, BS, 12);
    aligned_buffer in(BS);
    read_back(*d, q, 8, in);
    EXPECT_EQ(pattern_mismatch(in.data(), BS, 12), BS);
    d = device();
}

// ---- transfers --------------------------------------------------------------------

TEST_F(CxxDisk, OutOfLineReadOwnsItsMapping) {
    write_pattern(dev_, q_, 1, 6 * BS, 20);
    ASSERT_FALSE(dev_.read_async(q_, 77, 1, 6 * BS));
    completion c;
    ASSERT_TRUE(completed(q_, c));
    EXPECT_EQ(c.type(), io_type::read);
    EXPECT_EQ(c.request_id(), 77U);
    EXPECT_FALSE(c.status());
    EXPECT_EQ(c.code(), KERN_SUCCESS);
    EXPECT_EQ(c.count(), 6 * BS);
    auto data = c.data();
    ASSERT_EQ(data.size(), 6 * BS);
    EXPECT_EQ(pattern_mismatch(data.data(), data.size(), 20), 6 * BS);
    const std::byte* p = data.data();
    EXPECT_EQ(c.buffer().data(), p);
    EXPECT_TRUE(test::mapped(p));

    // Moving the completion moves the mapping.
    completion moved = std::move(c);
    EXPECT_TRUE(c.data().empty()); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved.data().data(), p);
    ool_buffer buf = moved.take_buffer();
    EXPECT_TRUE(moved.data().empty());
    EXPECT_EQ(buf.data(), p);
    EXPECT_EQ(buf.size(), 6 * BS);
    EXPECT_TRUE(test::mapped(p));
    buf.reset();
    EXPECT_FALSE(test::mapped(p));

    // Destroying the completion unmaps.
    ASSERT_FALSE(dev_.read_async(q_, 78, 0, BS));
    const std::byte* p2 = nullptr;
    {
        auto c2 = q_.wait();
        ASSERT_TRUE(c2);
        ASSERT_TRUE(c2->ok());
        p2 = c2->data().data();
        EXPECT_TRUE(test::mapped(p2));
    }
    EXPECT_FALSE(test::mapped(p2));

    // release() hands the memory to the caller (vm_deallocate, in the
    // process space's terms; the memory is the process's either way).
    ASSERT_FALSE(dev_.read_async(q_, 79, 1, BS));
    auto c3 = q_.wait();
    ASSERT_TRUE(c3);
    auto mem = c3->buffer().release();
    { completion dropped = std::move(*c3); }
    ASSERT_TRUE(test::mapped(mem.data()));
    EXPECT_EQ(pattern_mismatch(mem.data(), BS, 20), BS);
    EXPECT_EQ(
        vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(mem.data()), mem.size()),
        KERN_SUCCESS);
    EXPECT_FALSE(test::mapped(mem.data()));
}

class CxxTransfer : public CxxDisk, public ::testing::WithParamInterface<const char*> {
  protected:
    std::vector<test::nullb::attr> disk_attrs() override {
        return {{"irqmode", GetParam()}, {"completion_nsec", "20000"}};
    }
};

TEST_P(CxxTransfer, EveryVariantRoundTrips) {
    constexpr std::size_t LEN = 4 * BS;
    constexpr recnum_t REC = 500;
    aligned_buffer out(LEN);
    fill_pattern(out.data(), LEN, 40);

    // write_async (zero copy).
    ASSERT_FALSE(dev_.write_async(q_, 1, REC, bytes(out)));
    completion w;
    ASSERT_TRUE(completed(q_, w));
    EXPECT_EQ(w.type(), io_type::write);
    EXPECT_EQ(w.request_id(), 1U);
    EXPECT_EQ(w.count(), LEN);
    EXPECT_TRUE(w.data().empty());

    // read_async: an ool_buffer.
    ASSERT_FALSE(dev_.read_async(q_, 2, REC, LEN));
    completion r;
    ASSERT_TRUE(completed(q_, r));
    EXPECT_EQ(r.type(), io_type::read);
    ASSERT_EQ(r.data().size(), LEN);
    EXPECT_TRUE(std::equal(r.data().begin(), r.data().end(), out.data()));
    EXPECT_EQ(r.buffer().size(), LEN);

    // read_overwrite_async: data() is the caller's buffer.
    aligned_buffer in(LEN);
    ASSERT_FALSE(dev_.read_overwrite_async(q_, 3, REC, in.span()));
    completion ow;
    ASSERT_TRUE(completed(q_, ow));
    EXPECT_EQ(ow.type(), io_type::overwrite);
    EXPECT_EQ(ow.count(), LEN);
    EXPECT_EQ(ow.data().data(), in.data());
    EXPECT_EQ(ow.data().size(), LEN);
    EXPECT_EQ(std::memcmp(in.data(), out.data(), LEN), 0);
    EXPECT_TRUE(ow.buffer().empty());

    // read_inband_async: a copy held in the completion, moving with it.
    ASSERT_FALSE(dev_.read_inband_async(q_, 4, REC + 1, IO_INBAND_MAX));
    completion ib;
    ASSERT_TRUE(completed(q_, ib));
    EXPECT_EQ(ib.type(), io_type::read);
    ASSERT_EQ(ib.data().size(), std::size_t(IO_INBAND_MAX));
    EXPECT_EQ(std::memcmp(ib.data().data(), out.data() + BS, IO_INBAND_MAX), 0);
    EXPECT_TRUE(ib.buffer().empty());
    completion moved = std::move(ib);
    EXPECT_EQ(std::memcmp(moved.data().data(), out.data() + BS, IO_INBAND_MAX), 0);
    EXPECT_GE(moved.data().data(), reinterpret_cast<const std::byte*>(&moved));
    EXPECT_LT(moved.data().data(), reinterpret_cast<const std::byte*>(&moved + 1));

    // write_inband_async: copied before it returns; patches the block.
    std::array<std::byte, 100> patch;
    fill_pattern(patch.data(), patch.size(), 41);
    ASSERT_FALSE(dev_.write_inband_async(q_, 5, REC + 2, patch));
    patch.fill(std::byte{0});
    completion wi;
    ASSERT_TRUE(completed(q_, wi));
    EXPECT_EQ(wi.type(), io_type::write);
    EXPECT_EQ(wi.count(), patch.size());
    aligned_buffer block(BS);
    read_back(dev_, q_, REC + 2, block);
    EXPECT_EQ(pattern_mismatch(block.data(), 100, 41), 100U);
    EXPECT_EQ(std::memcmp(block.data() + 100, out.data() + 2 * BS + 100, BS - 100), 0);

    // Writes whose completions are discarded.
    static aligned_buffer zero_copy(2 * BS); // untouched: nothing says when it is done
    fill_pattern(zero_copy.data(), zero_copy.size(), 42);
    ASSERT_FALSE(dev_.write_async(machio::discard, 6, REC + 10, bytes(zero_copy)));
    std::array<std::byte, 64> small;
    fill_pattern(small.data(), small.size(), 43);
    ASSERT_FALSE(dev_.write_inband_async(machio::discard, 7, REC + 20, small));
    bool landed = false;
    aligned_buffer check(2 * BS);
    for (int i = 0; i < 200 && !landed; ++i) {
        read_back(dev_, q_, REC + 10, check);
        ASSERT_FALSE(dev_.read_inband_async(q_, 8, REC + 20, small.size()));
        completion c;
        ASSERT_TRUE(completed(q_, c));
        ASSERT_EQ(c.request_id(), 8U);
        landed = pattern_mismatch(check.data(), 2 * BS, 42) == 2 * BS &&
                 pattern_mismatch(c.data().data(), small.size(), 43) == small.size();
        if (!landed)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(landed);
    expect_queue_empty();
}

INSTANTIATE_TEST_SUITE_P(NullBlk, CxxTransfer, ::testing::Values("0", "1", "2"),
                         [](const auto& info) { return std::string("irqmode") + info.param; });

TEST_F(CxxDisk, RawWait) {
    write_pattern(dev_, q_, 3, BS, 13);
    ASSERT_FALSE(dev_.read_inband_async(q_, 11, 3, 8));
    io_done_result_t raw;
    ASSERT_FALSE(q_.wait(raw));
    EXPECT_EQ(raw.qd_reqid, 11U);
    EXPECT_EQ(raw.qd_code, KERN_SUCCESS);
    EXPECT_EQ(raw.qd_count, 8);
    EXPECT_EQ(raw.qd_data, raw.qd_inline);
    EXPECT_EQ(pattern_mismatch(raw.qd_inline, 8, 13), 8U);

    // Out of line: the memory is then the caller's.
    ASSERT_FALSE(dev_.read_async(q_, 12, 3, BS));
    ASSERT_FALSE(q_.wait(raw));
    ASSERT_EQ(raw.qd_count, int(BS));
    EXPECT_EQ(pattern_mismatch(raw.qd_data, BS, 13), BS);
    EXPECT_EQ(munmap(raw.qd_data, 4096), 0);
}

// ---- error codes of real completions ----------------------------------------------

TEST_F(CxxDisk, CompletionErrorCodes) {
    auto check = [&](std::error_code submitted, device_errc want, std::errc generic, io_type type) {
        ASSERT_FALSE(submitted) << submitted.message();
        auto c = q_.wait();
        ASSERT_TRUE(c) << c.error().message();
        EXPECT_FALSE(c->ok());
        EXPECT_EQ(c->type(), type);
        EXPECT_EQ(c->code(), static_cast<int>(want));
        const std::error_code ec = c->status();
        EXPECT_EQ(ec, want);
        EXPECT_EQ(ec, generic);
        EXPECT_EQ(&ec.category(), &machio::device_category());
        EXPECT_STREQ(ec.category().name(), "mach.device");
        EXPECT_EQ(ec.value(), static_cast<int>(want));
        EXPECT_EQ(ec.message(), mach_error_string(ec.value()));
        EXPECT_EQ(c->count(), 0U);
        EXPECT_TRUE(c->data().empty());
        EXPECT_TRUE(c->buffer().empty());
    };
    aligned_buffer buf(2 * BS);

    check(dev_.read_async(q_, 1, NBLOCKS, BS), device_errc::invalid_recnum,
          std::errc::invalid_argument, io_type::read);
    check(dev_.read_async(q_, 2, 0, 100), device_errc::invalid_size, std::errc::invalid_argument,
          io_type::read);
    check(dev_.read_overwrite_async(q_, 3, 0, buf.span().subspan(1, BS)), device_errc::invalid_size,
          std::errc::invalid_argument, io_type::overwrite);
    check(dev_.write_inband_async(q_, 4, NBLOCKS + 1, bytes(buf, 0, 8)),
          device_errc::invalid_recnum, std::errc::invalid_argument, io_type::write);

    device ro = open_device(*disk_, D_READ);
    check(ro.write_async(q_, 5, 0, bytes(buf, 0, BS)), device_errc::read_only,
          std::errc::read_only_file_system, io_type::write);
    device wo = open_device(*disk_, D_WRITE);
    check(wo.read_inband_async(q_, 6, 0, 8), device_errc::invalid_operation,
          std::errc::operation_not_supported, io_type::read);

    ASSERT_TRUE(disk_->set("badblocks", "+100-101")) << disk_->error();
    check(dev_.read_overwrite_async(q_, 7, 100, buf.span()), device_errc::io_error,
          std::errc::io_error, io_type::overwrite);
    check(dev_.read_async(q_, 8, 101, BS), device_errc::io_error, std::errc::io_error,
          io_type::read);

    // Success is an empty error_code.
    ASSERT_FALSE(dev_.read_inband_async(q_, 9, 0, 8));
    auto c = q_.wait();
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->ok());
    EXPECT_FALSE(c->status());
}

TEST_F(CxxApi, NowaitWouldBlock) {
    // One tag, no scheduler, slow completions: the second request would wait.
    test::nullb& disk = make_disk({{"hw_queue_depth", "1"},
                                   {"submit_queues", "1"},
                                   {"no_sched", "1"},
                                   {"irqmode", "2"},
                                   {"completion_nsec", "300000000"}});
    ASSERT_TRUE(disk.ok());
    device d = open_device(disk);
    io_done_queue q = make_queue();
    aligned_buffer buf(2 * BS);
    ASSERT_FALSE(d.read_overwrite_async(q, 1, 0, buf.span().first(BS)));
    ASSERT_FALSE(d.read_overwrite_async(q, 2, 1, buf.span().subspan(BS), D_NOWAIT));
    auto c = q.wait();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->request_id(), 2U);
    EXPECT_EQ(c->status(), device_errc::would_block);
    EXPECT_EQ(c->status(), std::errc::resource_unavailable_try_again);
    ASSERT_TRUE(completed(q, *c));
    EXPECT_EQ(c->request_id(), 1U);
}

TEST_F(CxxDisk, CallErrorCodes) {
    aligned_buffer buf(BS);
    // Refused by the library before the kernel.
    std::array<std::byte, IO_INBAND_MAX + 1> big{};
    EXPECT_EQ(dev_.read_inband_async(q_, 1, 0, IO_INBAND_MAX + 1), kern_errc::invalid_argument);
    EXPECT_EQ(dev_.write_inband_async(q_, 1, 0, big), kern_errc::invalid_argument);
    EXPECT_EQ(dev_.write_inband_async(machio::discard, 1, 0, big), kern_errc::invalid_argument);
    EXPECT_EQ(dev_.read_async(q_, 1, 0, std::size_t(1) << 31), kern_errc::invalid_argument);
    io_done_queue empty;
    EXPECT_EQ(dev_.read_async(empty, 1, 0, BS), kern_errc::invalid_argument);
    EXPECT_EQ(empty.wait().error(), kern_errc::invalid_argument);
    device none;
    EXPECT_EQ(none.read_async(q_, 1, 0, BS), kern_errc::invalid_argument);

    // Refused by the kernel.
    EXPECT_EQ(dev_.read_async(q_, 1, 0, BS, 0x40), kern_errc::invalid_argument);
    EXPECT_EQ(dev_.read_async(q_, 1, 0, BS, 0x40), std::errc::invalid_argument);
    const long page = sysconf(_SC_PAGESIZE);
    void* hole = mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(hole, MAP_FAILED);
    std::span<const std::byte> bad(static_cast<const std::byte*>(hole), BS);
    auto ec = dev_.write_async(q_, 1, 0, bad);
    EXPECT_EQ(ec, kern_errc::invalid_address);
    EXPECT_EQ(ec, std::errc::bad_address);
    EXPECT_EQ(&ec.category(), &machio::kern_category());
    EXPECT_STREQ(ec.category().name(), "mach.kern");
    EXPECT_EQ(ec.message(), mach_error_string(KERN_INVALID_ADDRESS));
    EXPECT_EQ(dev_.write_inband_async(q_, 1, 0, bad.first(8)), kern_errc::invalid_address);
    EXPECT_EQ(dev_.read_overwrite_async(q_, 1, 0,
                                        std::span<std::byte>(static_cast<std::byte*>(hole), BS)),
              kern_errc::invalid_address);
    munmap(hole, page);
    expect_queue_empty();

    // A terminated queue.
    io_done_queue dead = make_queue();
    EXPECT_FALSE(dead.terminate());
    EXPECT_EQ(dev_.read_async(dead, 1, 0, BS), kern_errc::terminated);
    EXPECT_EQ(dev_.write_async(dead, 1, 0, bytes(buf)), kern_errc::terminated);
    EXPECT_EQ(dead.wait().error(), kern_errc::terminated);
    // A closed device.
    device d = open_device(*disk_);
    device moved = std::move(d);
    EXPECT_EQ(d.read_async(q_, 1, 0, BS), kern_errc::invalid_argument);
}

// ---- several threads, signals ---------------------------------------------------

TEST_F(CxxDisk, SeveralWaitersGetDistinctCompletions) {
    constexpr int THREADS = 4, N = 200;
    std::mutex lock;
    std::vector<int> seen(N);
    std::vector<std::error_code> last(THREADS);
    std::atomic<int> bad{0};
    std::vector<std::thread> waiters;
    for (int t = 0; t < THREADS; ++t)
        waiters.emplace_back([&, t] {
            for (;;) {
                auto c = q_.wait();
                if (!c) {
                    last[t] = c.error();
                    return;
                }
                if (!c->ok() || c->request_id() >= N || c->data().size() != 16) {
                    ++bad;
                    continue;
                }
                std::lock_guard<std::mutex> guard(lock);
                seen[c->request_id()]++;
            }
        });
    for (int i = 0; i < N; ++i)
        ASSERT_FALSE(dev_.read_inband_async(q_, i, i, 16));
    for (int i = 0; i < 1000; ++i) {
        {
            std::lock_guard<std::mutex> guard(lock);
            if (std::accumulate(seen.begin(), seen.end(), 0) == N)
                break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE(q_.terminate());
    for (auto& w : waiters)
        w.join();
    EXPECT_EQ(bad, 0);
    for (int i = 0; i < N; ++i)
        EXPECT_EQ(seen[i], 1) << "request " << i;
    for (int t = 0; t < THREADS; ++t)
        EXPECT_EQ(last[t], kern_errc::terminated) << "thread " << t;
}

TEST_F(CxxDisk, SignalAbortsTheWait) {
    test::sigusr1_handler handler;
    std::atomic<bool> done{false};
    std::error_code ec;
    std::thread waiter([&] {
        ec = q_.wait().error();
        done = true;
    });
    test::interrupt_until(waiter.native_handle(), done);
    waiter.join();
    EXPECT_EQ(ec, kern_errc::aborted);
    EXPECT_EQ(ec, std::errc::interrupted);
    // The queue still works.
    ASSERT_FALSE(dev_.read_inband_async(q_, 3, 0, 8));
    completion c;
    ASSERT_TRUE(completed(q_, c));
    EXPECT_EQ(c.request_id(), 3U);
}

// ---- fork -------------------------------------------------------------------------------

TEST_F(CxxApi, ProcessSpaceObjectsDieWithAReset) {
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    const std::string name = disk.name();
    // In a child, so that the parent's process space stays as it is.
    int rc = test::in_child([&]() -> int {
        space p = space::process();
        auto q = io_done_queue::create(p);
        auto d = device::open(p, name, D_READ);
        if (!q || !d)
            return 10;
        if (d->read_inband_async(*q, 1, 0, 8) || !q->wait())
            return 11;
        if (machio_space_reset() != KERN_SUCCESS)
            return 12;
        // Names of the old space are refused rather than aliased.
        if (q->wait().error() != kern_errc::invalid_name)
            return 13;
        if (d->read_inband_async(*q, 2, 0, 8) != kern_errc::invalid_name)
            return 14;
        if (d->refresh() != kern_errc::invalid_name)
            return 15;
        if (q->close() != kern_errc::invalid_name || d->close() != kern_errc::invalid_name)
            return 16;
        // The space handle follows the process space: a fresh one.
        if (p.host().value_or(0) != 0x101U || p.fd() != machio_fd())
            return 17;
        auto q2 = io_done_queue::create(p);
        auto d2 = device::open(p, name, D_READ);
        if (!q2 || q2->name() != 0x401U || !d2 || d2->name() != 0x501U)
            return 18;
        if (d2->read_inband_async(*q2, 3, 0, 8))
            return 19;
        auto c = q2->wait();
        if (!c || c->request_id() != 3)
            return 19;
        return 0;
    });
    EXPECT_EQ(rc, 0);
}

TEST_F(CxxApi, InheritedHandlesActOnTheSharedSpace) {
    test::nullb& disk = make_disk();
    ASSERT_TRUE(disk.ok());
    space p = space::process();
    device d = open_device(p, disk, D_READ);
    io_done_queue kept = make_queue(p);
    io_done_queue lost = make_queue(p);
    const mach_port_t kept_name = kept.name(), lost_name = lost.name();

    int rc = test::in_child([&]() -> int {
        // Released: the parent's queue stays.
        const mach_port_t name = kept.release();
        // Destroyed: terminated and released for the parent too.
        { io_done_queue gone = std::move(lost); }
        // The shared names work from here as well.
        io_done_result_t r;
        if (device_read_async_inband(d.name(), name, 9, 0, 0, 8) != KERN_SUCCESS ||
            io_done_queue_wait(name, &r) != KERN_SUCCESS)
            return 1;
        return r.qd_reqid == 9 ? 0 : 2;
    });
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(probe_queue(kept_name), queue_state::live);
    EXPECT_EQ(probe_queue(lost_name), queue_state::gone);
    // The parent's handle finds its queue gone.
    EXPECT_EQ(lost.wait().error(), kern_errc::invalid_argument);
    EXPECT_EQ(lost.close(), kern_errc::invalid_argument);
    ASSERT_FALSE(d.read_inband_async(kept, 10, 0, 8));
    completion c;
    ASSERT_TRUE(completed(kept, c));
    EXPECT_EQ(c.request_id(), 10U);
}

} // namespace

namespace {

// ---- completion rings, batched reaping, queue files ------------------------

TEST_F(CxxDisk, QueuesHaveRingsAndFiles) {
    EXPECT_TRUE(q_.has_ring());
    EXPECT_GE(q_.fd(), 0);
    auto plain = io_done_queue::create(sp_, queue_options{.ring_entries = 0});
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->has_ring());
    EXPECT_GE(plain->fd(), 0);
    auto bad = io_done_queue::create(sp_, queue_options{.ring_entries = 100});
    EXPECT_EQ(bad.error(), kern_errc::invalid_argument);
}

TEST_F(CxxDisk, ReapIntoASpan) {
    for (std::uint32_t entries : {0U, 16U}) {
        SCOPED_TRACE(entries);
        auto q = io_done_queue::create(sp_, queue_options{.ring_entries = entries});
        ASSERT_TRUE(q);
        aligned_buffer mem(8 * 4096);
        auto buf = std::span<std::byte>(reinterpret_cast<std::byte*>(mem.chars()), 8 * 4096);
        for (std::uint32_t i = 0; i < 8; i++)
            ASSERT_FALSE(
                dev_.read_overwrite_async(*q, i, i, buf.subspan(i * 4096, dev_.block_size())));
        std::array<completion_record, 16> out{};
        std::size_t got = 0;
        std::vector<bool> seen(8);
        while (got < 8) {
            auto n = q->reap(out, 1);
            ASSERT_TRUE(n) << n.error().message();
            const completion_record* c = out.data();
            for (std::size_t k = 0; k < *n; k++, c = machio_cqe_next(c)) {
                ASSERT_LT(c->reqid, 8U);
                EXPECT_FALSE(seen[c->reqid]);
                seen[c->reqid] = true;
                EXPECT_EQ(c->code, KERN_SUCCESS);
            }
            got += *n;
        }
        auto none = q->reap(out, 1, std::chrono::milliseconds(10));
        ASSERT_TRUE(none);
        EXPECT_EQ(*none, 0U);
        EXPECT_EQ(q->reap(std::span<completion_record>(out).first(1), 2).error(),
                  kern_errc::invalid_argument);
        ASSERT_FALSE(q->terminate());
        EXPECT_EQ(q->reap(out, 1).error(), kern_errc::terminated);
    }
}

TEST_F(CxxDisk, RegisteredBufferRoundTrip) {
    aligned_buffer mem(8 * 4096);
    auto bytes = std::span<std::byte>(reinterpret_cast<std::byte*>(mem.chars()), 8 * 4096);
    for (std::size_t i = 0; i < 4 * 4096; i++)
        bytes[i] = std::byte(i * 13 + 1);
    auto buf = machio::registered_buffer::create(sp_, bytes);
    ASSERT_TRUE(buf) << buf.error().message();
    EXPECT_TRUE(*buf);
    for (std::uint32_t i = 0; i < 4; i++)
        ASSERT_FALSE(dev_.write_fixed_async(q_, i, i * 8, *buf, i * 4096, 4096));
    completion c;
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(completed(q_, c));
        EXPECT_TRUE(c.ok());
    }
    for (std::uint32_t i = 0; i < 4; i++)
        ASSERT_FALSE(dev_.read_fixed_async(q_, 10 + i, i * 8, *buf, (4 + i) * 4096, 4096));
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(completed(q_, c));
        EXPECT_TRUE(c.ok());
        EXPECT_EQ(c.type(), io_type::overwrite);
    }
    EXPECT_EQ(std::memcmp(mem.chars(), mem.chars() + 4 * 4096, 4 * 4096), 0);
    // Outside it: refused at submit.
    EXPECT_EQ(dev_.read_fixed_async(q_, 1, 0, *buf, 8 * 4096 - 512, 4096),
              kern_errc::invalid_address);
    EXPECT_FALSE(buf->close());
    EXPECT_EQ(dev_.read_fixed_async(q_, 1, 0, *buf, 0, 4096), kern_errc::invalid_argument);
}

TEST_F(CxxDisk, PolledQueue) {
    auto q = io_done_queue::create(sp_, queue_options{.ring_entries = 16, .polled = true});
    ASSERT_TRUE(q) << q.error().message();
    aligned_buffer mem(4096);
    auto bytes = std::span<std::byte>(reinterpret_cast<std::byte*>(mem.chars()), 4096);
    ASSERT_FALSE(dev_.write_async(*q, 7, 0, bytes));
    auto c = q->wait(); // polls the device
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->request_id(), 7U);
    EXPECT_TRUE(c->ok());
    // Not a zero-copy op: refused.
    EXPECT_EQ(dev_.read_inband_async(*q, 8, 0, 8), kern_errc::invalid_argument);
}

TEST_F(CxxDisk, SubmitBatchFromASpan) {
    aligned_buffer mem(8 * 512);
    std::array<machio_io_request, 8> reqs{};
    for (std::uint32_t i = 0; i < 8; i++) {
        reqs[i].op = MACHIO_OP_READ_OVERWRITE;
        reqs[i].device = dev_.name();
        reqs[i].queue = q_.name();
        reqs[i].reqid = i;
        reqs[i].recnum = i;
        reqs[i].count = 512;
        reqs[i].buffer = reinterpret_cast<std::uintptr_t>(mem.chars() + i * 512);
    }
    reqs[5].device = 0x7f7f01; // a bad name ends the batch there
    auto n = machio::submit_batch(sp_, reqs);
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(*n, 5U);
    EXPECT_EQ(machio::submit_batch(sp_, std::span(reqs).subspan(5)).error(),
              kern_errc::invalid_argument);
    std::array<completion_record, 8> out{};
    std::size_t got = 0;
    while (got < 5) {
        auto k = q_.reap(std::span(out).first(5 - got), 1);
        ASSERT_TRUE(k) << k.error().message();
        got += *k;
    }
    EXPECT_EQ(got, 5U);
}

} // namespace
