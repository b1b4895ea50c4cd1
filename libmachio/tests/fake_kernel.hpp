// An in-process fake of the machio module's ioctls, for unit tests.
//
// fake_kernel.cpp defines ioctl(2) itself; linked into a test executable
// together with libmachio.a it receives every call the library makes.
// Requests of the machio ioctl type are served from an in-memory model of
// the module (name spaces keyed by descriptor, queues, devices backed by a
// memory array); everything else goes to the real system call.  The tests
// point MACHIO_DEVICE at /dev/null so that the library has a real
// descriptor to talk to.
//
// Differences from the module, on purpose: requests complete at once (at
// submit), and a wait on an empty queue fails with EINTR instead of
// blocking (it stands for a signal).  A result pointer below 64 KiB counts
// as a bad address (EFAULT; the completion stays queued).
#ifndef MACHIO_TESTS_FAKE_KERNEL_HPP
#define MACHIO_TESTS_FAKE_KERNEL_HPP

#include <uapi/linux/machio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fake {

// Forget every space (keeping the fixed host 0x101 and task 0x201 names)
// and every record; devices become 1 MiB of zeros with 512-byte blocks.
void reset();

// Make the next ioctl with this request number fail with err.
void inject(unsigned long request, int err);

// Geometry of devices opened from now on.
void set_geometry(std::uint64_t size, std::uint32_t block_size);

// Number of machio ioctls with this request number seen since reset().
int calls(unsigned long request);

// Every accepted or rejected MACHIO_IOC_SUBMIT argument, in order.
std::vector<machio_io_request> submits();

// The result pointer of the last MACHIO_IOC_QUEUE_WAIT.
std::uint64_t last_wait_result();

// Names passed to MACHIO_IOC_QUEUE_TERMINATE / MACHIO_IOC_PORT_DEALLOCATE
// (successful or not), in order.
std::vector<std::uint32_t> terminated();
std::vector<std::uint32_t> deallocated();

// What MACHIO_IOC_DEVICE_OPEN saw of the descriptor it was given.
struct device_open_record {
    int fd = -1;          // the caller's descriptor number
    int status_flags = 0; // F_GETFL
    int fd_flags = 0;     // F_GETFD
    std::uint32_t mode = 0;
};
device_open_record last_device_open();

// Completions queued on `queue` of the space open as `fd`.
std::size_t pending(int fd, std::uint32_t queue);

// The byte the fake device holds at `offset` before anything is written.
inline std::uint8_t initial_byte(std::uint64_t offset) {
    return static_cast<std::uint8_t>(offset * 7 + 3);
}

} // namespace fake

#endif // MACHIO_TESTS_FAKE_KERNEL_HPP
