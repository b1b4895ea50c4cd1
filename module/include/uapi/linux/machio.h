/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * machio user ABI: Mach io_done_queue style asynchronous block I/O.
 *
 * Every ioctl argument is a fixed-size structure of fixed-width fields,
 * pointers travel as __u64, padding is explicit, and every reserved field
 * must be zero (the module answers -EINVAL otherwise) so that later ABI
 * versions can give them a meaning.
 *
 * Errors are negative errnos; the library maps them to Mach codes:
 *   EINVAL    -> KERN_INVALID_ARGUMENT   (bad name, bad host, bad field)
 *   ENOSPC    -> KERN_RESOURCE_SHORTAGE  (name space full)
 *   ENOMEM    -> KERN_RESOURCE_SHORTAGE  (also: the memory cgroup is full)
 *   EAGAIN    -> KERN_RESOURCE_SHORTAGE  (a request or pin bound reached)
 *   ESHUTDOWN -> KERN_TERMINATED         (queue terminated / stale name)
 *   EINTR     -> KERN_ABORTED            (signal during a wait)
 *   EFAULT    -> KERN_INVALID_ADDRESS    (KERN_INVALID_ARGUMENT for a wait)
 * Device outcomes of asynchronous requests never come back from the ioctl:
 * they arrive in machio_io_done_result.qd_code.
 */
#ifndef _UAPI_LINUX_MACHIO_H
#define _UAPI_LINUX_MACHIO_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MACHIO_ABI_VERSION	1

/* Feature bits reported by MACHIO_IOC_QUERY. */
#define MACHIO_FEAT_IO_DONE_QUEUE	(1ULL << 0)	/* queues + async I/O */
#define MACHIO_FEAT_OOL_READ		(1ULL << 1)	/* device_read_async */
#define MACHIO_FEAT_INBAND		(1ULL << 2)	/* *_inband variants */
#define MACHIO_FEAT_NOWAIT		(1ULL << 3)	/* D_NOWAIT honoured */
#define MACHIO_FEAT_LIMITS		(1ULL << 4)	/* query reports bounds */
#define MACHIO_FEAT_SUBMIT_BATCH	(1ULL << 5)	/* MACHIO_IOC_SUBMIT_BATCH */
#define MACHIO_FEAT_QUEUE_SETUP		(1ULL << 6)	/* rings, queue files, eventfd */
#define MACHIO_FEAT_REAP		(1ULL << 7)	/* MACHIO_IOC_QUEUE_REAP */
#define MACHIO_FEAT_FIXED_BUFFERS	(1ULL << 8)	/* registered buffers, *_FIXED */
#define MACHIO_FEAT_POLLED		(1ULL << 9)	/* MACHIO_QUEUE_POLLED */
#define MACHIO_FEAT_DISPATCH		(1ULL << 10)	/* DEVICE_LIMIT, request priority */
#define MACHIO_FEAT_PF_SIGNALS		(1ULL << 11)	/* Portfolio tasks and signals */
#define MACHIO_FEAT_PF_IO		(1ULL << 12)	/* Portfolio items, IOReqs, ports */
#define MACHIO_FEAT_PORTS		(1ULL << 13)	/* Mach port rights */
#define MACHIO_FEAT_NETNAME		(1ULL << 14)	/* the name service */
#define MACHIO_FEAT_DEVICE_RPC		(1ULL << 15)	/* MACHIO_DEVREQ_RECEIVE */
#define MACHIO_FEAT_MSG_OVERWRITE	(1ULL << 16)	/* machio_msg.rcv_msg */

/* Mach port names: index << 8 | generation; never 0 nor ~0. */
#define MACHIO_PORT_NULL	0U
#define MACHIO_PORT_DEAD	0xffffffffU

/* Mach kern_return_t values the module produces (mach/kern_return.h). */
#define MACHIO_KERN_SUCCESS		0
#define MACHIO_KERN_INVALID_ADDRESS	1
#define MACHIO_KERN_INVALID_ARGUMENT	4
#define MACHIO_KERN_RESOURCE_SHORTAGE	6
#define MACHIO_KERN_ABORTED		14
#define MACHIO_KERN_TERMINATED		37
/* And those of the port calls. */
#define MACHIO_KERN_NO_SPACE		3
#define MACHIO_KERN_FAILURE		5
#define MACHIO_KERN_NOT_IN_SET		12
#define MACHIO_KERN_NAME_EXISTS		13
#define MACHIO_KERN_INVALID_NAME	15
#define MACHIO_KERN_INVALID_TASK	16
#define MACHIO_KERN_INVALID_RIGHT	17
#define MACHIO_KERN_INVALID_VALUE	18
#define MACHIO_KERN_UREFS_OVERFLOW	19
#define MACHIO_KERN_INVALID_CAPABILITY	20
#define MACHIO_KERN_RIGHT_EXISTS	21

/* Mach device return codes (device/device_types.h). */
#define MACHIO_D_SUCCESS		0
#define MACHIO_D_IO_ERROR		2500
#define MACHIO_D_WOULD_BLOCK		2501
#define MACHIO_D_NO_SUCH_DEVICE		2502
#define MACHIO_D_ALREADY_OPEN		2503
#define MACHIO_D_DEVICE_DOWN		2504
#define MACHIO_D_INVALID_OPERATION	2505
#define MACHIO_D_INVALID_RECNUM		2506
#define MACHIO_D_INVALID_SIZE		2507
#define MACHIO_D_NO_MEMORY		2508
#define MACHIO_D_READ_ONLY		2509

/* dev_mode_t bits. */
#define MACHIO_D_READ		0x1
#define MACHIO_D_WRITE		0x2
#define MACHIO_D_NODELAY	0x4
#define MACHIO_D_NOWAIT		0x8

/* qd_type values. */
#define MACHIO_IO_DONE_READ		1
#define MACHIO_IO_DONE_WRITE		2
#define MACHIO_IO_DONE_OVERWRITE	3

#define MACHIO_IO_INBAND_MAX	128

/*
 * MACHIO_IOC_QUERY: ABI version, features, the names of the host and
 * task ports of the caller's name space, and its bounds and usage
 * (MACHIO_FEAT_LIMITS).  All input fields must be zero.
 */
struct machio_query {
	__u32 abi_version;	/* out */
	__u32 io_inband_max;	/* out */
	__u64 features;		/* out: MACHIO_FEAT_* */
	__u32 host_name;	/* out: mach_host_self() */
	__u32 task_name;	/* out: mach_task_self() */
	__u32 max_names;	/* out: name space limit */
	__u32 name_server;	/* out: the name service's name (MACHIO_FEAT_NETNAME) */
	__u32 max_requests;	/* out: requests not yet freed, at most */
	__u32 nr_requests;	/* out: requests in flight or unreaped now */
	__u32 max_pinned_pages;	/* out: user pages pinned at once, at most */
	__u32 nr_pinned_pages;	/* out: user pages pinned now */
	__u32 max_ring_slots;	/* out: completion ring slots, all queues */
	__u32 nr_ring_slots;	/* out: completion ring slots now */
	__u32 nr_pooled;	/* out: freed requests its queues keep for reuse */
	__u32 pad2;		/* must be zero */
};

/* MACHIO_IOC_QUEUE_CREATE: io_done_queue_create(host, &queue). */
struct machio_queue_create {
	__u32 host;		/* in: host name */
	__u32 queue;		/* out: queue name */
	__u64 reserved[2];	/* must be zero */
};

/* MACHIO_IOC_QUEUE_TERMINATE: io_done_queue_terminate(queue). */
struct machio_queue_terminate {
	__u32 queue;
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * Completion record, laid out exactly like the 64-bit io_done_result_t of
 * <machio/mach.h> so that the module can write into the caller's structure.
 */
struct machio_io_done_result {
	__s32 qd_type;		/* MACHIO_IO_DONE_* */
	__u32 qd_reqid;		/* request id, bit for bit */
	__s32 qd_code;		/* KERN_* or D_* */
	__u32 qd_pad0;		/* written as zero */
	__u64 qd_data;		/* user address of the data (reads) */
	__s32 qd_count;		/* bytes transferred */
	__u32 qd_pad1;		/* written as zero */
	__u8 qd_inline[MACHIO_IO_INBAND_MAX];
};

/* MACHIO_IOC_QUEUE_WAIT: io_done_queue_wait(queue, result). */
struct machio_queue_wait {
	__u32 queue;
	__u32 flags;		/* must be zero */
	__u64 result;		/* user pointer to machio_io_done_result */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_DEVICE_OPEN: make a device port from a block-device fd the
 * caller already holds.  The port never allows more than the fd's mode.
 */
struct machio_device_open {
	__s32 fd;		/* in: open block device */
	__u32 mode;		/* in: MACHIO_D_READ | MACHIO_D_WRITE */
	__u32 device;		/* out: device name */
	__u32 block_size;	/* out: logical block size in bytes */
	__u64 size;		/* out: device size in bytes */
	__u64 reserved[2];	/* must be zero */
};

/* MACHIO_IOC_DEVICE_STATUS: device_get_status(DEV_GET_SIZE). */
struct machio_device_status {
	__u32 device;		/* in */
	__u32 block_size;	/* out */
	__u64 size;		/* out: current size in bytes */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_DEVICE_LIMIT: device_get_status(MDIOCGETL) and, with
 * MACHIO_LIMIT_SET, device_set_status(MDIOCSETL): how many machio
 * requests the device's disk takes at once, from every user; 0 (the
 * default) for no limit.  Beyond it requests wait, by priority.  Setting
 * needs a device opened for writing (EPERM).
 */
struct machio_device_limit {
	__u32 device;		/* in */
	__u32 flags;		/* in: MACHIO_LIMIT_SET or 0 */
	__u32 limit;		/* in with MACHIO_LIMIT_SET: 0..255; out: the limit now */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_LIMIT_SET	(1U << 0)
#define MACHIO_LIMIT_MAX	255	/* OSF's IO_IN_PROGRESS_MAX */

/* MACHIO_IOC_PORT_DEALLOCATE: drop a name (device, queue or dead name). */
struct machio_port_deallocate {
	__u32 name;
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/* Operations of MACHIO_IOC_SUBMIT, one per Mach call. */
#define MACHIO_OP_READ			1	/* device_read_async */
#define MACHIO_OP_READ_INBAND		2	/* device_read_async_inband */
#define MACHIO_OP_READ_OVERWRITE	3	/* device_read_overwrite_async */
#define MACHIO_OP_WRITE			4	/* device_write_async */
#define MACHIO_OP_WRITE_INBAND		5	/* device_write_async_inband */
#define MACHIO_OP_READ_FIXED		6	/* overwrite read into a registered buffer */
#define MACHIO_OP_WRITE_FIXED		7	/* write from a registered buffer */

/* MACHIO_IOC_SUBMIT: one asynchronous request. */
struct machio_io_request {
	__u32 op;		/* MACHIO_OP_* */
	__u32 device;		/* device name */
	__u32 queue;		/* queue name; MACHIO_PORT_NULL allowed for writes */
	__u32 reqid;		/* echoed in qd_reqid */
	__u32 mode;		/* MACHIO_D_NOWAIT or 0 */
	__u32 recnum;		/* first logical block */
	__s32 count;		/* bytes */
	__u32 fixed;		/* *_FIXED: a registered buffer's name; else zero */
	__u64 buffer;		/* user pointer (overwrite, write, inband write); *_FIXED: offset in it */
	__u32 priority;		/* 0..255, higher first where the device has a limit */
	__u32 pad;		/* must be zero */
	__u64 reserved[1];	/* must be zero */
};

/* The highest request priority (Portfolio's uint8 item priority). */
#define MACHIO_PRIORITY_MAX	255

/*
 * MACHIO_IOC_BUFFER_REGISTER: pin [addr, addr + len) once (at most 1 GiB;
 * charged to RLIMIT_MEMLOCK) and name it; requests MACHIO_OP_*_FIXED then
 * name it in @fixed with an offset in @buffer and pin nothing.  Released
 * with MACHIO_IOC_PORT_DEALLOCATE, which waits until no I/O uses it.
 */
struct machio_buffer_register {
	__u64 addr;		/* in */
	__u64 len;		/* in: bytes */
	__u32 name;		/* out */
	__u32 flags;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/* Most requests one MACHIO_IOC_SUBMIT_BATCH takes. */
#define MACHIO_SUBMIT_BATCH_MAX	4096

/*
 * MACHIO_IOC_SUBMIT_BATCH: @nr requests in one call, submitted in order
 * under one block-layer plug.  The ioctl returns how many were accepted;
 * the first refused one ends the batch, and its error is returned only if
 * it is the first of the batch (as io_submit(2) does).  @nr 0 returns 0.
 */
struct machio_submit_batch {
	__u64 requests;		/* user pointer to struct machio_io_request[@nr] */
	__u32 nr;		/* 0 .. MACHIO_SUBMIT_BATCH_MAX */
	__u32 flags;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * One completion in 32 bytes: a slot of a completion ring, or a record of
 * MACHIO_IOC_QUEUE_REAP.  A successful inband read (MACHIO_CQE_INBAND)
 * is followed by its @count bytes in the next @slots - 1 slots; every
 * other completion is one slot.
 */
struct machio_cqe {
	__u32 reqid;		/* request id, bit for bit */
	__s32 code;		/* KERN_* or D_* */
	__s32 count;		/* bytes transferred */
	__u16 type;		/* MACHIO_IO_DONE_* */
	__u16 slots;		/* slots this completion takes, 1 .. MACHIO_CQE_MAX_SLOTS */
	__u64 data;		/* user address of the data (out-of-line, overwrite reads) */
	__u32 flags;		/* MACHIO_CQE_* */
	__u32 reserved;		/* written as zero */
};

#define MACHIO_CQE_INBAND	(1U << 0)	/* an inband read: bytes in the next slots */

#define MACHIO_CQE_SIZE		32
#define MACHIO_CQE_MAX_SLOTS	(1 + MACHIO_IO_INBAND_MAX / MACHIO_CQE_SIZE)

/*
 * The header of a completion ring, at offset 0 of the queue file's
 * mapping; slot i is at cqes_offset + (i & (entries - 1)) * 32.  @head and
 * @tail each hold a slot index in their low 32 bits and a completion count
 * in their high 32 bits, so that one compare-and-swap of @head takes a
 * whole completion, and (tail >> 32) - (head >> 32) completions are
 * waiting.  The kernel writes slots and then @tail (release); consumers
 * read @tail (acquire), copy the completion at @head, and take it with a
 * compare-and-swap of @head.  The kernel never trusts what it reads here.
 */
struct machio_ring_header {
	__u64 head;		/* consumers */
	__u64 pad0[7];		/* head alone on its cache line */
	__u64 tail;		/* the kernel */
	__u32 flags;		/* MACHIO_RING_* (the kernel) */
	__u32 entries;		/* slots, a power of two */
	__u64 pad1[6];
};

#define MACHIO_RING_DEAD	(1U << 0)	/* the queue is terminated */

/* MACHIO_IOC_QUEUE_SETUP flags. */
#define MACHIO_QUEUE_RING	(1U << 0)	/* a completion ring of @ring_entries */
#define MACHIO_QUEUE_EVENTFD	(1U << 1)	/* signal @eventfd per completion */
/*
 * A polled queue: its I/O goes to the devices' poll queues (REQ_POLLED,
 * REQ_NOWAIT: past the poll queue's depth a request completes
 * D_WOULD_BLOCK) and completes only when a waiter polls for it, in
 * MACHIO_IOC_QUEUE_WAIT/REAP, as io_uring's IORING_SETUP_IOPOLL does.  It
 * takes overwrite reads and writes (plain and *_FIXED) on devices with
 * poll queues; anything else is refused with -EOPNOTSUPP.
 */
#define MACHIO_QUEUE_POLLED	(1U << 2)

#define MACHIO_RING_MAX_ENTRIES	65536

/*
 * MACHIO_IOC_QUEUE_SETUP: io_done_queue_create with options, returning
 * the queue's name and a file of its own (O_CLOEXEC): readable (poll,
 * epoll) while completions are waiting or once the queue is terminated,
 * and, for a ring, mapped with mmap(@ring_size, MAP_SHARED, offset 0).
 * A queue with a ring takes no request whose completion the ring could
 * not hold (-EAGAIN).
 */
struct machio_queue_setup {
	__u32 host;		/* in: host name */
	__u32 flags;		/* in: MACHIO_QUEUE_* */
	__u32 ring_entries;	/* in: ring slots, a power of two up to 65536 */
	__s32 eventfd;		/* in: with MACHIO_QUEUE_EVENTFD */
	__u32 queue;		/* out: the queue's name */
	__s32 fd;		/* out: the queue's file */
	__u64 ring_size;	/* out: bytes to map (0 without a ring) */
	__u32 cqes_offset;	/* out: offset of slot 0 in the mapping */
	__u32 pad;		/* must be zero */
	__u64 reserved[4];	/* must be zero */
};

/* MACHIO_IOC_QUEUE_REAP flags. */
#define MACHIO_REAP_TIMEOUT	(1U << 0)	/* @timeout_ns bounds the wait */

/*
 * MACHIO_IOC_QUEUE_REAP: wait until at least @min completions are
 * waiting (or the timeout passes), then take up to @max slots of them,
 * oldest first, into @cqes.  Returns how many completions it took: fewer
 * than @min only after the timeout.  @min 0 never waits.  -EOVERFLOW if
 * the oldest completion does not fit in @max slots (an inband read needs
 * MACHIO_CQE_MAX_SLOTS); -ESHUTDOWN once the queue is terminated; -EINTR
 * for a signal before anything was taken.
 */
struct machio_queue_reap {
	__u32 queue;
	__u32 min;		/* completions to wait for, at most @max */
	__u32 max;		/* slots at @cqes, 1 .. 65536 */
	__u32 flags;		/* MACHIO_REAP_* */
	__u64 timeout_ns;	/* relative, with MACHIO_REAP_TIMEOUT */
	__u64 cqes;		/* user pointer to struct machio_cqe[@max] */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_IOC_MAGIC	0xB9

#define MACHIO_IOC_QUERY		_IOWR(MACHIO_IOC_MAGIC, 0x00, struct machio_query)
#define MACHIO_IOC_QUEUE_CREATE		_IOWR(MACHIO_IOC_MAGIC, 0x01, struct machio_queue_create)
#define MACHIO_IOC_QUEUE_TERMINATE	_IOW(MACHIO_IOC_MAGIC, 0x02, struct machio_queue_terminate)
#define MACHIO_IOC_QUEUE_WAIT		_IOW(MACHIO_IOC_MAGIC, 0x03, struct machio_queue_wait)
#define MACHIO_IOC_DEVICE_OPEN		_IOWR(MACHIO_IOC_MAGIC, 0x04, struct machio_device_open)
#define MACHIO_IOC_DEVICE_STATUS	_IOWR(MACHIO_IOC_MAGIC, 0x05, struct machio_device_status)
#define MACHIO_IOC_PORT_DEALLOCATE	_IOW(MACHIO_IOC_MAGIC, 0x06, struct machio_port_deallocate)
#define MACHIO_IOC_SUBMIT		_IOW(MACHIO_IOC_MAGIC, 0x07, struct machio_io_request)
#define MACHIO_IOC_SUBMIT_BATCH		_IOW(MACHIO_IOC_MAGIC, 0x08, struct machio_submit_batch)
#define MACHIO_IOC_QUEUE_SETUP		_IOWR(MACHIO_IOC_MAGIC, 0x09, struct machio_queue_setup)
#define MACHIO_IOC_QUEUE_REAP		_IOW(MACHIO_IOC_MAGIC, 0x0a, struct machio_queue_reap)
#define MACHIO_IOC_BUFFER_REGISTER	_IOWR(MACHIO_IOC_MAGIC, 0x0b, struct machio_buffer_register)
#define MACHIO_IOC_DEVICE_LIMIT		_IOWR(MACHIO_IOC_MAGIC, 0x0c, struct machio_device_limit)

/*
 * 3DO Portfolio (Opera).  Items live in one table per user: a process of
 * another user can neither find nor use them.  A Portfolio task is a
 * thread: its first Portfolio call makes its task item.  A call's own
 * outcome is a Portfolio Err in @result (negative: Opera's error code,
 * MACHIO_PF_KERR() below); the ioctl fails only for what Portfolio has
 * no word for (EFAULT, EINVAL for nonzero reserved fields, EINTR).
 */
#define MACHIO_PF_KERR(cls, code)	((__s32)(0xd57b9000u | ((cls) << 8) | (code)))
#define MACHIO_PF_BADITEM		MACHIO_PF_KERR(0, 1)
#define MACHIO_PF_BADPRIV		MACHIO_PF_KERR(0, 4)
#define MACHIO_PF_NOMEM			MACHIO_PF_KERR(0, 6)
#define MACHIO_PF_ITEMTABLEFULL		MACHIO_PF_KERR(1, 6)
#define MACHIO_PF_ILLEGALSIGNAL		MACHIO_PF_KERR(1, 22)
#define MACHIO_PF_NOTFOUND		MACHIO_PF_KERR(0, 5)
#define MACHIO_PF_ITEMNOTOPEN		MACHIO_PF_KERR(1, 5)
#define MACHIO_PF_BADTAG		MACHIO_PF_KERR(0, 2)
#define MACHIO_PF_BADTAGVAL		MACHIO_PF_KERR(0, 3)
#define MACHIO_PF_BADSUBTYPE		MACHIO_PF_KERR(0, 7)
#define MACHIO_PF_BADPTR		MACHIO_PF_KERR(0, 9)
#define MACHIO_PF_ABORTED		MACHIO_PF_KERR(0, 10)
#define MACHIO_PF_BADUNIT		MACHIO_PF_KERR(0, 11)
#define MACHIO_PF_BADCOMMAND		MACHIO_PF_KERR(0, 12)
#define MACHIO_PF_BADIOARG		MACHIO_PF_KERR(0, 13)
#define MACHIO_PF_BADNAME		MACHIO_PF_KERR(0, 14)
#define MACHIO_PF_IONOTDONE		MACHIO_PF_KERR(0, 15)
#define MACHIO_PF_NOSUPPORT		MACHIO_PF_KERR(0, 16)
#define MACHIO_PF_NOTOWNER		MACHIO_PF_KERR(0, 18)
#define MACHIO_PF_DEVICEOFFLINE		MACHIO_PF_KERR(0, 19)
#define MACHIO_PF_DEVICEERROR		MACHIO_PF_KERR(0, 20)
#define MACHIO_PF_BADTYPE		MACHIO_PF_KERR(1, 1)
#define MACHIO_PF_NOSIGS		MACHIO_PF_KERR(1, 8)
#define MACHIO_PF_MSGSENT		MACHIO_PF_KERR(1, 9)
#define MACHIO_PF_NOREPLYPORT		MACHIO_PF_KERR(1, 10)
#define MACHIO_PF_REPLYPORTNEEDED	MACHIO_PF_KERR(1, 21)
#define MACHIO_PF_UNIQUEITEMEXISTS	MACHIO_PF_KERR(1, 27)
#define MACHIO_PF_KILLED		MACHIO_PF_KERR(1, 29)

/* Item numbers: the index in bits 0-11 (from 16), a generation in 16-30. */
#define MACHIO_PF_MAX_ITEMS	4096
#define MACHIO_PF_MIN_ITEM	16

/* Opera's node types (kernelnodes.h): n_SubsysType, then n_Type. */
#define MACHIO_PF_KERNELNODE	1
#define MACHIO_PF_TASKNODE	5
#define MACHIO_PF_MESSAGENODE	9
#define MACHIO_PF_MSGPORTNODE	10
#define MACHIO_PF_IOREQNODE	14
#define MACHIO_PF_DEVICENODE	15

/* Where a device's view (Opera's Device, LP64) keeps dev_OpenCnt, and its size. */
#define MACHIO_PF_DEVICE_OPENCNT	64
#define MACHIO_PF_DEVICE_SIZE		136

/*
 * The item view, for LookupItem: mmap of /dev/machio at offset 0,
 * read-only and shared, MACHIO_PF_VIEW_SIZE bytes, one slot per item
 * index.  A slot whose n_Item equals an item number shows that item: an
 * Opera structure beginning with its ItemNode, pointers 64-bit and 0.
 * n_Item is written last when an item is made and cleared first when it
 * is deleted: read it with acquire, and again after reading the rest.
 */
#define MACHIO_PF_VIEW_SLOT	256
#define MACHIO_PF_VIEW_SIZE	(MACHIO_PF_MAX_ITEMS * MACHIO_PF_VIEW_SLOT)

/* Opera's ItemNode (nodes.h), as an LP64 program lays it out. */
struct machio_pf_node {
	__u64 n_Next;		/* 0 */
	__u64 n_Prev;		/* 0 */
	__u8 n_SubsysType;	/* MACHIO_PF_KERNELNODE */
	__u8 n_Type;		/* MACHIO_PF_*NODE */
	__u8 n_Priority;
	__u8 n_Flags;
	__s32 n_Size;		/* bytes of the item's structure */
	__u64 n_Name;		/* 0: names are the module's */
	__u8 n_Version;
	__u8 n_Revision;
	__u8 n_FolioFlags;
	__u8 n_ItemFlags;
	__s32 n_Item;		/* the item's number */
	__s32 n_Owner;		/* the owning task's item */
	__u32 n_pad;
	__u64 n_ReservedP;
};

/* MACHIO_IOC_PF_TASK: the calling thread's task item, or its end. */
struct machio_pf_task_info {
	__s32 result;		/* out: the task item, or an Err */
	__u32 flags;		/* in: MACHIO_PF_TASK_EXIT */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_PF_TASK_EXIT	(1U << 0)	/* the thread is done with Portfolio */

/*
 * AllocSignal, FreeSignal, WaitSignal, SendSignal, GetCurrentSignals:
 * one argument for the five.
 */
struct machio_pf_signal {
	__s32 task;		/* in, SendSignal: the task item; 0 for the caller */
	__u32 mask;		/* in: the signal mask */
	__s32 result;		/* out: a mask, 0, or an Err */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PF_OPEN_DEVICE: OpenNamedDevice, with the block device (@arg)
 * the library opened with the caller's own permissions.  The device item
 * is its user's one for that block device; each call opens it once more
 * for the calling task.  The calls on one item (@arg) by the calling task:
 * MACHIO_IOC_PF_CLOSE_ITEM CloseItem, MACHIO_IOC_PF_DELETE_ITEM DeleteItem,
 * MACHIO_IOC_PF_WAIT_IO WaitIO (EINTR on a Linux signal: call it again),
 * MACHIO_IOC_PF_ABORT_IO AbortIO.
 */
struct machio_pf_call {
	__s32 arg;		/* in: OPEN_DEVICE a block device's fd; else the item */
	__s32 result;		/* out: the device item, 0, or an Err */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PF_CREATE_ITEM: CreateItem(@type, @tags), and
 * MACHIO_IOC_PF_FIND_ITEM: FindItem(@type, @tags), the same argument.  @type is Opera's
 * MKNODEID(subsystem, node type); @tags a user pointer to an array of
 * struct machio_pf_tag (an LP64 TagArg) ending at TAG_END, or 0.  Item
 * tags and the type's own, as in Opera; names are copied, at most
 * MACHIO_PF_NAME_MAX bytes.
 */
struct machio_pf_create {
	__s32 type;		/* in: MKNODEID(MACHIO_PF_KERNELNODE, node type) */
	__s32 result;		/* out: the new item, or an Err */
	__u64 tags;		/* in: struct machio_pf_tag[], or 0 */
	__u64 reserved[2];	/* must be zero */
};

struct machio_pf_tag {
	__u32 tag;
	__u32 pad;		/* ignored: a TagArg's padding */
	__u64 arg;
};

#define MACHIO_PF_TAG_END		0
#define MACHIO_PF_TAG_ITEM_NAME		1
#define MACHIO_PF_TAG_ITEM_PRI		2
#define MACHIO_PF_TAG_ITEM_VERSION	3
#define MACHIO_PF_TAG_ITEM_REVISION	4
#define MACHIO_PF_TAG_ITEM_CONSTANT_NAME 5
#define MACHIO_PF_TAG_ITEM_UNIQUE_NAME	6
#define MACHIO_PF_TAG_ITEM_LAST		9
#define MACHIO_PF_TAG_JUMP		254
#define MACHIO_PF_TAG_NOP		255
#define MACHIO_PF_CREATEIOREQ_TAG_REPLYPORT 10
#define MACHIO_PF_CREATEIOREQ_TAG_DEVICE 11

#define MACHIO_PF_CREATEPORT_TAG_SIGNAL	10
#define MACHIO_PF_CREATEPORT_TAG_USERDATA 11
#define MACHIO_PF_CREATEMSG_TAG_REPLYPORT 10
#define MACHIO_PF_CREATEMSG_TAG_MSG_IS_SMALL 11
#define MACHIO_PF_CREATEMSG_TAG_DATA_SIZE 12

#define MACHIO_PF_NAME_MAX	255

/* Opera's MsgPort (msgport.h), LP64, as the view shows it. */
struct machio_pf_port_view {
	struct machio_pf_node mp;	/* n_Flags: MACHIO_PF_MSGPORT_SIGNAL_ALLOCATED */
	__u32 mp_Signal;
	__u32 mp_pad;
	__u64 mp_Msgs[4];	/* Opera's List: 0, the module keeps the queue */
	__u64 mp_UserData;
	__u32 mp_Reserved;
	__u32 mp_pad2;
};

#define MACHIO_PF_MSGPORT_SIGNAL_ALLOCATED 0x01

/* Opera's Message (msgport.h), LP64, as the view shows it. */
struct machio_pf_msg_view {
	struct machio_pf_node msg;	/* n_Flags: MACHIO_PF_MESSAGE_* */
	__s32 msg_ReplyPort;
	__s32 msg_Result;
	__u64 msg_DataPtr;	/* a standard message's pointer; a small one's val1 */
	__s32 msg_DataSize;	/* its size; a small one's val2 */
	__s32 msg_MsgPort;	/* the port it is on, or the task holding it */
	__u32 msg_DataPtrSize;	/* 0 */
	__s32 msg_SigItem;	/* 0 */
	__u32 msg_Waiters;	/* 0 */
	__u32 msg_pad;
};

#define MACHIO_PF_MESSAGE_SENT		0x01
#define MACHIO_PF_MESSAGE_REPLIED	0x02
#define MACHIO_PF_MESSAGE_SMALL		0x04

/*
 * MACHIO_IOC_PF_SEND_MSG: SendMsg(@port, @msg, @data, @size);
 * MACHIO_IOC_PF_REPLY_MSG: ReplyMsg(@msg, @code, @data, @size);
 * MACHIO_IOC_PF_WAIT_PORT: WaitPort(@port, @msg) (EINTR on a Linux
 * signal: call it again).  A small message's two values go in @data and
 * @size.
 */
struct machio_pf_msg_call {
	__s32 port;		/* in */
	__s32 msg;		/* in */
	__s32 code;		/* in: ReplyMsg's result */
	__s32 result;		/* out: 0, a message item, or an Err */
	__u64 data;		/* in */
	__s32 size;		/* in */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/* Opera's IOBuf and IOInfo (io.h), as an LP64 program lays them out. */
struct machio_pf_iobuf {
	__u64 iob_Buffer;	/* a user address */
	__s32 iob_Len;
	__u32 iob_pad;		/* ignored in; 0 in the view */
};

struct machio_pf_ioinfo {
	__u8 ioi_Command;	/* MACHIO_PF_CMD_* */
	__u8 ioi_Flags;		/* MACHIO_PF_IO_QUICK or 0 */
	__u8 ioi_Unit;		/* 0 */
	__u8 ioi_Flags2;	/* 0 */
	__u32 ioi_CmdOptions;
	__u32 ioi_User;		/* the caller's, echoed in the completion */
	__s32 ioi_Offset;	/* in device blocks */
	struct machio_pf_iobuf ioi_Send;
	struct machio_pf_iobuf ioi_Recv;
};

#define MACHIO_PF_CMD_WRITE	0
#define MACHIO_PF_CMD_READ	1
#define MACHIO_PF_CMD_STATUS	2

/* io_Flags */
#define MACHIO_PF_IO_DONE	0x01
#define MACHIO_PF_IO_QUICK	0x02
#define MACHIO_PF_IO_WAITING	0x08

/* Opera's IOReq (io.h), LP64, as the view shows it. */
struct machio_pf_ioreq_view {
	struct machio_pf_node io;
	__u64 io_Link[2];	/* 0 */
	__u64 io_Dev;		/* 0 */
	__u64 io_CallBack;	/* 0 */
	struct machio_pf_ioinfo io_Info;	/* the last SendIO's */
	__s32 io_Actual;	/* bytes transferred */
	__u32 io_Flags;		/* MACHIO_PF_IO_*; written last, with release */
	__s32 io_Error;
	__s32 io_Extension[2];
	__s32 io_MsgItem;	/* its message, or (signals) its owner task */
	__s32 io_SigItem;	/* 0 */
	__u32 io_pad;
};

/* Opera's DeviceStatus (device.h): what CMD_STATUS reads. */
struct machio_pf_device_status {
	__u8 ds_DriverIdentity;
	__u8 ds_DriverStatusVersion;
	__u8 ds_FamilyCode;	/* MACHIO_PF_DS_DEVTYPE_HARDDISK */
	__u8 ds_headerPad;
	__u32 ds_MaximumStatusSize;
	__u32 ds_DeviceBlockSize;
	__u32 ds_DeviceBlockCount;
	__u32 ds_DeviceFlagWord;
	__u32 ds_DeviceUsageFlags;	/* MACHIO_PF_DS_USAGE_READONLY */
	__u32 ds_DeviceLastErrorCode;
	__u32 ds_DeviceMediaChangeCntr;
	__u32 ds_Reserved;
};

#define MACHIO_PF_DS_DEVTYPE_HARDDISK	2
#define MACHIO_PF_DS_USAGE_READONLY	0x20000000

/*
 * MACHIO_IOC_PF_SEND_IO: SendIO(@ioreq, @info), or with MACHIO_PF_IO_WAIT
 * DoIO: IO_QUICK forced, and a deferred request waited for.  @result is
 * SendIO's (1 done, 0 in progress, or an Err); once done, @error is its
 * io_Error.  A Linux signal that ends DoIO's wait leaves the request in
 * progress: @result 0 and MACHIO_PF_IO_PENDING in @flags (WaitIO next).
 */
struct machio_pf_io {
	__s32 ioreq;		/* in */
	__s32 result;		/* out */
	__u32 flags;		/* in: MACHIO_PF_IO_WAIT; out: MACHIO_PF_IO_PENDING */
	__s32 error;		/* out: io_Error, once done */
	__u64 info;		/* in: a user pointer to struct machio_pf_ioinfo */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_PF_IO_WAIT	(1U << 0)
#define MACHIO_PF_IO_PENDING	(1U << 1)

/*
 * MACHIO_IOC_PF_ITEM_NAME: the name of @item (n_Name, which the view
 * leaves NULL), NUL-terminated into @name (@size bytes, truncated to fit):
 * @result is its length, 0 for an item with no name, or BADITEM.
 */
struct machio_pf_item_name {
	__s32 item;		/* in */
	__s32 result;		/* out */
	__u64 name;		/* in: a user buffer */
	__u32 size;		/* in: its size */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/* Portfolio's system signals (bits 0-7; bit 31 is illegal). */
#define MACHIO_PF_SIGF_ABORT	0x04
#define MACHIO_PF_SIGF_IODONE	0x08

/*
 * Mach ports (mach/port.h): rights in the space's name table.  The calls
 * below put their kern_return_t in @kr; the ioctl itself fails only for
 * a bad argument structure (EFAULT, EINVAL for nonzero reserved fields).
 */
#define MACHIO_PORT_RIGHT_SEND		0
#define MACHIO_PORT_RIGHT_RECEIVE	1
#define MACHIO_PORT_RIGHT_SEND_ONCE	2
#define MACHIO_PORT_RIGHT_PORT_SET	3
#define MACHIO_PORT_RIGHT_DEAD_NAME	4
#define MACHIO_PORT_RIGHT_NUMBER	5

#define MACHIO_PORT_TYPE(right)		(1U << ((right) + 16))
#define MACHIO_PORT_TYPE_SEND		MACHIO_PORT_TYPE(MACHIO_PORT_RIGHT_SEND)
#define MACHIO_PORT_TYPE_RECEIVE	MACHIO_PORT_TYPE(MACHIO_PORT_RIGHT_RECEIVE)
#define MACHIO_PORT_TYPE_SEND_ONCE	MACHIO_PORT_TYPE(MACHIO_PORT_RIGHT_SEND_ONCE)
#define MACHIO_PORT_TYPE_PORT_SET	MACHIO_PORT_TYPE(MACHIO_PORT_RIGHT_PORT_SET)
#define MACHIO_PORT_TYPE_DEAD_NAME	MACHIO_PORT_TYPE(MACHIO_PORT_RIGHT_DEAD_NAME)

/* OSF's limits: send rights count to 65534 user references, dead names 65535. */
#define MACHIO_PORT_UREFS_MAX		65535
#define MACHIO_PORT_QLIMIT_DEFAULT	5
#define MACHIO_PORT_QLIMIT_MAX		16

/* mach_port_qos_t's first word, as bit masks (OSF's name:1, rt:1). */
#define MACHIO_QOS_NAME		(1U << 0)
#define MACHIO_QOS_RT		(1U << 1)

/*
 * MACHIO_IOC_PORT_ALLOCATE: mach_port_allocate_full(task, @right,
 * subsystem, qos, @name), which the other allocators are.
 */
struct machio_port_allocate {
	__u32 right;		/* in: MACHIO_PORT_RIGHT_RECEIVE, _PORT_SET, _DEAD_NAME */
	__u32 qos;		/* in: MACHIO_QOS_* (the rest of the word is padding) */
	__u32 name;		/* in with MACHIO_QOS_NAME; out */
	__s32 kr;		/* out */
	__u64 subsystem;	/* in: must be 0 (no RPC subsystems: KERN_INVALID_ARGUMENT) */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PORT_RIGHT: one of the calls on one name, @op:
 * MACHIO_PORT_OP_DESTROY (mach_port_destroy), _MOD_REFS (@right,
 * @delta), _GET_REFS (@right; @value out), _TYPE (@value out: the
 * MACHIO_PORT_TYPE_* bits).
 */
struct machio_port_right {
	__u32 op;		/* in */
	__u32 name;		/* in */
	__u32 right;		/* in: MOD_REFS, GET_REFS */
	__s32 delta;		/* in: MOD_REFS */
	__u32 value;		/* out: GET_REFS, TYPE */
	__s32 kr;		/* out */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_PORT_OP_DESTROY		1
#define MACHIO_PORT_OP_MOD_REFS		2
#define MACHIO_PORT_OP_GET_REFS		3
#define MACHIO_PORT_OP_TYPE		4

/*
 * MACHIO_IOC_PORT_ATTRIBUTES: mach_port_get_attributes (@flags 0) or
 * mach_port_set_attributes (MACHIO_PORT_ATTR_SET) of the receive right
 * @name: @info holds @count words of @flavor's structure.
 */
struct machio_port_attributes {
	__u32 name;		/* in */
	__s32 flavor;		/* in: MACHIO_PORT_LIMITS_INFO, _RECEIVE_STATUS, _DNREQUESTS_SIZE */
	__u32 count;		/* in: words in @info; out (get): words filled */
	__s32 kr;		/* out */
	__u32 info[10];		/* out (get), in (set) */
	__u32 flags;		/* in: MACHIO_PORT_ATTR_SET */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_PORT_ATTR_SET		(1U << 0)
#define MACHIO_PORT_LIMITS_INFO		1	/* mach_port_limits_t: mpl_qlimit */
#define MACHIO_PORT_RECEIVE_STATUS	2	/* mach_port_status_t: 10 words */
#define MACHIO_PORT_DNREQUESTS_SIZE	3	/* one int */
#define MACHIO_PORT_STATUS_FLAGS_RT	(1U << 0)	/* mps_flags: a realtime port */

/* mach_msg_type_name_t dispositions (mach/message.h). */
#define MACHIO_MSG_TYPE_MOVE_RECEIVE	16
#define MACHIO_MSG_TYPE_MOVE_SEND	17
#define MACHIO_MSG_TYPE_MOVE_SEND_ONCE	18
#define MACHIO_MSG_TYPE_COPY_SEND	19
#define MACHIO_MSG_TYPE_MAKE_SEND	20
#define MACHIO_MSG_TYPE_MAKE_SEND_ONCE	21

/* MACHIO_IOC_PORT_INSERT_RIGHT: mach_port_insert_right(task, @name, @poly, @msgt_name). */
struct machio_port_insert_right {
	__u32 name;		/* in */
	__u32 poly;		/* in: a name of this space whose right is given */
	__u32 msgt_name;	/* in: MACHIO_MSG_TYPE_* */
	__s32 kr;		/* out */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PORT_EXTRACT_RIGHT: mach_port_extract_right(task, @name,
 * @msgt_name, &@poly, &@poly_type): the right taken from @name, back in
 * the caller's space as a reply would bring it.
 */
struct machio_port_extract_right {
	__u32 name;		/* in */
	__u32 msgt_name;	/* in: MACHIO_MSG_TYPE_* */
	__u32 poly;		/* out: its name now, or MACHIO_PORT_DEAD */
	__u32 poly_type;	/* out: MACHIO_MSG_TYPE_MOVE_RECEIVE, _MOVE_SEND, _MOVE_SEND_ONCE */
	__s32 kr;		/* out */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PORT_NAMES: mach_port_names: every name and its type, into
 * @names and @types (room for @count each); @count comes back as the
 * number there is, and the arrays are filled only if it fits.
 */
struct machio_port_names {
	__u64 names;		/* in: user pointer to __u32[@count] */
	__u64 types;		/* in: user pointer to __u32[@count] */
	__u32 count;		/* in: room; out: names in the space */
	__s32 kr;		/* out */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PORT_MOVE_MEMBER: mach_port_move_member(task, @member,
 * @after): the receive right @member into the port set @after, or out of
 * its set (@after MACHIO_PORT_NULL).
 */
struct machio_port_move_member {
	__u32 member;		/* in */
	__u32 after;		/* in */
	__s32 kr;		/* out */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_DEVICE_REQUEST: device_read_request(@device, @reply_port,
 * @mode, @recnum, @count) and its kin (device_request.defs), by @op:
 * MACHIO_OP_READ (out-of-line), _READ_INBAND, _READ_OVERWRITE (into
 * @buffer), _WRITE, _WRITE_INBAND (from @buffer).  The outcome comes as
 * a reply message in device_reply.defs's format to @reply_port, given
 * as @reply_type says (MIG's default: MAKE_SEND_ONCE).  @kr is what the
 * request's send says (MACHIO_MSG_SUCCESS, or MACHIO_SEND_*).
 *
 * With MACHIO_DEVREQ_RECEIVE in @flags the call is an RPC, as OSF's
 * synchronous device_read is one mach_msg: once the request is sent, a
 * message is received on @reply_port (a receive right here) into
 * @rcv_msg, @rcv_size bytes at most, as mach_msg(MACH_RCV_MSG) would,
 * and @kr is the receive's code.  Without it @rcv_msg and @rcv_size
 * must be zero.
 */
struct machio_device_request {
	__u32 op;		/* in: MACHIO_OP_* */
	__u32 device;		/* in */
	__u32 reply_port;	/* in */
	__u32 reply_type;	/* in: MACHIO_MSG_TYPE_MOVE_SEND .. _MAKE_SEND_ONCE */
	__u32 mode;		/* in: D_* */
	__u32 recnum;		/* in */
	__u64 buffer;		/* in: overwrite and write data */
	__s32 count;		/* in: bytes wanted, or to write */
	__s32 kr;		/* out */
	__u64 rcv_msg;		/* in: with MACHIO_DEVREQ_RECEIVE, a user buffer */
	__u32 rcv_size;		/* in: with MACHIO_DEVREQ_RECEIVE */
	__u32 flags;		/* in: MACHIO_DEVREQ_*; others must be zero */
};

#define MACHIO_DEVREQ_RECEIVE		(1U << 0)	/* then receive the reply (FEAT_DEVICE_RPC) */

/* device_reply.defs's message ids. */
#define MACHIO_DS_WRITE_REPLY		2902
#define MACHIO_DS_WRITE_REPLY_INBAND	2903
#define MACHIO_DS_READ_REPLY		2904
#define MACHIO_DS_READ_REPLY_INBAND	2905
#define MACHIO_DS_READ_REPLY_OVERWRITE	2913

/*
 * MACHIO_IOC_PORT_REQUEST_NOTIFICATION: mach_port_request_notification(
 * task, @name, @variant, @sync, @notify, @notify_type, &@previous).
 */
struct machio_port_request_notification {
	__u32 name;		/* in */
	__s32 variant;		/* in: MACHIO_NOTIFY_NO_SENDERS, _DEAD_NAME */
	__u32 sync;		/* in */
	__u32 notify;		/* in: a send-once right's name, or MACHIO_PORT_NULL */
	__u32 notify_type;	/* in: MAKE_SEND_ONCE or MOVE_SEND_ONCE */
	__u32 previous;		/* out: the send-once right registered before */
	__s32 kr;		/* out */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * MACHIO_IOC_PORT_SET_STATUS: mach_port_get_set_status(task, @name,
 * &members, &count): the names of the set's members into @members, if
 * @count has room for them all; @count comes back as how many there are.
 */
struct machio_port_set_status {
	__u32 name;		/* in */
	__u32 count;		/* in: room; out: members */
	__u64 members;		/* in: user pointer to __u32[@count] */
	__s32 kr;		/* out */
	__u32 pad;		/* must be zero */
	__u64 reserved[2];	/* must be zero */
};

/*
 * mach_msg (mach/message.h, OSF MK): the header, as OSF lays it out
 * (msgh_seqno where xnu later put a voucher), then the body.
 */
struct machio_msg_header {
	__u32 msgh_bits;	/* MACHIO_MSGH_BITS(remote, local) dispositions */
	__u32 msgh_size;	/* bytes, header included, a multiple of 4 */
	__u32 msgh_remote_port;	/* send: the destination; received: the reply right */
	__u32 msgh_local_port;	/* send: the reply right; received: the receive right's name */
	__u32 msgh_seqno;	/* received: the port's sequence number */
	__s32 msgh_id;
};

#define MACHIO_MSGH_BITS_REMOTE_MASK	0x000000ffU
#define MACHIO_MSGH_BITS_LOCAL_MASK	0x0000ff00U
#define MACHIO_MSGH_BITS_COMPLEX	0x80000000U
#define MACHIO_MSGH_BITS(remote, local)	((remote) | ((local) << 8))

/*
 * A complex message (MACHIO_MSGH_BITS_COMPLEX): the header, the
 * descriptor count, the descriptors, then the rest of the body.
 */
struct machio_msg_body {
	__u32 msgh_descriptor_count;
};

/*
 * mach_msg_port_descriptor_t: a right the message carries.  Sent: @name
 * in the sender's space and the MACHIO_MSG_TYPE_* @disposition; received:
 * the receiver's name (MACHIO_PORT_NULL, or MACHIO_PORT_DEAD for a port
 * that died on the way) and what it is (MOVE_RECEIVE, MOVE_SEND,
 * MOVE_SEND_ONCE).  The descriptor's type is in its twelfth byte, as in
 * every descriptor.
 */
struct machio_msg_port_descriptor {
	__u32 name;
	__u32 pad1;
	__u16 pad2;
	__u8 disposition;
	__u8 type;		/* MACHIO_MSG_PORT_DESCRIPTOR */
};

/*
 * mach_msg_ool_descriptor_t, LP64 as xnu lays it out (the type in the
 * twelfth byte): memory the message carries out of line.  Only the
 * kernel sends these (device replies); a user message with one is
 * MACHIO_SEND_INVALID_TYPE.
 */
struct machio_msg_ool_descriptor {
	__u64 address;
	__u8 deallocate;
	__u8 copy;
	__u8 pad1;
	__u8 type;		/* MACHIO_MSG_OOL_DESCRIPTOR */
	__u32 size;
};

#define MACHIO_MSG_PORT_DESCRIPTOR		0
#define MACHIO_MSG_OOL_DESCRIPTOR		1
#define MACHIO_MSG_OOL_PORTS_DESCRIPTOR		2
#define MACHIO_MSG_OOL_VOLATILE_DESCRIPTOR	3

/* mach_msg options */
#define MACHIO_SEND_MSG		0x00000001U
#define MACHIO_RCV_MSG		0x00000002U
#define MACHIO_RCV_LARGE	0x00000004U
#define MACHIO_SEND_TIMEOUT	0x00000010U
#define MACHIO_SEND_INTERRUPT	0x00000040U
#define MACHIO_RCV_TIMEOUT	0x00000100U
#define MACHIO_RCV_INTERRUPT	0x00000400U

/* mach_msg return codes (mach/message.h) */
#define MACHIO_MSG_SUCCESS		0x00000000
#define MACHIO_SEND_INVALID_DATA	0x10000002
#define MACHIO_SEND_INVALID_DEST	0x10000003
#define MACHIO_SEND_TIMED_OUT		0x10000004
#define MACHIO_SEND_INTERRUPTED		0x10000007
#define MACHIO_SEND_MSG_TOO_SMALL	0x10000008
#define MACHIO_SEND_INVALID_REPLY	0x10000009
#define MACHIO_SEND_INVALID_RIGHT	0x1000000a
#define MACHIO_SEND_NO_BUFFER		0x1000000d
#define MACHIO_SEND_TOO_LARGE		0x1000000e
#define MACHIO_SEND_INVALID_TYPE	0x1000000f
#define MACHIO_SEND_INVALID_HEADER	0x10000010
#define MACHIO_RCV_INVALID_NAME		0x10004002
#define MACHIO_RCV_TIMED_OUT		0x10004003
#define MACHIO_RCV_TOO_LARGE		0x10004004
#define MACHIO_RCV_INTERRUPTED		0x10004005
#define MACHIO_RCV_PORT_CHANGED		0x10004006
#define MACHIO_RCV_PORT_DIED		0x10004009
#define MACHIO_RCV_INVALID_DATA		0x10004008
#define MACHIO_RCV_IN_SET		0x1000400a
#define MACHIO_RCV_HEADER_ERROR		0x1000400b
#define MACHIO_RCV_BODY_ERROR		0x1000400c
#define MACHIO_MSG_IPC_SPACE		0x00002000	/* with _HEADER/_BODY_ERROR: no room for a name */
#define MACHIO_MSG_VM_SPACE		0x00001000	/* with _BODY_ERROR: no memory for the data */

/* Notifications (mach/notify.h): their msgh_id. */
#define MACHIO_NOTIFY_PORT_DELETED	0101
#define MACHIO_NOTIFY_PORT_DESTROYED	0105
#define MACHIO_NOTIFY_NO_SENDERS	0106
#define MACHIO_NOTIFY_SEND_ONCE		0107
#define MACHIO_NOTIFY_DEAD_NAME		0110

/*
 * A notification's body after the header: MIG's NDR record (little-endian
 * integers: int_rep 1), then the name (port-deleted, dead-name) or the
 * make-send count (no-senders).  A send-once notification is a header.
 */
struct machio_notification {
	struct machio_msg_header not_header;
	__u8 ndr[8];
	__u32 not_value;
};

/* The largest message, header included: 128 KiB inline. */
#define MACHIO_MSG_SIZE_MAX	(128U * 1024)

/*
 * MACHIO_IOC_MSG: mach_msg(@msg, @option, @send_size, @rcv_size,
 * @rcv_name, @timeout, @notify), or mach_msg_overwrite's with @rcv_msg:
 * the message is received there, not into @msg (MACHIO_FEAT_MSG_OVERWRITE).
 * @kr is mach_msg's return code.  A Linux signal ends a wait with
 * MACHIO_SEND_INTERRUPTED or MACHIO_RCV_INTERRUPTED (the library tries
 * again unless the option's _INTERRUPT bit asks otherwise).
 */
struct machio_msg {
	__u64 msg;		/* in: a user buffer, the header first */
	__u32 option;		/* in */
	__u32 send_size;	/* in */
	__u32 rcv_size;		/* in */
	__u32 rcv_name;		/* in */
	__u32 timeout;		/* in: ms, with _TIMEOUT */
	__u32 notify;		/* in: MACHIO_PORT_NULL */
	__s32 kr;		/* out */
	__u32 pad;		/* must be zero */
	__u64 rcv_msg;		/* in: the receive buffer, or 0: @msg */
	__u64 reserved;		/* must be zero */
};

/*
 * The name service (Mach 3's netname server, kept by the module).  Every
 * space's third name is a send right to it: MACHIO_NAME_SERVER.
 */
#define MACHIO_NAME_SERVER		0x301U
#define MACHIO_NETNAME_MAX		80	/* netname_name_t */

/*
 * MACHIO_IOC_NETNAME: netname_check_in(@server, @name, @signature,
 * @port) (@op CHECK_IN: @port a receive right, the service makes a send
 * right; REGISTER_SEND_RIGHT: a send right, copied), netname_look_up(
 * @server, @host, @name, &@port), netname_check_out(@server, @name,
 * @signature).  @name and @host end at a NUL or after 80 bytes.
 */
struct machio_netname {
	__u32 op;		/* in: MACHIO_NETNAME_* */
	__u32 server;		/* in: MACHIO_NAME_SERVER */
	__u32 signature;	/* in: a send right, or MACHIO_PORT_NULL */
	__u32 port;		/* in (check-in); out (look-up) */
	__s32 kr;		/* out */
	__u32 pad;		/* must be zero */
	char name[MACHIO_NETNAME_MAX];	/* in */
	char host[MACHIO_NETNAME_MAX];	/* in (look-up): "" is this machine */
	__u64 reserved[2];	/* must be zero */
};

#define MACHIO_NETNAME_CHECK_IN		1
#define MACHIO_NETNAME_LOOK_UP		2
#define MACHIO_NETNAME_CHECK_OUT	3
#define MACHIO_NETNAME_REGISTER_SEND_RIGHT 4

/* servers/netname_defs.h */
#define MACHIO_NETNAME_SUCCESS		0
#define MACHIO_NETNAME_NOT_YOURS	1000
#define MACHIO_NETNAME_NOT_CHECKED_IN	1001
#define MACHIO_NETNAME_NO_SUCH_HOST	1002
#define MACHIO_NETNAME_HOST_NOT_FOUND	1003
#define MACHIO_NETNAME_INVALID_PORT	1004

#define MACHIO_IOC_PF_TASK		_IOWR(MACHIO_IOC_MAGIC, 0x10, struct machio_pf_task_info)
#define MACHIO_IOC_PF_ALLOC_SIGNAL	_IOWR(MACHIO_IOC_MAGIC, 0x11, struct machio_pf_signal)
#define MACHIO_IOC_PF_FREE_SIGNAL	_IOWR(MACHIO_IOC_MAGIC, 0x12, struct machio_pf_signal)
#define MACHIO_IOC_PF_WAIT_SIGNAL	_IOWR(MACHIO_IOC_MAGIC, 0x13, struct machio_pf_signal)
#define MACHIO_IOC_PF_SEND_SIGNAL	_IOWR(MACHIO_IOC_MAGIC, 0x14, struct machio_pf_signal)
#define MACHIO_IOC_PF_GET_SIGNALS	_IOWR(MACHIO_IOC_MAGIC, 0x15, struct machio_pf_signal)
#define MACHIO_IOC_PF_OPEN_DEVICE	_IOWR(MACHIO_IOC_MAGIC, 0x16, struct machio_pf_call)
#define MACHIO_IOC_PF_CLOSE_ITEM	_IOWR(MACHIO_IOC_MAGIC, 0x17, struct machio_pf_call)
#define MACHIO_IOC_PF_CREATE_ITEM	_IOWR(MACHIO_IOC_MAGIC, 0x18, struct machio_pf_create)
#define MACHIO_IOC_PF_DELETE_ITEM	_IOWR(MACHIO_IOC_MAGIC, 0x19, struct machio_pf_call)
#define MACHIO_IOC_PF_SEND_IO		_IOWR(MACHIO_IOC_MAGIC, 0x1a, struct machio_pf_io)
#define MACHIO_IOC_PF_WAIT_IO		_IOWR(MACHIO_IOC_MAGIC, 0x1b, struct machio_pf_call)
#define MACHIO_IOC_PF_ABORT_IO		_IOWR(MACHIO_IOC_MAGIC, 0x1c, struct machio_pf_call)
#define MACHIO_IOC_PF_SEND_MSG		_IOWR(MACHIO_IOC_MAGIC, 0x1d, struct machio_pf_msg_call)
#define MACHIO_IOC_PF_REPLY_MSG		_IOWR(MACHIO_IOC_MAGIC, 0x1e, struct machio_pf_msg_call)
#define MACHIO_IOC_PF_GET_MSG		_IOWR(MACHIO_IOC_MAGIC, 0x1f, struct machio_pf_call)
#define MACHIO_IOC_PF_GET_THIS_MSG	_IOWR(MACHIO_IOC_MAGIC, 0x20, struct machio_pf_call)
#define MACHIO_IOC_PF_WAIT_PORT		_IOWR(MACHIO_IOC_MAGIC, 0x21, struct machio_pf_msg_call)
#define MACHIO_IOC_PF_FIND_ITEM		_IOWR(MACHIO_IOC_MAGIC, 0x22, struct machio_pf_create)
#define MACHIO_IOC_PF_ITEM_NAME		_IOWR(MACHIO_IOC_MAGIC, 0x23, struct machio_pf_item_name)
#define MACHIO_IOC_PORT_ALLOCATE	_IOWR(MACHIO_IOC_MAGIC, 0x30, struct machio_port_allocate)
#define MACHIO_IOC_PORT_RIGHT		_IOWR(MACHIO_IOC_MAGIC, 0x31, struct machio_port_right)
#define MACHIO_IOC_PORT_INSERT_RIGHT	_IOWR(MACHIO_IOC_MAGIC, 0x32, struct machio_port_insert_right)
#define MACHIO_IOC_PORT_NAMES		_IOWR(MACHIO_IOC_MAGIC, 0x33, struct machio_port_names)
#define MACHIO_IOC_MSG			_IOWR(MACHIO_IOC_MAGIC, 0x34, struct machio_msg)
#define MACHIO_IOC_PORT_ATTRIBUTES	_IOWR(MACHIO_IOC_MAGIC, 0x35, struct machio_port_attributes)
#define MACHIO_IOC_NETNAME		_IOWR(MACHIO_IOC_MAGIC, 0x36, struct machio_netname)
#define MACHIO_IOC_PORT_MOVE_MEMBER	_IOWR(MACHIO_IOC_MAGIC, 0x37, struct machio_port_move_member)
#define MACHIO_IOC_PORT_SET_STATUS	_IOWR(MACHIO_IOC_MAGIC, 0x38, struct machio_port_set_status)
#define MACHIO_IOC_PORT_REQUEST_NOTIFICATION _IOWR(MACHIO_IOC_MAGIC, 0x39, struct machio_port_request_notification)
#define MACHIO_IOC_DEVICE_REQUEST	_IOWR(MACHIO_IOC_MAGIC, 0x3a, struct machio_device_request)
#define MACHIO_IOC_PORT_EXTRACT_RIGHT	_IOWR(MACHIO_IOC_MAGIC, 0x3b, struct machio_port_extract_right)

#endif /* _UAPI_LINUX_MACHIO_H */
