// The C++ API against the fake module (MACHIO_DEVICE=/dev/null).
#include "fake_kernel.hpp"
#include "test_files.hpp"

#include <machio/machio.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace {

using machio::completion;
using machio::device;
using machio::io_done_queue;
using machio::io_type;
using machio::kern_errc;
using machio::ool_buffer;
using machio::space;

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

bool mapped(const void* p) {
    return msync(const_cast<void*>(p), 1, MS_ASYNC) == 0;
}

std::size_t count(const std::vector<std::uint32_t>& v, std::uint32_t name) {
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), name));
}

class CxxApi : public ::testing::Test {
  protected:
    void SetUp() override {
        fake::reset();
        auto sp = space::open();
        ASSERT_TRUE(sp) << sp.error().message();
        sp_ = std::move(*sp);
    }

    io_done_queue make_queue() {
        auto q = io_done_queue::create(sp_);
        EXPECT_TRUE(q) << q.error().message();
        return q ? std::move(*q) : io_done_queue();
    }

    device make_device(dev_mode_t mode = D_READ | D_WRITE) {
        auto d = device::open(sp_, file_.path(), mode);
        EXPECT_TRUE(d) << d.error().message();
        return d ? std::move(*d) : device();
    }

    void SkipWithoutDirectIo() {
        if (!file_.direct_io())
            GTEST_SKIP() << "O_DIRECT not supported for " << file_.path();
    }

    test::scratch_file file_;
    space sp_ = space::process();
};

TEST_F(CxxApi, PrivateSpaceHasItsOwnDescriptor) {
    EXPECT_FALSE(sp_.is_process());
    EXPECT_GE(sp_.fd(), 0);
    EXPECT_NE(sp_.fd(), machio_fd());
    EXPECT_EQ(sp_.host().value(), 0x101U);
    EXPECT_EQ(sp_.task().value(), 0x201U);
    auto info = sp_.info();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->abi_version, unsigned(MACHIO_ABI_VERSION));

    space throwing_ctor; // opens another private space
    EXPECT_GE(throwing_ctor.fd(), 0);
    EXPECT_NE(throwing_ctor.fd(), sp_.fd());

    space p = space::process();
    EXPECT_TRUE(p.is_process());
    EXPECT_EQ(p.fd(), machio_fd());
}

TEST_F(CxxApi, SpaceMoveKeepsTheDescriptor) {
    const int fd = sp_.fd();
    space moved = std::move(sp_);
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_FALSE(sp_); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(sp_.fd(), -1);
    sp_ = std::move(moved);
    EXPECT_EQ(sp_.fd(), fd);
    EXPECT_GE(fcntl(fd, F_GETFD), 0);
}

TEST_F(CxxApi, SpaceClosesItsDescriptorWhenTheLastObjectGoes) {
    SkipWithoutDirectIo();
    const int fd = sp_.fd();
    {
        io_done_queue q = make_queue();
        device d = make_device();
        sp_ = space::process(); // drop the private space object
        // The queue and device keep the space alive.
        EXPECT_GE(fcntl(fd, F_GETFD), 0);
        std::array<std::byte, 16> data{};
        EXPECT_FALSE(d.write_inband_async(q, 1, 0, data));
        auto c = q.wait();
        ASSERT_TRUE(c) << c.error().message();
        EXPECT_EQ(c->type(), io_type::write);
    }
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST_F(CxxApi, QueueDestructorTerminatesAndDeallocatesOnce) {
    mach_port_t name;
    {
        io_done_queue q = make_queue();
        name = q.name();
        ASSERT_TRUE(MACH_PORT_VALID(name));
        EXPECT_TRUE(q);
    }
    EXPECT_EQ(count(fake::terminated(), name), 1U);
    EXPECT_EQ(count(fake::deallocated(), name), 1U);
}

TEST_F(CxxApi, QueueMoveTransfersOwnership) {
    io_done_queue a = make_queue();
    const mach_port_t name = a.name();
    io_done_queue b = std::move(a);
    EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.name(), MACH_PORT_NULL);
    EXPECT_EQ(b.name(), name);
    { io_done_queue sink = std::move(a); } // moved-from: no kernel call
    EXPECT_TRUE(fake::terminated().empty());

    // Move assignment releases the target's queue first.
    io_done_queue c = make_queue();
    const mach_port_t other = c.name();
    c = std::move(b);
    EXPECT_EQ(c.name(), name);
    EXPECT_EQ(count(fake::terminated(), other), 1U);
    EXPECT_EQ(count(fake::deallocated(), other), 1U);
    EXPECT_EQ(count(fake::terminated(), name), 0U);

    c = io_done_queue();
    EXPECT_EQ(count(fake::terminated(), name), 1U);
    EXPECT_EQ(count(fake::deallocated(), name), 1U);
}

TEST_F(CxxApi, TerminateThenWaitThenDestroy) {
    io_done_queue q = make_queue();
    const mach_port_t name = q.name();
    EXPECT_FALSE(q.terminate());
    EXPECT_EQ(q.wait().error(), kern_errc::terminated);
    EXPECT_EQ(q.terminate(), kern_errc::terminated);
    EXPECT_FALSE(q.close());
    EXPECT_FALSE(q);
    // terminated twice by hand, never again by close(); deallocated once.
    EXPECT_EQ(count(fake::terminated(), name), 2U);
    EXPECT_EQ(count(fake::deallocated(), name), 1U);
}

TEST_F(CxxApi, CloseRetriesAnInterruptedTerminate) {
    io_done_queue q = make_queue();
    fake::inject(MACHIO_IOC_QUEUE_TERMINATE, EINTR);
    EXPECT_FALSE(q.close());
    EXPECT_EQ(fake::calls(MACHIO_IOC_QUEUE_TERMINATE), 2); // EINTR, then again
    EXPECT_EQ(fake::deallocated().size(), 1U);
}

TEST_F(CxxApi, ReleaseAndAdopt) {
    io_done_queue q = make_queue();
    const mach_port_t name = q.release();
    EXPECT_FALSE(q);
    { io_done_queue gone = std::move(q); }
    EXPECT_TRUE(fake::terminated().empty());
    io_done_queue again = io_done_queue::adopt(sp_, name);
    EXPECT_EQ(again.name(), name);
    EXPECT_EQ(again.wait().error(), kern_errc::aborted); // empty: the fake's "signal"
}

TEST_F(CxxApi, DeviceLifecycleAndMoves) {
    SkipWithoutDirectIo();
    fake::set_geometry(3 << 20, 4096);
    mach_port_t name;
    {
        device d = make_device(D_READ);
        name = d.name();
        EXPECT_EQ(d.size(), 3U << 20);
        EXPECT_EQ(d.block_size(), 4096U);
        fake::set_geometry(5ULL << 30, 512);
        EXPECT_FALSE(d.refresh());
        EXPECT_EQ(d.size(), 5ULL << 30);
        EXPECT_EQ(d.block_size(), 512U);

        device moved = std::move(d);
        EXPECT_FALSE(d); // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(d.size(), 0U);
        EXPECT_EQ(moved.name(), name);
        device target;
        target = std::move(moved);
        EXPECT_EQ(target.name(), name);
        EXPECT_TRUE(fake::deallocated().empty());
    }
    EXPECT_EQ(count(fake::deallocated(), name), 1U);
}

TEST_F(CxxApi, DeviceOpenErrors) {
    EXPECT_EQ(device::open(sp_, "machio-no-such-device").error(),
              machio::device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "").error(), machio::device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, std::string_view("a\0b", 3)).error(),
              machio::device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, file_.path(), 0x40).error(), kern_errc::invalid_argument);
    EXPECT_EQ(device::adopt(sp_, -1).error(), machio::device_errc::no_such_device);
    EXPECT_EQ(device::open(sp_, "null").error(), std::errc::no_such_device);
}

TEST_F(CxxApi, AdoptKeepsTheCallersDescriptor) {
    int fd = open(file_.path().c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto d = device::adopt(sp_, fd, D_READ | D_WRITE);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(fake::last_device_open().fd, fd);
    EXPECT_GE(fcntl(fd, F_GETFD), 0);
    close(fd);
    auto q = make_queue();
    EXPECT_FALSE(d->read_inband_async(q, 5, 0, 16));
    auto c = q.wait();
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->ok());
}

TEST_F(CxxApi, OutOfLineReadOwnsItsMapping) {
    SkipWithoutDirectIo();
    io_done_queue q = make_queue();
    device d = make_device();
    ASSERT_FALSE(d.read_async(q, 77, 1, 3000));
    auto c = q.wait();
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->type(), io_type::read);
    EXPECT_EQ(c->request_id(), 77U);
    EXPECT_FALSE(c->status());
    EXPECT_EQ(c->count(), 3000U);
    auto data = c->data();
    ASSERT_EQ(data.size(), 3000U);
    for (std::size_t i = 0; i < data.size(); ++i)
        ASSERT_EQ(std::to_integer<std::uint8_t>(data[i]), fake::initial_byte(512 + i)) << i;
    const std::byte* p = data.data();
    EXPECT_EQ(c->buffer().data(), p);
    EXPECT_TRUE(mapped(p));

    // Moving the completion moves the mapping.
    completion moved = std::move(*c);
    EXPECT_TRUE(c->data().empty());
    EXPECT_EQ(moved.data().data(), p);
    ool_buffer buf = moved.take_buffer();
    EXPECT_TRUE(moved.data().empty());
    EXPECT_EQ(buf.data(), p);
    EXPECT_TRUE(mapped(p));
    buf.reset();
    EXPECT_FALSE(mapped(p));

    // Destroying the completion unmaps.
    ASSERT_FALSE(d.read_async(q, 78, 0, 100));
    const std::byte* p2 = nullptr;
    {
        auto c2 = q.wait();
        ASSERT_TRUE(c2);
        p2 = c2->data().data();
        EXPECT_TRUE(mapped(p2));
    }
    EXPECT_FALSE(mapped(p2));

    // release() hands the memory to the caller (vm_deallocate).
    ASSERT_FALSE(d.read_async(q, 79, 0, 100));
    auto c3 = q.wait();
    ASSERT_TRUE(c3);
    auto mem = c3->buffer().release();
    completion dropped = std::move(*c3);
    EXPECT_TRUE(mapped(mem.data()));
    EXPECT_EQ(munmap(mem.data(), 4096), 0);
}

TEST_F(CxxApi, InbandOverwriteAndWrite) {
    SkipWithoutDirectIo();
    io_done_queue q = make_queue();
    device d = make_device();

    std::array<std::byte, 1024> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = std::byte(i * 13);
    ASSERT_FALSE(d.write_async(q, 1, 2, out));
    auto w = q.wait();
    ASSERT_TRUE(w);
    EXPECT_EQ(w->type(), io_type::write);
    EXPECT_EQ(w->count(), out.size());
    EXPECT_TRUE(w->data().empty());

    ASSERT_FALSE(d.read_inband_async(q, 2, 2, IO_INBAND_MAX));
    auto in = q.wait();
    ASSERT_TRUE(in);
    EXPECT_EQ(in->type(), io_type::read);
    ASSERT_EQ(in->data().size(), std::size_t(IO_INBAND_MAX));
    EXPECT_TRUE(std::equal(in->data().begin(), in->data().end(), out.begin()));
    EXPECT_TRUE(in->buffer().empty());
    // The inband copy lives in the completion and moves with it.
    completion moved = std::move(*in);
    EXPECT_TRUE(std::equal(moved.data().begin(), moved.data().end(), out.begin()));
    EXPECT_GE(moved.data().data(), reinterpret_cast<const std::byte*>(&moved));
    EXPECT_LT(moved.data().data(), reinterpret_cast<const std::byte*>(&moved + 1));

    std::vector<std::byte> buf(2048);
    ASSERT_FALSE(d.read_overwrite_async(q, 3, 2, buf));
    auto ow = q.wait();
    ASSERT_TRUE(ow);
    EXPECT_EQ(ow->type(), io_type::overwrite);
    EXPECT_EQ(ow->count(), 2048U);
    EXPECT_EQ(ow->data().data(), buf.data());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), buf.begin()));

    // Discarded completions.
    ASSERT_FALSE(d.write_async(machio::discard, 4, 0, out));
    ASSERT_FALSE(d.write_inband_async(machio::discard, 5, 0, std::span(out).first(16)));
    EXPECT_EQ(q.wait().error(), kern_errc::aborted);
    auto subs = fake::submits();
    ASSERT_GE(subs.size(), 2U);
    EXPECT_EQ(subs[subs.size() - 2].queue, MACH_PORT_NULL);
    EXPECT_EQ(subs.back().queue, MACH_PORT_NULL);
    EXPECT_EQ(subs.back().count, 16);

    // Device outcomes are the completion's status.
    ASSERT_FALSE(d.read_async(q, 6, 1u << 20, 512, D_NOWAIT));
    EXPECT_EQ(fake::submits().back().mode, unsigned(D_NOWAIT));
    auto bad = q.wait();
    ASSERT_TRUE(bad);
    EXPECT_FALSE(bad->ok());
    EXPECT_EQ(bad->status(), machio::device_errc::invalid_recnum);
    EXPECT_EQ(bad->code(), D_INVALID_RECNUM);
    EXPECT_TRUE(bad->data().empty());
}

TEST_F(CxxApi, ArgumentChecks) {
    SkipWithoutDirectIo();
    io_done_queue q = make_queue();
    device d = make_device();
    std::array<std::byte, 200> big{};
    const int before = fake::calls(MACHIO_IOC_SUBMIT);
    EXPECT_EQ(d.read_inband_async(q, 1, 0, IO_INBAND_MAX + 1), kern_errc::invalid_argument);
    EXPECT_EQ(d.write_inband_async(q, 1, 0, big), kern_errc::invalid_argument);
    EXPECT_EQ(d.read_async(q, 1, 0, std::size_t(1) << 31), kern_errc::invalid_argument);
    io_done_queue empty;
    EXPECT_EQ(d.read_async(empty, 1, 0, 512), kern_errc::invalid_argument);

    // A queue of another space.
    auto other = space::open();
    ASSERT_TRUE(other);
    auto foreign = io_done_queue::create(*other);
    ASSERT_TRUE(foreign);
    EXPECT_EQ(foreign->name(), q.name()); // same name, different space
    EXPECT_EQ(d.read_async(*foreign, 1, 0, 512), kern_errc::invalid_argument);
    EXPECT_EQ(fake::calls(MACHIO_IOC_SUBMIT), before);

    // Errors of the kernel come back as error codes.
    fake::inject(MACHIO_IOC_SUBMIT, ENOMEM);
    EXPECT_EQ(d.read_async(q, 1, 0, 512), kern_errc::resource_shortage);
    fake::inject(MACHIO_IOC_SUBMIT, ENOMEM);
    EXPECT_EQ(d.read_async(q, 1, 0, 512), std::errc::not_enough_memory);
}

TEST_F(CxxApi, RawWait) {
    SkipWithoutDirectIo();
    io_done_queue q = make_queue();
    device d = make_device();
    ASSERT_FALSE(d.read_inband_async(q, 11, 0, 8));
    io_done_result_t raw;
    ASSERT_FALSE(q.wait(raw));
    EXPECT_EQ(fake::last_wait_result(), reinterpret_cast<std::uintptr_t>(&raw));
    EXPECT_EQ(raw.qd_reqid, 11U);
    EXPECT_EQ(raw.qd_data, raw.qd_inline);
}

TEST_F(CxxApi, ProcessSpaceObjectsDieWithAReset) {
    // In a child, so that the parent's process space stays as it is.
    pid_t pid = fork();
    if (pid == 0) {
        space p = space::process();
        auto q = io_done_queue::create(p);
        if (!q)
            _exit(10);
        if (q->wait().error() != kern_errc::aborted) // empty queue: usable
            _exit(11);
        if (machio_space_reset() != KERN_SUCCESS)
            _exit(12);
        if (q->wait().error() != kern_errc::invalid_name)
            _exit(13);
        if (q->close() != kern_errc::invalid_name)
            _exit(14);
        // The space handle follows the process space.
        auto q2 = io_done_queue::create(p);
        if (!q2 || q2->wait().error() != kern_errc::aborted)
            _exit(15);
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace
