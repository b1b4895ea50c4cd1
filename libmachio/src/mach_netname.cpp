// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The name service: netname_check_in, _register_send_right, _look_up,
// _check_out (module/netname.c), and the name_server_port Mach 3 programs
// pass to them.
#include "internal.hpp"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>

extern "C" {
mach_port_t name_server_port = MACHIO_NAME_SERVER;
}

namespace {

using namespace machio::detail;

// Up to 80 bytes of `s`, to its first NUL (never more: the caller's
// string may be shorter than a netname_name_t).
void copy_name(char (&dst)[MACHIO_NETNAME_MAX], const char* s) {
    if (s)
        std::memcpy(dst, s, ::strnlen(s, MACHIO_NETNAME_MAX));
}

kern_return_t netname_call(struct machio_netname& arg) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (::ioctl(space->fd, MACHIO_IOC_NETNAME, &arg) != 0)
        return errno == EFAULT ? KERN_INVALID_ADDRESS : KERN_INVALID_ARGUMENT;
    return arg.kr;
}

kern_return_t check_in(std::uint32_t op, mach_port_t server, const char* name,
                       mach_port_t signature, mach_port_t port) {
    struct machio_netname arg = {};
    arg.op = op;
    arg.server = server;
    arg.signature = signature;
    arg.port = port;
    copy_name(arg.name, name);
    return netname_call(arg);
}

} // namespace

extern "C" kern_return_t netname_check_in(mach_port_t server_port, const char* port_name,
                                          mach_port_t signature, mach_port_t port_id) {
    return check_in(MACHIO_NETNAME_CHECK_IN, server_port, port_name, signature, port_id);
}

extern "C" kern_return_t netname_register_send_right(mach_port_t server_port, const char* port_name,
                                                     mach_port_t signature, mach_port_t port_id) {
    return check_in(MACHIO_NETNAME_REGISTER_SEND_RIGHT, server_port, port_name, signature, port_id);
}

extern "C" kern_return_t netname_look_up(mach_port_t server_port, const char* host_name,
                                         const char* port_name, mach_port_t* port_id) {
    if (!port_id)
        return KERN_INVALID_ADDRESS;
    struct machio_netname arg = {};
    arg.op = MACHIO_NETNAME_LOOK_UP;
    arg.server = server_port;
    copy_name(arg.name, port_name);
    copy_name(arg.host, host_name);
    kern_return_t kr = netname_call(arg);
    if (kr == KERN_SUCCESS)
        *port_id = arg.port;
    return kr;
}

extern "C" kern_return_t netname_check_out(mach_port_t server_port, const char* port_name,
                                           mach_port_t signature) {
    struct machio_netname arg = {};
    arg.op = MACHIO_NETNAME_CHECK_OUT;
    arg.server = server_port;
    arg.signature = signature;
    copy_name(arg.name, port_name);
    return netname_call(arg);
}
