// SPDX-License-Identifier: LGPL-2.1-or-later
//
// machio::portfolio: <machio/machio.hpp>'s C++ types over the Portfolio C
// calls, and Portfolio's Err values as std::error_code.
#include <machio/machio.hpp>
#include <machio/portfolio.h>

#include <string>

namespace machio::portfolio {

namespace {

class err_category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "portfolio"; }

    std::string message(int ev) const override {
        char text[128];
        GetSysErr(text, sizeof(text), ev);
        return text;
    }

    std::error_condition default_error_condition(int ev) const noexcept override {
        switch (ev) {
        case NOMEM:
            return std::errc::not_enough_memory;
        case BADPTR:
            return std::errc::bad_address;
        case NOTOWNER:
        case BADPRIV:
            return std::errc::permission_denied;
        case ABORTED:
            return std::errc::operation_canceled;
        case BADITEM:
        case BADIOARG:
            return std::errc::invalid_argument;
        default:
            return {ev, *this};
        }
    }
};

IOInfo transfer(uint8 command, void* buffer, std::size_t len, std::uint32_t block) {
    IOInfo info{};
    info.ioi_Command = command;
    info.ioi_Offset = int32(block);
    IOBuf& buf = command == CMD_WRITE ? info.ioi_Send : info.ioi_Recv;
    buf.iob_Buffer = buffer;
    buf.iob_Len = int32(len);
    return info;
}

// A transfer Portfolio can describe: a length and a block in int32.
bool describable(std::size_t len, std::uint32_t block) {
    return len <= std::size_t(INT32_MAX) && block <= std::uint32_t(INT32_MAX);
}

const IOReq* view(item_t item) {
    return static_cast<const IOReq*>(CheckItem(item, KERNELNODE, IOREQNODE));
}

} // namespace

const std::error_category& error_category() noexcept {
    static const err_category category;
    return category;
}

std::error_code make_error(std::int32_t err) noexcept {
    return err < 0 ? std::error_code(err, error_category()) : std::error_code();
}

result<device> device::open(std::string_view name) noexcept {
    char path[4096];
    if (name.size() >= sizeof(path))
        return make_error(MakeKErr(ER_SEVERE, ER_C_STND, ER_NotFound));
    name.copy(path, name.size());
    path[name.size()] = 0;
    Item item = OpenNamedDevice(path, nullptr);
    if (item < 0)
        return make_error(item);
    return device(item);
}

device& device::operator=(device&& other) noexcept {
    if (this != &other) {
        if (item_ > 0)
            CloseItem(item_);
        item_ = std::exchange(other.item_, 0);
    }
    return *this;
}

device::~device() {
    if (item_ > 0)
        CloseItem(item_);
}

result<io_request> io_request::create(const device& dev, std::uint8_t priority,
                                      const char* name) noexcept {
    Item item = CreateIOReq(name, priority, dev.item(), 0);
    if (item < 0)
        return make_error(item);
    return io_request(item);
}

io_request& io_request::operator=(io_request&& other) noexcept {
    if (this != &other) {
        if (item_ > 0)
            DeleteIOReq(item_);
        item_ = std::exchange(other.item_, 0);
    }
    return *this;
}

io_request::~io_request() {
    if (item_ > 0)
        DeleteIOReq(item_);
}

result<std::size_t> io_request::read(std::span<std::byte> into, std::uint32_t block) noexcept {
    if (!describable(into.size(), block))
        return make_error(BADIOARG);
    IOInfo info = transfer(CMD_READ, into.data(), into.size(), block);
    if (Err err = DoIO(item_, &info); err < 0)
        return make_error(err);
    return std::size_t(view(item_)->io_Actual);
}

result<std::size_t> io_request::write(std::span<const std::byte> from,
                                      std::uint32_t block) noexcept {
    if (!describable(from.size(), block))
        return make_error(BADIOARG);
    IOInfo info = transfer(CMD_WRITE, const_cast<std::byte*>(from.data()), from.size(), block);
    if (Err err = DoIO(item_, &info); err < 0)
        return make_error(err);
    return std::size_t(view(item_)->io_Actual);
}

result<device_status> io_request::status() noexcept {
    DeviceStatus ds{};
    IOInfo info = transfer(CMD_STATUS, &ds, sizeof(ds), 0);
    if (Err err = DoIO(item_, &info); err < 0)
        return make_error(err);
    return device_status{ds.ds_DeviceBlockSize, ds.ds_DeviceBlockCount,
                         (ds.ds_DeviceUsageFlags & DS_USAGE_READONLY) != 0};
}

std::error_code io_request::start_read(std::span<std::byte> into, std::uint32_t block) noexcept {
    if (!describable(into.size(), block))
        return make_error(BADIOARG);
    IOInfo info = transfer(CMD_READ, into.data(), into.size(), block);
    return make_error(SendIO(item_, &info));
}

std::error_code io_request::start_write(std::span<const std::byte> from,
                                        std::uint32_t block) noexcept {
    if (!describable(from.size(), block))
        return make_error(BADIOARG);
    IOInfo info = transfer(CMD_WRITE, const_cast<std::byte*>(from.data()), from.size(), block);
    return make_error(SendIO(item_, &info));
}

result<std::size_t> io_request::wait() noexcept {
    if (Err err = WaitIO(item_); err < 0)
        return make_error(err);
    return std::size_t(view(item_)->io_Actual);
}

bool io_request::done() const noexcept {
    return CheckIO(item_) == 1;
}

std::error_code io_request::abort() noexcept {
    return make_error(AbortIO(item_));
}

} // namespace machio::portfolio
