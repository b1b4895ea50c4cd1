// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The asynchronous device traps: device_read_async, device_read_async_inband,
// device_read_overwrite_async, device_write_async, device_write_async_inband.
// Each is one MACHIO_IOC_SUBMIT; only argument errors and resource bounds
// come back here.  machio_submit_batch is many in one MACHIO_IOC_SUBMIT_BATCH.
#include "internal.hpp"

#include <cerrno>
#include <climits>
#include <sys/ioctl.h>

namespace machio::detail {

kern_return_t submit(int fd, const io_request& request) noexcept {
    struct machio_io_request arg = {};
    arg.op = request.op;
    arg.device = request.device;
    arg.queue = request.queue;
    arg.reqid = request.request_id;
    arg.mode = request.mode;
    arg.recnum = request.recnum;
    arg.count = request.count;
    arg.buffer = reinterpret_cast<std::uintptr_t>(request.buffer);
    arg.fixed = request.fixed;
    return ioctl_kern(fd, MACHIO_IOC_SUBMIT, &arg, call_kind::generic);
}

} // namespace machio::detail

using namespace machio::detail;

namespace {

kern_return_t submit_process(std::uint32_t op, mach_port_t device, mach_port_t queue,
                             mach_port_t request_id, dev_mode_t mode, recnum_t recnum,
                             std::int64_t count, const void* buffer) noexcept {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (count > INT_MAX)
        return KERN_INVALID_ARGUMENT;
    return submit(space->fd, {.op = op,
                              .device = device,
                              .queue = queue,
                              .request_id = request_id,
                              .mode = mode,
                              .recnum = recnum,
                              .count = static_cast<std::int32_t>(count),
                              .buffer = buffer});
}

// OSF silently clamps inband transfers to IO_INBAND_MAX.
std::int64_t inband(std::int64_t count) noexcept {
    return count > IO_INBAND_MAX ? IO_INBAND_MAX : count;
}

} // namespace

extern "C" kern_return_t device_read_async(mach_port_t device, mach_port_t queue,
                                           mach_port_t request_id, dev_mode_t mode, recnum_t recnum,
                                           io_buf_len_t bytes_wanted) {
    return submit_process(MACHIO_OP_READ, device, queue, request_id, mode, recnum, bytes_wanted,
                          nullptr);
}

extern "C" kern_return_t device_read_async_inband(mach_port_t device, mach_port_t queue,
                                                  mach_port_t request_id, dev_mode_t mode,
                                                  recnum_t recnum, io_buf_len_t bytes_wanted) {
    return submit_process(MACHIO_OP_READ_INBAND, device, queue, request_id, mode, recnum,
                          inband(bytes_wanted), nullptr);
}

extern "C" kern_return_t device_read_overwrite_async(mach_port_t device, mach_port_t queue,
                                                     mach_port_t request_id, dev_mode_t mode,
                                                     recnum_t recnum, io_buf_len_t bytes_wanted,
                                                     io_buf_ptr_t buffer) {
    return submit_process(MACHIO_OP_READ_OVERWRITE, device, queue, request_id, mode, recnum,
                          bytes_wanted, buffer);
}

extern "C" kern_return_t device_write_async(mach_port_t device, mach_port_t queue,
                                            mach_port_t request_id, dev_mode_t mode,
                                            recnum_t recnum, io_buf_ptr_t data,
                                            mach_msg_type_number_t data_count) {
    return submit_process(MACHIO_OP_WRITE, device, queue, request_id, mode, recnum, data_count,
                          data);
}

extern "C" kern_return_t device_write_async_inband(mach_port_t device, mach_port_t queue,
                                                   mach_port_t request_id, dev_mode_t mode,
                                                   recnum_t recnum, io_buf_ptr_t data,
                                                   mach_msg_type_number_t data_count) {
    return submit_process(MACHIO_OP_WRITE_INBAND, device, queue, request_id, mode, recnum,
                          inband(data_count), data);
}

extern "C" kern_return_t machio_submit_batch(const struct machio_io_request* requests,
                                             unsigned int count, unsigned int* accepted) {
    if (!accepted || (count && !requests))
        return KERN_INVALID_ARGUMENT;
    *accepted = 0;
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    struct machio_submit_batch arg = {};
    arg.requests = reinterpret_cast<std::uintptr_t>(requests);
    arg.nr = count;
    const int n = ::ioctl(space->fd, MACHIO_IOC_SUBMIT_BATCH, &arg);
    if (n < 0)
        return errno_to_kern(errno, call_kind::generic);
    *accepted = static_cast<unsigned int>(n);
    return KERN_SUCCESS;
}
