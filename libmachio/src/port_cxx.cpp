// SPDX-License-Identifier: LGPL-2.1-or-later
//
// machio::receive_right and machio::send_right: RAII names of the process
// space over mach_port_* and mach_msg.
#include "internal.hpp"

#include <machio/machio.hpp>

#include <utility>

namespace machio {

namespace {

mach_msg_timeout_t to_ms(std::chrono::milliseconds ms) {
    return ms.count() <= 0           ? 0
           : ms.count() >= INT32_MAX ? INT32_MAX
                                     : mach_msg_timeout_t(ms.count());
}

} // namespace

result<receive_right> receive_right::allocate(bool realtime) noexcept {
    mach_port_t name = MACH_PORT_NULL;
    mach_port_qos_t qos = {};
    qos.rt = realtime;
    kern_return_t kr =
        mach_port_allocate_qos(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &qos, &name);
    if (kr != KERN_SUCCESS)
        return to_error_code(kr);
    return receive_right(name);
}

// Only the receive right goes: send rights under the same name (the
// send_right objects' references) become a dead name they release.
static void drop_receive(mach_port_t name) noexcept {
    if (name != MACH_PORT_NULL)
        mach_port_mod_refs(mach_task_self(), name, MACH_PORT_RIGHT_RECEIVE, -1);
}

receive_right& receive_right::operator=(receive_right&& other) noexcept {
    if (this != &other) {
        drop_receive(name_);
        name_ = std::exchange(other.name_, MACH_PORT_NULL);
    }
    return *this;
}

receive_right::~receive_right() {
    drop_receive(name_);
}

result<send_right> receive_right::make_send() const noexcept {
    kern_return_t kr =
        mach_port_insert_right(mach_task_self(), name_, name_, MACH_MSG_TYPE_MAKE_SEND);
    if (kr != KERN_SUCCESS)
        return to_error_code(kr);
    return send_right::adopt(name_);
}

result<std::size_t>
receive_right::receive(std::span<std::byte> buffer,
                       std::optional<std::chrono::milliseconds> timeout) const noexcept {
    if (buffer.size() < sizeof(mach_msg_header_t))
        return to_error_code(MACH_RCV_TOO_LARGE);
    auto* head = reinterpret_cast<mach_msg_header_t*>(buffer.data());
    mach_msg_option_t option = MACH_RCV_MSG | (timeout ? MACH_RCV_TIMEOUT : 0);
    mach_msg_return_t mr = mach_msg(head, option, 0, mach_msg_size_t(buffer.size()), name_,
                                    timeout ? to_ms(*timeout) : 0, MACH_PORT_NULL);
    if (mr != MACH_MSG_SUCCESS)
        return to_error_code(mr);
    return std::size_t(head->msgh_size);
}

std::error_code receive_right::check_in(const std::string& name) const noexcept {
    return to_error_code(netname_check_in(name_server_port, name.c_str(), MACH_PORT_NULL, name_));
}

std::error_code receive_right::check_out(const std::string& name) const noexcept {
    return to_error_code(netname_check_out(name_server_port, name.c_str(), MACH_PORT_NULL));
}

result<send_right> send_right::look_up(const std::string& name) noexcept {
    mach_port_t port = MACH_PORT_NULL;
    kern_return_t kr = netname_look_up(name_server_port, "", name.c_str(), &port);
    if (kr != KERN_SUCCESS)
        return to_error_code(kr);
    return send_right(port);
}

send_right& send_right::operator=(send_right&& other) noexcept {
    if (this != &other) {
        if (name_ != MACH_PORT_NULL)
            mach_port_deallocate(mach_task_self(), name_);
        name_ = std::exchange(other.name_, MACH_PORT_NULL);
    }
    return *this;
}

send_right::~send_right() {
    if (name_ != MACH_PORT_NULL)
        mach_port_deallocate(mach_task_self(), name_);
}

std::error_code send_right::send(mach_msg_header_t& msg) const noexcept {
    msg.msgh_bits = (msg.msgh_bits & ~MACH_MSGH_BITS_REMOTE_MASK) | MACH_MSG_TYPE_COPY_SEND;
    msg.msgh_remote_port = name_;
    return to_error_code(
        mach_msg(&msg, MACH_SEND_MSG, msg.msgh_size, 0, MACH_PORT_NULL, 0, MACH_PORT_NULL));
}

result<std::size_t> send_right::call(mach_msg_header_t& request, const receive_right& reply,
                                     std::span<std::byte> answer) const noexcept {
    if (answer.size() < sizeof(mach_msg_header_t))
        return to_error_code(MACH_RCV_TOO_LARGE);
    request.msgh_bits = (request.msgh_bits & MACH_MSGH_BITS_COMPLEX) |
                        MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    request.msgh_remote_port = name_;
    request.msgh_local_port = reply.name();
    auto* head = reinterpret_cast<mach_msg_header_t*>(answer.data());
    mach_msg_return_t mr;
    if (head == &request) {
        // One buffer: the request and the wait for its answer in one call.
        mr = mach_msg(head, MACH_SEND_MSG | MACH_RCV_MSG, request.msgh_size,
                      mach_msg_size_t(answer.size()), reply.name(), 0, MACH_PORT_NULL);
    } else {
        // Two: a send, then a receive (what mach_msg_overwrite does in one).
        mr = mach_msg(&request, MACH_SEND_MSG, request.msgh_size, 0, MACH_PORT_NULL, 0,
                      MACH_PORT_NULL);
        if (mr == MACH_MSG_SUCCESS)
            mr = mach_msg(head, MACH_RCV_MSG, 0, mach_msg_size_t(answer.size()), reply.name(), 0,
                          MACH_PORT_NULL);
    }
    if (mr != MACH_MSG_SUCCESS)
        return to_error_code(mr);
    return std::size_t(head->msgh_size);
}

} // namespace machio
