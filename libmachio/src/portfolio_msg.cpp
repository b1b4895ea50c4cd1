// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Portfolio message ports and messages over the module (module/pf_port.c,
// module/pf_msg.c): the Create calls build the tag lists Opera's clib
// built; the rest are one call each.
#include "internal.hpp"

#include <machio/portfolio.h>

#include <cstddef>

namespace {

static_assert(sizeof(MsgPort) == sizeof(struct machio_pf_port_view));
static_assert(offsetof(MsgPort, mp_Signal) == offsetof(struct machio_pf_port_view, mp_Signal));
static_assert(offsetof(MsgPort, mp_UserData) == offsetof(struct machio_pf_port_view, mp_UserData));
static_assert(sizeof(Message) == sizeof(struct machio_pf_msg_view));
static_assert(offsetof(Message, msg_ReplyPort) ==
              offsetof(struct machio_pf_msg_view, msg_ReplyPort));
static_assert(offsetof(Message, msg_DataPtr) == offsetof(struct machio_pf_msg_view, msg_DataPtr));
static_assert(offsetof(Message, msg_MsgPort) == offsetof(struct machio_pf_msg_view, msg_MsgPort));

TagData tag_value(uintptr_t v) {
    return reinterpret_cast<TagData>(v);
}

Item create_port(const char* name, uint8 pri, uint32 signal, bool unique) {
    TagArg tags[5];
    size_t n = 0;
    tags[n++] = TagArg{TAG_ITEM_PRI, tag_value(pri)};
    if (name)
        tags[n++] = TagArg{TAG_ITEM_NAME, const_cast<char*>(name)};
    if (unique)
        tags[n++] = TagArg{TAG_ITEM_UNIQUE_NAME, nullptr};
    tags[n++] = TagArg{CREATEPORT_TAG_SIGNAL, tag_value(signal)};
    tags[n] = TagArg{TAG_END, nullptr};
    return CreateItem(MKNODEID(KERNELNODE, MSGPORTNODE), tags);
}

Item create_msg(const char* name, uint8 pri, Item mp, bool small) {
    TagArg tags[5];
    size_t n = 0;
    tags[n++] = TagArg{TAG_ITEM_PRI, tag_value(pri)};
    if (name)
        tags[n++] = TagArg{TAG_ITEM_NAME, const_cast<char*>(name)};
    tags[n++] = TagArg{CREATEMSG_TAG_REPLYPORT, tag_value(uintptr_t(intptr_t(mp)))};
    if (small)
        tags[n++] = TagArg{CREATEMSG_TAG_MSG_IS_SMALL, nullptr};
    tags[n] = TagArg{TAG_END, nullptr};
    return CreateItem(MKNODEID(KERNELNODE, MESSAGENODE), tags);
}

Err msg_call(unsigned long request, Item mp, Item msg, int32 code, uint64_t data, int32 size) {
    struct machio_pf_msg_call arg = {};
    arg.port = mp;
    arg.msg = msg;
    arg.code = code;
    arg.data = data;
    arg.size = size;
    if (int32 err = machio::detail::portfolio_ioctl(request, &arg))
        return err;
    return arg.result;
}

} // namespace

extern "C" Item CreateMsgPort(const char* name, uint8 pri, uint32 signal) {
    return create_port(name, pri, signal, false);
}

extern "C" Item CreateUniqueMsgPort(const char* name, uint8 pri, uint32 signal) {
    return create_port(name, pri, signal, true);
}

extern "C" Item CreateMsg(const char* name, uint8 pri, Item mp) {
    return create_msg(name, pri, mp, false);
}

extern "C" Item CreateSmallMsg(const char* name, uint8 pri, Item mp) {
    return create_msg(name, pri, mp, true);
}

extern "C" Err SendMsg(Item mp, Item msg, const void* dataptr, int32 datasize) {
    return msg_call(MACHIO_IOC_PF_SEND_MSG, mp, msg, 0, reinterpret_cast<uintptr_t>(dataptr),
                    datasize);
}

extern "C" Err SendSmallMsg(Item mp, Item msg, uint32 val1, uint32 val2) {
    return msg_call(MACHIO_IOC_PF_SEND_MSG, mp, msg, 0, val1, int32(val2));
}

extern "C" Err ReplyMsg(Item msg, int32 result, const void* dataptr, int32 datasize) {
    return msg_call(MACHIO_IOC_PF_REPLY_MSG, 0, msg, result, reinterpret_cast<uintptr_t>(dataptr),
                    datasize);
}

extern "C" Err ReplySmallMsg(Item msg, int32 result, uint32 val1, uint32 val2) {
    return msg_call(MACHIO_IOC_PF_REPLY_MSG, 0, msg, result, val1, int32(val2));
}

extern "C" Item GetMsg(Item mp) {
    return machio::detail::portfolio_item_call(MACHIO_IOC_PF_GET_MSG, mp);
}

extern "C" Item GetThisMsg(Item msg) {
    return machio::detail::portfolio_item_call(MACHIO_IOC_PF_GET_THIS_MSG, msg);
}

extern "C" Item WaitPort(Item mp, Item msg) {
    return msg_call(MACHIO_IOC_PF_WAIT_PORT, mp, msg, 0, 0, 0);
}
