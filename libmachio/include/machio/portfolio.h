/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <machio/portfolio.h>: 3DO Portfolio's I/O model over machio, in C.
 *
 * The target is Portfolio 1.x/2.x ("Opera", the seeds' clib.lib V20):
 * its types, its error layout and numbering (operror.h), and -- as they
 * land -- its items, devices, I/O requests, signals and message ports.
 * Where Opera's documentation and code disagree, machio follows the code
 * unless it is plainly a bug; Documentation/portfolio-api.md lists each
 * such choice.
 *
 * Portfolio's names are used as they are (int32, Item, Err, BADITEM, ...),
 * so this header does not mix with others that define the same names.
 */
#ifndef MACHIO_PORTFOLIO_H
#define MACHIO_PORTFOLIO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MACHIO_API
#if defined(__GNUC__)
#define MACHIO_API __attribute__((visibility("default")))
#else
#define MACHIO_API
#endif
#endif

/* ---- Basic types (types.h) ---- */

typedef int32_t int32;
typedef uint32_t uint32;
typedef int16_t int16;
typedef uint16_t uint16;
typedef int8_t int8;
typedef uint8_t uint8;
typedef unsigned char uchar;
typedef int32 Item; /* >= 0: an item number; < 0: an Err */
typedef int32 Err;  /* >= 0: success; < 0: an error code */

/* ---- Items (nodes.h, item.h, kernelnodes.h) ---- */

typedef void* TagData;
typedef struct TagArg {
    uint32 ta_Tag;
    TagData ta_Arg;
} TagArg;
#define TAG_END 0
#define TAG_JUMP 254
#define TAG_NOP 255

#define MKNODEID(a, b) ((int32)(((a) << 8) | (b)))
#define MkNodeID(a, b) MKNODEID(a, b)
#define SUBSYSPART(n) ((uint32)(((n) >> 8) & 0xfff))
#define NODEPART(n) ((uint8)((n)&0xff))

/* The kernel's node types (n_SubsysType KERNELNODE, then n_Type). */
#define KERNELNODE 1
#define FOLIONODE 4
#define TASKNODE 5
#define FIRQNODE 6
#define SEMA4NODE 7
#define MESSAGENODE 9
#define MSGPORTNODE 10
#define DRIVERNODE 13
#define IOREQNODE 14
#define DEVICENODE 15
#define TIMERNODE 16
#define ERRORTEXTNODE 17

/* Opera's ItemNode.  What LookupItem returns starts with one: read it, never
 * write it.  n_Next, n_Prev and n_Name are null (the module keeps lists and
 * names to itself). */
typedef struct ItemNode {
    struct ItemNode* n_Next;
    struct ItemNode* n_Prev;
    uint8 n_SubsysType;
    uint8 n_Type;
    uint8 n_Priority;
    uint8 n_Flags;
    int32 n_Size;
    char* n_Name;
    uint8 n_Version;
    uint8 n_Revision;
    uint8 n_FolioFlags;
    uint8 n_ItemFlags;
    Item n_Item;
    Item n_Owner;
    void* n_ReservedP;
} ItemNode;

/* The item numbered i, as a read-only structure the module keeps current,
 * or NULL for no such item (a stale number included).  No system call
 * after the first, which maps the view.  Only the caller's user's items:
 * another user's do not exist here. */
MACHIO_API void* LookupItem(Item i);
/* LookupItem, and NULL unless its n_SubsysType is ftype and n_Type ntype. */
MACHIO_API void* CheckItem(Item i, uint8 ftype, uint8 ntype);

/* Item tags (item.h): every item takes these; a type's own start at 10. */
#define TAG_ITEM_END TAG_END
#define TAG_ITEM_NAME 1 /* a name, copied: up to 255 characters */
#define TAG_ITEM_PRI 2  /* a priority, 0-255: higher first */
#define TAG_ITEM_VERSION 3
#define TAG_ITEM_REVISION 4
#define TAG_ITEM_CONSTANT_NAME 5
#define TAG_ITEM_UNIQUE_NAME 6
#define TAG_ITEM_LAST 9

/* Make an item of type ct (MKNODEID(KERNELNODE, node type)) from the tag
 * list p (ending at TAG_END; TAG_JUMP and TAG_NOP as in Opera; NULL: no
 * tags), owned by the calling task.  The new item, or ER_Kr_BadType (not
 * a kernel node), BADSUBTYPE (a node type machio does not create),
 * BADTAG, BADNAME, BADPTR (an unreadable list), NOMEM,
 * ER_Kr_ItemTableFull, or the type's own errors. */
MACHIO_API Item CreateItem(int32 ct, const TagArg* p);
/* CreateItem with the tags as arguments: tag, value, ..., TAG_END. */
MACHIO_API Item CreateItemVA(int32 ct, uint32 tag, ...);
/* The item of type ct (MKNODEID(KERNELNODE, node type)) named by the
 * TAG_ITEM_NAME in p (other tags are ignored, as Opera's kernel ignored
 * them), compared without regard to case; among items of equal names the
 * one of highest priority, then the oldest.  Message ports, devices and
 * tasks are found; NotFound (MAKEKERR(ER_SEVER, ER_C_STND, ER_NotFound))
 * for none, or no name; BADSUBTYPE for a type that cannot be searched
 * (IOReqs and messages, as in Opera); ER_Kr_BadType.  Only the caller's
 * user's items exist here. */
MACHIO_API Item FindItem(int32 ct, const TagArg* p);
/* FindItem with the tags as arguments: tag, value, ..., TAG_END. */
MACHIO_API Item FindItemVA(int32 ct, uint32 tag, ...);
/* FindItem(ct, {TAG_ITEM_NAME, name}, {TAG_END}). */
MACHIO_API Item FindNamedItem(int32 ct, const char* name);
/* Delete an item the calling task made.  0; BADITEM; BADPRIV for an item
 * it does not own (Opera's code; its documents said NOTOWNER); NOSUPPORT
 * for its own task item (a thread ends by returning). */
MACHIO_API Err DeleteItem(Item i);

/* ---- Devices (device.h) ---- */

/* Open the block device `name` (a name under /dev, such as "nullb0", or a
 * path) for the calling task, with the caller's own permissions (read and
 * write if it may, else read only), and return its device item: the same
 * item for every task of this user, each open counted.  args is ignored,
 * as in Opera (pass NULL).  NotFound (MAKEKERR(ER_SEVER, ER_C_STND,
 * ER_NotFound)) for no such block device, ER_Kr_CantOpen for one the
 * caller may not open, NOMEM. */
MACHIO_API Item OpenNamedDevice(const char* name, void* args);
/* One open of item by the calling task undone; the last one by a task
 * ends its use of the device.  0; BADITEM; ER_Kr_ItemNotOpen if the task
 * has it not open. */
MACHIO_API Err CloseItem(Item item);
#define CloseNamedDevice(dev) CloseItem(dev)
/* A device by the name its item has (the block device's, such as
 * "nullb0"): FindNamedItem finds one some task of this user has open. */
#define FindDevice(n) FindNamedItem(MKNODEID(KERNELNODE, DEVICENODE), (n))
/* Open the item found (a device: only devices open), once more for the
 * calling task: the item to use from now on.  BADPTR for args other than
 * NULL, BADITEM, ER_Kr_CantOpen for an item that does not open or a
 * device the caller may not open. */
MACHIO_API Item OpenItem(Item foundItem, void* args);
/* FindItem and OpenItem at once; for a device, one nobody has open yet
 * too (Opera loaded it by name): OpenNamedDevice of the name. */
MACHIO_API Item FindAndOpenItem(int32 ct, const TagArg* tp);
MACHIO_API Item FindAndOpenNamedItem(int32 ct, const char* name);
#define FindAndOpenDevice(n) FindAndOpenNamedItem(MKNODEID(KERNELNODE, DEVICENODE), (n))

/* A device as LookupItem shows it: Opera's public Device (LP64). */
typedef struct Device {
    ItemNode dev;
    struct Driver* dev_Driver; /* NULL */
    int32 dev_OpenCnt;         /* every task's opens of it */
    uint32 dev_Private0[13];
    uint8 dev_MaxUnitNum; /* 0: one unit */
    uint8 dev_Private1[3];
    uint32 dev_Private2[3];
} Device;

/* What CMD_STATUS reads into ioi_Recv (Opera's, 36 bytes). */
typedef struct DeviceStatus {
    uint8 ds_DriverIdentity;
    uint8 ds_DriverStatusVersion;
    uint8 ds_FamilyCode; /* DS_DEVTYPE_HARDDISK */
    uint8 ds_headerPad;
    uint32 ds_MaximumStatusSize; /* sizeof(DeviceStatus) */
    uint32 ds_DeviceBlockSize;   /* the logical block size */
    uint32 ds_DeviceBlockCount;  /* at most 0xffffffff */
    uint32 ds_DeviceFlagWord;
    uint32 ds_DeviceUsageFlags; /* DS_USAGE_* */
    uint32 ds_DeviceLastErrorCode;
    uint32 ds_DeviceMediaChangeCntr;
    uint32 ds_Reserved;
} DeviceStatus;

#define DS_DEVTYPE_OTHER 0
#define DS_DEVTYPE_CDROM 1
#define DS_DEVTYPE_HARDDISK 2
#define DS_DEVTYPE_FILE 3
#define DS_USAGE_FILESYSTEM 0x80000000
#define DS_USAGE_PRIVACCESS 0x40000000
#define DS_USAGE_READONLY 0x20000000 /* the device, or the task's open of it */
#define DS_USAGE_OFFLINE 0x10000000

/* ---- Message ports and messages (msgport.h) ----
 *
 * A port belongs to the task that made it: only it takes messages from
 * it (GetMsg, WaitPort); any task of the same user -- a thread of this
 * process or of another -- finds it by name (FindMsgPort) and sends to
 * it.  Messages queue on a port by priority, higher first, FIFO among
 * equal ones; each arrival raises the port's signal in its owner.  A
 * message belongs to the task that made it, is held by one task at a
 * time (msg_MsgPort) or queued on one port, and goes back to its reply
 * port when replied.  A standard message's msg_DataPtr is the sender's
 * address, good in the sender's process only: between processes, use
 * small messages. */

/* Opera's List, as a port's view shows it: empty (the module's list). */
typedef struct List {
    uint32 l_Flags;
    void* l_Anchor[3];
} List;

typedef struct MsgPort {
    ItemNode mp;      /* n_Flags: MSGPORT_SIGNAL_ALLOCATED */
    uint32 mp_Signal; /* raised in the owner when a message arrives */
    List mp_Msgs;
    void* mp_UserData; /* CREATEPORT_TAG_USERDATA's value */
    uint32 mp_Reserved;
} MsgPort;

#define MSGPORT_SIGNAL_ALLOCATED 1
#define CREATEPORT_TAG_SIGNAL 10
#define CREATEPORT_TAG_USERDATA 11

typedef struct Message {
    ItemNode msg;       /* n_Flags: MESSAGE_* */
    Item msg_ReplyPort; /* where ReplyMsg sends it */
    uint32 msg_Result;  /* ReplyMsg's result (0 once sent) */
    void* msg_DataPtr;  /* a standard message's pointer; a small one's val1 */
    int32 msg_DataSize; /* its size; a small one's val2 */
    Item msg_MsgPort;   /* the port it is on, or the task that holds it */
    uint32 msg_DataPtrSize;
    Item msg_SigItem;
    uint32 msg_Waiters;
} Message, Msg;

#define MESSAGE_SENT 1
#define MESSAGE_REPLIED 2
#define MESSAGE_SMALL 4
#define MESSAGE_PASS_BY_VALUE 8
#define CREATEMSG_TAG_REPLYPORT 10
#define CREATEMSG_TAG_MSG_IS_SMALL 11
#define CREATEMSG_TAG_DATA_SIZE 12 /* buffered messages: NOSUPPORT here */

/* A port of priority pri raising signal (0: a new one, freed with the
 * port; else bits the task has allocated) in its owner.  ER_Kr_NoSigs,
 * ILLEGALSIGNAL, BADPRIV (system bits), NOMEM. */
MACHIO_API Item CreateMsgPort(const char* name, uint8 pri, uint32 signal);
/* CreateMsgPort, refused with ER_Kr_UniqueItemExists while a port of
 * that name exists; and while it exists no other port takes the name. */
MACHIO_API Item CreateUniqueMsgPort(const char* name, uint8 pri, uint32 signal);
/* The messages on it go back: sent ones replied with BADITEM, the rest
 * to their owners. */
#define DeleteMsgPort(x) DeleteItem(x)
#define FindMsgPort(n) FindNamedItem(MKNODEID(KERNELNODE, MSGPORTNODE), (n))
/* A message replied to mp, a port the caller owns: standard (a pointer
 * and a size) or small (two values).  ER_Kr_ReplyPortNeeded (mp 0),
 * BADITEM, NOTOWNER, NOMEM. */
MACHIO_API Item CreateMsg(const char* name, uint8 pri, Item mp);
MACHIO_API Item CreateSmallMsg(const char* name, uint8 pri, Item mp);
#define DeleteMsg(x) DeleteItem(x)
/* Queue msg, which the caller holds, on mp.  0; BADITEM; NOTOWNER (not
 * held by the caller); BADPTR; ER_Kr_MsgSent (on a port already). */
MACHIO_API Err SendMsg(Item mp, Item msg, const void* dataptr, int32 datasize);
MACHIO_API Err SendSmallMsg(Item mp, Item msg, uint32 val1, uint32 val2);
/* The first message on mp, taken off (the caller holds it), or 0 if
 * none.  BADITEM; NOTOWNER (another task's port). */
MACHIO_API Item GetMsg(Item mp);
/* msg, taken off whatever port it is on; -1 if it is on none (Opera's
 * code); BADITEM; BADPRIV unless the caller owns msg or its port. */
MACHIO_API Item GetThisMsg(Item msg);
/* GetMsg, waiting for a message (msg 0) or for msg to arrive on mp.
 * BADITEM (also: msg deleted meanwhile), NOTOWNER, ABORTED. */
MACHIO_API Item WaitPort(Item mp, Item msg);
/* Send msg, which the caller holds, back to its reply port with result.
 * 0; BADITEM; BADPRIV (not held by the caller); BADPTR;
 * ER_Kr_NoReplyPort; ER_Kr_MsgSent. */
MACHIO_API Err ReplyMsg(Item msg, int32 result, const void* dataptr, int32 datasize);
MACHIO_API Err ReplySmallMsg(Item msg, int32 result, uint32 val1, uint32 val2);

/* ---- I/O requests (io.h) ---- */

typedef struct IOBuf {
    void* iob_Buffer;
    int32 iob_Len;
} IOBuf;

typedef struct IOInfo {
    uint8 ioi_Command;     /* CMD_* */
    uint8 ioi_Flags;       /* IO_QUICK or 0 */
    uint8 ioi_Unit;        /* 0 */
    uint8 ioi_Flags2;      /* 0 */
    uint32 ioi_CmdOptions; /* ignored */
    uint32 ioi_User;       /* yours: echoed in a completion message */
    int32 ioi_Offset;      /* in device blocks */
    IOBuf ioi_Send;        /* CMD_WRITE's data */
    IOBuf ioi_Recv;        /* CMD_READ's and CMD_STATUS's buffer */
} IOInfo;

/* An IOReq as LookupItem shows it: Opera's, with 64-bit pointers, all
 * null (the module's lists and device are its own). */
typedef struct IOReq {
    ItemNode io;
    struct ItemNode* io_Link[2];
    void* io_Dev;
    struct IOReq* (*io_CallBack)(struct IOReq*);
    IOInfo io_Info;  /* the last SendIO's */
    int32 io_Actual; /* bytes moved */
    uint32 io_Flags; /* IO_DONE, IO_QUICK, IO_WAITING */
    int32 io_Error;  /* the outcome: 0 or an Err */
    int32 io_Extension[2];
    Item io_MsgItem; /* its completion message, or (signals) its owner */
    int32 io_Private0;
} IOReq;

#define CMD_WRITE 0
#define CMD_READ 1
#define CMD_STATUS 2

#define IO_DONE 0x01
#define IO_QUICK 0x02
#define IO_INTERNAL 0x04
#define IO_WAITING 0x08

#define CREATEIOREQ_TAG_REPLYPORT 10
#define CREATEIOREQ_TAG_DEVICE 11

/* An IOReq to the device dev, which the calling task must have open, of
 * priority pri (higher goes to the device first when it has an
 * in-progress limit), notified by SIGF_IODONE (mp 0) or by its own small
 * message replied to the port mp, which the caller owns (msg_Result
 * io_Error, msg_DataPtr the IOReq's item, msg_DataSize ioi_User; by the
 * IOReq's priority on the port).  BADITEM for a dev that is no device or
 * an mp that is no message port; NOTOWNER; ER_Kr_ItemNotOpen; NOMEM. */
MACHIO_API Item CreateIOReq(const char* name, uint8 pri, Item dev, Item mp);
/* Aborts the I/O in progress, and waits for it. */
#define DeleteIOReq(ior) DeleteItem(ior)
/* Start the I/O *ioiP describes: 1 done already, 0 in progress (the
 * owner is notified when it is done), or, with nothing started, BADITEM,
 * NOTOWNER, ER_IONotDone (one I/O at a time), BADPTR (ioiP or a buffer),
 * BADIOARG (ioi_Flags other than IO_QUICK, or ioi_Flags2), BADUNIT, NOMEM.
 * The command's own outcome is in io_Error: BADCOMMAND, BADIOARG (an
 * offset past the end, a length that is no multiple of the block size, a
 * buffer not aligned for the device), ... */
MACHIO_API Err SendIO(Item ior, const IOInfo* ioiP);
/* SendIO with IO_QUICK, then WaitIO if it did not complete at once:
 * io_Error, or SendIO's error. */
MACHIO_API Err DoIO(Item ior, const IOInfo* ioiP);
/* Wait until ior is done, taking its completion message off its reply
 * port if it is there: io_Error; BADITEM; NOTOWNER. */
MACHIO_API Err WaitIO(Item ior);
/* 1 if ior is done, 0 if in progress, BADITEM: a read of the item view,
 * no system call.  (Do not poll with it.) */
MACHIO_API int32 CheckIO(Item ior);
/* Stop ior's I/O if it is still waiting for the device: it completes with
 * io_Error ABORTED, notified as usual; I/O at the device completes in its
 * own time.  0 either way (WaitIO next); BADITEM; NOTOWNER. */
MACHIO_API Err AbortIO(Item ior);

/* ---- Error codes (operror.h) ----
 *
 * An Err is negative: bit 31 set, then the object type (bits 25-30), the
 * object id (13-24, two 6-bit characters), the severity (11-12), the
 * environment (9-10), the class (8: standard or module-specific) and the
 * code (0-7). */

#define Make6Bit(n) ((n) >= 'a' ? (n) - 'a' + 11 : ((n) <= '9' ? (n) - '0' + 1 : (n) - 'A' + 37))
#define MAKE6BIT(n) Make6Bit(n)

#define ERR_ERRSIZE 8
#define ERR_CLASSIZE 1
#define ERR_ENVSIZE 2
#define ERR_SEVERESIZE 2
#define ERR_IDSIZE 12
#define ERR_OBJSIZE 6
#define ERR_ERRSHIFT 0
#define ERR_CLASHIFT (ERR_ERRSHIFT + ERR_ERRSIZE)
#define ERR_ENVSHIFT (ERR_CLASHIFT + ERR_CLASSIZE)
#define ERR_SEVERESHIFT (ERR_ENVSHIFT + ERR_ENVSIZE)
#define ERR_IDSHIFT (ERR_SEVERESHIFT + ERR_SEVERESIZE)
#define ERR_OBJSHIFT (ERR_IDSHIFT + ERR_IDSIZE)

#define MAKEERR(o, id, severity, env, cls, err)                                                    \
    ((Err)(0x80000000u | ((uint32)(id) << ERR_IDSHIFT) | ((uint32)(severity) << ERR_SEVERESHIFT) | \
           ((uint32)(env) << ERR_ENVSHIFT) | ((uint32)(cls) << ERR_CLASHIFT) |                     \
           ((uint32)(o) << ERR_OBJSHIFT) | ((uint32)(err) << ERR_ERRSHIFT)))
#define MakeErr(o, id, severity, env, cls, err) MAKEERR(o, id, severity, env, cls, err)
#define MakeErrId(ch1, ch2) ((Make6Bit((uchar)(ch1)) << 6) | Make6Bit((uchar)(ch2)))
#define MAKEERRID(ch1, ch2) MakeErrId(ch1, ch2)

/* Objects. */
#define ER_FOLI Make6Bit('F')
#define ER_DEVC Make6Bit('D')
#define ER_TASK Make6Bit('T')
#define ER_LINKLIB Make6Bit('L')
#define ER_USER Make6Bit('U')

/* Folio, device, task and library ids. */
#define ER_KRNL MakeErrId('K', 'r')
#define ER_GRFX MakeErrId('G', 'r')
#define ER_FSYS MakeErrId('F', 'S')
#define ER_ADIO MakeErrId('A', 'u')
#define ER_INTL MakeErrId('I', 'N')
#define ER_COMP MakeErrId('C', 'O')
#define ER_JSTR MakeErrId('J', 'S')
#define ER_TIMR MakeErrId('T', 'M')
#define ER_CDROM MakeErrId('C', 'D')
#define ER_CODEC MakeErrId('C', 'O')
#define ER_CPORT MakeErrId('C', 'P')
#define ER_ACCESS MakeErrId('A', 'C')
#define ER_MUSICLIB MakeErrId('M', 'u')
#define ER_MEMDEBUG MakeErrId('M', 'D')
#define ER_DATASTREAMING MakeErrId('D', 'S')

/* Severity.  (Opera's header defines ER_FATAL as the undefined ERR_KYAGB.) */
#define ER_INFO 0
#define ER_WARN 1
#define ER_SEVERE 2
#define ER_SEVER ER_SEVERE
#define ER_KYAGB 3
#define ER_FATAL ER_KYAGB

/* Environment. */
#define ER_E_SSTM 0
#define ER_E_APPL 1
#define ER_E_USER 2
#define ER_E_RESERVED 3

/* Class. */
#define ER_C_STND 0
#define ER_C_NSTND 1

/* Standard codes (Opera). */
#define ER_BadItem 1
#define ER_BadTagArg 2
#define ER_BadTagArgVal 3
#define ER_NotPrivileged 4
#define ER_NotFound 5
#define ER_NoMem 6
#define ER_BadSubType 7
#define ER_SoftErr 8
#define ER_BadPtr 9
#define ER_Aborted 10
#define ER_BadUnit 11
#define ER_BadCommand 12
#define ER_BadIOArg 13
#define ER_BadName 14
#define ER_IONotDone 15
#define ER_NotSupported 16
#define ER_IOIncomplete 17
#define ER_NotOwner 18
#define ER_DeviceOffline 19
#define ER_DeviceError 20
#define ER_MediaError 21
#define ER_EndOfMedium 22
#define ER_ParamError 23
#define ER_NoSignals 24
#define ER_NoHardware 25

/* The kernel's own codes (class ER_C_NSTND), Opera's numbering. */
#define ER_Kr_BadType 1
#define ER_Kr_RsrcTblOvfFlw 3
#define ER_Kr_BadDrvrItem 4
#define ER_Kr_ItemNotOpen 5
#define ER_Kr_ItemTableFull 6
#define ER_Kr_BadMemCmd 7
#define ER_Kr_NoSigs 8
#define ER_Kr_MsgSent 9
#define ER_Kr_NoReplyPort 10
#define ER_Kr_BadSize 11
#define ER_Kr_BadPriority 12
#define ER_Kr_ThreadError 13
#define ER_Kr_BadQuanta 14
#define ER_Kr_BadStackSize 15
#define ER_Kr_NoTimer 16
#define ER_Kr_CantOpen 17
#define ER_Kr_RSAFail 18
#define ER_Kr_NoXBusHardware 19
#define ER_Kr_XBUSOverFlow 20
#define ER_Kr_ReplyPortNeeded 21
#define ER_Kr_IllegalSignal 22
#define ER_Kr_BadLockArg 23
#define ER_Kr_BadAIFHeader 24
#define ER_Kr_CantSetOwner 25
#define ER_Kr_ItemStillOpened 26
#define ER_Kr_UniqueItemExists 27
#define ER_Kr_BadExitStatus 28
#define ER_Kr_TaskKilled 29

#define MakeKErr(svr, cls, err) MakeErr(ER_FOLI, ER_KRNL, svr, ER_E_SSTM, cls, err)
#define MakeGErr(svr, cls, err) MakeErr(ER_FOLI, ER_GRFX, svr, ER_E_SSTM, cls, err)
#define MakeFErr(svr, cls, err) MakeErr(ER_FOLI, ER_FSYS, svr, ER_E_SSTM, cls, err)
#define MakeIErr(svr, cls, err) MakeErr(ER_FOLI, ER_INTL, svr, ER_E_SSTM, cls, err)
#define MAKEKERR(svr, cls, err) MakeKErr(svr, cls, err)
#define MAKEGERR(svr, cls, err) MakeGErr(svr, cls, err)
#define MAKEFERR(svr, cls, err) MakeFErr(svr, cls, err)
#define MAKEIERR(svr, cls, err) MakeIErr(svr, cls, err)
#define MakeTErr(id, svr, cls, err) MakeErr(ER_TASK, id, svr, ER_E_SSTM, cls, err)
#define MAKETERR(id, svr, cls, err) MakeTErr(id, svr, cls, err)
#define MakeLErr(id, svr, cls, err) MakeErr(ER_LINKLIB, id, svr, ER_E_SSTM, cls, err)
#define MAKELERR(id, svr, cls, err) MakeLErr(id, svr, cls, err)

/* The kernel's shortcuts. */
#define BADTAG MakeKErr(ER_SEVERE, ER_C_STND, ER_BadTagArg)
#define BADTAGVAL MakeKErr(ER_SEVERE, ER_C_STND, ER_BadTagArgVal)
#define BADPRIV MakeKErr(ER_SEVERE, ER_C_STND, ER_NotPrivileged)
#define BADSUBTYPE MakeKErr(ER_SEVERE, ER_C_STND, ER_BadSubType)
#define BADITEM MakeKErr(ER_SEVERE, ER_C_STND, ER_BadItem)
#define NOMEM MakeKErr(ER_SEVERE, ER_C_STND, ER_NoMem)
#define BADPTR MakeKErr(ER_SEVERE, ER_C_STND, ER_BadPtr)
#define BADUNIT MakeKErr(ER_SEVERE, ER_C_STND, ER_BadUnit)
#define BADIOARG MakeKErr(ER_SEVERE, ER_C_STND, ER_BadIOArg)
#define BADCOMMAND MakeKErr(ER_SEVERE, ER_C_STND, ER_BadCommand)
#define ABORTED MakeKErr(ER_SEVERE, ER_C_STND, ER_Aborted)
#define BADNAME MakeKErr(ER_SEVERE, ER_C_STND, ER_BadName)
#define IOINCOMPLETE MakeKErr(ER_SEVERE, ER_C_STND, ER_IOIncomplete)
#define NOSUPPORT MakeKErr(ER_SEVERE, ER_C_STND, ER_NotSupported)
#define NOTOWNER MakeKErr(ER_SEVERE, ER_C_STND, ER_NotOwner)
#define BADSIZE MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_BadSize)
#define ILLEGALSIGNAL MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_IllegalSignal)
#define BADAIF MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_BadAIFHeader)
#define KILLED MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_TaskKilled)
#define MSGSENT MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_MsgSent)

/* The text of @err into @buff (at most @buffsize bytes, NUL included), as
 * Portfolio prints it: "FKr-Severe-System-Standard-Bad Item" -- the object
 * and id characters, severity, environment, class, then the standard text
 * or the kernel's own (class Extended, id "Kr"), or "<NNN>" for a code
 * nothing describes; "<N, not an error>" for N >= 0 and "<-1, generic
 * error>" for -1.  Returns the length of what it wrote (truncated to
 * buffsize - 1), 0 if buffsize is 0, BADPTR for a null buffer or a
 * negative size.  Thread-safe. */
MACHIO_API int32 GetSysErr(char* buff, int32 buffsize, Err err);
/* GetSysErr into a 128-byte buffer, printed with a newline on stdout. */
MACHIO_API void PrintfSysErr(Err err);

/* ---- Tasks and signals (task.h) ----
 *
 * A Portfolio task is a thread: a thread's first Portfolio call makes its
 * task item, in the machio space of its process; the item goes away when
 * the thread exits (or the process does).  Items belong to their user:
 * another user's processes cannot see them.
 *
 * Signals are Portfolio's: 32 bits per task, no counting.  Bits 0-7 are
 * the system's (SIGF_*: allocated in every task, sent only by the
 * kernel), bit 31 is illegal, bits 8-30 are the task's to allocate.
 * SIGF_ABORT is in every wait mask.  A call that cannot reach machio
 * (no /dev/machio) returns NOSUPPORT. */

#define SIGF_MEMGONE 0x00000001
#define SIGF_MEMLOW 0x00000002
#define SIGF_ABORT 0x00000004
#define SIGF_IODONE 0x00000008
#define SIGF_DEADTASK 0x00000010
#define SIGF_ONESHOT 0x00000020

/* The calling thread's task item (Opera: CURRENTTASK->t.n_Item), made on
 * first use: a machio extension.  NOMEM, or the item table being full
 * (ER_Kr_ItemTableFull), also come back here. */
MACHIO_API Item machio_current_task(void);
/* 0: the lowest free bit of 8-30, as a mask, or 0 if none is free; a
 * mask: exactly those bits, or 0 if any is taken; ILLEGALSIGNAL for bits
 * 0-7 or 31.  New bits start clear. */
MACHIO_API int32 AllocSignal(uint32 sigMask);
/* 0; ILLEGALSIGNAL for bits 0-7, 31, or bits not allocated. */
MACHIO_API Err FreeSignal(uint32 sigMask);
/* The pending bits of sigMask | SIGF_ABORT, cleared; sleeps until one is
 * (a Linux signal does not end the wait).  ILLEGALSIGNAL for bits not
 * allocated. */
MACHIO_API int32 WaitSignal(uint32 sigMask);
/* Raise sigMask in task (0: the caller).  BADITEM: no such task of this
 * user; ILLEGALSIGNAL: bit 31, or bits the task has not allocated;
 * BADPRIV: the system's bits. */
MACHIO_API Err SendSignal(Item task, uint32 sigMask);
/* The caller's pending bits, left pending. */
MACHIO_API uint32 GetCurrentSignals(void);
#define ClearCurrentSignals(s)                                                                     \
    ((GetCurrentSignals() & (s)) ? WaitSignal(GetCurrentSignals() & (s)) : 0)

#ifdef __cplusplus
}
#endif

#endif /* MACHIO_PORTFOLIO_H */
