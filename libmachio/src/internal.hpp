// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Internal interfaces shared by the C API (mach_*.cpp) and the C++ API
// (machio.cpp).  Every operation takes the /dev/machio descriptor of the
// name space it acts on, so the same code serves the implicit process
// space and private machio::space objects.
//
// The C API files are compiled without exceptions and RTTI and use nothing
// from libstdc++ that needs linking, so C programs can link libmachio.a
// with a plain C compiler driver.
#ifndef MACHIO_SRC_INTERNAL_HPP
#define MACHIO_SRC_INTERNAL_HPP

#include <machio/mach.h>

#include <cstddef>
#include <cstdint>

namespace machio::detail {

// Which call an errno comes from: a few errnos mean different things to
// different Mach calls.
enum class call_kind {
    generic,         // queue create/terminate, submit, query
    wait,            // io_done_queue_wait: EFAULT is KERN_INVALID_ARGUMENT
    device_open_rd,  // opening the block device or MACHIO_IOC_DEVICE_OPEN, read only
    device_open_wr,  // the same with D_WRITE: EACCES/EPERM/EROFS are D_READ_ONLY
    device,          // device_close, device_get_status: a bad name is D_NO_SUCH_DEVICE
    port_deallocate, // mach_port_deallocate: KERN_INVALID_NAME, KERN_INVALID_RIGHT
};

// The one errno -> Mach code mapping (errors.cpp).
kern_return_t errno_to_kern(int err, call_kind kind) noexcept;

// The text of a KERN_* or D_* code, nullptr if unknown (errors.cpp).
const char* code_string(kern_return_t code) noexcept;

// ioctl(fd, request, arg), mapped: KERN_SUCCESS or the Mach code for errno.
kern_return_t ioctl_kern(int fd, unsigned long request, void* arg, call_kind kind) noexcept;

// ---- Portfolio (portfolio_call.cpp) ----

// One Portfolio call: ioctl(request, arg) on the process space, waiting
// through EINTR, the calling thread's task noted for its exit.  0, or the
// Err for a call the module could not take: NOSUPPORT (no machio), BADPTR.
std::int32_t portfolio_ioctl(unsigned long request, void* arg) noexcept;
// A call on one number (struct machio_pf_call): its result, or the Err above.
std::int32_t portfolio_item_call(unsigned long request, std::int32_t item) noexcept;
// A call on a type and a tag list (struct machio_pf_create): CreateItem, FindItem.
std::int32_t portfolio_tags_call(unsigned long request, std::int32_t type,
                                 const void* tags) noexcept;

// ---- Name spaces (space.cpp) ----

// What MACHIO_IOC_QUERY told about one open of /dev/machio.
struct space_info {
    int fd = -1;
    mach_port_t host = MACH_PORT_NULL;
    mach_port_t task = MACH_PORT_NULL;
    std::uint32_t abi_version = 0;
    std::uint32_t io_inband_max = 0;
    std::uint64_t features = 0;
    std::uint32_t max_names = 0;
    // Which process space this is (bumped by each machio_space_reset()),
    // read with the space from the one published pointer, so a handle's
    // check of its epoch and its use of the descriptor see the same space.
    std::uint64_t epoch = 0;
};

// The device node to open: $MACHIO_DEVICE (not in set-uid programs) or
// /dev/machio.
const char* device_path() noexcept;

// Open a new name space (O_RDWR | O_CLOEXEC) and query it.  Returns 0 or
// an errno: the open's, ENOTTY if the node is not a machio device,
// EPROTONOSUPPORT if its ABI version is not ours.
int open_space(space_info* out) noexcept;

// The process's implicit space, opened on first use; nullptr (and *err =
// errno of the failed open, if err is not null) when unavailable.
const space_info* process_space(int* err = nullptr) noexcept;

// Counts machio_space_reset() calls: names taken from the process space
// are only meaningful while this stays the same.
std::uint64_t process_space_epoch() noexcept;

// errno of the last failed attempt to open the process space, 0 if it is
// open or was never tried.
int process_space_error() noexcept;

// ---- Operations on one space (mach_queue.cpp, mach_device.cpp, ...) ----

kern_return_t queue_create(int fd, mach_port_t host, mach_port_t* queue) noexcept;
kern_return_t queue_terminate(int fd, mach_port_t queue) noexcept;
kern_return_t queue_wait(int fd, mach_port_t queue, io_done_result_t* result) noexcept;

kern_return_t port_deallocate(int fd, mach_port_t name, call_kind kind) noexcept;

struct device_geometry {
    std::uint32_t block_size = 0;
    std::uint64_t size = 0;
};

// Resolve a device name the way device_open() does: a string containing
// '/' is a path, anything else a name under /dev.  Returns false if the
// result does not fit in `out`.
bool resolve_device_path(const char* name, char* out, std::size_t out_size) noexcept;
// Open path as a block device for mode and turn it into a device name.
kern_return_t device_open_path(int fd, const char* path, dev_mode_t mode, mach_port_t* device,
                               device_geometry* geometry) noexcept;
// Turn a block-device descriptor the caller holds into a device name.
kern_return_t device_open_fd(int fd, int dev_fd, dev_mode_t mode, mach_port_t* device,
                             device_geometry* geometry) noexcept;
kern_return_t device_status(int fd, mach_port_t device, device_geometry* geometry) noexcept;
kern_return_t device_limit(int fd, mach_port_t device, const unsigned int* set,
                           unsigned int* now) noexcept;

// One MACHIO_IOC_SUBMIT.
struct io_request {
    std::uint32_t op = 0;
    mach_port_t device = MACH_PORT_NULL;
    mach_port_t queue = MACH_PORT_NULL;
    mach_port_t request_id = 0;
    dev_mode_t mode = 0;
    recnum_t recnum = 0;
    std::int32_t count = 0;
    const void* buffer = nullptr; // *_FIXED: the offset in the registered buffer
    mach_port_t fixed = MACH_PORT_NULL;
};
kern_return_t submit(int fd, const io_request& request) noexcept;

// MACHIO_IOC_BUFFER_REGISTER (mach_buffer.cpp).
kern_return_t buffer_register(int fd, void* addr, std::size_t len, mach_port_t* buffer) noexcept;

// ---- Queues with options and completion rings (ring.cpp) ----

struct queue_options {
    std::uint32_t ring_entries = 0; // 0: no ring
    int eventfd = -1;               // -1: none
    bool polled = false;            // MACHIO_QUEUE_POLLED
};

// A queue's own file and, for a ring queue, its mapping.
struct ring_map {
    int qfd = -1;
    void* map = nullptr;
    std::size_t size = 0;
    machio_ring_header* hdr = nullptr; // nullptr: no ring mapped
    machio_cqe* cqes = nullptr;
    std::uint32_t mask = 0;
};

// The ring size queues get by default: $MACHIO_RING_ENTRIES (a power of two
// up to 65536; 0 for none) or 4096.
std::uint32_t default_ring_entries() noexcept;

// MACHIO_IOC_QUEUE_SETUP, and the ring mapped.  On success *ring owns the
// queue's file (and mapping): ring_unmap() releases them.
kern_return_t queue_setup(int fd, mach_port_t host, const queue_options& options,
                          mach_port_t* queue, ring_map* ring) noexcept;
void ring_unmap(ring_map* ring) noexcept;

// ring_pop: the slots of the completion taken into out (room slots there),
// 0 if the ring is empty, or one of these.
constexpr int ring_dead = -1;    // the queue is terminated
constexpr int ring_no_room = -2; // the oldest completion needs more than room slots
int ring_pop(const ring_map& ring, machio_cqe* out, unsigned int room) noexcept;
// Completions waiting in the ring.
std::uint32_t ring_ready(const ring_map& ring) noexcept;
// A ring record as the io_done_result_t io_done_queue_wait returns.
void cqe_to_result(const machio_cqe* cqe, io_done_result_t* result) noexcept;

// io_done_queue_wait: from the ring when it has a completion, else through
// the kernel.  ring may be null.
kern_return_t queue_wait_ring(int fd, mach_port_t queue, const ring_map* ring,
                              io_done_result_t* result) noexcept;
// Between min and max slots' worth of completions into out, waiting at most
// timeout_ns (< 0: no limit).  ring may be null.
kern_return_t queue_reap(int fd, mach_port_t queue, const ring_map* ring, unsigned int min,
                         unsigned int max, machio_cqe* out, std::int64_t timeout_ns,
                         unsigned int* count) noexcept;

// ---- The process space's ring queues by name (ring_registry.cpp) ----

// Remember the ring of a queue of the process space (taking over *ring);
// false (ring left to the caller) if there is no memory for it.
bool ring_register(std::uint64_t epoch, mach_port_t queue, const ring_map& ring) noexcept;
// The ring of a queue of the process space, held until ring_put(); nullptr
// if it has none.
struct ring_entry;
ring_entry* ring_get(std::uint64_t epoch, mach_port_t queue) noexcept;
const ring_map& ring_of(const ring_entry* entry) noexcept;
void ring_put(ring_entry* entry) noexcept;
// Forget, unmap and close a queue's ring once no thread uses it.
void ring_unregister(std::uint64_t epoch, mach_port_t queue) noexcept;
// The same for every ring of spaces before epoch (machio_space_reset()).
void ring_unregister_before(std::uint64_t epoch) noexcept;

// munmap of [trunc_page(address), round_page(address + size)).
kern_return_t unmap(std::uintptr_t address, std::size_t size) noexcept;

} // namespace machio::detail

#endif // MACHIO_SRC_INTERNAL_HPP
