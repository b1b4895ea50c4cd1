// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C++ objects: space, io_done_queue, device, completion, ool_buffer.
#include "internal.hpp"

#include <machio/machio.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fmt/format.h>
#include <new>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace machio {

namespace detail {

// What a space object and every queue and device made in it share, so that
// the descriptor stays open while any of them lives.
struct space_state {
    bool process = false; // the implicit process space: resolve per call
    space_info info;      // a private space: its own descriptor

    space_state() noexcept = default;
    space_state(const space_state&) = delete;
    space_state& operator=(const space_state&) = delete;
    ~space_state() {
        if (!process && info.fd >= 0)
            ::close(info.fd);
    }
};

} // namespace detail

namespace {

using detail::space_info;
using detail::space_state;

// The space an object of `state` created at `epoch` lives in.
std::error_code resolve_space(const space_state& state, std::uint64_t epoch,
                              const space_info*& out) noexcept {
    if (!state.process) {
        out = &state.info;
        return {};
    }
    int err = 0;
    const space_info* info = detail::process_space(&err);
    if (!info)
        return {err ? err : ENODEV, std::system_category()};
    // Replaced by machio_space_reset(): our names mean nothing there.
    if (info->epoch != epoch)
        return kern_errc::invalid_name;
    out = info;
    return {};
}

// The /dev/machio descriptor behind a queue or device handle.
std::error_code resolve_handle_fd(const std::shared_ptr<space_state>& state, std::uint64_t epoch,
                                  mach_port_t name, int& fd) noexcept {
    if (!name || !state)
        return kern_errc::invalid_argument;
    const space_info* info = nullptr;
    if (auto ec = resolve_space(*state, epoch, info))
        return ec;
    fd = info->fd;
    return {};
}

// The epoch objects created now in `state` belong to.
std::uint64_t current_epoch(const space_state& state) noexcept {
    return state.process ? detail::process_space_epoch() : 0;
}

// Where a factory makes its object: the space `state` stands for now, and
// the epoch the object's name belongs to.
std::error_code current_space(const space_state* state, std::uint64_t& epoch,
                              const space_info*& info) noexcept {
    if (!state)
        return kern_errc::invalid_argument;
    epoch = current_epoch(*state);
    return resolve_space(*state, epoch, info);
}

} // namespace

// ---- space ----

space::space() {
    auto opened = open();
    if (!opened)
        throw std::system_error(opened.error(), "machio: cannot open a name space");
    state_ = std::move(opened->state_);
}

space::space(std::shared_ptr<detail::space_state> state) noexcept : state_(std::move(state)) {}
space::space(space&&) noexcept = default;
space& space::operator=(space&&) noexcept = default;
space::~space() = default;

result<space> space::open() noexcept {
    try {
        auto state = std::make_shared<space_state>();
        if (int err = detail::open_space(&state->info))
            return std::error_code(err, std::system_category());
        return space(std::move(state));
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
}

space space::process() noexcept {
    static const std::shared_ptr<space_state> state = [] {
        auto s = std::make_shared<space_state>();
        s->process = true;
        return s;
    }();
    return space(state);
}

bool space::is_process() const noexcept {
    return state_ && state_->process;
}

int space::fd() const noexcept {
    if (!state_)
        return -1;
    const space_info* info = nullptr;
    if (resolve_space(*state_, current_epoch(*state_), info))
        return -1;
    return info->fd;
}

result<mach_port_t> space::host() const noexcept {
    auto i = info();
    if (!i)
        return i.error();
    return i->host;
}

result<mach_port_t> space::task() const noexcept {
    auto i = info();
    if (!i)
        return i.error();
    return i->task;
}

result<machio_info_t> space::info() const noexcept {
    if (!state_)
        return kern_errc::invalid_argument;
    const space_info* info = nullptr;
    if (auto ec = resolve_space(*state_, current_epoch(*state_), info))
        return ec;
    machio_info_t out = {};
    out.abi_version = info->abi_version;
    out.io_inband_max = info->io_inband_max;
    out.features = info->features;
    out.max_names = info->max_names;
    out.host = info->host;
    out.task = info->task;
    return out;
}

// ---- ool_buffer ----

ool_buffer& ool_buffer::operator=(ool_buffer&& other) noexcept {
    if (this != &other) {
        reset();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void ool_buffer::reset() noexcept {
    if (data_)
        (void)detail::unmap(reinterpret_cast<std::uintptr_t>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

// ---- completion ----

completion completion::from_raw(const io_done_result_t& r) noexcept {
    completion c;
    c.type_ = static_cast<io_type>(r.qd_type);
    c.request_id_ = r.qd_reqid;
    c.code_ = r.qd_code;
    c.count_ = r.qd_count > 0 ? static_cast<std::size_t>(r.qd_count) : 0;
    if (c.code_ != KERN_SUCCESS)
        return c;

    auto* data = reinterpret_cast<std::byte*>(r.qd_data);
    const auto* inline_data = reinterpret_cast<const std::byte*>(r.qd_inline);
    switch (c.type_) {
    case io_type::read:
        if (data == inline_data) {
            c.count_ = std::min<std::size_t>(c.count_, IO_INBAND_MAX);
            std::memcpy(c.inband_.data(), r.qd_inline, c.count_);
            c.storage_ = storage::inband;
        } else if (data && c.count_) {
            c.ool_ = ool_buffer(data, c.count_);
            c.storage_ = storage::ool;
        }
        break;
    case io_type::overwrite:
        if (data) {
            c.external_ = data;
            c.storage_ = storage::external;
        }
        break;
    case io_type::write:
        break;
    }
    return c;
}

std::span<const std::byte> completion::data() const noexcept {
    switch (storage_) {
    case storage::ool:
        return ool_.span();
    case storage::inband:
        return {inband_.data(), count_};
    case storage::external:
        return {external_, count_};
    case storage::none:
        break;
    }
    return {};
}

// ---- io_done_queue ----

namespace detail {

// A C++ queue's own file and ring, unmapped when the queue goes.
struct queue_ring {
    ring_map map;
    queue_ring() noexcept = default;
    queue_ring(const queue_ring&) = delete;
    queue_ring& operator=(const queue_ring&) = delete;
    ~queue_ring() { ring_unmap(&map); }
};

} // namespace detail

io_done_queue::io_done_queue() noexcept = default;

io_done_queue::io_done_queue(std::shared_ptr<detail::space_state> state, std::uint64_t epoch,
                             mach_port_t name) noexcept
    : space_(std::move(state)), epoch_(epoch), name_(name) {}

io_done_queue::io_done_queue(io_done_queue&& other) noexcept
    : space_(std::move(other.space_)), epoch_(other.epoch_),
      name_(std::exchange(other.name_, MACH_PORT_NULL)),
      terminated_(std::exchange(other.terminated_, false)), ring_(std::move(other.ring_)) {}

io_done_queue& io_done_queue::operator=(io_done_queue&& other) noexcept {
    if (this != &other) {
        (void)close();
        space_ = std::move(other.space_);
        epoch_ = other.epoch_;
        name_ = std::exchange(other.name_, MACH_PORT_NULL);
        terminated_ = std::exchange(other.terminated_, false);
        ring_ = std::move(other.ring_);
    }
    return *this;
}

io_done_queue::~io_done_queue() {
    (void)close();
}

result<io_done_queue> io_done_queue::create(const space& sp) noexcept {
    std::uint64_t epoch = 0;
    const space_info* info = nullptr;
    if (auto ec = current_space(sp.state_.get(), epoch, info))
        return ec;
    if (detail::default_ring_entries() && (info->features & MACHIO_FEAT_QUEUE_SETUP)) {
        auto q = create(sp, queue_options{});
        // Out of ring memory: a plain queue, as io_done_queue_create does.
        if (q || (q.error() != kern_errc::resource_shortage && q.error() != kern_errc::failure))
            return q;
    }
    mach_port_t name = MACH_PORT_NULL;
    if (kern_return_t kr = detail::queue_create(info->fd, info->host, &name))
        return to_error_code(kr);
    return io_done_queue(sp.state_, epoch, name);
}

result<io_done_queue> io_done_queue::create(const space& sp,
                                            const queue_options& options) noexcept {
    std::uint64_t epoch = 0;
    const space_info* info = nullptr;
    if (auto ec = current_space(sp.state_.get(), epoch, info))
        return ec;
    std::unique_ptr<detail::queue_ring> ring(new (std::nothrow) detail::queue_ring);
    if (!ring)
        return kern_errc::resource_shortage;
    detail::queue_options opts;
    opts.ring_entries = options.ring_entries == queue_options::default_ring
                            ? detail::default_ring_entries()
                            : options.ring_entries;
    opts.eventfd = options.eventfd;
    opts.polled = options.polled;
    mach_port_t name = MACH_PORT_NULL;
    if (kern_return_t kr = detail::queue_setup(info->fd, info->host, opts, &name, &ring->map))
        return to_error_code(kr);
    io_done_queue q(sp.state_, epoch, name);
    q.ring_ = std::move(ring);
    return q;
}

io_done_queue io_done_queue::adopt(const space& sp, mach_port_t name) noexcept {
    if (!sp.state_ || !MACH_PORT_VALID(name))
        return {};
    return io_done_queue(sp.state_, current_epoch(*sp.state_), name);
}

std::error_code io_done_queue::resolve(int& fd) const noexcept {
    return resolve_handle_fd(space_, epoch_, name_, fd);
}

result<completion> io_done_queue::wait() const noexcept {
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    io_done_result_t raw = {};
    if (kern_return_t kr = detail::queue_wait_ring(fd, name_, ring_ ? &ring_->map : nullptr, &raw))
        return to_error_code(kr);
    return completion::from_raw(raw);
}

std::error_code io_done_queue::wait(io_done_result_t& raw) const noexcept {
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    return to_error_code(detail::queue_wait_ring(fd, name_, ring_ ? &ring_->map : nullptr, &raw));
}

result<std::size_t> io_done_queue::reap(std::span<completion_record> out, std::size_t min,
                                        std::chrono::nanoseconds timeout) const noexcept {
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    if (out.size() > MACHIO_RING_MAX_ENTRIES || min > out.size())
        return kern_errc::invalid_argument;
    unsigned int count = 0;
    if (kern_return_t kr = detail::queue_reap(
            fd, name_, ring_ ? &ring_->map : nullptr, static_cast<unsigned int>(min),
            static_cast<unsigned int>(out.size()), out.data(), timeout.count(), &count))
        return to_error_code(kr);
    return std::size_t{count};
}

int io_done_queue::fd() const noexcept {
    return ring_ ? ring_->map.qfd : -1;
}

bool io_done_queue::has_ring() const noexcept {
    return ring_ && ring_->map.hdr;
}

std::error_code io_done_queue::terminate() noexcept {
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    kern_return_t kr = detail::queue_terminate(fd, name_);
    if (kr == KERN_SUCCESS || kr == KERN_TERMINATED)
        terminated_ = true;
    return to_error_code(kr);
}

std::error_code io_done_queue::close() noexcept {
    if (!name_)
        return {};
    int fd = -1;
    std::error_code ec = resolve(fd);
    if (!ec && !terminated_) {
        kern_return_t kr;
        // Terminating waits for outstanding I/O; a signal must not leave
        // the queue alive (it could not be deallocated then).
        do
            kr = detail::queue_terminate(fd, name_);
        while (kr == KERN_ABORTED);
        if (kr != KERN_SUCCESS && kr != KERN_TERMINATED)
            ec = to_error_code(kr);
    }
    if (!ec)
        ec = to_error_code(detail::port_deallocate(fd, name_, detail::call_kind::port_deallocate));
    name_ = MACH_PORT_NULL;
    terminated_ = false;
    ring_.reset();
    space_.reset();
    return ec;
}

mach_port_t io_done_queue::release() noexcept {
    // The ring is ours, not the name's: waits on the name go through the kernel.
    ring_.reset();
    space_.reset();
    terminated_ = false;
    return std::exchange(name_, MACH_PORT_NULL);
}

// ---- device ----

device::device(std::shared_ptr<detail::space_state> state, std::uint64_t epoch, mach_port_t name,
               std::uint64_t size, std::uint32_t block_size) noexcept
    : space_(std::move(state)), epoch_(epoch), name_(name), size_(size), block_size_(block_size) {}

device::device(device&& other) noexcept
    : space_(std::move(other.space_)), epoch_(other.epoch_),
      name_(std::exchange(other.name_, MACH_PORT_NULL)), size_(std::exchange(other.size_, 0)),
      block_size_(std::exchange(other.block_size_, 0)) {}

device& device::operator=(device&& other) noexcept {
    if (this != &other) {
        (void)close();
        space_ = std::move(other.space_);
        epoch_ = other.epoch_;
        name_ = std::exchange(other.name_, MACH_PORT_NULL);
        size_ = std::exchange(other.size_, 0);
        block_size_ = std::exchange(other.block_size_, 0);
    }
    return *this;
}

device::~device() {
    (void)close();
}

result<device> device::open(const space& sp, std::string_view path, dev_mode_t mode) noexcept {
    if (!sp.state_)
        return kern_errc::invalid_argument;
    if (path.empty() || path.find('\0') != std::string_view::npos)
        return device_errc::no_such_device;
    std::uint64_t epoch = 0;
    const space_info* info = nullptr;
    if (auto ec = current_space(sp.state_.get(), epoch, info))
        return ec;

    std::string full;
    try {
        full = path.find('/') == std::string_view::npos ? fmt::format("/dev/{}", path)
                                                        : std::string(path);
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    mach_port_t name = MACH_PORT_NULL;
    detail::device_geometry geometry;
    if (kern_return_t kr = detail::device_open_path(info->fd, full.c_str(), mode, &name, &geometry))
        return to_error_code(kr);
    return device(sp.state_, epoch, name, geometry.size, geometry.block_size);
}

result<device> device::adopt(const space& sp, int fd, dev_mode_t mode) noexcept {
    std::uint64_t epoch = 0;
    const space_info* info = nullptr;
    if (auto ec = current_space(sp.state_.get(), epoch, info))
        return ec;
    mach_port_t name = MACH_PORT_NULL;
    detail::device_geometry geometry;
    if (kern_return_t kr = detail::device_open_fd(info->fd, fd, mode, &name, &geometry))
        return to_error_code(kr);
    return device(sp.state_, epoch, name, geometry.size, geometry.block_size);
}

std::error_code device::resolve(int& fd) const noexcept {
    return resolve_handle_fd(space_, epoch_, name_, fd);
}

std::error_code device::refresh() noexcept {
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    detail::device_geometry geometry;
    if (kern_return_t kr = detail::device_status(fd, name_, &geometry))
        return to_error_code(kr);
    size_ = geometry.size;
    block_size_ = geometry.block_size;
    return {};
}

std::error_code device::submit(std::uint32_t op, const io_done_queue* q, std::uint32_t request_id,
                               dev_mode_t mode, recnum_t recnum, std::size_t count,
                               const void* buffer, std::size_t limit) const noexcept {
    mach_port_t queue = MACH_PORT_NULL;
    if (q) {
        // The queue must be a live handle of the same space.
        if (!q->name_ || q->space_ != space_ || q->epoch_ != epoch_)
            return kern_errc::invalid_argument;
        queue = q->name_;
    }
    if (count > limit)
        return kern_errc::invalid_argument;
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    return to_error_code(detail::submit(fd, {.op = op,
                                             .device = name_,
                                             .queue = queue,
                                             .request_id = request_id,
                                             .mode = mode,
                                             .recnum = recnum,
                                             .count = static_cast<std::int32_t>(count),
                                             .buffer = buffer}));
}

std::error_code device::read_async(const io_done_queue& q, std::uint32_t request_id,
                                   recnum_t recnum, std::size_t bytes,
                                   dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_READ, &q, request_id, mode, recnum, bytes, nullptr, INT_MAX);
}

std::error_code device::read_inband_async(const io_done_queue& q, std::uint32_t request_id,
                                          recnum_t recnum, std::size_t bytes,
                                          dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_READ_INBAND, &q, request_id, mode, recnum, bytes, nullptr,
                  IO_INBAND_MAX);
}

std::error_code device::read_overwrite_async(const io_done_queue& q, std::uint32_t request_id,
                                             recnum_t recnum, std::span<std::byte> buffer,
                                             dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_READ_OVERWRITE, &q, request_id, mode, recnum, buffer.size(),
                  buffer.data(), INT_MAX);
}

std::error_code device::write_async(const io_done_queue& q, std::uint32_t request_id,
                                    recnum_t recnum, std::span<const std::byte> data,
                                    dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_WRITE, &q, request_id, mode, recnum, data.size(), data.data(), INT_MAX);
}

std::error_code device::write_async(discard_t, std::uint32_t request_id, recnum_t recnum,
                                    std::span<const std::byte> data,
                                    dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_WRITE, nullptr, request_id, mode, recnum, data.size(), data.data(),
                  INT_MAX);
}

std::error_code device::write_inband_async(const io_done_queue& q, std::uint32_t request_id,
                                           recnum_t recnum, std::span<const std::byte> data,
                                           dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_WRITE_INBAND, &q, request_id, mode, recnum, data.size(), data.data(),
                  IO_INBAND_MAX);
}

std::error_code device::write_inband_async(discard_t, std::uint32_t request_id, recnum_t recnum,
                                           std::span<const std::byte> data,
                                           dev_mode_t mode) const noexcept {
    return submit(MACHIO_OP_WRITE_INBAND, nullptr, request_id, mode, recnum, data.size(),
                  data.data(), IO_INBAND_MAX);
}

std::error_code device::submit_fixed(std::uint32_t op, const io_done_queue& q,
                                     std::uint32_t request_id, dev_mode_t mode, recnum_t recnum,
                                     const registered_buffer& buffer, std::size_t offset,
                                     std::size_t count) const noexcept {
    // The queue and the buffer must be live handles of the same space.
    if (!q.name_ || q.space_ != space_ || q.epoch_ != epoch_ || !buffer.name_ ||
        buffer.space_ != space_ || buffer.epoch_ != epoch_ || count > INT_MAX)
        return kern_errc::invalid_argument;
    int fd = -1;
    if (auto ec = resolve(fd))
        return ec;
    return to_error_code(detail::submit(
        fd, {.op = op,
             .device = name_,
             .queue = q.name_,
             .request_id = request_id,
             .mode = mode,
             .recnum = recnum,
             .count = static_cast<std::int32_t>(count),
             .buffer = reinterpret_cast<const void*>(static_cast<std::uintptr_t>(offset)),
             .fixed = buffer.name_}));
}

std::error_code device::read_fixed_async(const io_done_queue& q, std::uint32_t request_id,
                                         recnum_t recnum, const registered_buffer& buffer,
                                         std::size_t offset, std::size_t count,
                                         dev_mode_t mode) const noexcept {
    return submit_fixed(MACHIO_OP_READ_FIXED, q, request_id, mode, recnum, buffer, offset, count);
}

std::error_code device::write_fixed_async(const io_done_queue& q, std::uint32_t request_id,
                                          recnum_t recnum, const registered_buffer& buffer,
                                          std::size_t offset, std::size_t count,
                                          dev_mode_t mode) const noexcept {
    return submit_fixed(MACHIO_OP_WRITE_FIXED, q, request_id, mode, recnum, buffer, offset, count);
}

// ---- batched submission ----

result<std::size_t> submit_batch(const space& sp,
                                 std::span<const struct machio_io_request> requests) noexcept {
    if (requests.size() > MACHIO_SUBMIT_BATCH_MAX)
        return kern_errc::invalid_argument;
    std::uint64_t epoch = 0;
    const space_info* info = nullptr;
    if (auto ec = current_space(sp.state_.get(), epoch, info))
        return ec;
    struct machio_submit_batch arg = {};
    arg.requests = reinterpret_cast<std::uintptr_t>(requests.data());
    arg.nr = static_cast<std::uint32_t>(requests.size());
    const int n = ::ioctl(info->fd, MACHIO_IOC_SUBMIT_BATCH, &arg);
    if (n < 0)
        return to_error_code(detail::errno_to_kern(errno, detail::call_kind::generic));
    return static_cast<std::size_t>(n);
}

// ---- registered_buffer ----

result<registered_buffer> registered_buffer::create(const space& sp,
                                                    std::span<std::byte> memory) noexcept {
    std::uint64_t epoch = 0;
    const space_info* info = nullptr;
    if (auto ec = current_space(sp.state_.get(), epoch, info))
        return ec;
    mach_port_t name = MACH_PORT_NULL;
    if (kern_return_t kr = detail::buffer_register(info->fd, memory.data(), memory.size(), &name))
        return to_error_code(kr);
    return registered_buffer(sp.state_, epoch, name, memory);
}

registered_buffer::registered_buffer(registered_buffer&& other) noexcept
    : space_(std::move(other.space_)), epoch_(other.epoch_),
      name_(std::exchange(other.name_, MACH_PORT_NULL)), memory_(std::exchange(other.memory_, {})) {
}

registered_buffer& registered_buffer::operator=(registered_buffer&& other) noexcept {
    if (this != &other) {
        (void)close();
        space_ = std::move(other.space_);
        epoch_ = other.epoch_;
        name_ = std::exchange(other.name_, MACH_PORT_NULL);
        memory_ = std::exchange(other.memory_, {});
    }
    return *this;
}

registered_buffer::~registered_buffer() {
    (void)close();
}

std::error_code registered_buffer::close() noexcept {
    if (!name_)
        return {};
    int fd = -1;
    std::error_code ec = resolve_handle_fd(space_, epoch_, name_, fd);
    // Waits (killably only) until no I/O uses the buffer.
    if (!ec)
        ec = to_error_code(detail::port_deallocate(fd, name_, detail::call_kind::port_deallocate));
    name_ = MACH_PORT_NULL;
    memory_ = {};
    space_.reset();
    return ec;
}

std::error_code device::close() noexcept {
    if (!name_)
        return {};
    int fd = -1;
    std::error_code ec = resolve(fd);
    if (!ec)
        ec = to_error_code(detail::port_deallocate(fd, name_, detail::call_kind::device));
    name_ = MACH_PORT_NULL;
    size_ = 0;
    block_size_ = 0;
    space_.reset();
    return ec;
}

mach_port_t device::release() noexcept {
    space_.reset();
    size_ = 0;
    block_size_ = 0;
    return std::exchange(name_, MACH_PORT_NULL);
}

} // namespace machio
