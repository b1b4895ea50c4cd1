// SPDX-License-Identifier: LGPL-2.1-or-later
//
// <machio/machio.hpp>: C++20 interface to machio, over the same kernel
// objects as <machio/mach.h>.
//
//   auto sp = machio::space::open();              // a private name space
//   auto q = machio::io_done_queue::create(*sp);
//   auto dev = machio::device::open(*sp, "nullb0", D_READ | D_WRITE);
//   if (auto ec = dev->read_async(*q, 42, 0, 4096)) ...
//   auto c = q->wait();                           // machio::result<completion>
//   if (c && !c->status()) use(c->data());
//
// Errors are std::error_code values in two categories: kern_category()
// (KERN_*) and device_category() (D_*); they compare equal to the obvious
// std::errc conditions (kern_errc::invalid_argument == std::errc::
// invalid_argument, device_errc::io_error == std::errc::io_error, ...).
// When the name space cannot be opened at all the error is the open's errno
// in std::system_category() (ENOTTY: not a machio device, EPROTONOSUPPORT:
// unsupported module ABI).  Nothing here throws except the space()
// constructor and result<T>::value() on an error.
//
// Lifetimes: queues and devices keep their space's descriptor open, so they
// may outlive the space object.  A queue's destructor terminates the queue
// (which waits for its outstanding I/O, see io_done_queue_terminate) and
// releases its name; a device's destructor releases the device name.  The
// memory of a write must stay untouched until its completion arrives.
// After fork() the child shares the parent's spaces (see <machio/mach.h>);
// objects of the implicit process space are disabled (kern_errc::
// invalid_name) once machio_space_reset() has replaced that space.
#ifndef MACHIO_MACHIO_HPP
#define MACHIO_MACHIO_HPP

#if __cplusplus < 202002L
#error "<machio/machio.hpp> needs C++20"
#endif

#include <machio/mach.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace machio {

// ---- Errors ----

// kern_return_t failure codes (mach/kern_return.h, OSF values).
enum class kern_errc : int {
    invalid_address = KERN_INVALID_ADDRESS,
    protection_failure = KERN_PROTECTION_FAILURE,
    no_space = KERN_NO_SPACE,
    invalid_argument = KERN_INVALID_ARGUMENT,
    failure = KERN_FAILURE,
    resource_shortage = KERN_RESOURCE_SHORTAGE,
    not_receiver = KERN_NOT_RECEIVER,
    no_access = KERN_NO_ACCESS,
    memory_failure = KERN_MEMORY_FAILURE,
    memory_error = KERN_MEMORY_ERROR,
    already_in_set = KERN_ALREADY_IN_SET,
    not_in_set = KERN_NOT_IN_SET,
    name_exists = KERN_NAME_EXISTS,
    aborted = KERN_ABORTED,
    invalid_name = KERN_INVALID_NAME,
    invalid_task = KERN_INVALID_TASK,
    invalid_right = KERN_INVALID_RIGHT,
    invalid_value = KERN_INVALID_VALUE,
    urefs_overflow = KERN_UREFS_OVERFLOW,
    invalid_capability = KERN_INVALID_CAPABILITY,
    right_exists = KERN_RIGHT_EXISTS,
    invalid_host = KERN_INVALID_HOST,
    memory_present = KERN_MEMORY_PRESENT,
    memory_data_moved = KERN_MEMORY_DATA_MOVED,
    memory_restart_copy = KERN_MEMORY_RESTART_COPY,
    invalid_processor_set = KERN_INVALID_PROCESSOR_SET,
    policy_limit = KERN_POLICY_LIMIT,
    invalid_policy = KERN_INVALID_POLICY,
    invalid_object = KERN_INVALID_OBJECT,
    already_waiting = KERN_ALREADY_WAITING,
    default_set = KERN_DEFAULT_SET,
    exception_protected = KERN_EXCEPTION_PROTECTED,
    invalid_ledger = KERN_INVALID_LEDGER,
    invalid_memory_control = KERN_INVALID_MEMORY_CONTROL,
    invalid_security = KERN_INVALID_SECURITY,
    not_depressed = KERN_NOT_DEPRESSED,
    terminated = KERN_TERMINATED,
    lock_set_destroyed = KERN_LOCK_SET_DESTROYED,
    lock_unstable = KERN_LOCK_UNSTABLE,
    lock_owned = KERN_LOCK_OWNED,
    lock_owned_self = KERN_LOCK_OWNED_SELF,
    semaphore_destroyed = KERN_SEMAPHORE_DESTROYED,
    rpc_server_terminated = KERN_RPC_SERVER_TERMINATED,
    rpc_terminate_orphan = KERN_RPC_TERMINATE_ORPHAN,
    rpc_continue_orphan = KERN_RPC_CONTINUE_ORPHAN,
    no_thread = KERN_NO_THREAD,
    node_down = KERN_NODE_DOWN,
    not_waiting = KERN_NOT_WAITING,
    operation_timed_out = KERN_OPERATION_TIMED_OUT,
};

// Device return codes (device/device_types.h).
enum class device_errc : int {
    io_error = D_IO_ERROR,
    would_block = D_WOULD_BLOCK,
    no_such_device = D_NO_SUCH_DEVICE,
    already_open = D_ALREADY_OPEN,
    device_down = D_DEVICE_DOWN,
    invalid_operation = D_INVALID_OPERATION,
    invalid_recnum = D_INVALID_RECNUM,
    invalid_size = D_INVALID_SIZE,
    no_memory = D_NO_MEMORY,
    read_only = D_READ_ONLY,
    out_of_band = D_OUT_OF_BAND,
    not_cloned = D_NOT_CLONED,
};

[[nodiscard]] MACHIO_API const std::error_category& kern_category() noexcept;
[[nodiscard]] MACHIO_API const std::error_category& device_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(kern_errc e) noexcept {
    return {static_cast<int>(e), kern_category()};
}
[[nodiscard]] inline std::error_code make_error_code(device_errc e) noexcept {
    return {static_cast<int>(e), device_category()};
}

// Any kern_return_t or io_return_t as an error_code: empty for success,
// device_category() for D_* codes, kern_category() for everything else.
[[nodiscard]] inline std::error_code to_error_code(kern_return_t code) noexcept {
    if (code == KERN_SUCCESS)
        return {};
    if (code == D_IO_QUEUED || (code >= D_IO_ERROR && code <= D_NOT_CLONED))
        return {code, device_category()};
    return {code, kern_category()};
}

// ---- result<T>: a value or an error_code (C++20 has no std::expected) ----

template <class T> class [[nodiscard]] result {
  public:
    using value_type = T;

    result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : v_(std::in_place_index<1>, std::move(value)) {}
    // ec must not be empty.
    result(std::error_code ec) noexcept : v_(std::in_place_index<0>, ec) {}
    template <class E>
    requires std::is_error_code_enum_v<E> result(E e)
    noexcept : result(std::error_code(make_error_code(e))) {}

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 1; }
    explicit operator bool() const noexcept { return has_value(); }
    // The error; empty if there is a value.
    [[nodiscard]] std::error_code error() const noexcept {
        return has_value() ? std::error_code() : std::get<0>(v_);
    }

    // Throw std::system_error if there is no value.
    [[nodiscard]] T& value() & {
        check();
        return std::get<1>(v_);
    }
    [[nodiscard]] const T& value() const& {
        check();
        return std::get<1>(v_);
    }
    [[nodiscard]] T&& value() && {
        check();
        return std::get<1>(std::move(v_));
    }
    template <class U> [[nodiscard]] T value_or(U&& fallback) const& {
        return has_value() ? std::get<1>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

    // Unchecked access: there must be a value.
    [[nodiscard]] T& operator*() & noexcept { return *std::get_if<1>(&v_); }
    [[nodiscard]] const T& operator*() const& noexcept { return *std::get_if<1>(&v_); }
    [[nodiscard]] T&& operator*() && noexcept { return std::move(*std::get_if<1>(&v_)); }
    [[nodiscard]] T* operator->() noexcept { return std::get_if<1>(&v_); }
    [[nodiscard]] const T* operator->() const noexcept { return std::get_if<1>(&v_); }

  private:
    void check() const {
        if (!has_value())
            throw std::system_error(std::get<0>(v_));
    }

    std::variant<std::error_code, T> v_;
};

namespace detail {
struct space_state;
struct queue_ring;
} // namespace detail

class io_done_queue;
class device;

// ---- space: one /dev/machio name space ----

class MACHIO_API space {
  public:
    // A new private space; throws std::system_error if it cannot be opened.
    space();
    // A new private space.
    [[nodiscard]] static result<space> open() noexcept;
    // The process's implicit space, the one <machio/mach.h> uses.  Never
    // fails: it is opened on first use, and operations report the error.
    [[nodiscard]] static space process() noexcept;

    space(space&&) noexcept;
    space& operator=(space&&) noexcept;
    space(const space&) = delete;
    space& operator=(const space&) = delete;
    ~space();

    // False for a moved-from space.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    [[nodiscard]] bool is_process() const noexcept;
    // The /dev/machio descriptor (not to be closed), or -1.
    [[nodiscard]] int fd() const noexcept;
    // mach_host_self() and mach_task_self() of this space.
    [[nodiscard]] result<mach_port_t> host() const noexcept;
    [[nodiscard]] result<mach_port_t> task() const noexcept;
    [[nodiscard]] result<machio_info_t> info() const noexcept;

  private:
    friend class io_done_queue;
    friend class device;
    friend class registered_buffer;
    friend result<std::size_t> submit_batch(const space&,
                                            std::span<const struct machio_io_request>) noexcept;
    explicit space(std::shared_ptr<detail::space_state> state) noexcept;

    std::shared_ptr<detail::space_state> state_;
};

// ---- Completions ----

enum class io_type : int {
    read = IO_DONE_READ,          // read_async, read_inband_async
    write = IO_DONE_WRITE,        // write_async, write_inband_async
    overwrite = IO_DONE_OVERWRITE // read_overwrite_async
};

// The out-of-line data of read_async: memory the kernel mapped into the
// process; unmapped (round_page(size) bytes) on destruction.
class MACHIO_API ool_buffer {
  public:
    ool_buffer() noexcept = default;
    // Take over a mapping of round_page(size) bytes at data.
    ool_buffer(std::byte* data, std::size_t size) noexcept : data_(data), size_(size) {}
    ool_buffer(ool_buffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    ool_buffer& operator=(ool_buffer&& other) noexcept;
    ool_buffer(const ool_buffer&) = delete;
    ool_buffer& operator=(const ool_buffer&) = delete;
    ~ool_buffer() { reset(); }

    [[nodiscard]] std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::span<std::byte> span() const noexcept { return {data_, size_}; }
    // Unmap now.
    void reset() noexcept;
    // Give up ownership; the caller must vm_deallocate() the memory.
    [[nodiscard]] std::span<std::byte> release() noexcept {
        return {std::exchange(data_, nullptr), std::exchange(size_, 0)};
    }

  private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

// One io_done_result, typed.  Move-only: it may own out-of-line data.
class MACHIO_API completion {
  public:
    completion() noexcept = default;
    completion(completion&&) noexcept = default;
    completion& operator=(completion&&) noexcept = default;

    [[nodiscard]] io_type type() const noexcept { return type_; }
    [[nodiscard]] std::uint32_t request_id() const noexcept { return request_id_; }
    // Empty on success, else a kern_category() or device_category() code.
    [[nodiscard]] std::error_code status() const noexcept { return to_error_code(code_); }
    // The raw qd_code.
    [[nodiscard]] kern_return_t code() const noexcept { return code_; }
    [[nodiscard]] bool ok() const noexcept { return code_ == KERN_SUCCESS; }
    // Bytes transferred.
    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    // The data read: the out-of-line buffer, the inband copy held here, or
    // (overwrite) the caller's buffer when the kernel reports it.  Empty for
    // writes and failures.
    [[nodiscard]] std::span<const std::byte> data() const noexcept;
    // The out-of-line buffer of a read_async completion (else empty).
    [[nodiscard]] ool_buffer& buffer() noexcept { return ool_; }
    [[nodiscard]] ool_buffer take_buffer() noexcept { return std::move(ool_); }

  private:
    friend class io_done_queue;
    enum class storage : unsigned char { none, ool, inband, external };

    // r must be the very structure the kernel filled in (inband detection
    // compares qd_data with &r.qd_inline).
    static completion from_raw(const io_done_result_t& r) noexcept;

    io_type type_ = io_type::read;
    std::uint32_t request_id_ = 0;
    kern_return_t code_ = KERN_SUCCESS;
    std::size_t count_ = 0;
    storage storage_ = storage::none;
    const std::byte* external_ = nullptr;
    ool_buffer ool_;
    std::array<std::byte, IO_INBAND_MAX> inband_{};
};

// ---- io_done_queue ----

// One completion as a ring or reap record (32 bytes; an inband read's bytes
// follow it in the next slots).
using completion_record = struct machio_cqe;

struct queue_options {
    // Completion ring slots, a power of two up to 65536; 0 for no ring.
    // Default: $MACHIO_RING_ENTRIES or 4096, as io_done_queue_create.
    std::uint32_t ring_entries = default_ring;
    // An eventfd signalled per completion; -1 for none.
    int eventfd = -1;
    // Complete I/O by polling the device in wait() and reap() (see
    // MACHIO_QUEUE_POLLED in <machio/mach.h>).
    bool polled = false;
    static constexpr std::uint32_t default_ring = ~std::uint32_t{0};
};

class MACHIO_API io_done_queue {
  public:
    io_done_queue() noexcept;
    // A queue with a completion ring when the module can make one (see
    // queue_options), else a plain queue: they behave the same.
    [[nodiscard]] static result<io_done_queue> create(const space& sp) noexcept;
    // With options, exactly: an error if the ring or eventfd is refused
    // (kern_errc::resource_shortage past the space's ring budget).
    [[nodiscard]] static result<io_done_queue> create(const space& sp,
                                                      const queue_options& options) noexcept;
    // Take ownership of a queue name of sp (e.g. from the C API).
    [[nodiscard]] static io_done_queue adopt(const space& sp, mach_port_t name) noexcept;

    io_done_queue(io_done_queue&& other) noexcept;
    io_done_queue& operator=(io_done_queue&& other) noexcept;
    io_done_queue(const io_done_queue&) = delete;
    io_done_queue& operator=(const io_done_queue&) = delete;
    // terminate() unless done already, then release the name.
    ~io_done_queue();

    [[nodiscard]] mach_port_t name() const noexcept { return name_; }
    explicit operator bool() const noexcept { return name_ != MACH_PORT_NULL; }

    // Block for one completion.  Several threads may wait at once.
    // kern_errc::terminated, kern_errc::aborted (signal), ...
    [[nodiscard]] result<completion> wait() const noexcept;
    // The same into a caller-owned io_done_result_t (no conversion; the
    // out-of-line data of a read is then the caller's to vm_deallocate).
    [[nodiscard]] std::error_code wait(io_done_result_t& raw) const noexcept;
    // Between min and out.size() slots' worth of completions into out,
    // waiting at most timeout (negative: no limit) for min: how many were
    // taken.  No system call while the ring holds them; nothing allocated.
    // Step through them with machio_cqe_next().
    [[nodiscard]] result<std::size_t>
    reap(std::span<completion_record> out, std::size_t min = 1,
         std::chrono::nanoseconds timeout = std::chrono::nanoseconds{-1}) const noexcept;
    // The queue's file for poll/epoll (readable while completions wait),
    // owned by this object; -1 for a queue without one.
    [[nodiscard]] int fd() const noexcept;
    // Whether completions come through a mapped ring.
    [[nodiscard]] bool has_ring() const noexcept;
    // Wake all waiters (kern_errc::terminated), wait for outstanding I/O,
    // discard its completions.  The name stays owned until destruction.
    [[nodiscard]] std::error_code terminate() noexcept;
    // terminate() if needed, then release the name; reports what failed.
    [[nodiscard]] std::error_code close() noexcept;
    // Give up ownership of the name (not terminated, not released).
    [[nodiscard]] mach_port_t release() noexcept;

  private:
    friend class device;
    io_done_queue(std::shared_ptr<detail::space_state> state, std::uint64_t epoch,
                  mach_port_t name) noexcept;
    [[nodiscard]] std::error_code resolve(int& fd) const noexcept;

    std::shared_ptr<detail::space_state> space_;
    std::uint64_t epoch_ = 0;
    mach_port_t name_ = MACH_PORT_NULL;
    bool terminated_ = false;
    std::unique_ptr<detail::queue_ring> ring_;
};

// ---- batched submission ----

// Submit requests of sp (struct machio_io_request: op MACHIO_OP_*, device and
// queue names, reqid, mode, recnum, count, buffer, fixed) in one system call,
// at most MACHIO_SUBMIT_BATCH_MAX: how many were accepted.  As io_submit(2),
// the first refused request ends the batch; its error comes back only when it
// is the first.  Nothing is allocated.
[[nodiscard]] MACHIO_API result<std::size_t>
submit_batch(const space& sp, std::span<const struct machio_io_request> requests) noexcept;

// ---- registered buffers ----

// Memory pinned once for many requests (machio_buffer_register): requests
// through device::read_fixed_async / write_fixed_async pin nothing.  The
// memory must outlive the object; destruction waits until no I/O uses it.
class MACHIO_API registered_buffer {
  public:
    registered_buffer() noexcept = default;
    [[nodiscard]] static result<registered_buffer> create(const space& sp,
                                                          std::span<std::byte> memory) noexcept;
    registered_buffer(registered_buffer&& other) noexcept;
    registered_buffer& operator=(registered_buffer&& other) noexcept;
    registered_buffer(const registered_buffer&) = delete;
    registered_buffer& operator=(const registered_buffer&) = delete;
    ~registered_buffer();

    [[nodiscard]] mach_port_t name() const noexcept { return name_; }
    [[nodiscard]] std::span<std::byte> memory() const noexcept { return memory_; }
    explicit operator bool() const noexcept { return name_ != MACH_PORT_NULL; }
    // Release now (waits for I/O using it); reports what failed.
    [[nodiscard]] std::error_code close() noexcept;

  private:
    friend class device;
    registered_buffer(std::shared_ptr<detail::space_state> state, std::uint64_t epoch,
                      mach_port_t name, std::span<std::byte> memory) noexcept
        : space_(std::move(state)), epoch_(epoch), name_(name), memory_(memory) {}

    std::shared_ptr<detail::space_state> space_;
    std::uint64_t epoch_ = 0;
    mach_port_t name_ = MACH_PORT_NULL;
    std::span<std::byte> memory_;
};

// ---- device ----

// Tag for writes whose completion is discarded (queue MACH_PORT_NULL).
struct discard_t {
    explicit constexpr discard_t() = default;
};
inline constexpr discard_t discard{};

class MACHIO_API device {
  public:
    device() noexcept = default;
    // Open a block device: path, or a name under /dev ("nullb0").
    // mode: D_READ and/or D_WRITE.
    [[nodiscard]] static result<device> open(const space& sp, std::string_view path,
                                             dev_mode_t mode = D_READ) noexcept;
    // A device for a block-device descriptor the caller holds.  The caller
    // keeps ownership of fd (the device holds its own reference to the open
    // file, so fd may be closed right away).
    [[nodiscard]] static result<device> adopt(const space& sp, int fd,
                                              dev_mode_t mode = D_READ) noexcept;

    device(device&& other) noexcept;
    device& operator=(device&& other) noexcept;
    device(const device&) = delete;
    device& operator=(const device&) = delete;
    // Releases the device name.
    ~device();

    [[nodiscard]] mach_port_t name() const noexcept { return name_; }
    explicit operator bool() const noexcept { return name_ != MACH_PORT_NULL; }
    // Size in bytes and logical block size, as of open() or refresh().
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    [[nodiscard]] std::uint32_t block_size() const noexcept { return block_size_; }
    // Ask the kernel again (the device may have been resized).
    [[nodiscard]] std::error_code refresh() noexcept;

    // Asynchronous I/O; recnum counts logical blocks, mode may be D_NOWAIT.
    // Only argument errors are returned; the outcome is the completion's.
    [[nodiscard]] std::error_code read_async(const io_done_queue& q, std::uint32_t request_id,
                                             recnum_t recnum, std::size_t bytes,
                                             dev_mode_t mode = 0) const noexcept;
    // bytes <= IO_INBAND_MAX.
    [[nodiscard]] std::error_code read_inband_async(const io_done_queue& q,
                                                    std::uint32_t request_id, recnum_t recnum,
                                                    std::size_t bytes,
                                                    dev_mode_t mode = 0) const noexcept;
    // buffer must stay alive and untouched until the completion.
    [[nodiscard]] std::error_code read_overwrite_async(const io_done_queue& q,
                                                       std::uint32_t request_id, recnum_t recnum,
                                                       std::span<std::byte> buffer,
                                                       dev_mode_t mode = 0) const noexcept;
    // data is not copied: it must stay alive and untouched until the
    // completion.
    [[nodiscard]] std::error_code write_async(const io_done_queue& q, std::uint32_t request_id,
                                              recnum_t recnum, std::span<const std::byte> data,
                                              dev_mode_t mode = 0) const noexcept;
    [[nodiscard]] std::error_code write_async(discard_t, std::uint32_t request_id, recnum_t recnum,
                                              std::span<const std::byte> data,
                                              dev_mode_t mode = 0) const noexcept;
    // data.size() <= IO_INBAND_MAX; copied before this returns.
    [[nodiscard]] std::error_code write_inband_async(const io_done_queue& q,
                                                     std::uint32_t request_id, recnum_t recnum,
                                                     std::span<const std::byte> data,
                                                     dev_mode_t mode = 0) const noexcept;
    [[nodiscard]] std::error_code write_inband_async(discard_t, std::uint32_t request_id,
                                                     recnum_t recnum,
                                                     std::span<const std::byte> data,
                                                     dev_mode_t mode = 0) const noexcept;

    // Into / from [offset, offset + count) of a registered buffer of the
    // same space: no pinning per request.
    [[nodiscard]] std::error_code read_fixed_async(const io_done_queue& q, std::uint32_t request_id,
                                                   recnum_t recnum, const registered_buffer& buffer,
                                                   std::size_t offset, std::size_t count,
                                                   dev_mode_t mode = 0) const noexcept;
    [[nodiscard]] std::error_code write_fixed_async(const io_done_queue& q,
                                                    std::uint32_t request_id, recnum_t recnum,
                                                    const registered_buffer& buffer,
                                                    std::size_t offset, std::size_t count,
                                                    dev_mode_t mode = 0) const noexcept;

    // Release the device name now; reports what failed.
    [[nodiscard]] std::error_code close() noexcept;
    // Give up ownership of the name.
    [[nodiscard]] mach_port_t release() noexcept;

  private:
    device(std::shared_ptr<detail::space_state> state, std::uint64_t epoch, mach_port_t name,
           std::uint64_t size, std::uint32_t block_size) noexcept;
    [[nodiscard]] std::error_code resolve(int& fd) const noexcept;
    [[nodiscard]] std::error_code submit_fixed(std::uint32_t op, const io_done_queue& q,
                                               std::uint32_t request_id, dev_mode_t mode,
                                               recnum_t recnum, const registered_buffer& buffer,
                                               std::size_t offset,
                                               std::size_t count) const noexcept;
    [[nodiscard]] std::error_code submit(std::uint32_t op, const io_done_queue* q,
                                         std::uint32_t request_id, dev_mode_t mode, recnum_t recnum,
                                         std::size_t count, const void* buffer,
                                         std::size_t limit) const noexcept;

    std::shared_ptr<detail::space_state> space_;
    std::uint64_t epoch_ = 0;
    mach_port_t name_ = MACH_PORT_NULL;
    std::uint64_t size_ = 0;
    std::uint32_t block_size_ = 0;
};

// ---- Mach ports, in the process space (the calls of <machio/mach.h>) ----

class send_right;

// A receive right: destroyed with the object (the messages queued on it
// with it; send rights to its port, here and elsewhere, become dead
// names, which their send_right objects release).
class MACHIO_API receive_right {
  public:
    // A new port; `realtime`: mach_port_allocate_qos with qos.rt, its
    // messages from a pool made with it.
    [[nodiscard]] static result<receive_right> allocate(bool realtime = false) noexcept;

    receive_right(receive_right&& other) noexcept
        : name_(std::exchange(other.name_, MACH_PORT_NULL)) {}
    receive_right& operator=(receive_right&& other) noexcept;
    ~receive_right();

    [[nodiscard]] mach_port_t name() const noexcept { return name_; }
    // A send right made from it: under its name, as Mach keeps one name.
    [[nodiscard]] result<send_right> make_send() const noexcept;
    // The next message into `buffer` (its header first): the message's
    // size.  With a timeout it gives up after it (0: does not wait).
    [[nodiscard]] result<std::size_t>
    receive(std::span<std::byte> buffer,
            std::optional<std::chrono::milliseconds> timeout = std::nullopt) const noexcept;
    // netname_check_in / netname_check_out under `name`, for this user.
    [[nodiscard]] std::error_code check_in(const std::string& name) const noexcept;
    [[nodiscard]] std::error_code check_out(const std::string& name) const noexcept;
    // Give the name up without destroying the right.
    [[nodiscard]] mach_port_t release() noexcept { return std::exchange(name_, MACH_PORT_NULL); }

  private:
    explicit receive_right(mach_port_t name) noexcept : name_(name) {}
    mach_port_t name_ = MACH_PORT_NULL;
};

// A send right: one user reference of a name, released with the object.
class MACHIO_API send_right {
  public:
    // netname_look_up(name) on this machine.
    [[nodiscard]] static result<send_right> look_up(const std::string& name) noexcept;
    // Take over one user reference of `name`, a send right.
    [[nodiscard]] static send_right adopt(mach_port_t name) noexcept { return send_right(name); }

    send_right(send_right&& other) noexcept : name_(std::exchange(other.name_, MACH_PORT_NULL)) {}
    send_right& operator=(send_right&& other) noexcept;
    ~send_right();

    [[nodiscard]] mach_port_t name() const noexcept { return name_; }
    // mach_msg: `msg` (msgh_size bytes, its body after the header) to this
    // right, copied; the header's destination fields are filled in here.
    [[nodiscard]] std::error_code send(mach_msg_header_t& msg) const noexcept;
    // An RPC: `request` goes with a send-once right made from `reply`, and
    // the answer comes into `answer`: its size.  With `answer` the
    // request's own buffer, both in one mach_msg call.
    [[nodiscard]] result<std::size_t> call(mach_msg_header_t& request, const receive_right& reply,
                                           std::span<std::byte> answer) const noexcept;

  private:
    explicit send_right(mach_port_t name) noexcept : name_(name) {}
    mach_port_t name_ = MACH_PORT_NULL;
};

// ---- Portfolio (<machio/portfolio.h>, in C++) ----
//
// The calling thread's Portfolio task owns what these make: use each
// object from the thread that made it (another thread gets NOTOWNER).

namespace portfolio {

// A Portfolio item number.
using item_t = std::int32_t;

// Portfolio's Err values (operror.h) as std::error_code: message() is
// GetSysErr's text; NOMEM compares equal to std::errc::not_enough_memory,
// BADPTR to bad_address, NOTOWNER and BADPRIV to permission_denied,
// ABORTED to operation_canceled, BADITEM and BADIOARG to invalid_argument.
[[nodiscard]] MACHIO_API const std::error_category& error_category() noexcept;
// err as an error_code; empty for err >= 0.
[[nodiscard]] MACHIO_API std::error_code make_error(std::int32_t err) noexcept;

// What CMD_STATUS says of a device.
struct device_status {
    std::uint32_t block_size = 0;
    std::uint32_t block_count = 0;
    bool read_only = false;
};

// One open of a block device (OpenNamedDevice), closed on destruction.
class MACHIO_API device {
  public:
    // name: under /dev (such as "nullb0"), or a path.
    [[nodiscard]] static result<device> open(std::string_view name) noexcept;

    device(device&& other) noexcept : item_(std::exchange(other.item_, 0)) {}
    device& operator=(device&& other) noexcept;
    device(const device&) = delete;
    device& operator=(const device&) = delete;
    ~device();

    [[nodiscard]] item_t item() const noexcept { return item_; }

  private:
    explicit device(item_t item) noexcept : item_(item) {}
    item_t item_ = 0;
};

// An IOReq (CreateIOReq) to a device, notified by SIGF_IODONE; deleted on
// destruction, which aborts its I/O and waits for it.  Its memory must
// stay as it is while I/O runs.
class MACHIO_API io_request {
  public:
    // priority: its place among requests waiting for a device with an
    // in-progress limit, higher first.
    [[nodiscard]] static result<io_request> create(const device& dev, std::uint8_t priority = 0,
                                                   const char* name = nullptr) noexcept;

    io_request(io_request&& other) noexcept : item_(std::exchange(other.item_, 0)) {}
    io_request& operator=(io_request&& other) noexcept;
    io_request(const io_request&) = delete;
    io_request& operator=(const io_request&) = delete;
    ~io_request();

    [[nodiscard]] item_t item() const noexcept { return item_; }

    // DoIO: the bytes moved (fewer at the end of the device), or the error.
    [[nodiscard]] result<std::size_t> read(std::span<std::byte> into, std::uint32_t block) noexcept;
    [[nodiscard]] result<std::size_t> write(std::span<const std::byte> from,
                                            std::uint32_t block) noexcept;
    [[nodiscard]] result<device_status> status() noexcept;

    // SendIO: the I/O started (or done); wait() for its outcome.
    [[nodiscard]] std::error_code start_read(std::span<std::byte> into,
                                             std::uint32_t block) noexcept;
    [[nodiscard]] std::error_code start_write(std::span<const std::byte> from,
                                              std::uint32_t block) noexcept;
    // WaitIO: the bytes the last I/O moved, or its error.
    [[nodiscard]] result<std::size_t> wait() noexcept;
    // CheckIO: whether the last I/O is done (no system call).
    [[nodiscard]] bool done() const noexcept;
    // AbortIO: a request still waiting for the device completes aborted.
    [[nodiscard]] std::error_code abort() noexcept;

  private:
    explicit io_request(item_t item) noexcept : item_(item) {}
    item_t item_ = 0;
};

} // namespace portfolio

} // namespace machio

template <> struct std::is_error_code_enum<machio::kern_errc> : std::true_type {};
template <> struct std::is_error_code_enum<machio::device_errc> : std::true_type {};

#endif // MACHIO_MACHIO_HPP
