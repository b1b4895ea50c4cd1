// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The std::error_category objects for KERN_* and D_* codes.
#include "internal.hpp"

#include <machio/machio.hpp>

#include <cerrno>
#include <fmt/format.h>
#include <string>

namespace machio {

namespace {

// The errno a KERN_* code corresponds to, 0 if none is close enough.
int kern_errno(int code) noexcept {
    switch (code) {
    case KERN_INVALID_ADDRESS:
        return EFAULT;
    case KERN_PROTECTION_FAILURE:
    case KERN_NO_ACCESS:
        return EACCES;
    case KERN_NO_SPACE:
    case KERN_RESOURCE_SHORTAGE:
        return ENOMEM;
    case KERN_INVALID_ARGUMENT:
    case KERN_INVALID_VALUE:
        return EINVAL;
    case KERN_ABORTED:
        return EINTR;
    case KERN_TERMINATED:
        return ESHUTDOWN;
    case KERN_OPERATION_TIMED_OUT:
        return ETIMEDOUT;
    default:
        return 0;
    }
}

// The errno a D_* code corresponds to, 0 if none is close enough.
int device_errno(int code) noexcept {
    switch (code) {
    case D_IO_ERROR:
        return EIO;
    case D_WOULD_BLOCK:
        return EAGAIN;
    case D_NO_SUCH_DEVICE:
        return ENODEV;
    case D_ALREADY_OPEN:
        return EBUSY;
    case D_DEVICE_DOWN:
        return ENXIO;
    case D_INVALID_OPERATION:
        return EOPNOTSUPP;
    case D_INVALID_RECNUM:
    case D_INVALID_SIZE:
        return EINVAL;
    case D_NO_MEMORY:
        return ENOMEM;
    case D_READ_ONLY:
        return EROFS;
    default:
        return 0;
    }
}

class kern_category_impl final : public std::error_category {
  public:
    const char* name() const noexcept override { return "mach.kern"; }

    std::string message(int code) const override {
        // KERN_*, and the mach_msg, name service and MIG codes of the same type.
        if (const char* s =
                code >= D_IO_ERROR && code <= D_NOT_CLONED ? nullptr : detail::code_string(code))
            return s;
        return fmt::format("(os/kern) unknown kern_return_t {} ({:#x})", code, code);
    }

    std::error_condition default_error_condition(int code) const noexcept override {
        if (int err = kern_errno(code))
            return {err, std::generic_category()};
        return {code, *this};
    }
};

class device_category_impl final : public std::error_category {
  public:
    const char* name() const noexcept override { return "mach.device"; }

    std::string message(int code) const override {
        if (code == D_SUCCESS || code == D_IO_QUEUED ||
            (code >= D_IO_ERROR && code <= D_NOT_CLONED))
            return code == D_SUCCESS ? "(device) success" : detail::code_string(code);
        return fmt::format("(device) unknown io_return_t {}", code);
    }

    std::error_condition default_error_condition(int code) const noexcept override {
        if (int err = device_errno(code))
            return {err, std::generic_category()};
        return {code, *this};
    }
};

} // namespace

const std::error_category& kern_category() noexcept {
    static const kern_category_impl instance;
    return instance;
}

const std::error_category& device_category() noexcept {
    static const device_category_impl instance;
    return instance;
}

} // namespace machio
