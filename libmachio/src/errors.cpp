// SPDX-License-Identifier: LGPL-2.1-or-later
//
// errno -> Mach code mapping, and mach_error_string().
#include "internal.hpp"

#include <cerrno>
#include <iterator>
#include <sys/ioctl.h>

namespace machio::detail {

kern_return_t errno_to_kern(int err, call_kind kind) noexcept {
    if (err == 0)
        return KERN_SUCCESS;

    // Call-specific meanings first.
    switch (kind) {
    case call_kind::wait:
        if (err == EFAULT) // man page: a bad result address is an invalid argument
            return KERN_INVALID_ARGUMENT;
        break;
    case call_kind::device_open_rd:
    case call_kind::device_open_wr:
        switch (err) {
        case EBADF:
        case ENOTBLK:
        case ENODEV:
        case ENXIO:
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
        case EISDIR:
            return D_NO_SUCH_DEVICE;
        case EROFS:
            return D_READ_ONLY;
        case EACCES:
        case EPERM:
            return kind == call_kind::device_open_wr ? D_READ_ONLY : KERN_NO_ACCESS;
        case EBUSY:
            return D_ALREADY_OPEN;
        case ENOMEDIUM:
            return D_DEVICE_DOWN;
        case EIO:
            return D_IO_ERROR;
        case EMFILE:
        case ENFILE:
            return KERN_RESOURCE_SHORTAGE;
        default:
            break;
        }
        break;
    case call_kind::device:
        // Not a device name: unknown, host/task, or a (dead) queue.
        if (err == EINVAL || err == ESHUTDOWN || err == EBUSY)
            return D_NO_SUCH_DEVICE;
        break;
    case call_kind::port_deallocate:
        if (err == EINVAL || err == ESHUTDOWN)
            return KERN_INVALID_NAME;
        if (err == EBUSY) // a live queue: terminate it first
            return KERN_INVALID_RIGHT;
        break;
    case call_kind::generic:
        break;
    }

    switch (err) {
    case EINVAL:
    case EOPNOTSUPP: // a polled queue: an op or a device it cannot poll
        return KERN_INVALID_ARGUMENT;
    case ENOSPC:
    case ENOMEM:
    case EAGAIN: // a space's request or pinned-page bound is reached (submit)
        return KERN_RESOURCE_SHORTAGE;
    case ESHUTDOWN:
        return KERN_TERMINATED;
    case EINTR:
        return KERN_ABORTED;
    case EFAULT:
        return KERN_INVALID_ADDRESS;
    default:
        return KERN_FAILURE;
    }
}

kern_return_t ioctl_kern(int fd, unsigned long request, void* arg, call_kind kind) noexcept {
    if (::ioctl(fd, request, arg) == 0)
        return KERN_SUCCESS;
    return errno_to_kern(errno, kind);
}

namespace {

const char* kern_string(kern_return_t code) noexcept {
    static const char* const strings[] = {
        "(os/kern) successful",
        "(os/kern) invalid address",
        "(os/kern) protection failure",
        "(os/kern) no space available",
        "(os/kern) invalid argument",
        "(os/kern) failure",
        "(os/kern) resource shortage",
        "(os/kern) not receiver",
        "(os/kern) no access",
        "(os/kern) memory failure",
        "(os/kern) memory error",
        "(os/kern) already in set",
        "(os/kern) not in set",
        "(os/kern) name exists",
        "(os/kern) aborted",
        "(os/kern) invalid name",
        "(os/kern) invalid task",
        "(os/kern) invalid right",
        "(os/kern) invalid value",
        "(os/kern) user references overflow",
        "(os/kern) invalid capability",
        "(os/kern) right exists",
        "(os/kern) invalid host",
        "(os/kern) memory present",
        "(os/kern) memory data moved",
        "(os/kern) memory restart copy",
        "(os/kern) invalid processor set",
        "(os/kern) policy limit",
        "(os/kern) invalid policy",
        "(os/kern) invalid object",
        "(os/kern) already waiting",
        "(os/kern) default set",
        "(os/kern) exception protected",
        "(os/kern) invalid ledger",
        "(os/kern) invalid memory control",
        "(os/kern) invalid security",
        "(os/kern) thread not depressed",
        "(os/kern) object terminated",
        "(os/kern) lock set destroyed",
        "(os/kern) lock unstable",
        "(os/kern) lock owned by another",
        "(os/kern) lock owned by self",
        "(os/kern) semaphore destroyed",
        "(os/kern) RPC server terminated",
        "(os/kern) RPC terminate orphan",
        "(os/kern) RPC continue orphan",
        "(os/kern) no thread",
        "(os/kern) node down",
        "(os/kern) not waiting",
        "(os/kern) operation timed out",
    };
    static_assert(sizeof(strings) / sizeof(strings[0]) == KERN_OPERATION_TIMED_OUT + 1);

    if (code < 0 || code > KERN_OPERATION_TIMED_OUT)
        return nullptr;
    return strings[code];
}

const char* device_string(kern_return_t code) noexcept {
    static const char* const strings[] = {
        "(device) hardware I/O error",
        "(device) operation would block",
        "(device) no such device",
        "(device) device already open",
        "(device) device has been shut down",
        "(device) invalid operation for device",
        "(device) invalid record number",
        "(device) invalid I/O size",
        "(device) memory allocation failure",
        "(device) device is read-only",
        "(device) out-of-band condition",
        "(device) device cannot be cloned",
    };
    static_assert(sizeof(strings) / sizeof(strings[0]) == D_NOT_CLONED - D_IO_ERROR + 1);

    if (code == D_IO_QUEUED)
        return "(device) I/O queued";
    if (code < D_IO_ERROR || code > D_NOT_CLONED)
        return nullptr;
    return strings[code - D_IO_ERROR];
}

// mach_msg's codes (mach/message.h), the name service's, and MIG's, as
// OSF's mach_error_string() says them.
const char* ipc_string(kern_return_t code) noexcept {
    static const char* const send[] = {
        nullptr,
        "(ipc/send) thread is waiting to send",
        "(ipc/send) invalid data",
        "(ipc/send) invalid destination port",
        "(ipc/send) timed out",
        "(ipc/send) will notify",
        "(ipc/send) notify in progress",
        "(ipc/send) interrupted",
        "(ipc/send) msg too small",
        "(ipc/send) invalid reply port",
        "(ipc/send) invalid port right",
        "(ipc/send) invalid notify port",
        "(ipc/send) invalid memory",
        "(ipc/send) no msg buffer",
        "(ipc/send) msg too large",
        "(ipc/send) invalid msg-type",
        "(ipc/send) invalid msg-header",
    };
    static const char* const rcv[] = {
        nullptr,
        "(ipc/rcv) wait in progress",
        "(ipc/rcv) invalid name",
        "(ipc/rcv) timed out",
        "(ipc/rcv) msg too large",
        "(ipc/rcv) interrupted",
        "(ipc/rcv) port changed",
        "(ipc/rcv) invalid notify port",
        "(ipc/rcv) invalid msg-buffer",
        "(ipc/rcv) port died",
        "(ipc/rcv) port is in a set",
        "(ipc/rcv) header error",
        "(ipc/rcv) body error",
    };
    static const char* const netname[] = {
        "(netname) name is not yours", "(netname) name not checked in", "(netname) no such host",
        "(netname) host not found",    "(netname) invalid port",
    };
    static const char* const mig[] = {
        "(ipc/mig) type check failure",           "(ipc/mig) wrong reply message ID",
        "(ipc/mig) server detected error",        "(ipc/mig) bad request message ID",
        "(ipc/mig) server found wrong arguments", "(ipc/mig) no reply should be sent",
    };
    // MACH_RCV_HEADER_ERROR and _BODY_ERROR carry MACH_MSG_IPC_SPACE and kin.
    auto base = static_cast<unsigned>(code) & ~0x00003e00U;
    if (base > 0x10000000U && base < 0x10000000U + std::size(send))
        return send[base - 0x10000000U];
    if (base > 0x10004000U && base < 0x10004000U + std::size(rcv))
        return rcv[base - 0x10004000U];
    if (code >= NETNAME_NOT_YOURS && code <= NETNAME_INVALID_PORT)
        return netname[code - NETNAME_NOT_YOURS];
    if (code <= -300 && code > -300 - int(std::size(mig)))
        return mig[-300 - code];
    return nullptr;
}

} // namespace

const char* code_string(kern_return_t code) noexcept {
    if (const char* s = kern_string(code))
        return s;
    if (const char* s = ipc_string(code))
        return s;
    return device_string(code);
}

namespace {

// KERN_FAILURE while the process space cannot be opened: say why.
const char* unavailable_string(int err) noexcept {
    switch (err) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
        return "(os/kern) failure: the machio device (/dev/machio) does not exist; is the machio "
               "module loaded?";
    case EACCES:
    case EPERM:
        return "(os/kern) failure: permission denied opening the machio device (/dev/machio)";
    case EMFILE:
    case ENFILE:
        return "(os/kern) failure: too many open files to open the machio device (/dev/machio)";
    case ENOMEM:
        return "(os/kern) failure: out of memory opening the machio device (/dev/machio)";
    case ENOTTY:
        return "(os/kern) failure: the device opened as /dev/machio is not a machio device";
    case EPROTONOSUPPORT:
        return "(os/kern) failure: the machio module speaks an ABI version this library does "
               "not support";
    default:
        return "(os/kern) failure: the machio device (/dev/machio) cannot be opened";
    }
}

} // namespace

} // namespace machio::detail

extern "C" const char* mach_error_string(kern_return_t error_value) {
    using namespace machio::detail;

    if (error_value == KERN_FAILURE) {
        if (int err = process_space_error())
            return unavailable_string(err);
    }
    if (const char* s = code_string(error_value))
        return s;
    return "(machio) unknown error code";
}
