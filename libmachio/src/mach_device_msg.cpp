// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Device requests answered by message (module/dreply.c): the five
// device_*_request calls, the synchronous device_read / device_write family
// built on them with a reply port per thread, and device_reply_server, which
// hands a reply to the program's ds_device_*_reply function.
#include "internal.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sys/ioctl.h>

// The handlers are the program's: weak, so a program defines only those it
// needs (OSF's MIG server referred to all of them).
extern "C" {
__attribute__((weak)) kern_return_t ds_device_write_reply(mach_port_t, kern_return_t, io_buf_len_t);
__attribute__((weak))
kern_return_t ds_device_write_reply_inband(mach_port_t, kern_return_t, io_buf_len_t);
__attribute__((weak)) kern_return_t ds_device_read_reply(mach_port_t, kern_return_t, io_buf_ptr_t,
                                                         mach_msg_type_number_t);
__attribute__((weak))
kern_return_t ds_device_read_reply_inband(mach_port_t, kern_return_t, io_buf_ptr_t,
                                          mach_msg_type_number_t);
__attribute__((weak))
kern_return_t ds_device_read_reply_overwrite(mach_port_t, kern_return_t, io_buf_len_t);
}

static_assert(DEVICE_READ_REPLY_ID == MACHIO_DS_READ_REPLY);
static_assert(DEVICE_READ_REPLY_INBAND_ID == MACHIO_DS_READ_REPLY_INBAND);
static_assert(DEVICE_READ_REPLY_OVERWRITE_ID == MACHIO_DS_READ_REPLY_OVERWRITE);
static_assert(DEVICE_WRITE_REPLY_ID == MACHIO_DS_WRITE_REPLY);
static_assert(DEVICE_WRITE_REPLY_INBAND_ID == MACHIO_DS_WRITE_REPLY_INBAND);
static_assert(sizeof(mig_reply_error_t) == 36);

namespace {

using namespace machio::detail;

// The replies, as MIG lays them out (packed to 4).
#pragma pack(push, 4)
struct count_reply { // device_write_reply(_inband), device_read_reply_overwrite
    mach_msg_header_t head;
    NDR_record_t ndr;
    kern_return_t code;
    io_buf_len_t count;
};
struct inband_reply { // device_read_reply_inband
    mach_msg_header_t head;
    NDR_record_t ndr;
    kern_return_t code;
    mach_msg_type_number_t count;
    char data[IO_INBAND_MAX];
};
struct ool_reply { // device_read_reply
    mach_msg_header_t head;
    mach_msg_body_t body;
    mach_msg_ool_descriptor_t data;
    NDR_record_t ndr;
    kern_return_t code;
    mach_msg_type_number_t count;
};
#pragma pack(pop)
static_assert(sizeof(count_reply) == 40);
static_assert(sizeof(ool_reply) == 60);
static_assert(offsetof(ool_reply, data) == 28);

union reply_buffer {
    mach_msg_header_t head;
    count_reply count;
    inband_reply inband;
    ool_reply ool;
};

// The request; with `rcv` (MACHIO_FEAT_DEVICE_RPC), its reply received in
// the same call, as OSF's synchronous calls are one mach_msg each.
kern_return_t request(std::uint32_t op, mach_port_t device, mach_port_t reply_port, dev_mode_t mode,
                      recnum_t recnum, io_buf_len_t count, const void* buffer,
                      reply_buffer* rcv = nullptr) {
    const space_info* space = process_space();
    if (!space)
        return MACH_SEND_INVALID_DEST;
    struct machio_device_request arg = {};
    arg.op = op;
    arg.device = device;
    arg.reply_port = reply_port;
    arg.reply_type = MACH_MSG_TYPE_MAKE_SEND_ONCE; // MIG's reply_port_t
    arg.mode = mode;
    arg.recnum = recnum;
    arg.count = count;
    arg.buffer = reinterpret_cast<std::uintptr_t>(buffer);
    if (rcv) {
        arg.rcv_msg = reinterpret_cast<std::uintptr_t>(rcv);
        arg.rcv_size = sizeof(*rcv);
        arg.flags = MACHIO_DEVREQ_RECEIVE;
    }
    if (::ioctl(space->fd, MACHIO_IOC_DEVICE_REQUEST, &arg) != 0)
        return errno == EFAULT ? MACH_SEND_INVALID_DATA : MACH_SEND_INVALID_HEADER;
    return arg.kr;
}

// The calling thread's reply port for the synchronous calls, made once per
// thread and process space.
mach_port_t thread_reply_port() {
    thread_local mach_port_t port = MACH_PORT_NULL;
    thread_local std::uint64_t epoch = 0;
    if (port == MACH_PORT_NULL || epoch != process_space_epoch()) {
        port = mach_reply_port();
        epoch = process_space_epoch();
    }
    return port;
}

// A reply not the one awaited (left by an earlier call a signal ended): dropped.
void drop_reply(reply_buffer& r) {
    if (r.head.msgh_id == DEVICE_READ_REPLY_ID && (r.head.msgh_bits & MACH_MSGH_BITS_COMPLEX))
        vm_deallocate(mach_task_self(), vm_address_t(r.ool.data.address), r.ool.data.size);
}

// Wait for the reply `id` on `port`; other messages there are dropped.
kern_return_t await_reply(mach_port_t port, mach_msg_id_t id, reply_buffer& r) {
    for (;;) {
        mach_msg_return_t mr = mach_msg(&r.head, MACH_RCV_MSG, 0, sizeof(r), port,
                                        MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
        if (mr != MACH_MSG_SUCCESS)
            return mr;
        if (r.head.msgh_id == id)
            return KERN_SUCCESS;
        drop_reply(r);
    }
}

// A request, then its reply: the device's code, or the send's or receive's.
kern_return_t call(std::uint32_t op, mach_msg_id_t id, mach_port_t device, dev_mode_t mode,
                   recnum_t recnum, io_buf_len_t count, const void* buffer, reply_buffer& r) {
    mach_port_t port = thread_reply_port();
    if (port == MACH_PORT_NULL)
        return MACH_SEND_INVALID_REPLY;
    const space_info* space = process_space();
    bool rpc = space && (space->features & MACHIO_FEAT_DEVICE_RPC);
    kern_return_t kr = request(op, device, port, mode, recnum, count, buffer, rpc ? &r : nullptr);
    if (rpc && kr == MACH_MSG_SUCCESS) {
        if (r.head.msgh_id == id)
            return KERN_SUCCESS;
        drop_reply(r);
    } else if (kr != MACH_MSG_SUCCESS && !(rpc && kr == MACH_RCV_INTERRUPTED)) {
        return kr;
    }
    // Sent; its reply is still to come (a signal, another reply first, an older module).
    return await_reply(port, id, r);
}

void no_reply(const mach_msg_header_t* in, mach_msg_header_t* out, kern_return_t code) {
    auto* e = reinterpret_cast<mig_reply_error_t*>(out);
    std::memset(e, 0, sizeof(*e));
    e->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
    e->Head.msgh_size = sizeof(*e);
    e->Head.msgh_remote_port = in->msgh_remote_port;
    e->Head.msgh_id = in->msgh_id + 100;
    e->NDR.int_rep = 1;
    e->RetCode = code;
}

} // namespace

extern "C" kern_return_t device_read_request(mach_port_t device, mach_port_t reply_port,
                                             dev_mode_t mode, recnum_t recnum,
                                             io_buf_len_t bytes_wanted) {
    return request(MACHIO_OP_READ, device, reply_port, mode, recnum, bytes_wanted, nullptr);
}

extern "C" kern_return_t device_read_request_inband(mach_port_t device, mach_port_t reply_port,
                                                    dev_mode_t mode, recnum_t recnum,
                                                    io_buf_len_t bytes_wanted) {
    // Larger counts are clamped, as in OSF.
    io_buf_len_t n = bytes_wanted > IO_INBAND_MAX ? IO_INBAND_MAX : bytes_wanted;
    return request(MACHIO_OP_READ_INBAND, device, reply_port, mode, recnum, n, nullptr);
}

extern "C" kern_return_t device_read_overwrite_request(mach_port_t device, mach_port_t reply_port,
                                                       dev_mode_t mode, recnum_t recnum,
                                                       io_buf_len_t bytes_wanted,
                                                       vm_address_t data) {
    return request(MACHIO_OP_READ_OVERWRITE, device, reply_port, mode, recnum, bytes_wanted,
                   reinterpret_cast<const void*>(data));
}

extern "C" kern_return_t device_write_request(mach_port_t device, mach_port_t reply_port,
                                              dev_mode_t mode, recnum_t recnum, io_buf_ptr_t data,
                                              mach_msg_type_number_t data_count) {
    return request(MACHIO_OP_WRITE, device, reply_port, mode, recnum, io_buf_len_t(data_count),
                   data);
}

extern "C" kern_return_t device_write_request_inband(mach_port_t device, mach_port_t reply_port,
                                                     dev_mode_t mode, recnum_t recnum,
                                                     io_buf_ptr_t data,
                                                     mach_msg_type_number_t data_count) {
    mach_msg_type_number_t n = data_count > IO_INBAND_MAX ? IO_INBAND_MAX : data_count;
    return request(MACHIO_OP_WRITE_INBAND, device, reply_port, mode, recnum, io_buf_len_t(n), data);
}

extern "C" kern_return_t device_read(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                     io_buf_len_t bytes_wanted, io_buf_ptr_t* data,
                                     mach_msg_type_number_t* data_count) {
    if (!data || !data_count)
        return KERN_INVALID_ADDRESS;
    reply_buffer r;
    kern_return_t kr =
        call(MACHIO_OP_READ, DEVICE_READ_REPLY_ID, device, mode, recnum, bytes_wanted, nullptr, r);
    if (kr != KERN_SUCCESS)
        return kr;
    if (!(r.head.msgh_bits & MACH_MSGH_BITS_COMPLEX)) { // MIG's RetCode: the code alone
        *data = nullptr;
        *data_count = 0;
        return reinterpret_cast<mig_reply_error_t*>(&r)->RetCode;
    }
    *data = static_cast<io_buf_ptr_t>(r.ool.data.address);
    *data_count = r.ool.count;
    return r.ool.code;
}

extern "C" kern_return_t device_read_inband(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                            io_buf_len_t bytes_wanted, io_buf_ptr_inband_t data,
                                            mach_msg_type_number_t* data_count) {
    if (!data || !data_count)
        return KERN_INVALID_ADDRESS;
    reply_buffer r;
    io_buf_len_t n = bytes_wanted > IO_INBAND_MAX ? IO_INBAND_MAX : bytes_wanted;
    kern_return_t kr = call(MACHIO_OP_READ_INBAND, DEVICE_READ_REPLY_INBAND_ID, device, mode,
                            recnum, n, nullptr, r);
    if (kr != KERN_SUCCESS)
        return kr;
    mach_msg_type_number_t got = r.inband.count > IO_INBAND_MAX ? IO_INBAND_MAX : r.inband.count;
    std::memcpy(data, r.inband.data, got);
    *data_count = got;
    return r.inband.code;
}

namespace {

// The calls whose reply is a code and a count (device_reply.defs's
// write replies and read_reply_overwrite).
kern_return_t count_call(std::uint32_t op, mach_msg_id_t id, mach_port_t device, dev_mode_t mode,
                         recnum_t recnum, io_buf_len_t count, const void* buffer,
                         io_buf_len_t* counted) {
    if (!counted)
        return KERN_INVALID_ADDRESS;
    reply_buffer r;
    kern_return_t kr = call(op, id, device, mode, recnum, count, buffer, r);
    if (kr != KERN_SUCCESS)
        return kr;
    *counted = r.count.count;
    return r.count.code;
}

} // namespace

extern "C" kern_return_t device_read_overwrite(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                               io_buf_len_t bytes_wanted, vm_address_t data,
                                               mach_msg_type_number_t* data_count) {
    io_buf_len_t got = 0;
    kern_return_t kr =
        count_call(MACHIO_OP_READ_OVERWRITE, DEVICE_READ_REPLY_OVERWRITE_ID, device, mode, recnum,
                   bytes_wanted, reinterpret_cast<const void*>(data), data_count ? &got : nullptr);
    if (data_count && kr != KERN_INVALID_ADDRESS)
        *data_count = mach_msg_type_number_t(got);
    return kr;
}

extern "C" kern_return_t device_write(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                      io_buf_ptr_t data, mach_msg_type_number_t data_count,
                                      io_buf_len_t* bytes_written) {
    return count_call(MACHIO_OP_WRITE, DEVICE_WRITE_REPLY_ID, device, mode, recnum,
                      io_buf_len_t(data_count), data, bytes_written);
}

extern "C" kern_return_t device_write_inband(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                             io_buf_ptr_t data, mach_msg_type_number_t data_count,
                                             io_buf_len_t* bytes_written) {
    mach_msg_type_number_t n = data_count > IO_INBAND_MAX ? IO_INBAND_MAX : data_count;
    return count_call(MACHIO_OP_WRITE_INBAND, DEVICE_WRITE_REPLY_INBAND_ID, device, mode, recnum,
                      io_buf_len_t(n), data, bytes_written);
}

extern "C" boolean_t device_reply_server(mach_msg_header_t* in, mach_msg_header_t* out) {
    mach_port_t port = in->msgh_local_port;
    const auto* c = reinterpret_cast<const count_reply*>(in);
    switch (in->msgh_id) {
    case DEVICE_WRITE_REPLY_ID:
        if (!ds_device_write_reply)
            break;
        ds_device_write_reply(port, c->code, c->count);
        no_reply(in, out, MIG_NO_REPLY);
        return TRUE;
    case DEVICE_WRITE_REPLY_INBAND_ID:
        if (!ds_device_write_reply_inband)
            break;
        ds_device_write_reply_inband(port, c->code, c->count);
        no_reply(in, out, MIG_NO_REPLY);
        return TRUE;
    case DEVICE_READ_REPLY_OVERWRITE_ID:
        if (!ds_device_read_reply_overwrite)
            break;
        ds_device_read_reply_overwrite(port, c->code, c->count);
        no_reply(in, out, MIG_NO_REPLY);
        return TRUE;
    case DEVICE_READ_REPLY_INBAND_ID: {
        if (!ds_device_read_reply_inband)
            break;
        auto* r = reinterpret_cast<inband_reply*>(in);
        mach_msg_type_number_t n = r->count > IO_INBAND_MAX ? IO_INBAND_MAX : r->count;
        ds_device_read_reply_inband(port, r->code, r->data, n);
        no_reply(in, out, MIG_NO_REPLY);
        return TRUE;
    }
    case DEVICE_READ_REPLY_ID: {
        if (!ds_device_read_reply)
            break;
        if (!(in->msgh_bits & MACH_MSGH_BITS_COMPLEX)) {
            ds_device_read_reply(port, reinterpret_cast<mig_reply_error_t*>(in)->RetCode, nullptr,
                                 0);
        } else {
            auto* r = reinterpret_cast<ool_reply*>(in);
            ds_device_read_reply(port, r->code, static_cast<io_buf_ptr_t>(r->data.address),
                                 r->count);
        }
        no_reply(in, out, MIG_NO_REPLY);
        return TRUE;
    }
    default:
        break;
    }
    no_reply(in, out, MIG_BAD_ID);
    return FALSE;
}
