/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <machio/mach.h>: the OSF Mach asynchronous device I/O interface
 * (io_done_queue + device_*_async) on Linux block devices, through the
 * machio kernel module (/dev/machio).
 *
 * Types, constants and function signatures are those of OSF MK / MkLinux
 * (device/device_types.h, mach/kern_return.h, the osfmk man pages), with
 * the original numeric values, so Mach code ports by recompiling.
 *
 * The port name space
 * -------------------
 * Every open of /dev/machio is one Mach port name space (a "task").  A
 * process gets one implicitly: the first call that needs it opens
 * /dev/machio (O_RDWR | O_CLOEXEC) exactly once, thread-safely, and every
 * later call uses it.  mach_host_self() and mach_task_self() return the
 * host and task names of that space.  If the open fails, it is retried on
 * the next call (so loading the module later works); meanwhile every call
 * returns KERN_FAILURE, mach_host_self()/mach_task_self() return
 * MACH_PORT_NULL and mach_error_string(KERN_FAILURE) says why.
 * The environment variable MACHIO_DEVICE (ignored in set-uid programs)
 * names another device node to open instead of /dev/machio.
 *
 * fork()
 * ------
 * The child inherits the open file of /dev/machio and therefore SHARES the
 * parent's name space: every name (queues, devices) is valid in both
 * processes and refers to the same object, and a completion is delivered
 * to whichever process waits for it first.  A queue terminated or a name
 * deallocated by one is gone for both.  A child that wants a name space of
 * its own calls machio_space_reset() (best before using any other machio
 * call): a fresh, empty space becomes the process space, and the inherited
 * one is released in the child only (the parent's stays open).  The old
 * descriptor number is not closed but atomically replaced (dup3) by another
 * fresh, empty space, which keeps that number until the process ends, so
 * machio_space_reset() is safe against other threads: one still using the
 * old descriptor or old names gets the answers of an empty space
 * (KERN_INVALID_NAME; KERN_INVALID_ARGUMENT or D_NO_SUCH_DEVICE from the
 * queue and device calls), never another object and never another file
 * that a later open() was given the number of.  Every name obtained before
 * the reset is meaningless afterwards; used in the new space it may even
 * alias a new object.  Each reset keeps one descriptor and a few bytes for
 * the life of the process.  If /dev/machio cannot be opened the reset
 * returns KERN_FAILURE and changes nothing.  exec() closes the space
 * (O_CLOEXEC).
 *
 * Differences from OSF Mach worth knowing
 * ---------------------------------------
 * - device_open() takes the 4-argument Mach 3 form; master_port is the
 *   host name (mach_host_self()); `name` is a path, or a name under /dev.
 *   The parameter is declared `const char *` rather than dev_name_t: GCC
 *   would otherwise read 128 bytes from every shorter string literal.
 * - device_close() releases the device name; do not also
 *   mach_port_deallocate() it.
 * - After io_done_queue_terminate() the queue name is a dead name; release
 *   it with mach_port_deallocate().  A live queue cannot be deallocated
 *   (KERN_INVALID_RIGHT): terminate it first.
 * - mach_port_deallocate() of the host or task name is a no-op success.
 * - io_done_queue_wait() is interrupted by signals (KERN_ABORTED) and not
 *   restarted.  A bad `result` pointer gives KERN_INVALID_ARGUMENT (man
 *   page) and the completion stays queued.
 * - device_read_async(): qd_data is a fresh mapping of
 *   round_page(qd_count) bytes; free it with vm_deallocate(mach_task_self(),
 *   qd_data, qd_count).
 * - device_write_async() does not copy: the data must stay untouched until
 *   its completion has been received.  The *_inband variants copy (at most
 *   IO_INBAND_MAX bytes; larger counts are clamped, as in OSF).
 * - The module does direct I/O (like O_DIRECT): byte counts of the
 *   out-of-line and overwrite calls must be whole logical blocks, and the
 *   caller's buffers aligned to the device's DMA alignment (aligning to the
 *   logical block size is always enough); otherwise the completion says
 *   D_INVALID_SIZE.  A transfer running off the end of the device is cut
 *   short (qd_count); one starting past it fails with D_INVALID_RECNUM.
 * - A device opened D_WRITE from a read-only descriptor is refused with
 *   D_READ_ONLY by the library; writes to a read-only block device
 *   complete with D_READ_ONLY.
 * - DEV_GET_SIZE reports the size in an int: devices of 2 GiB or more
 *   saturate at INT_MAX; machio_device_size() gives the 64-bit size.
 * - Only 64-bit (LP64) targets are supported: io_done_result_t is the
 *   kernel's completion record, byte for byte.
 * - As in Mach, qd_type, qd_reqid, qd_code, qd_data and qd_count are macros
 *   (for qd_control.qd_type etc.): they also rename those fields of
 *   struct machio_io_done_result in code that includes this header.
 */
#ifndef MACHIO_MACH_H
#define MACHIO_MACH_H

#include <stddef.h>
#include <stdint.h>

#include <uapi/linux/machio.h>

#if defined(__GNUC__)
#define MACHIO_API __attribute__((visibility("default")))
#else
#define MACHIO_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Basic Mach types (mach/port.h, mach/kern_return.h, mach/vm_types.h) ---- */

typedef int kern_return_t;
typedef unsigned int mach_port_t;
typedef unsigned int mach_msg_type_number_t;
typedef uintptr_t vm_address_t;
typedef uintptr_t vm_size_t;
typedef int boolean_t;
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define MACH_PORT_NULL ((mach_port_t)0)
#define MACH_PORT_DEAD ((mach_port_t)~0U)
#define MACH_PORT_VALID(name) (((name) != MACH_PORT_NULL) && ((name) != MACH_PORT_DEAD))

/* ---- kern_return_t values (OSF MK; 46 is KERN_NO_THREAD, not xnu's KERN_NOT_SUPPORTED) ---- */

#define KERN_SUCCESS 0
#define KERN_INVALID_ADDRESS 1
#define KERN_PROTECTION_FAILURE 2
#define KERN_NO_SPACE 3
#define KERN_INVALID_ARGUMENT 4
#define KERN_FAILURE 5
#define KERN_RESOURCE_SHORTAGE 6
#define KERN_NOT_RECEIVER 7
#define KERN_NO_ACCESS 8
#define KERN_MEMORY_FAILURE 9
#define KERN_MEMORY_ERROR 10
#define KERN_ALREADY_IN_SET 11 /* obsolete in OSF */
#define KERN_NOT_IN_SET 12
#define KERN_NAME_EXISTS 13
#define KERN_ABORTED 14
#define KERN_INVALID_NAME 15
#define KERN_INVALID_TASK 16
#define KERN_INVALID_RIGHT 17
#define KERN_INVALID_VALUE 18
#define KERN_UREFS_OVERFLOW 19
#define KERN_INVALID_CAPABILITY 20
#define KERN_RIGHT_EXISTS 21
#define KERN_NOT_IN_SET 12
#define KERN_INVALID_HOST 22
#define KERN_MEMORY_PRESENT 23
#define KERN_MEMORY_DATA_MOVED 24
#define KERN_MEMORY_RESTART_COPY 25
#define KERN_INVALID_PROCESSOR_SET 26
#define KERN_POLICY_LIMIT 27
#define KERN_INVALID_POLICY 28
#define KERN_INVALID_OBJECT 29
#define KERN_ALREADY_WAITING 30
#define KERN_DEFAULT_SET 31
#define KERN_EXCEPTION_PROTECTED 32
#define KERN_INVALID_LEDGER 33
#define KERN_INVALID_MEMORY_CONTROL 34
#define KERN_INVALID_SECURITY 35
#define KERN_NOT_DEPRESSED 36
#define KERN_TERMINATED 37
#define KERN_LOCK_SET_DESTROYED 38
#define KERN_LOCK_UNSTABLE 39
#define KERN_LOCK_OWNED 40
#define KERN_LOCK_OWNED_SELF 41
#define KERN_SEMAPHORE_DESTROYED 42
#define KERN_RPC_SERVER_TERMINATED 43
#define KERN_RPC_TERMINATE_ORPHAN 44
#define KERN_RPC_CONTINUE_ORPHAN 45
#define KERN_NO_THREAD 46
#define KERN_NODE_DOWN 47
#define KERN_NOT_WAITING 48
#define KERN_OPERATION_TIMED_OUT 49
#define KERN_RETURN_MAX 0x100

/* ---- Device interface types (device/device_types.h) ---- */

typedef unsigned int dev_mode_t;
typedef unsigned int recnum_t;
typedef int io_buf_len_t;
typedef char* io_buf_ptr_t;
#define IO_INBAND_MAX 128 /* must match device_types.defs */
typedef char io_buf_ptr_inband_t[IO_INBAND_MAX];
typedef char dev_name_t[128];
typedef unsigned int dev_flavor_t;
typedef int* dev_status_t;
#define DEV_STATUS_MAX 1024
typedef int dev_status_data_t[DEV_STATUS_MAX];
typedef int io_return_t;

/* dev_mode_t bits. */
#define D_READ 0x1    /* read access */
#define D_WRITE 0x2   /* write access */
#define D_NODELAY 0x4 /* no delay on open (accepted, no effect) */
#define D_NOWAIT 0x8  /* async I/O: fail with D_WOULD_BLOCK instead of waiting */

/* Mandatory get-status flavor. */
#define DEV_GET_SIZE 0
#define DEV_GET_SIZE_DEVICE_SIZE 0 /* device size in bytes (INT_MAX if >= 2 GiB) */
#define DEV_GET_SIZE_RECORD_SIZE 1 /* record (logical block) size in bytes */
#define DEV_GET_SIZE_COUNT 2

/* Flavors the OSF device layer answers itself, for every device: the
 * limit on I/O in progress at once (one int).  OSF's values,
 * _IOR('M', 1, int) and _IOW('M', 2, int), spelled out. */
#define MDIOCGETL 0x80044d01u
#define MDIOCSETL 0x40044d02u
#define IO_IN_PROGRESS_MAX 255

/* Device return codes (io_return_t). */
#define D_IO_QUEUED (-1) /* internal to OSF; never returned */
#define D_SUCCESS 0
#define D_IO_ERROR 2500
#define D_WOULD_BLOCK 2501
#define D_NO_SUCH_DEVICE 2502
#define D_ALREADY_OPEN 2503
#define D_DEVICE_DOWN 2504
#define D_INVALID_OPERATION 2505
#define D_INVALID_RECNUM 2506
#define D_INVALID_SIZE 2507
#define D_NO_MEMORY 2508
#define D_READ_ONLY 2509
#define D_OUT_OF_BAND 2510
#define D_NOT_CLONED 2511

/* Completion types (qd_type). */
#define IO_DONE_READ 1      /* device_read_async, device_read_async_inband */
#define IO_DONE_WRITE 2     /* device_write_async, device_write_async_inband */
#define IO_DONE_OVERWRITE 3 /* device_read_overwrite_async */

/* ---- Completion record (OSF MK6.1 / MkLinux struct io_done_result) ---- */

typedef struct io_done_result {
    struct control_info {
        int qd_type;           /* type of I/O operation (IO_DONE_*) */
        mach_port_t qd_reqid;  /* request id, echoed back bit for bit */
        kern_return_t qd_code; /* KERN_* or D_* outcome */
        io_buf_ptr_t qd_data;  /* data of a read (see above) */
        int qd_count;          /* bytes transferred */
    } qd_control;
    io_buf_ptr_inband_t qd_inline; /* data of device_read_async_inband */
} io_done_result_t;

/* The kernel writes struct machio_io_done_result straight into the caller's
 * io_done_result_t: the two must agree byte for byte. */
#if defined(__cplusplus)
#define MACHIO_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define MACHIO_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define MACHIO_STATIC_ASSERT_CAT2(a, b) a##b
#define MACHIO_STATIC_ASSERT_CAT(a, b) MACHIO_STATIC_ASSERT_CAT2(a, b)
#define MACHIO_STATIC_ASSERT(cond, msg)                                                            \
    typedef char MACHIO_STATIC_ASSERT_CAT(machio_static_assert_, __LINE__)[(cond) ? 1 : -1]
#endif

MACHIO_STATIC_ASSERT(sizeof(io_done_result_t) == sizeof(struct machio_io_done_result),
                     "io_done_result_t size differs from the kernel ABI (LP64 only)");
MACHIO_STATIC_ASSERT(offsetof(io_done_result_t, qd_control.qd_type) ==
                         offsetof(struct machio_io_done_result, qd_type),
                     "qd_type offset");
MACHIO_STATIC_ASSERT(offsetof(io_done_result_t, qd_control.qd_reqid) ==
                         offsetof(struct machio_io_done_result, qd_reqid),
                     "qd_reqid offset");
MACHIO_STATIC_ASSERT(offsetof(io_done_result_t, qd_control.qd_code) ==
                         offsetof(struct machio_io_done_result, qd_code),
                     "qd_code offset");
MACHIO_STATIC_ASSERT(offsetof(io_done_result_t, qd_control.qd_data) ==
                         offsetof(struct machio_io_done_result, qd_data),
                     "qd_data offset");
MACHIO_STATIC_ASSERT(offsetof(io_done_result_t, qd_control.qd_count) ==
                         offsetof(struct machio_io_done_result, qd_count),
                     "qd_count offset");
MACHIO_STATIC_ASSERT(offsetof(io_done_result_t, qd_inline) ==
                         offsetof(struct machio_io_done_result, qd_inline),
                     "qd_inline offset");
MACHIO_STATIC_ASSERT(sizeof(((io_done_result_t*)0)->qd_inline) == MACHIO_IO_INBAND_MAX,
                     "qd_inline size");
MACHIO_STATIC_ASSERT(IO_INBAND_MAX == MACHIO_IO_INBAND_MAX, "IO_INBAND_MAX");
MACHIO_STATIC_ASSERT(sizeof(mach_port_t) == sizeof(__u32), "mach_port_t is 32 bits");

/* The Mach values above are the ones the module produces. */
MACHIO_STATIC_ASSERT(MACH_PORT_NULL == MACHIO_PORT_NULL && MACH_PORT_DEAD == MACHIO_PORT_DEAD,
                     "port name sentinels");
MACHIO_STATIC_ASSERT(KERN_SUCCESS == MACHIO_KERN_SUCCESS &&
                         KERN_INVALID_ADDRESS == MACHIO_KERN_INVALID_ADDRESS &&
                         KERN_INVALID_ARGUMENT == MACHIO_KERN_INVALID_ARGUMENT &&
                         KERN_RESOURCE_SHORTAGE == MACHIO_KERN_RESOURCE_SHORTAGE &&
                         KERN_ABORTED == MACHIO_KERN_ABORTED &&
                         KERN_TERMINATED == MACHIO_KERN_TERMINATED,
                     "kern_return_t values");
MACHIO_STATIC_ASSERT(D_SUCCESS == MACHIO_D_SUCCESS && D_IO_ERROR == MACHIO_D_IO_ERROR &&
                         D_WOULD_BLOCK == MACHIO_D_WOULD_BLOCK &&
                         D_NO_SUCH_DEVICE == MACHIO_D_NO_SUCH_DEVICE &&
                         D_ALREADY_OPEN == MACHIO_D_ALREADY_OPEN &&
                         D_DEVICE_DOWN == MACHIO_D_DEVICE_DOWN &&
                         D_INVALID_OPERATION == MACHIO_D_INVALID_OPERATION &&
                         D_INVALID_RECNUM == MACHIO_D_INVALID_RECNUM &&
                         D_INVALID_SIZE == MACHIO_D_INVALID_SIZE &&
                         D_NO_MEMORY == MACHIO_D_NO_MEMORY && D_READ_ONLY == MACHIO_D_READ_ONLY,
                     "device return codes");
MACHIO_STATIC_ASSERT(D_READ == MACHIO_D_READ && D_WRITE == MACHIO_D_WRITE &&
                         D_NODELAY == MACHIO_D_NODELAY && D_NOWAIT == MACHIO_D_NOWAIT,
                     "dev_mode_t bits");
MACHIO_STATIC_ASSERT(IO_DONE_READ == MACHIO_IO_DONE_READ && IO_DONE_WRITE == MACHIO_IO_DONE_WRITE &&
                         IO_DONE_OVERWRITE == MACHIO_IO_DONE_OVERWRITE,
                     "completion types");

/* Only now: the field macros would otherwise rename the uapi fields above. */
#define qd_type qd_control.qd_type
#define qd_reqid qd_control.qd_reqid
#define qd_code qd_control.qd_code
#define qd_data qd_control.qd_data
#define qd_count qd_control.qd_count

/* ---- Ports ---- */

/* The host name of the process's space (the `host` of io_done_queue_create
 * and the `master_port` of device_open); MACH_PORT_NULL if unavailable. */
MACHIO_API mach_port_t mach_host_self(void);
/* The task name of the process's space; MACH_PORT_NULL if unavailable. */
MACHIO_API mach_port_t mach_task_self(void);
/* Release a name: one user reference of a send right, a send-once right
 * or a dead name (the last takes the name, unless it also holds a receive
 * right); a device; the dead name left by io_done_queue_terminate.
 * KERN_INVALID_TASK (task is not mach_task_self()), KERN_INVALID_NAME,
 * KERN_INVALID_RIGHT (a receive right alone, a port set, a live queue). */
MACHIO_API kern_return_t mach_port_deallocate(mach_port_t task, mach_port_t name);

/* Port rights (mach/port.h).  A space holds each port under one name:
 * its receive right and send rights share it; each send-once right has a
 * name of its own.  Send rights and dead names count user references (up
 * to 65534 and 65535); the rest count one.  When a port's receive right
 * goes, every right to it becomes a dead name.  `task` is always
 * mach_task_self() (KERN_INVALID_TASK otherwise). */
typedef mach_port_t mach_port_name_t;
typedef unsigned int mach_port_right_t;
typedef unsigned int mach_port_type_t;
typedef unsigned int mach_port_urefs_t;
typedef int mach_port_delta_t;
typedef unsigned int mach_msg_type_name_t;
typedef mach_port_t* mach_port_array_t;
typedef mach_port_t* mach_port_name_array_t;
typedef mach_port_type_t* mach_port_type_array_t;
typedef mach_port_t ipc_space_t;
/* RPC subsystems: machio has none; pass NULL. */
typedef struct subsystem* subsystem_t;
#define SUBSYSTEM_NULL ((subsystem_t)0)

#define MACH_PORT_RIGHT_SEND ((mach_port_right_t)0)
#define MACH_PORT_RIGHT_RECEIVE ((mach_port_right_t)1)
#define MACH_PORT_RIGHT_SEND_ONCE ((mach_port_right_t)2)
#define MACH_PORT_RIGHT_PORT_SET ((mach_port_right_t)3)
#define MACH_PORT_RIGHT_DEAD_NAME ((mach_port_right_t)4)
#define MACH_PORT_RIGHT_NUMBER ((mach_port_right_t)5)

#define MACH_PORT_TYPE(right) ((mach_port_type_t)(1U << ((right) + 16)))
#define MACH_PORT_TYPE_NONE ((mach_port_type_t)0)
#define MACH_PORT_TYPE_SEND MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND)
#define MACH_PORT_TYPE_RECEIVE MACH_PORT_TYPE(MACH_PORT_RIGHT_RECEIVE)
#define MACH_PORT_TYPE_SEND_ONCE MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND_ONCE)
#define MACH_PORT_TYPE_PORT_SET MACH_PORT_TYPE(MACH_PORT_RIGHT_PORT_SET)
#define MACH_PORT_TYPE_DEAD_NAME MACH_PORT_TYPE(MACH_PORT_RIGHT_DEAD_NAME)
#define MACH_PORT_TYPE_SEND_RECEIVE (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
#define MACH_PORT_TYPE_SEND_RIGHTS (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)
#define MACH_PORT_TYPE_PORT_RIGHTS (MACH_PORT_TYPE_SEND_RIGHTS | MACH_PORT_TYPE_RECEIVE)
#define MACH_PORT_TYPE_PORT_OR_DEAD (MACH_PORT_TYPE_PORT_RIGHTS | MACH_PORT_TYPE_DEAD_NAME)
#define MACH_PORT_TYPE_ALL_RIGHTS (MACH_PORT_TYPE_PORT_OR_DEAD | MACH_PORT_TYPE_PORT_SET)

#define MACH_PORT_QLIMIT_DEFAULT 5
#define MACH_PORT_QLIMIT_MAX 16

/* mach_msg_type_name_t dispositions (mach/message.h). */
#define MACH_MSG_TYPE_MOVE_RECEIVE 16
#define MACH_MSG_TYPE_MOVE_SEND 17
#define MACH_MSG_TYPE_MOVE_SEND_ONCE 18
#define MACH_MSG_TYPE_COPY_SEND 19
#define MACH_MSG_TYPE_MAKE_SEND 20
#define MACH_MSG_TYPE_MAKE_SEND_ONCE 21

/* OSF's quality of service: name, the caller chooses the name (through
 * mach_port_allocate_full); rt, a realtime port (a receive right only). */
typedef struct mach_port_qos {
    unsigned int name : 1;
    unsigned int rt : 1;
    unsigned int pad1 : 30;
    unsigned int pad2 : 32;
} mach_port_qos_t;

/* A receive right (a new port: no send rights, queue limit 5), a port
 * set, or a dead name, under a name the kernel chooses.
 * KERN_INVALID_VALUE (a bad right), KERN_NO_SPACE (max_names names),
 * KERN_RESOURCE_SHORTAGE. */
MACHIO_API kern_return_t mach_port_allocate(ipc_space_t task, mach_port_right_t right,
                                            mach_port_name_t* name);
/* The same under `name`: KERN_INVALID_VALUE (null, dead, or index 0),
 * KERN_NAME_EXISTS (its slot is in use), KERN_NO_SPACE (an index beyond
 * max_names). */
MACHIO_API kern_return_t mach_port_allocate_name(ipc_space_t task, mach_port_right_t right,
                                                 mach_port_name_t name);
/* With quality of service: `qos->rt` for a realtime receive right
 * (KERN_INVALID_VALUE with another right).  `*name` is output only (MIG's
 * out, as in OSF): for a name of your own, use mach_port_allocate_full. */
MACHIO_API kern_return_t mach_port_allocate_qos(ipc_space_t task, mach_port_right_t right,
                                                mach_port_qos_t* qos, mach_port_name_t* name);
/* The general one: `qos->name` makes `*name` an input too.  A subsystem
 * is KERN_INVALID_ARGUMENT (with a receive right; KERN_INVALID_VALUE with
 * another): machio has no RPC subsystems. */
MACHIO_API kern_return_t mach_port_allocate_full(ipc_space_t task, mach_port_right_t right,
                                                 subsystem_t subsystem, mach_port_qos_t* qos,
                                                 mach_port_name_t* name);
/* A new receive right in the caller's space; MACH_PORT_NULL on failure. */
MACHIO_API mach_port_t mach_reply_port(void);
/* Every right under `name`, and the name: a receive right destroys its
 * port.  KERN_INVALID_NAME; KERN_INVALID_RIGHT for a kernel object's
 * name (host, task, queue, device, buffer: deallocate or terminate it). */
MACHIO_API kern_return_t mach_port_destroy(ipc_space_t task, mach_port_name_t name);
/* Add `delta` user references of `right` to `name`; at 0 the right goes.
 * KERN_INVALID_VALUE (a bad right; a count below 0; a delta other than 0
 * and -1 on a receive, send-once or port-set right), KERN_INVALID_NAME,
 * KERN_INVALID_RIGHT (no such right there), KERN_UREFS_OVERFLOW. */
MACHIO_API kern_return_t mach_port_mod_refs(ipc_space_t task, mach_port_name_t name,
                                            mach_port_right_t right, mach_port_delta_t delta);
/* The user references of `right` under `name`: 0 if it holds none of
 * that right.  KERN_INVALID_VALUE, KERN_INVALID_NAME. */
MACHIO_API kern_return_t mach_port_get_refs(ipc_space_t task, mach_port_name_t name,
                                            mach_port_right_t right, mach_port_urefs_t* refs);
/* MACH_PORT_TYPE_* bits of `name`: a kernel object's name is a send right. */
MACHIO_API kern_return_t mach_port_type(ipc_space_t task, mach_port_name_t name,
                                        mach_port_type_t* ptype);
/* Give `name` the right `poly` names in this space, as `msgt_name` says
 * (MAKE_SEND, COPY_SEND, MOVE_SEND, MAKE_SEND_ONCE, MOVE_SEND_ONCE,
 * MOVE_RECEIVE).  Send and receive rights keep their port's one name
 * (KERN_RIGHT_EXISTS for another); a send-once right needs a free name
 * (KERN_NAME_EXISTS).  KERN_INVALID_VALUE (a bad name or disposition),
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT (poly lacks the right),
 * KERN_INVALID_CAPABILITY (poly is a dead name), KERN_UREFS_OVERFLOW. */
MACHIO_API kern_return_t mach_port_insert_right(ipc_space_t task, mach_port_name_t name,
                                                mach_port_t poly, mach_msg_type_name_t msgt_name);
/* Take the right msgt_name says from `name` and get it back as a reply
 * would bring it: *poly its name now (a receive or send right under its
 * port's name here; a receive right alone, and a send-once right, under a
 * new one; MACH_PORT_DEAD from a dead name with COPY_SEND, MOVE_SEND or
 * MOVE_SEND_ONCE), *polyPoly its MACH_MSG_TYPE_PORT_* type.
 * KERN_INVALID_VALUE (not a port disposition), KERN_INVALID_NAME,
 * KERN_INVALID_RIGHT. */
MACHIO_API kern_return_t mach_port_extract_right(ipc_space_t task, mach_port_name_t name,
                                                 mach_msg_type_name_t msgt_name, mach_port_t* poly,
                                                 mach_msg_type_name_t* polyPoly);
/* Every name of the space and its type, as two arrays of *namesCnt ==
 * *typesCnt entries in fresh memory (vm_deallocate them). */
MACHIO_API kern_return_t mach_port_names(ipc_space_t task, mach_port_name_array_t* names,
                                         mach_msg_type_number_t* namesCnt,
                                         mach_port_type_array_t* types,
                                         mach_msg_type_number_t* typesCnt);

/* Put the receive right `member` into the port set `after` (leaving the set
 * it was in), or take it out of its set (`after` MACH_PORT_NULL:
 * KERN_NOT_IN_SET if it is in none).  KERN_INVALID_NAME, KERN_INVALID_RIGHT
 * (member not a receive right, after not a port set).  A receive on the set
 * takes the oldest message of any member (mach_msg's msgh_local_port says
 * which); a receive on a member itself is MACH_RCV_IN_SET. */
MACHIO_API kern_return_t mach_port_move_member(ipc_space_t task, mach_port_name_t member,
                                               mach_port_name_t after);
/* The names of the set's members, in fresh memory (vm_deallocate it).
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT (not a port set). */
MACHIO_API kern_return_t mach_port_get_set_status(ipc_space_t task, mach_port_name_t name,
                                                  mach_port_name_array_t* members,
                                                  mach_msg_type_number_t* membersCnt);

/* Port attributes: a receive right's queue limit and status. */
typedef int mach_port_flavor_t;
typedef int* mach_port_info_t;
typedef unsigned int mach_port_msgcount_t;
typedef struct mach_port_limits {
    mach_port_msgcount_t mpl_qlimit;
} mach_port_limits_t;
/* OSF's, word for word: mps_pset is the name of the set the port is in. */
typedef struct mach_port_status {
    mach_port_t mps_pset;
    unsigned int mps_seqno;
    unsigned int mps_mscount;
    mach_port_msgcount_t mps_qlimit;
    mach_port_msgcount_t mps_msgcount;
    unsigned int mps_sorights;
    int mps_srights;
    int mps_pdrequest;
    int mps_nsrequest;
    unsigned int mps_flags; /* MACH_PORT_FLAGS_RT */
} mach_port_status_t;
#define MACH_PORT_LIMITS_INFO 1
#define MACH_PORT_RECEIVE_STATUS 2
#define MACH_PORT_DNREQUESTS_SIZE 3
#define MACH_PORT_LIMITS_INFO_COUNT 1
#define MACH_PORT_RECEIVE_STATUS_COUNT 10
#define MACH_PORT_DNREQUESTS_SIZE_COUNT 1
#define MACH_PORT_FLAGS_RT 0x1

/* One of the flavors above for the receive right `name`, into `info`
 * (room for *count ints; *count comes back as the flavor's).
 * KERN_INVALID_ARGUMENT (no such flavor), KERN_FAILURE (*count too
 * small), KERN_INVALID_NAME, KERN_INVALID_RIGHT (not a receive right). */
MACHIO_API kern_return_t mach_port_get_attributes(ipc_space_t task, mach_port_name_t name,
                                                  mach_port_flavor_t flavor, mach_port_info_t info,
                                                  mach_msg_type_number_t* count);
/* MACH_PORT_LIMITS_INFO: a queue limit of 0 to MACH_PORT_QLIMIT_MAX
 * (KERN_INVALID_VALUE beyond); MACH_PORT_DNREQUESTS_SIZE: accepted.
 * KERN_INVALID_ARGUMENT for the receive status (not settable). */
MACHIO_API kern_return_t mach_port_set_attributes(ipc_space_t task, mach_port_name_t name,
                                                  mach_port_flavor_t flavor, mach_port_info_t info,
                                                  mach_msg_type_number_t count);

/* ---- Messages (mach/message.h, OSF MK) ---- */

typedef unsigned int mach_msg_bits_t;
typedef unsigned int mach_msg_size_t;
typedef int mach_msg_id_t;
typedef unsigned int mach_port_seqno_t;
typedef int mach_msg_option_t;
typedef unsigned int mach_msg_timeout_t;
typedef kern_return_t mach_msg_return_t;

/* OSF's header: msgh_seqno where xnu later put a voucher port. */
typedef struct {
    mach_msg_bits_t msgh_bits;
    mach_msg_size_t msgh_size;
    mach_port_t msgh_remote_port;
    mach_port_t msgh_local_port;
    mach_port_seqno_t msgh_seqno;
    mach_msg_id_t msgh_id;
} mach_msg_header_t;

#define MACH_MSGH_BITS_REMOTE_MASK 0x000000ffU
#define MACH_MSGH_BITS_LOCAL_MASK 0x0000ff00U
#define MACH_MSGH_BITS_COMPLEX 0x80000000U
#define MACH_MSGH_BITS(remote, local) ((remote) | ((local) << 8))
#define MACH_MSGH_BITS_REMOTE(bits) ((bits)&MACH_MSGH_BITS_REMOTE_MASK)
#define MACH_MSGH_BITS_LOCAL(bits) (((bits)&MACH_MSGH_BITS_LOCAL_MASK) >> 8)
/* The types a received message's rights have. */
#define MACH_MSG_TYPE_PORT_RECEIVE MACH_MSG_TYPE_MOVE_RECEIVE
#define MACH_MSG_TYPE_PORT_SEND MACH_MSG_TYPE_MOVE_SEND
#define MACH_MSG_TYPE_PORT_SEND_ONCE MACH_MSG_TYPE_MOVE_SEND_ONCE

/* A complex message (MACH_MSGH_BITS_COMPLEX): after the header, the number
 * of descriptors, the descriptors, then the rest of the body. */
typedef struct {
    mach_msg_size_t msgh_descriptor_count;
} mach_msg_body_t;

typedef unsigned int mach_msg_descriptor_type_t;
#define MACH_MSG_PORT_DESCRIPTOR 0
#define MACH_MSG_OOL_DESCRIPTOR 1
#define MACH_MSG_OOL_PORTS_DESCRIPTOR 2
#define MACH_MSG_OOL_VOLATILE_DESCRIPTOR 3

/* OSF's bit-fields as bytes, so the layout is the same with every compiler
 * (little-endian): a descriptor's type is always its twelfth byte. */
typedef struct {
    unsigned int pad1;
    mach_msg_size_t pad2;
    unsigned char pad3[3];
    unsigned char type;
} mach_msg_type_descriptor_t;

/* A right the message carries: sent, `name` in the sender's space and the
 * MACH_MSG_TYPE_* disposition; received, the receiver's name for it
 * (MACH_PORT_DEAD if its port died on the way) and MACH_MSG_TYPE_PORT_*. */
typedef struct {
    mach_port_t name;
    mach_msg_size_t pad1;
    unsigned short pad2;
    unsigned char disposition;
    unsigned char type; /* MACH_MSG_PORT_DESCRIPTOR */
} mach_msg_port_descriptor_t;

/* Memory out of line, as xnu lays it out for LP64 (the type in the twelfth
 * byte).  Only the kernel sends these (device replies); a message of yours
 * with one is MACH_SEND_INVALID_TYPE. */
typedef struct {
    void* address;
    unsigned char deallocate;
    unsigned char copy;
    unsigned char pad1;
    unsigned char type; /* MACH_MSG_OOL_DESCRIPTOR */
    mach_msg_size_t size;
} mach_msg_ool_descriptor_t;

#define MACH_MSG_OPTION_NONE 0x00000000
#define MACH_SEND_MSG 0x00000001
#define MACH_RCV_MSG 0x00000002
#define MACH_RCV_LARGE 0x00000004
#define MACH_SEND_TIMEOUT 0x00000010
#define MACH_SEND_INTERRUPT 0x00000040
#define MACH_RCV_TIMEOUT 0x00000100
#define MACH_RCV_INTERRUPT 0x00000400
#define MACH_MSG_TIMEOUT_NONE ((mach_msg_timeout_t)0)

#define MACH_MSG_SUCCESS 0x00000000
#define MACH_SEND_INVALID_DATA 0x10000002
#define MACH_SEND_INVALID_DEST 0x10000003
#define MACH_SEND_TIMED_OUT 0x10000004
#define MACH_SEND_INTERRUPTED 0x10000007
#define MACH_SEND_MSG_TOO_SMALL 0x10000008
#define MACH_SEND_INVALID_REPLY 0x10000009
#define MACH_SEND_INVALID_RIGHT 0x1000000a
#define MACH_SEND_NO_BUFFER 0x1000000d
#define MACH_SEND_TOO_LARGE 0x1000000e
#define MACH_SEND_INVALID_TYPE 0x1000000f
#define MACH_SEND_INVALID_HEADER 0x10000010
#define MACH_RCV_INVALID_NAME 0x10004002
#define MACH_RCV_TIMED_OUT 0x10004003
#define MACH_RCV_TOO_LARGE 0x10004004
#define MACH_RCV_INTERRUPTED 0x10004005
#define MACH_RCV_PORT_CHANGED 0x10004006
#define MACH_RCV_IN_SET 0x1000400a
#define MACH_RCV_INVALID_DATA 0x10004008
#define MACH_RCV_PORT_DIED 0x10004009
#define MACH_RCV_HEADER_ERROR 0x1000400b
#define MACH_RCV_BODY_ERROR 0x1000400c
/* With MACH_RCV_HEADER_ERROR / MACH_RCV_BODY_ERROR: the space had no room
 * for a right's name (it was destroyed; its name is MACH_PORT_NULL). */
#define MACH_MSG_IPC_SPACE 0x00002000

/* Send a message (MACH_SEND_MSG: msg->msgh_remote_port the destination,
 * msgh_local_port the reply right, their dispositions in msgh_bits; a
 * complex message's port descriptors carry more rights), receive one into
 * msg from rcv_name (MACH_RCV_MSG: a receive right), or both, the send
 * first.  Timeouts in ms with MACH_*_TIMEOUT (0 polls).  A send to a full
 * port waits; a Linux signal restarts the wait unless MACH_SEND_INTERRUPT /
 * MACH_RCV_INTERRUPT asks for MACH_SEND_INTERRUPTED / MACH_RCV_INTERRUPTED.
 * Messages up to 128 KiB, header included, all inline (out-of-line memory
 * descriptors are MACH_SEND_INVALID_TYPE); a send that fails takes no
 * right.  `notify` must be MACH_PORT_NULL. */
MACHIO_API mach_msg_return_t mach_msg(mach_msg_header_t* msg, mach_msg_option_t option,
                                      mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                      mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                      mach_port_t notify);

/* mach_msg, the message received into rcv_msg (rcv_size bytes at most)
 * instead of msg; rcv_msg NULL: msg.  rcv_limit is MACH_RCV_OVERWRITE's,
 * which machio does not offer (out-of-line data always arrives as fresh
 * memory): it is ignored. */
MACHIO_API mach_msg_return_t mach_msg_overwrite(mach_msg_header_t* msg, mach_msg_option_t option,
                                                mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                                mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                                mach_port_t notify, mach_msg_header_t* rcv_msg,
                                                mach_msg_size_t rcv_limit);

/* ---- Notifications (mach/notify.h) ---- */

#define MACH_NOTIFY_FIRST 0100
#define MACH_NOTIFY_PORT_DELETED (MACH_NOTIFY_FIRST + 001)
#define MACH_NOTIFY_PORT_DESTROYED (MACH_NOTIFY_FIRST + 005)
#define MACH_NOTIFY_NO_SENDERS (MACH_NOTIFY_FIRST + 006)
#define MACH_NOTIFY_SEND_ONCE (MACH_NOTIFY_FIRST + 007)
#define MACH_NOTIFY_DEAD_NAME (MACH_NOTIFY_FIRST + 010)
#define MACH_NOTIFY_LAST (MACH_NOTIFY_FIRST + 015)

typedef unsigned int mach_port_mscount_t;
typedef mach_port_t mach_port_send_once_t;

/* MIG's NDR record, as the kernel fills it: little-endian integers. */
typedef struct {
    unsigned char mig_vers, if_vers, reserved1, mig_encoding;
    unsigned char int_rep, char_rep, float_rep, reserved2;
} NDR_record_t;

/* The trailer OSF's receive buffers leave room for; machio sends none
 * (msgh_size never counts it). */
typedef struct {
    unsigned int msgh_trailer_type, msgh_trailer_size;
    mach_port_seqno_t msgh_seqno;
    unsigned int msgh_sender[2];
} mach_msg_format_0_trailer_t;

typedef struct {
    mach_msg_header_t not_header;
    NDR_record_t NDR;
    mach_port_t not_port;
    mach_msg_format_0_trailer_t trailer;
} mach_port_deleted_notification_t;

typedef struct {
    mach_msg_header_t not_header;
    NDR_record_t NDR;
    mach_msg_type_number_t not_count;
    mach_msg_format_0_trailer_t trailer;
} mach_no_senders_notification_t;

typedef struct {
    mach_msg_header_t not_header;
    mach_msg_format_0_trailer_t trailer;
} mach_send_once_notification_t;

typedef struct {
    mach_msg_header_t not_header;
    NDR_record_t NDR;
    mach_port_t not_port;
    mach_msg_format_0_trailer_t trailer;
} mach_dead_name_notification_t;

/* Register (or, with notify MACH_PORT_NULL, cancel) a notification to the
 * send-once right `notify` (notify_type MACH_MSG_TYPE_MAKE_SEND_ONCE from a
 * receive right, or MACH_MSG_TYPE_MOVE_SEND_ONCE), returning the one
 * registered before in *previous (a send-once right, or MACH_PORT_NULL).
 * MACH_NOTIFY_NO_SENDERS: `name` a receive right; sent when its last send
 * right goes, with the make-send count, or at once if it has none and its
 * make-send count is at least `sync`.  MACH_NOTIFY_DEAD_NAME: `name` a send,
 * send-once or receive right; when its port dies the name becomes a dead
 * name with one more user reference and the notification carries it (a
 * dead name with `sync` non-zero: at once); if the name goes first, a
 * MACH_NOTIFY_PORT_DELETED notification instead.  Send-once notifications
 * need no request: every send-once right destroyed unused sends one to its
 * port.  KERN_INVALID_VALUE (another variant, a bad notify_type),
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_CAPABILITY (notify),
 * KERN_UREFS_OVERFLOW, KERN_RESOURCE_SHORTAGE. */
MACHIO_API kern_return_t mach_port_request_notification(ipc_space_t task, mach_port_name_t name,
                                                        mach_msg_id_t variant,
                                                        mach_port_mscount_t sync,
                                                        mach_port_send_once_t notify,
                                                        mach_msg_type_name_t notify_type,
                                                        mach_port_send_once_t* previous);

/* ---- The name service (Mach 3's netname server, kept by the module) ---- */

typedef char netname_name_t[80];

#define NETNAME_SUCCESS 0
#define NETNAME_PENDING (-1)
#define NETNAME_NOT_YOURS 1000
#define NETNAME_NOT_CHECKED_IN 1001
#define NETNAME_NO_SUCH_HOST 1002
#define NETNAME_HOST_NOT_FOUND 1003
#define NETNAME_INVALID_PORT 1004

/* A send right to the name service: every space's third name, so it is
 * valid in the process space from the start (and after
 * machio_space_reset()), as Mach 3's libmach set it up at mach_init(). */
MACHIO_API extern mach_port_t name_server_port;

/* Check in a send right to `port_id` (a receive right: the service makes
 * the send right) under `port_name`, for the caller's user only.
 * `signature` (a send right, or MACH_PORT_NULL) must be given again to
 * replace or check out the name: another is NETNAME_NOT_YOURS.  At most
 * /sys/module/machio/parameters/max_netnames names per user
 * (KERN_RESOURCE_SHORTAGE past it); a name goes when its port dies.
 * MACH_SEND_INVALID_DEST if server_port is not name_server_port,
 * MACH_SEND_INVALID_RIGHT for a right the caller does not hold,
 * NETNAME_INVALID_PORT for a null port.  Names are the first 80 bytes, to
 * the first NUL. */
MACHIO_API kern_return_t netname_check_in(mach_port_t server_port, const char* port_name,
                                          mach_port_t signature, mach_port_t port_id);
/* The same with a send right the caller holds, copied. */
MACHIO_API kern_return_t netname_register_send_right(mach_port_t server_port, const char* port_name,
                                                     mach_port_t signature, mach_port_t port_id);
/* A send right to what `port_name` names, in *port_id (under the port's
 * name in this space if it has one).  `host_name` "" is this machine
 * (another is NETNAME_NO_SUCH_HOST).  A name nobody checked in, or another
 * user checked in, is KERN_INVALID_NAME: no answer tells that another
 * user's name exists.  root finds every user's names, its own first. */
MACHIO_API kern_return_t netname_look_up(mach_port_t server_port, const char* host_name,
                                         const char* port_name, mach_port_t* port_id);
/* Remove the caller's user's `port_name`: NETNAME_NOT_YOURS without its
 * signature, KERN_INVALID_NAME if there is none. */
MACHIO_API kern_return_t netname_check_out(mach_port_t server_port, const char* port_name,
                                           mach_port_t signature);

/* ---- Memory ---- */

/* Unmap [trunc_page(address), round_page(address + size)) from the caller,
 * e.g. the data of a device_read_async completion.  KERN_INVALID_ARGUMENT if
 * task is not mach_task_self() or the range wraps. */
MACHIO_API kern_return_t vm_deallocate(mach_port_t task, vm_address_t address, vm_size_t size);

/* ---- Devices ---- */

/* Open a block device.  name: a path ("/dev/nullb0") or a name under /dev
 * ("nullb0"), at most 127 characters.  mode: D_READ and/or D_WRITE (none
 * means D_READ), D_NODELAY and D_NOWAIT accepted.  Errors:
 * KERN_INVALID_ARGUMENT (master_port is not mach_host_self(), null pointer,
 * unknown mode bits), D_NO_SUCH_DEVICE (no such block device), D_READ_ONLY
 * (write access refused), KERN_NO_ACCESS (read access refused),
 * D_ALREADY_OPEN, KERN_RESOURCE_SHORTAGE. */
MACHIO_API kern_return_t device_open(mach_port_t master_port, dev_mode_t mode, const char* name,
                                     mach_port_t* device);
/* Release the device name.  In-flight I/O still completes on its queue. */
MACHIO_API kern_return_t device_close(mach_port_t device);
/* DEV_GET_SIZE: status[DEV_GET_SIZE_DEVICE_SIZE] = size in bytes (INT_MAX if
 * larger), status[DEV_GET_SIZE_RECORD_SIZE] = logical block size.
 * MDIOCGETL: status[0] = the in-progress limit (device_set_status).
 * *status_count: in, capacity in ints (>= the flavor's count, else
 * D_INVALID_SIZE); out, ints returned.  Other flavors: D_INVALID_OPERATION. */
MACHIO_API kern_return_t device_get_status(mach_port_t device, dev_flavor_t flavor,
                                           dev_status_t status,
                                           mach_msg_type_number_t* status_count);
/* MDIOCSETL: status[0] = how many machio requests the device's disk takes
 * at once, from every process (0..IO_IN_PROGRESS_MAX; 0, the default: no
 * limit -- OSF's default of 10 would throttle every disk).  Requests
 * beyond it wait, the highest priority first (Mach requests have priority
 * 0), each gaining a level per request dispatched while it waits.  The
 * limit lasts while any machio device port is open on the disk.  Errors:
 * D_INVALID_SIZE (status_count < 1), D_INVALID_OPERATION (other flavors,
 * a value out of range), D_READ_ONLY (the device is not open for
 * writing), D_NO_SUCH_DEVICE.  MDIOCGETL, through device_get_status, reads
 * the limit back (one int). */
MACHIO_API kern_return_t device_set_status(mach_port_t device, dev_flavor_t flavor,
                                           dev_status_t status,
                                           mach_msg_type_number_t status_count);

/* ---- io_done_queue ---- */

MACHIO_API kern_return_t io_done_queue_create(mach_port_t host, mach_port_t* queue);
/* Blocks until one completion is available and stores it in *result.
 * KERN_TERMINATED (queue terminated, also while waiting), KERN_ABORTED
 * (signal), KERN_INVALID_ARGUMENT (bad queue name or bad result pointer). */
MACHIO_API kern_return_t io_done_queue_wait(mach_port_t queue, io_done_result_t* result);
/* Wakes every waiter (KERN_TERMINATED), waits for the queue's outstanding
 * I/O and discards its completions.  The name becomes a dead name. */
MACHIO_API kern_return_t io_done_queue_terminate(mach_port_t queue);

/* ---- Asynchronous device I/O: only argument errors are returned here; the
 * device outcome arrives in qd_code.  recnum counts logical blocks. ---- */

MACHIO_API kern_return_t device_read_async(mach_port_t device, mach_port_t queue,
                                           mach_port_t request_id, dev_mode_t mode, recnum_t recnum,
                                           io_buf_len_t bytes_wanted);
MACHIO_API kern_return_t device_read_async_inband(mach_port_t device, mach_port_t queue,
                                                  mach_port_t request_id, dev_mode_t mode,
                                                  recnum_t recnum, io_buf_len_t bytes_wanted);
MACHIO_API kern_return_t device_read_overwrite_async(mach_port_t device, mach_port_t queue,
                                                     mach_port_t request_id, dev_mode_t mode,
                                                     recnum_t recnum, io_buf_len_t bytes_wanted,
                                                     io_buf_ptr_t buffer);
/* queue may be MACH_PORT_NULL: the completion is discarded. */
MACHIO_API kern_return_t device_write_async(mach_port_t device, mach_port_t queue,
                                            mach_port_t request_id, dev_mode_t mode,
                                            recnum_t recnum, io_buf_ptr_t data,
                                            mach_msg_type_number_t data_count);
MACHIO_API kern_return_t device_write_async_inband(mach_port_t device, mach_port_t queue,
                                                   mach_port_t request_id, dev_mode_t mode,
                                                   recnum_t recnum, io_buf_ptr_t data,
                                                   mach_msg_type_number_t data_count);

/* ---- Device requests answered by message (device_request.defs) ---- */

/* Each sends the request and returns at once: MACH_MSG_SUCCESS, or the
 * send's error (MACH_SEND_INVALID_DEST: not a device; MACH_SEND_INVALID_REPLY:
 * reply_port is not a receive right of this space; MACH_SEND_INVALID_DATA: a
 * buffer that cannot be read; MACH_SEND_NO_BUFFER: no memory, or past a
 * bound).  The outcome, D_* codes included, comes as a reply message in
 * device_reply.defs's format on reply_port (a send-once right made from it),
 * which device_reply_server() hands to the ds_device_*_reply functions below.
 * device_write_request's data is not copied: leave it untouched until the
 * reply.  device_read_request's data is fresh memory of this process; the
 * reply carries its address (vm_deallocate it), and a reply received by
 * another process has no data (MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE). */
MACHIO_API kern_return_t device_read_request(mach_port_t device, mach_port_t reply_port,
                                             dev_mode_t mode, recnum_t recnum,
                                             io_buf_len_t bytes_wanted);
MACHIO_API kern_return_t device_read_request_inband(mach_port_t device, mach_port_t reply_port,
                                                    dev_mode_t mode, recnum_t recnum,
                                                    io_buf_len_t bytes_wanted);
MACHIO_API kern_return_t device_read_overwrite_request(mach_port_t device, mach_port_t reply_port,
                                                       dev_mode_t mode, recnum_t recnum,
                                                       io_buf_len_t bytes_wanted,
                                                       vm_address_t data);
MACHIO_API kern_return_t device_write_request(mach_port_t device, mach_port_t reply_port,
                                              dev_mode_t mode, recnum_t recnum, io_buf_ptr_t data,
                                              mach_msg_type_number_t data_count);
MACHIO_API kern_return_t device_write_request_inband(mach_port_t device, mach_port_t reply_port,
                                                     dev_mode_t mode, recnum_t recnum,
                                                     io_buf_ptr_t data,
                                                     mach_msg_type_number_t data_count);

/* The synchronous calls (device.defs), on the same path: the request, then
 * its reply on a reply port of the calling thread, in one system call.  They return the
 * device's code (D_*), or the send's or receive's error. */
MACHIO_API kern_return_t device_read(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                     io_buf_len_t bytes_wanted, io_buf_ptr_t* data,
                                     mach_msg_type_number_t* data_count);
MACHIO_API kern_return_t device_read_inband(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                            io_buf_len_t bytes_wanted, io_buf_ptr_inband_t data,
                                            mach_msg_type_number_t* data_count);
MACHIO_API kern_return_t device_read_overwrite(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                               io_buf_len_t bytes_wanted, vm_address_t data,
                                               mach_msg_type_number_t* data_count);
MACHIO_API kern_return_t device_write(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                      io_buf_ptr_t data, mach_msg_type_number_t data_count,
                                      io_buf_len_t* bytes_written);
MACHIO_API kern_return_t device_write_inband(mach_port_t device, dev_mode_t mode, recnum_t recnum,
                                             io_buf_ptr_t data, mach_msg_type_number_t data_count,
                                             io_buf_len_t* bytes_written);

/* MIG's reply to a request it could not serve, and its codes. */
typedef struct {
    mach_msg_header_t Head;
    NDR_record_t NDR;
    kern_return_t RetCode;
} mig_reply_error_t;
#define MIG_BAD_ID (-303)   /* no such routine */
#define MIG_NO_REPLY (-305) /* a simpleroutine: nothing to send back */

/* device_reply.defs's message ids. */
#define DEVICE_WRITE_REPLY_ID 2902
#define DEVICE_WRITE_REPLY_INBAND_ID 2903
#define DEVICE_READ_REPLY_ID 2904
#define DEVICE_READ_REPLY_INBAND_ID 2905
#define DEVICE_READ_REPLY_OVERWRITE_ID 2913

/* Hand the device reply `in` to the program's ds_device_*_reply function for
 * its id (reply_port: the port it came in on), as OSF's MIG-generated server
 * does: TRUE, with `out` a mig_reply_error_t saying MIG_NO_REPLY; FALSE for
 * another id, or one whose handler the program does not define (MIG_BAD_ID).
 * `out` needs room for a mig_reply_error_t. */
MACHIO_API boolean_t device_reply_server(mach_msg_header_t* in, mach_msg_header_t* out);

/* The handlers a program defines (any of them) for device_reply_server(). */
kern_return_t ds_device_write_reply(mach_port_t reply_port, kern_return_t return_code,
                                    io_buf_len_t bytes_written);
kern_return_t ds_device_write_reply_inband(mach_port_t reply_port, kern_return_t return_code,
                                           io_buf_len_t bytes_written);
kern_return_t ds_device_read_reply(mach_port_t reply_port, kern_return_t return_code,
                                   io_buf_ptr_t data, mach_msg_type_number_t data_count);
kern_return_t ds_device_read_reply_inband(mach_port_t reply_port, kern_return_t return_code,
                                          io_buf_ptr_t data, mach_msg_type_number_t data_count);
kern_return_t ds_device_read_reply_overwrite(mach_port_t reply_port, kern_return_t return_code,
                                             io_buf_len_t bytes_read);

/* ---- Errors ---- */

/* Readable text for any KERN_* or D_* code; never NULL. */
MACHIO_API const char* mach_error_string(kern_return_t error_value);

/* ---- machio extensions ---- */

/* The descriptor of the process's /dev/machio space (opening it if needed),
 * or -1 with errno set.  Do not close it.  After machio_space_reset() the
 * number stays open but names an empty space. */
MACHIO_API int machio_fd(void);
/* Replace the process's space by a fresh private one (see fork() above);
 * thread-safe.  KERN_SUCCESS, or KERN_FAILURE (nothing changed) if
 * /dev/machio cannot be opened. */
MACHIO_API kern_return_t machio_space_reset(void);
/* The 64-bit device size in bytes and, if block_size is not NULL, the
 * logical block size. */
MACHIO_API kern_return_t machio_device_size(mach_port_t device, uint64_t* size,
                                            unsigned int* block_size);
/* device_open() for a block-device descriptor the caller already holds.
 * The device keeps its own reference to the open file: the caller still
 * owns fd and may close it at any time.  D_WRITE needs a writable fd. */
MACHIO_API kern_return_t machio_device_open_fd(mach_port_t master_port, int fd, dev_mode_t mode,
                                               mach_port_t* device);

/* Submit count requests (struct machio_io_request of <uapi/linux/machio.h>:
 * op MACHIO_OP_*, device, queue, reqid, mode, recnum, count, buffer, the
 * rest zero) of the process's space in one system call, in order.  As
 * io_submit(2): *accepted is how many were taken; the first refused request
 * ends the batch, and its error is returned only when it is the first
 * (then *accepted is 0).  At most MACHIO_SUBMIT_BATCH_MAX per call. */
MACHIO_API kern_return_t machio_submit_batch(const struct machio_io_request* requests,
                                             unsigned int count, unsigned int* accepted);

/* ---- machio extensions: queue options, batched reaping, event loops ----
 *
 * io_done_queue_create gives every queue a completion ring of
 * $MACHIO_RING_ENTRIES slots (a power of two up to 65536; default 4096; 0
 * for none) that the module writes completions into and io_done_queue_wait
 * takes them from without a system call.  A ring queue takes no request
 * whose completion the ring could not hold: such a request is refused with
 * KERN_RESOURCE_SHORTAGE, so at most that many requests are outstanding
 * (in flight or unreaped) on one queue; an inband read counts as five. */

typedef struct machio_queue_options {
    unsigned int ring_entries; /* ring slots, a power of two up to 65536; 0: no ring */
    int eventfd;               /* an eventfd signalled per completion; -1: none */
    unsigned int flags;        /* MACHIO_QUEUE_POLLED or 0 */
} machio_queue_options_t;

/* io_done_queue_create with options.  Every queue made so also has a file
 * for event loops (machio_io_done_queue_fd).  A polled queue
 * (MACHIO_QUEUE_POLLED) completes I/O when io_done_queue_wait or
 * machio_io_done_queue_reap polls the device for it, as io_uring's
 * IORING_SETUP_IOPOLL; it takes device_read_overwrite_async,
 * device_write_async and fixed requests on devices with poll queues, and
 * refuses anything else with KERN_INVALID_ARGUMENT. */
MACHIO_API kern_return_t machio_io_done_queue_create_with(mach_port_t host,
                                                          const machio_queue_options_t* options,
                                                          mach_port_t* queue);
/* The queue's file: readable (poll, epoll) while completions are waiting
 * and once the queue is terminated.  Owned by the library until the name
 * is deallocated; do not close it.  -1 (errno ENOENT) for a queue without
 * one. */
MACHIO_API int machio_io_done_queue_fd(mach_port_t queue);
/* How many completions wait in the queue's ring, read without a system
 * call (a snapshot: other threads may take them); -1 (errno ENOENT) for a
 * queue without a ring. */
MACHIO_API int machio_io_done_queue_ready(mach_port_t queue);
/* Take between min and max slots' worth of completions, oldest first, into
 * completions[max] (struct machio_cqe of <uapi/linux/machio.h>: 32 bytes;
 * a successful inband read, flags MACHIO_CQE_INBAND, takes 1 + its bytes
 * in the following slots: step with machio_cqe_next()).  Waits at most
 * timeout_ns (< 0: no limit) for min; *count is how many were taken,
 * fewer than min only after the timeout.  KERN_TERMINATED,
 * KERN_ABORTED (signal, nothing taken), KERN_INVALID_ARGUMENT (bad
 * arguments, or max too small for the oldest completion). */
MACHIO_API kern_return_t machio_io_done_queue_reap(mach_port_t queue, unsigned int min,
                                                   unsigned int max, struct machio_cqe* completions,
                                                   long long timeout_ns, unsigned int* count);

static inline const struct machio_cqe* machio_cqe_next(const struct machio_cqe* c) {
    return c + (c->slots ? c->slots : 1);
}

/* Register [addr, addr + len) (at most 1 GiB) as a buffer: its pages are
 * pinned once, charged to RLIMIT_MEMLOCK (KERN_RESOURCE_SHORTAGE past it),
 * and requests MACHIO_OP_READ_FIXED / MACHIO_OP_WRITE_FIXED of
 * machio_submit_batch() name it in .fixed with an offset in .buffer and
 * pin nothing.  KERN_INVALID_ADDRESS for memory that is not writable.
 * mach_port_deallocate(mach_task_self(), buffer) releases it, waiting
 * until no I/O uses it. */
MACHIO_API kern_return_t machio_buffer_register(void* addr, size_t len, mach_port_t* buffer);

typedef struct machio_info {
    unsigned int abi_version;   /* MACHIO_ABI_VERSION of the module */
    unsigned int io_inband_max; /* IO_INBAND_MAX */
    uint64_t features;          /* MACHIO_FEAT_* */
    unsigned int max_names;     /* names one space may hold */
    mach_port_t host;           /* mach_host_self() */
    mach_port_t task;           /* mach_task_self() */
} machio_info_t;

/* What the module reported for the process's space. */
MACHIO_API kern_return_t machio_get_info(machio_info_t* info);

#ifdef __cplusplus
}
#endif

#endif /* MACHIO_MACH_H */
