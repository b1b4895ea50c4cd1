// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Portfolio's error texts: GetSysErr() and PrintfSysErr(), as Opera's
// kernel (syserr.c) and clib print them.
#include <machio/portfolio.h>

#include <cstdio>
#include <cstring>
#include <iterator>

namespace {

// The 6-bit characters of an error's object and id fields.
constexpr char six_to_ascii[] = " 0123456789abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ.";
static_assert(sizeof(six_to_ascii) == 64 + 1);

constexpr const char* severity_text[] = {"Info", "Warning", "Severe", "Fatal"};
constexpr const char* environment_text[] = {"System", "Application", "User", "Reserved"};
constexpr const char* class_text[] = {"Standard", "Extended"};

// Standard codes (ER_C_STND), by code.
constexpr const char* standard_text[] = {
    "no error",
    "Bad Item",
    "undefined tag",
    "bad value in tagarg list",
    "NotPrivileged",
    "Item with that name not found",
    "insufficient memory to complete",
    "Bad SubType for this Folio/Cmd",
    "Evil system error, should not occur!",
    "ptr/range is illegal for this task",
    "operation aborted",
    "bad unit in IOReq",
    "bad cmd in IOReq",
    "bad IOArgs in ioinfo",
    "bad Name for Item",
    "IO in progress for this IOReq",
    "Operation not supported at this time",
    "IO incomplete for this IOReq",
    "NotOwner",
    "Device offline",
    "Device error",
    "Medium error",
    "End of medium",
    "Illegal parameter(s)",
    "No signals available",
    "Required hardware is not available",
};

// The kernel's own codes (ER_C_NSTND, object F, id Kr), by code: the one
// module-specific table machio has, as Opera's kernel registers it.
constexpr const char* kernel_text[] = {
    "no error",
    "Bad Type Specifier",
    "Unknown SubType for this Folio",
    "Resource Table OverFlow",
    "DriverItem is not valid",
    "Item is not opened by you",
    "Item Table Full",
    "BadMemCmd",
    "Out of signals",
    "Msg already sent / Bad State",
    "NoReplyPort",
    "size less than minimum",
    "BadPriority",
    "illegal operation for thread",
    "BadQuanta",
    "BadStackSize",
    "NoTimer",
    "Can't Open",
    "RSA failed in CreateTask",
    "No devices on XBUS",
    ">15 devices on XBUS",
    "Replyport required",
    "Illegal signal",
    "Bad Lock arg",
    "Bad AIF header",
    "Can't transfer item ownership",
    "Can't delete item since it is still open",
    "An item of that name already exists",
    "Bad exit status",
    "Task got killed",
};

uint32 field(Err err, int shift, int size) {
    return (static_cast<uint32>(err) >> shift) & ((1u << size) - 1);
}

// The text of a code of @cls from object @obj / id @id, or null.
const char* code_text(uint32 obj, uint32 id, uint32 cls, uint32 code) {
    if (cls == ER_C_STND)
        return code < std::size(standard_text) ? standard_text[code] : nullptr;
    if (obj == ER_FOLI && id == ER_KRNL && code < std::size(kernel_text))
        return kernel_text[code];
    return nullptr;
}

} // namespace

extern "C" int32 GetSysErr(char* buff, int32 buffsize, Err err) {
    if (buffsize == 0)
        return 0;
    if (!buff || buffsize < 0)
        return BADPTR;

    char local[128];
    if (err >= 0) {
        std::snprintf(local, sizeof(local), "<%d, not an error>", err);
    } else if (err == -1) {
        std::snprintf(local, sizeof(local), "<-1, generic error>");
    } else {
        uint32 obj = field(err, ERR_OBJSHIFT, ERR_OBJSIZE);
        uint32 id = field(err, ERR_IDSHIFT, ERR_IDSIZE);
        uint32 cls = field(err, ERR_CLASHIFT, ERR_CLASSIZE);
        uint32 code = field(err, ERR_ERRSHIFT, ERR_ERRSIZE);
        int n =
            std::snprintf(local, sizeof(local), "%c%c%c-%s-%s-%s-", six_to_ascii[obj],
                          six_to_ascii[(id >> 6) & 0x3f], six_to_ascii[id & 0x3f],
                          severity_text[field(err, ERR_SEVERESHIFT, ERR_SEVERESIZE)],
                          environment_text[field(err, ERR_ENVSHIFT, ERR_ENVSIZE)], class_text[cls]);
        if (const char* text = code_text(obj, id, cls, code))
            std::snprintf(local + n, sizeof(local) - size_t(n), "%s", text);
        else
            std::snprintf(local + n, sizeof(local) - size_t(n), "<%03u>", code);
    }
    size_t len = std::strlen(local);
    if (len > size_t(buffsize) - 1)
        len = size_t(buffsize) - 1;
    std::memcpy(buff, local, len);
    buff[len] = 0;
    return int32(len);
}

extern "C" void PrintfSysErr(Err err) {
    char buf[128];
    GetSysErr(buf, sizeof(buf), err);
    std::printf("%s\n", buf);
}
