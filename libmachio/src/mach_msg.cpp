// SPDX-License-Identifier: LGPL-2.1-or-later
//
// mach_msg over the module (module/mmsg.c), restarting a wait a Linux
// signal ended unless the caller asked to hear of it, as OSF's libmach did.
#include "internal.hpp"

#include <cerrno>
#include <cstddef>
#include <sys/ioctl.h>

static_assert(sizeof(mach_msg_header_t) == sizeof(struct machio_msg_header));
static_assert(sizeof(mach_msg_body_t) == sizeof(struct machio_msg_body));
static_assert(sizeof(mach_msg_port_descriptor_t) == sizeof(struct machio_msg_port_descriptor));
static_assert(offsetof(mach_msg_port_descriptor_t, disposition) ==
              offsetof(struct machio_msg_port_descriptor, disposition));
static_assert(offsetof(mach_msg_port_descriptor_t, type) ==
              offsetof(struct machio_msg_port_descriptor, type));
static_assert(sizeof(mach_msg_ool_descriptor_t) == sizeof(struct machio_msg_ool_descriptor));
static_assert(offsetof(mach_msg_ool_descriptor_t, type) ==
              offsetof(struct machio_msg_ool_descriptor, type));
static_assert(offsetof(mach_msg_ool_descriptor_t, size) ==
              offsetof(struct machio_msg_ool_descriptor, size));
static_assert(offsetof(mach_msg_type_descriptor_t, type) == 11);
static_assert(MACH_MSG_PORT_DESCRIPTOR == MACHIO_MSG_PORT_DESCRIPTOR);
static_assert(MACH_MSG_OOL_DESCRIPTOR == MACHIO_MSG_OOL_DESCRIPTOR);
static_assert(MACH_RCV_PORT_CHANGED == MACHIO_RCV_PORT_CHANGED);
static_assert(MACH_RCV_HEADER_ERROR == MACHIO_RCV_HEADER_ERROR);
static_assert(MACH_RCV_BODY_ERROR == MACHIO_RCV_BODY_ERROR);
static_assert(MACH_MSG_IPC_SPACE == MACHIO_MSG_IPC_SPACE);

extern "C" mach_msg_return_t mach_msg_overwrite(mach_msg_header_t* msg, mach_msg_option_t option,
                                                mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                                mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                                mach_port_t notify, mach_msg_header_t* rcv_msg,
                                                mach_msg_size_t rcv_limit) {
    (void)rcv_limit; // only MACH_RCV_OVERWRITE's, which machio has not
    const machio::detail::space_info* space = machio::detail::process_space();
    if (!space)
        return (option & MACH_SEND_MSG) ? MACH_SEND_INVALID_DEST : MACH_RCV_INVALID_NAME;
    struct machio_msg arg = {};
    arg.msg = reinterpret_cast<uintptr_t>(msg);
    arg.option = uint32_t(option);
    arg.send_size = send_size;
    arg.rcv_size = rcv_size;
    arg.rcv_name = rcv_name;
    arg.timeout = timeout;
    arg.notify = notify;
    arg.rcv_msg = reinterpret_cast<uintptr_t>(rcv_msg);
    for (;;) {
        arg.kr = 0;
        if (::ioctl(space->fd, MACHIO_IOC_MSG, &arg) != 0)
            return (arg.option & MACH_SEND_MSG) ? MACH_SEND_INVALID_DATA : MACH_RCV_INVALID_DATA;
        if (arg.kr == MACH_SEND_INTERRUPTED && !(option & MACH_SEND_INTERRUPT))
            continue;
        if (arg.kr == MACH_RCV_INTERRUPTED && !(option & MACH_RCV_INTERRUPT)) {
            arg.option &= ~uint32_t(MACH_SEND_MSG); // sent already: receive again
            continue;
        }
        return arg.kr;
    }
}

extern "C" mach_msg_return_t mach_msg(mach_msg_header_t* msg, mach_msg_option_t option,
                                      mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                      mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                      mach_port_t notify) {
    return mach_msg_overwrite(msg, option, send_size, rcv_size, rcv_name, timeout, notify, nullptr,
                              0);
}
