// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Port rights: mach_port_allocate and its kin, mach_port_deallocate,
// _destroy, _mod_refs, _get_refs, _type, _insert_right, _names,
// _get_attributes, _set_attributes (module/right.c).
#include "internal.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <utility>
#include <vector>

namespace machio::detail {

kern_return_t port_deallocate(int fd, mach_port_t name, call_kind kind) noexcept {
    struct machio_port_deallocate arg = {};
    arg.name = name;
    return ioctl_kern(fd, MACHIO_IOC_PORT_DEALLOCATE, &arg, kind);
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" kern_return_t mach_port_deallocate(mach_port_t task, mach_port_t name) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (task != space->task)
        return KERN_INVALID_TASK;
    // As in Mach: null and dead are no names at all.  The host and task
    // names, and the name server's, last as long as the space; their user
    // references are not counted, so releasing one is a no-op.
    if (!MACH_PORT_VALID(name) || name == space->host || name == space->task ||
        name == MACHIO_NAME_SERVER)
        return KERN_SUCCESS;
    kern_return_t kr = port_deallocate(space->fd, name, call_kind::port_deallocate);
    // A (terminated) queue's file and ring go with its name.
    if (kr == KERN_SUCCESS)
        ring_unregister(space->epoch, name);
    return kr;
}

namespace {

// The space of `task`, which must be the caller's own.
const space_info* task_space(mach_port_t task, kern_return_t& kr) {
    const space_info* space = process_space();
    kr = !space ? KERN_FAILURE : task != space->task ? KERN_INVALID_TASK : KERN_SUCCESS;
    return kr == KERN_SUCCESS ? space : nullptr;
}

// One port ioctl whose argument carries the kern_return_t in `kr`.
template <class Arg> kern_return_t port_call(mach_port_t task, unsigned long request, Arg& arg) {
    kern_return_t kr;
    const space_info* space = task_space(task, kr);
    if (!space)
        return kr;
    if (::ioctl(space->fd, request, &arg) != 0)
        return errno == EFAULT ? KERN_INVALID_ADDRESS : KERN_INVALID_ARGUMENT;
    return arg.kr;
}

kern_return_t allocate(mach_port_t task, mach_port_right_t right, uint32_t qos,
                       subsystem_t subsystem, mach_port_name_t* name) {
    if (!name)
        return KERN_INVALID_ADDRESS;
    struct machio_port_allocate arg = {};
    arg.right = right;
    arg.qos = qos;
    arg.name = (qos & MACHIO_QOS_NAME) ? *name : 0;
    arg.subsystem = reinterpret_cast<uintptr_t>(subsystem);
    kern_return_t kr = port_call(task, MACHIO_IOC_PORT_ALLOCATE, arg);
    if (kr == KERN_SUCCESS)
        *name = arg.name;
    return kr;
}

uint32_t qos_bits(const mach_port_qos_t* qos) {
    return (qos->name ? MACHIO_QOS_NAME : 0) | (qos->rt ? MACHIO_QOS_RT : 0);
}

kern_return_t right_op(mach_port_t task, uint32_t op, mach_port_name_t name,
                       mach_port_right_t right, mach_port_delta_t delta, unsigned* value) {
    struct machio_port_right arg = {};
    arg.op = op;
    arg.name = name;
    arg.right = right;
    arg.delta = delta;
    kern_return_t kr = port_call(task, MACHIO_IOC_PORT_RIGHT, arg);
    if (kr == KERN_SUCCESS && value)
        *value = arg.value;
    return kr;
}

// Fresh pages for one of MIG's out-of-line arrays (vm_deallocate frees
// them), unmapped again unless released to the caller.
class ool_pages {
  public:
    explicit ool_pages(uint32_t words)
        : bytes_(std::max<size_t>(words, 1) * sizeof(mach_port_t)),
          p_(::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {}
    ~ool_pages() {
        if (p_ != MAP_FAILED)
            ::munmap(p_, bytes_);
    }
    ool_pages(const ool_pages&) = delete;
    ool_pages& operator=(const ool_pages&) = delete;
    bool ok() const { return p_ != MAP_FAILED; }
    uintptr_t addr() const { return reinterpret_cast<uintptr_t>(p_); }
    void* release() { return std::exchange(p_, MAP_FAILED); }

  private:
    size_t bytes_;
    void* p_;
};

// A call that fills N arrays and says how many words each needs:
// call(addresses, room, count) with arrays of `room` words, again with
// bigger ones until its count fits (the space may grow meanwhile); the
// arrays are the caller's on KERN_SUCCESS.
template <size_t N, typename Call>
kern_return_t with_ool_arrays(std::array<void*, N>& out, uint32_t& count, Call call) {
    for (uint32_t room = 0;;) {
        std::vector<std::unique_ptr<ool_pages>> pages;
        std::array<uintptr_t, N> addrs{};
        for (size_t i = 0; i < N; i++) {
            pages.push_back(std::make_unique<ool_pages>(room));
            if (!pages.back()->ok())
                return KERN_RESOURCE_SHORTAGE;
            addrs[i] = pages.back()->addr();
        }
        kern_return_t kr = call(addrs, room, count);
        if (kr != KERN_SUCCESS)
            return kr;
        if (count <= room) {
            for (size_t i = 0; i < N; i++)
                out[i] = pages[i]->release();
            return KERN_SUCCESS;
        }
        room = count;
    }
}

} // namespace

extern "C" kern_return_t mach_port_allocate(ipc_space_t task, mach_port_right_t right,
                                            mach_port_name_t* name) {
    return allocate(task, right, 0, SUBSYSTEM_NULL, name);
}

extern "C" kern_return_t mach_port_allocate_name(ipc_space_t task, mach_port_right_t right,
                                                 mach_port_name_t name) {
    return allocate(task, right, MACHIO_QOS_NAME, SUBSYSTEM_NULL, &name);
}

extern "C" kern_return_t mach_port_allocate_qos(ipc_space_t task, mach_port_right_t right,
                                                mach_port_qos_t* qos, mach_port_name_t* name) {
    if (!qos)
        return KERN_INVALID_ADDRESS;
    // MIG's `out name`: the kernel never reads a name given here.
    return allocate(task, right, qos_bits(qos) & ~MACHIO_QOS_NAME, SUBSYSTEM_NULL, name);
}

extern "C" kern_return_t mach_port_allocate_full(ipc_space_t task, mach_port_right_t right,
                                                 subsystem_t subsystem, mach_port_qos_t* qos,
                                                 mach_port_name_t* name) {
    if (!qos)
        return KERN_INVALID_ADDRESS;
    return allocate(task, right, qos_bits(qos), subsystem, name);
}

extern "C" mach_port_t mach_reply_port(void) {
    mach_port_name_t name = MACH_PORT_NULL;
    const space_info* space = process_space();
    if (!space || allocate(space->task, MACH_PORT_RIGHT_RECEIVE, 0, SUBSYSTEM_NULL, &name))
        return MACH_PORT_NULL;
    return name;
}

extern "C" kern_return_t mach_port_destroy(ipc_space_t task, mach_port_name_t name) {
    return right_op(task, MACHIO_PORT_OP_DESTROY, name, 0, 0, nullptr);
}

extern "C" kern_return_t mach_port_mod_refs(ipc_space_t task, mach_port_name_t name,
                                            mach_port_right_t right, mach_port_delta_t delta) {
    return right_op(task, MACHIO_PORT_OP_MOD_REFS, name, right, delta, nullptr);
}

extern "C" kern_return_t mach_port_get_refs(ipc_space_t task, mach_port_name_t name,
                                            mach_port_right_t right, mach_port_urefs_t* refs) {
    if (!refs)
        return KERN_INVALID_ADDRESS;
    return right_op(task, MACHIO_PORT_OP_GET_REFS, name, right, 0, refs);
}

extern "C" kern_return_t mach_port_type(ipc_space_t task, mach_port_name_t name,
                                        mach_port_type_t* ptype) {
    if (!ptype)
        return KERN_INVALID_ADDRESS;
    return right_op(task, MACHIO_PORT_OP_TYPE, name, 0, 0, ptype);
}

extern "C" kern_return_t mach_port_insert_right(ipc_space_t task, mach_port_name_t name,
                                                mach_port_t poly, mach_msg_type_name_t msgt_name) {
    struct machio_port_insert_right arg = {};
    arg.name = name;
    arg.poly = poly;
    arg.msgt_name = msgt_name;
    return port_call(task, MACHIO_IOC_PORT_INSERT_RIGHT, arg);
}

extern "C" kern_return_t mach_port_names(ipc_space_t task, mach_port_name_array_t* names,
                                         mach_msg_type_number_t* namesCnt,
                                         mach_port_type_array_t* types,
                                         mach_msg_type_number_t* typesCnt) {
    if (!names || !namesCnt || !types || !typesCnt)
        return KERN_INVALID_ADDRESS;
    std::array<void*, 2> arrays{};
    uint32_t count = 0;
    kern_return_t kr = with_ool_arrays(
        arrays, count, [&](const std::array<uintptr_t, 2>& a, uint32_t room, uint32_t& n) {
            struct machio_port_names arg = {};
            arg.names = a[0];
            arg.types = a[1];
            arg.count = room;
            kern_return_t r = port_call(task, MACHIO_IOC_PORT_NAMES, arg);
            n = arg.count;
            return r;
        });
    if (kr == KERN_SUCCESS) {
        *names = static_cast<mach_port_name_t*>(arrays[0]);
        *types = static_cast<mach_port_type_t*>(arrays[1]);
        *namesCnt = *typesCnt = count;
    }
    return kr;
}

extern "C" kern_return_t mach_port_extract_right(ipc_space_t task, mach_port_name_t name,
                                                 mach_msg_type_name_t msgt_name, mach_port_t* poly,
                                                 mach_msg_type_name_t* polyPoly) {
    if (!poly || !polyPoly)
        return KERN_INVALID_ADDRESS;
    struct machio_port_extract_right arg = {};
    arg.name = name;
    arg.msgt_name = msgt_name;
    kern_return_t kr = port_call(task, MACHIO_IOC_PORT_EXTRACT_RIGHT, arg);
    if (kr == KERN_SUCCESS) {
        *poly = arg.poly;
        *polyPoly = arg.poly_type;
    }
    return kr;
}

extern "C" kern_return_t mach_port_move_member(ipc_space_t task, mach_port_name_t member,
                                               mach_port_name_t after) {
    struct machio_port_move_member arg = {};
    arg.member = member;
    arg.after = after;
    return port_call(task, MACHIO_IOC_PORT_MOVE_MEMBER, arg);
}

extern "C" kern_return_t mach_port_get_set_status(ipc_space_t task, mach_port_name_t name,
                                                  mach_port_name_array_t* members,
                                                  mach_msg_type_number_t* membersCnt) {
    if (!members || !membersCnt)
        return KERN_INVALID_ADDRESS;
    std::array<void*, 1> arrays{};
    uint32_t count = 0;
    kern_return_t kr = with_ool_arrays(
        arrays, count, [&](const std::array<uintptr_t, 1>& a, uint32_t room, uint32_t& n) {
            struct machio_port_set_status arg = {};
            arg.name = name;
            arg.members = a[0];
            arg.count = room;
            kern_return_t r = port_call(task, MACHIO_IOC_PORT_SET_STATUS, arg);
            n = arg.count;
            return r;
        });
    if (kr == KERN_SUCCESS) {
        *members = static_cast<mach_port_name_t*>(arrays[0]);
        *membersCnt = count;
    }
    return kr;
}

static_assert(sizeof(mach_no_senders_notification_t) - sizeof(mach_msg_format_0_trailer_t) ==
              sizeof(struct machio_notification));
static_assert(MACH_NOTIFY_NO_SENDERS == MACHIO_NOTIFY_NO_SENDERS);
static_assert(MACH_NOTIFY_DEAD_NAME == MACHIO_NOTIFY_DEAD_NAME);
static_assert(MACH_NOTIFY_SEND_ONCE == MACHIO_NOTIFY_SEND_ONCE);
static_assert(MACH_NOTIFY_PORT_DELETED == MACHIO_NOTIFY_PORT_DELETED);

extern "C" kern_return_t
mach_port_request_notification(ipc_space_t task, mach_port_name_t name, mach_msg_id_t variant,
                               mach_port_mscount_t sync, mach_port_send_once_t notify,
                               mach_msg_type_name_t notify_type, mach_port_send_once_t* previous) {
    if (!previous)
        return KERN_INVALID_ADDRESS;
    struct machio_port_request_notification arg = {};
    arg.name = name;
    arg.variant = variant;
    arg.sync = sync;
    arg.notify = notify;
    arg.notify_type = notify_type;
    kern_return_t kr = port_call(task, MACHIO_IOC_PORT_REQUEST_NOTIFICATION, arg);
    if (kr == KERN_SUCCESS)
        *previous = arg.previous;
    return kr;
}

static_assert(sizeof(mach_port_status_t) == MACH_PORT_RECEIVE_STATUS_COUNT * sizeof(int));

extern "C" kern_return_t mach_port_get_attributes(ipc_space_t task, mach_port_name_t name,
                                                  mach_port_flavor_t flavor, mach_port_info_t info,
                                                  mach_msg_type_number_t* count) {
    if (!info || !count)
        return KERN_INVALID_ADDRESS;
    struct machio_port_attributes arg = {};
    arg.name = name;
    arg.flavor = flavor;
    arg.count = std::min<mach_msg_type_number_t>(*count, 10);
    kern_return_t kr = port_call(task, MACHIO_IOC_PORT_ATTRIBUTES, arg);
    if (kr == KERN_SUCCESS) {
        std::memcpy(info, arg.info, arg.count * sizeof(int));
        *count = arg.count;
    }
    return kr;
}

extern "C" kern_return_t mach_port_set_attributes(ipc_space_t task, mach_port_name_t name,
                                                  mach_port_flavor_t flavor, mach_port_info_t info,
                                                  mach_msg_type_number_t count) {
    if (!info)
        return KERN_INVALID_ADDRESS;
    struct machio_port_attributes arg = {};
    arg.name = name;
    arg.flavor = flavor;
    arg.flags = MACHIO_PORT_ATTR_SET;
    arg.count = std::min<mach_msg_type_number_t>(count, 10);
    std::memcpy(arg.info, info, arg.count * sizeof(int));
    return port_call(task, MACHIO_IOC_PORT_ATTRIBUTES, arg);
}
