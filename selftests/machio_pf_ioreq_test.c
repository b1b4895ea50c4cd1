// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio I/O requests (MACHIO_IOC_PF_CREATE_ITEM of an IOREQNODE,
 * MACHIO_IOC_PF_SEND_IO, _WAIT_IO, _ABORT_IO, _DELETE_ITEM) with Opera's
 * rules: CreateIOReq's and SendIO's checks in their order, the bytes
 * moved, io_Actual and io_Error in the item view, IO_QUICK and when a
 * completion notifies (SIGF_IODONE, exactly once), DoIO, WaitIO,
 * AbortIO of a request waiting in the dispatch queue, priority ordering
 * that queue, and the IOReq's end: DeleteIOReq waiting for its I/O, the
 * task's last close of the device, the task's end.
 *
 * "slow" fixtures use a null_blk disk on which every request takes
 * SLOW_MS at the device, so that a request is in progress for long
 * enough to look at it.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define BADITEM		MACHIO_PF_BADITEM
#define BS		512
#define NBLOCKS		(64 * 1024 * 1024 / BS)	/* nullb_create's 64 MiB */
#define SLOW_MS		200
#define IOREQ_TYPE	((MACHIO_PF_KERNELNODE << 8) | MACHIO_PF_IOREQNODE)
#define SIGF_IODONE	MACHIO_PF_SIGF_IODONE

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A call's Err, or -errno for the ioctl's own failure. */
static __s32 pf_call(int fd, unsigned long cmd, __s32 arg)
{
	struct machio_pf_call a = { .arg = arg };
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

#define OPEN_DEVICE(fd, bfd)	pf_call(fd, MACHIO_IOC_PF_OPEN_DEVICE, bfd)
#define CLOSE_ITEM(fd, i)	pf_call(fd, MACHIO_IOC_PF_CLOSE_ITEM, i)
#define DELETE_ITEM(fd, i)	pf_call(fd, MACHIO_IOC_PF_DELETE_ITEM, i)
#define WAIT_IO(fd, i)		pf_call(fd, MACHIO_IOC_PF_WAIT_IO, i)
#define ABORT_IO(fd, i)		pf_call(fd, MACHIO_IOC_PF_ABORT_IO, i)

static __s32 create_item(int fd, __s32 type, const struct machio_pf_tag *tags)
{
	struct machio_pf_create a = { .type = type, .tags = (__u64)(uintptr_t)tags };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_CREATE_ITEM, &a);

	return ret ? ret : a.result;
}

/* CreateIOReq(NULL, pri, dev, 0), as Opera's clib builds it. */
static __s32 create_ioreq(int fd, __s32 dev, __u8 pri)
{
	struct machio_pf_tag tags[] = {
		{ MACHIO_PF_TAG_ITEM_PRI, 0, pri },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)dev },
		{ MACHIO_PF_TAG_END, 0, 0 },
	};

	return create_item(fd, IOREQ_TYPE, tags);
}

/* SendIO (or DoIO with MACHIO_PF_IO_WAIT): its result; @out the argument back. */
static __s32 send_io_full(int fd, __s32 ior, const void *info, __u32 flags,
			  struct machio_pf_io *out)
{
	struct machio_pf_io a = {
		.ioreq = ior, .flags = flags, .info = (__u64)(uintptr_t)info,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_SEND_IO, &a);

	if (out)
		*out = a;
	return ret ? ret : a.result;
}

static __s32 send_io(int fd, __s32 ior, const struct machio_pf_ioinfo *info)
{
	return send_io_full(fd, ior, info, 0, NULL);
}

static __s32 do_io(int fd, __s32 ior, const struct machio_pf_ioinfo *info)
{
	return send_io_full(fd, ior, info, MACHIO_PF_IO_WAIT, NULL);
}

static struct machio_pf_ioinfo rw_info(__u8 cmd, void *buf, __s32 len, __s32 offset, __u8 flags)
{
	struct machio_pf_ioinfo info = {
		.ioi_Command = cmd, .ioi_Flags = flags, .ioi_Offset = offset, .ioi_User = 0xabc,
	};
	struct machio_pf_iobuf *b = cmd == MACHIO_PF_CMD_WRITE ? &info.ioi_Send : &info.ioi_Recv;

	b->iob_Buffer = (__u64)(uintptr_t)buf;
	b->iob_Len = len;
	return info;
}

static __s32 sig_call(int fd, unsigned long cmd, __u32 mask)
{
	struct machio_pf_signal a = { .mask = mask };
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

static __u32 pending(int fd)
{
	return (__u32)sig_call(fd, MACHIO_IOC_PF_GET_SIGNALS, 0);
}

/* Clear SIGF_IODONE if it is pending (ClearCurrentSignals). */
static void clear_iodone(int fd)
{
	if (pending(fd) & SIGF_IODONE)
		sig_call(fd, MACHIO_IOC_PF_WAIT_SIGNAL, SIGF_IODONE);
}

static __s32 task_item(int fd)
{
	struct machio_pf_task_info a = {};

	return machio_ioctl(fd, MACHIO_IOC_PF_TASK, &a) ? -1 : a.result;
}

static const struct machio_pf_ioreq_view *ioreq_view(const void *view, __s32 ior)
{
	return (const void *)((const char *)view +
			      (size_t)(ior & (MACHIO_PF_MAX_ITEMS - 1)) * MACHIO_PF_VIEW_SLOT);
}

/* CheckIO as the library does it: from the view. */
static int check_io(const void *view, __s32 ior)
{
	const struct machio_pf_ioreq_view *v = ioreq_view(view, ior);
	__u32 flags;

	if (__atomic_load_n(&v->io.n_Item, __ATOMIC_ACQUIRE) != ior ||
	    v->io.n_Type != MACHIO_PF_IOREQNODE)
		return BADITEM;
	flags = __atomic_load_n(&v->io_Flags, __ATOMIC_ACQUIRE);
	return (flags & MACHIO_PF_IO_DONE) ? 1 : 0;
}

/* Run @fn(@arg) in a thread of its own (another Portfolio task) and join it. */
static void in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (!pthread_create(&t, NULL, fn, arg))
		pthread_join(t, NULL);
}

FIXTURE(io) {
	struct nullb nb;
	int fd, bfd;
	void *view;
	__s32 dev;
	unsigned char *buf, *back;
};

FIXTURE_SETUP(io)
{
	ASSERT_EQ(0, nullb_create(&self->nb, "pio", NULL));
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	self->view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
	self->dev = OPEN_DEVICE(self->fd, self->bfd);
	ASSERT_LT(0, self->dev);
	self->buf = aligned_buf(1 << 20, 4096);
	self->back = aligned_buf(1 << 20, 4096);
	ASSERT_NE(NULL, self->buf);
	ASSERT_NE(NULL, self->back);
}

FIXTURE_TEARDOWN(io)
{
	munmap(self->view, MACHIO_PF_VIEW_SIZE);
	close(self->fd);
	close(self->bfd);
	free(self->buf);
	free(self->back);
	nullb_destroy(&self->nb);
}

TEST_F(io, a_new_ioreq_is_done_and_shows_in_the_view)
{
	__s32 ior = create_ioreq(self->fd, self->dev, 7);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	static const char zero[sizeof(v->io_Info)];

	ASSERT_LT(0, ior);
	EXPECT_EQ(ior, v->io.n_Item);
	EXPECT_EQ(MACHIO_PF_KERNELNODE, v->io.n_SubsysType);
	EXPECT_EQ(MACHIO_PF_IOREQNODE, v->io.n_Type);
	EXPECT_EQ(7, v->io.n_Priority);
	EXPECT_EQ(sizeof(struct machio_pf_ioreq_view), v->io.n_Size);
	EXPECT_EQ(task_item(self->fd), v->io.n_Owner);
	EXPECT_EQ(MACHIO_PF_IO_DONE | MACHIO_PF_IO_QUICK, v->io_Flags);
	EXPECT_EQ(task_item(self->fd), v->io_MsgItem);	/* signal-based: its owner */
	EXPECT_EQ(0, v->io_Dev);
	EXPECT_EQ(0, memcmp(zero, &v->io_Info, sizeof(zero)));
	EXPECT_EQ(1, check_io(self->view, ior));
	EXPECT_EQ(0, WAIT_IO(self->fd, ior));		/* done: io_Error 0 */
	EXPECT_EQ(0, DELETE_ITEM(self->fd, ior));
	EXPECT_EQ(BADITEM, check_io(self->view, ior));
	EXPECT_EQ(0, v->io.n_Item);
}

struct create_arg {
	int fd;
	__s32 dev, got;
};

static void *create_in_thread(void *p)
{
	struct create_arg *a = p;

	a->got = create_ioreq(a->fd, a->dev, 0);
	return NULL;
}

TEST_F(io, create_errors_in_opera_order)
{
	char *bad = (char *)8;
	struct machio_pf_tag no_dev[] = { { MACHIO_PF_TAG_ITEM_PRI, 0, 1 }, { 0 } };
	struct machio_pf_tag port[] = {
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev },
		{ MACHIO_PF_CREATEIOREQ_TAG_REPLYPORT, 0, 123 }, { 0 },
	};
	struct machio_pf_tag unknown[] = {
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 12, 0, 1 }, { 0 },
	};
	struct machio_pf_tag reserved[] = {
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 9, 0, 1 }, { 0 },
	};
	struct machio_pf_tag null_name[] = {
		{ MACHIO_PF_TAG_ITEM_NAME, 0, 0 },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 0 },
	};
	struct machio_pf_tag bad_name[] = {
		{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)bad },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 0 },
	};
	struct machio_pf_tag unique[] = {
		{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)"ior" },
		{ MACHIO_PF_TAG_ITEM_UNIQUE_NAME, 0, 0 },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 0 },
	};
	struct machio_pf_tag unique_nameless[] = {
		{ MACHIO_PF_TAG_ITEM_UNIQUE_NAME, 0, 0 },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 0 },
	};
	char long_name[300];
	struct machio_pf_tag too_long[] = {
		{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)long_name },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 0 },
	};
	struct machio_pf_create a = { .type = IOREQ_TYPE };
	struct create_arg other = { .fd = self->fd, .dev = self->dev };
	__s32 ior;

	EXPECT_EQ(MACHIO_PF_BADTYPE, create_item(self->fd, (2 << 8) | MACHIO_PF_IOREQNODE, NULL));
	EXPECT_EQ(MACHIO_PF_BADSUBTYPE, create_item(self->fd, (1 << 8) | 7, NULL));	/* SEMA4 */
	EXPECT_EQ(BADITEM, create_item(self->fd, IOREQ_TYPE, NULL));	/* no device */
	EXPECT_EQ(BADITEM, create_item(self->fd, IOREQ_TYPE, no_dev));
	EXPECT_EQ(BADITEM, create_ioreq(self->fd, task_item(self->fd), 0));	/* not a device */
	EXPECT_EQ(BADITEM, create_ioreq(self->fd, self->dev + 0x10000, 0));	/* stale */
	EXPECT_EQ(BADITEM, create_item(self->fd, IOREQ_TYPE, port));	/* no such port */
	EXPECT_EQ(MACHIO_PF_BADTAG, create_item(self->fd, IOREQ_TYPE, unknown));
	EXPECT_EQ(MACHIO_PF_BADTAG, create_item(self->fd, IOREQ_TYPE, reserved));
	EXPECT_EQ(MACHIO_PF_BADNAME, create_item(self->fd, IOREQ_TYPE, null_name));
	EXPECT_EQ(MACHIO_PF_BADPTR, create_item(self->fd, IOREQ_TYPE, bad_name));
	EXPECT_EQ(MACHIO_PF_NOSUPPORT, create_item(self->fd, IOREQ_TYPE, unique));
	EXPECT_EQ(MACHIO_PF_BADNAME, create_item(self->fd, IOREQ_TYPE, unique_nameless));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	EXPECT_EQ(MACHIO_PF_BADNAME, create_item(self->fd, IOREQ_TYPE, too_long));
	long_name[MACHIO_PF_NAME_MAX] = 0;		/* 255 characters: fine */
	ior = create_item(self->fd, IOREQ_TYPE, too_long);
	EXPECT_LT(0, ior);
	EXPECT_EQ(0, DELETE_ITEM(self->fd, ior));
	EXPECT_EQ(MACHIO_PF_BADPTR, create_item(self->fd, IOREQ_TYPE, (void *)8));

	/* Another thread is another task: it has not opened the device. */
	in_thread(create_in_thread, &other);
	EXPECT_EQ(MACHIO_PF_ITEMNOTOPEN, other.got);

	/* Reserved fields. */
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_CREATE_ITEM, &a));
	a.reserved[1] = 0;
	a.result = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_CREATE_ITEM, &a));
}

TEST_F(io, tag_lists_jump_and_skip_as_in_opera)
{
	struct machio_pf_tag tail[] = {
		{ MACHIO_PF_TAG_NOP, 0, 99 },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev }, { 0 },
	};
	struct machio_pf_tag head[] = {
		{ MACHIO_PF_TAG_ITEM_PRI, 0, 0x1c8 },	/* a uint8: 0xc8 */
		{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)"first" },
		{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)"Second" },
		{ MACHIO_PF_TAG_ITEM_VERSION, 0, 3 },
		{ MACHIO_PF_TAG_ITEM_REVISION, 0, 4 },
		{ MACHIO_PF_TAG_JUMP, 0, (__u64)(uintptr_t)tail },
	};
	struct machio_pf_tag loop[] = { { MACHIO_PF_TAG_JUMP, 0, 0 } };
	struct machio_pf_tag end_jump[] = {
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)self->dev },
		{ MACHIO_PF_TAG_JUMP, 0, 0 },		/* NULL: the end */
	};
	const struct machio_pf_ioreq_view *v;
	__s32 ior;

	ior = create_item(self->fd, IOREQ_TYPE, head);
	ASSERT_LT(0, ior);
	v = ioreq_view(self->view, ior);
	EXPECT_EQ(0xc8, v->io.n_Priority);
	EXPECT_EQ(3, v->io.n_Version);
	EXPECT_EQ(4, v->io.n_Revision);
	EXPECT_EQ(0, v->io.n_Name);
	EXPECT_EQ(0, DELETE_ITEM(self->fd, ior));

	ior = create_item(self->fd, IOREQ_TYPE, end_jump);
	EXPECT_LT(0, ior);
	EXPECT_EQ(0, DELETE_ITEM(self->fd, ior));

	/* A list that jumps to itself: more than 20 jumps. */
	loop[0].arg = (__u64)(uintptr_t)loop;
	EXPECT_EQ(MACHIO_PF_BADPTR, create_item(self->fd, IOREQ_TYPE, loop));
}

TEST_F(io, bytes_written_read_back_with_io_actual)
{
	struct machio_pf_ioinfo w = rw_info(MACHIO_PF_CMD_WRITE, self->buf, 65536, 8, 0);
	struct machio_pf_ioinfo r = rw_info(MACHIO_PF_CMD_READ, self->back, 65536, 8, 0);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	__s32 sent;

	ASSERT_LT(0, ior);
	fill_pattern(self->buf, 65536, 21);
	sent = send_io(self->fd, ior, &w);
	ASSERT_LE(0, sent);
	ASSERT_GE(1, sent);
	EXPECT_EQ(0, WAIT_IO(self->fd, ior));
	EXPECT_EQ(1, check_io(self->view, ior));
	EXPECT_EQ(65536, v->io_Actual);
	EXPECT_EQ(0, v->io_Error);
	EXPECT_EQ(MACHIO_PF_CMD_WRITE, v->io_Info.ioi_Command);
	EXPECT_EQ(8, v->io_Info.ioi_Offset);
	EXPECT_EQ(0xabc, v->io_Info.ioi_User);
	EXPECT_EQ(65536, v->io_Info.ioi_Send.iob_Len);
	EXPECT_EQ((__u64)(uintptr_t)self->buf, v->io_Info.ioi_Send.iob_Buffer);

	/* DoIO: the read, waited for; its io_Error is what it returns. */
	EXPECT_EQ(0, do_io(self->fd, ior, &r));
	EXPECT_EQ(65536, v->io_Actual);
	EXPECT_EQ(0, memcmp(self->buf, self->back, 65536));
	/* The device agrees. */
	ASSERT_EQ(65536, pread(self->bfd, self->back, 65536, 8 * BS));
	EXPECT_EQ(0, memcmp(self->buf, self->back, 65536));
	/* DoIO forced IO_QUICK into the IOInfo it kept. */
	EXPECT_EQ(MACHIO_PF_IO_QUICK, v->io_Info.ioi_Flags);
}

TEST_F(io, big_transfers_are_cut_to_the_device_limits)
{
	struct machio_pf_ioinfo w = rw_info(MACHIO_PF_CMD_WRITE, self->buf, 1 << 20, 100, 0);
	struct machio_pf_ioinfo r = rw_info(MACHIO_PF_CMD_READ, self->back, 1 << 20, 100, 0);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);

	ASSERT_LT(0, ior);
	fill_pattern(self->buf, 1 << 20, 5);
	EXPECT_EQ(0, do_io(self->fd, ior, &w));
	memset(self->back, 0, 1 << 20);
	EXPECT_EQ(0, do_io(self->fd, ior, &r));
	EXPECT_EQ(1 << 20, ioreq_view(self->view, ior)->io_Actual);
	EXPECT_EQ(0, memcmp(self->buf, self->back, 1 << 20));
}

TEST_F(io, a_short_transfer_at_the_end_of_the_device)
{
	struct machio_pf_ioinfo w = rw_info(MACHIO_PF_CMD_WRITE, self->buf, 4 * BS, NBLOCKS - 2, 0);
	struct machio_pf_ioinfo r = rw_info(MACHIO_PF_CMD_READ, self->back, 4 * BS, NBLOCKS - 2, 0);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);

	fill_pattern(self->buf, 4 * BS, 9);
	EXPECT_EQ(0, do_io(self->fd, ior, &w));
	EXPECT_EQ(2 * BS, v->io_Actual);
	memset(self->back, 0x5a, 4 * BS);
	EXPECT_EQ(0, do_io(self->fd, ior, &r));
	EXPECT_EQ(2 * BS, v->io_Actual);
	EXPECT_EQ(0, memcmp(self->buf, self->back, 2 * BS));
	EXPECT_EQ(0x5a, self->back[2 * BS]);	/* nothing read past the end */
}

TEST_F(io, command_outcomes_go_to_io_error)
{
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	struct machio_pf_ioinfo info = { .ioi_Command = 9 };
	struct machio_pf_io out;

	/* Unknown command: done at once, BADCOMMAND in io_Error. */
	EXPECT_EQ(1, send_io_full(self->fd, ior, &info, 0, &out));
	EXPECT_EQ(MACHIO_PF_BADCOMMAND, out.error);
	EXPECT_EQ(MACHIO_PF_BADCOMMAND, v->io_Error);
	EXPECT_EQ(MACHIO_PF_BADCOMMAND, WAIT_IO(self->fd, ior));
	EXPECT_EQ(MACHIO_PF_BADCOMMAND, do_io(self->fd, ior, &info));

	info = rw_info(MACHIO_PF_CMD_READ, self->back, BS, NBLOCKS, 0);	/* past the end */
	EXPECT_EQ(MACHIO_PF_BADIOARG, do_io(self->fd, ior, &info));
	EXPECT_EQ(0, v->io_Actual);
	info = rw_info(MACHIO_PF_CMD_READ, self->back, BS, -1, 0);
	EXPECT_EQ(MACHIO_PF_BADIOARG, do_io(self->fd, ior, &info));
	info = rw_info(MACHIO_PF_CMD_READ, self->back, 100, 0, 0);	/* not whole blocks */
	EXPECT_EQ(MACHIO_PF_BADIOARG, do_io(self->fd, ior, &info));
	info = rw_info(MACHIO_PF_CMD_WRITE, self->buf + 8, BS, 0, 0);	/* misaligned for DMA */
	EXPECT_EQ(MACHIO_PF_BADIOARG, do_io(self->fd, ior, &info));
	/* Nothing to move: done, nothing moved. */
	info = rw_info(MACHIO_PF_CMD_READ, self->back, 0, 0, 0);
	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	EXPECT_EQ(0, v->io_Actual);
}

TEST_F(io, cmd_status_fills_opera_device_status)
{
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	struct machio_pf_device_status ds;
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_STATUS, &ds, sizeof(ds), 0, 0);
	unsigned char part[12];

	memset(&ds, 0xee, sizeof(ds));
	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	EXPECT_EQ(sizeof(ds), ioreq_view(self->view, ior)->io_Actual);
	EXPECT_EQ(MACHIO_PF_DS_DEVTYPE_HARDDISK, ds.ds_FamilyCode);
	EXPECT_EQ(sizeof(ds), ds.ds_MaximumStatusSize);
	EXPECT_EQ(BS, ds.ds_DeviceBlockSize);
	EXPECT_EQ(NBLOCKS, ds.ds_DeviceBlockCount);
	EXPECT_EQ(0, ds.ds_DeviceUsageFlags);
	EXPECT_EQ(0, ds.ds_DriverIdentity);
	EXPECT_EQ(0, ds.ds_headerPad);
	EXPECT_EQ(0, ds.ds_Reserved);

	/* As much as the buffer holds. */
	memset(part, 0xee, sizeof(part));
	info = rw_info(MACHIO_PF_CMD_STATUS, part, 8, 0, 0);
	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	EXPECT_EQ(8, ioreq_view(self->view, ior)->io_Actual);
	EXPECT_EQ(sizeof(ds), *(__u32 *)&part[4]);	/* ds_MaximumStatusSize */
	EXPECT_EQ(0xee, part[8]);
	/* An unwritable buffer: SendIO's BADPTR, nothing done. */
	info = rw_info(MACHIO_PF_CMD_STATUS, (void *)MACHIO_DEV, sizeof(ds), 0, 0);
	EXPECT_EQ(MACHIO_PF_BADPTR, do_io(self->fd, ior, &info));
}

struct ro_arg {
	const char *disk;
	int fd;
	__u32 usage;
	__s32 write_err, write_result;
};

/* A task whose device is open read-only: a read-only device to it. */
static void *read_only_task(void *p)
{
	struct ro_arg *a = p;
	struct machio_pf_device_status ds = {};
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_STATUS, &ds, sizeof(ds), 0, 0);
	unsigned char *buf = aligned_buf(BS, 4096);
	int bfd = open(a->disk, O_RDONLY | O_DIRECT | O_CLOEXEC);
	__s32 dev = OPEN_DEVICE(a->fd, bfd);
	__s32 ior = create_ioreq(a->fd, dev, 0);

	close(bfd);
	do_io(a->fd, ior, &info);
	a->usage = ds.ds_DeviceUsageFlags;
	info = rw_info(MACHIO_PF_CMD_WRITE, buf, BS, 0, 0);
	a->write_result = send_io(a->fd, ior, &info);
	a->write_err = WAIT_IO(a->fd, ior);
	free(buf);
	return NULL;
}

TEST_F(io, a_task_that_may_not_write_sees_a_read_only_device)
{
	struct ro_arg a = { .disk = self->nb.dev, .fd = self->fd };

	in_thread(read_only_task, &a);
	EXPECT_EQ(MACHIO_PF_DS_USAGE_READONLY, a.usage);
	EXPECT_EQ(1, a.write_result);
	EXPECT_EQ(MACHIO_PF_BADPRIV, a.write_err);
}

TEST_F(io, send_io_errors_in_opera_order_start_nothing)
{
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	struct machio_pf_ioinfo ok = rw_info(MACHIO_PF_CMD_READ, self->back, BS, 0, 0);
	struct machio_pf_ioinfo info;
	struct machio_pf_io a = { .ioreq = ior, .info = (__u64)(uintptr_t)&ok };
	void *gone;

	EXPECT_EQ(BADITEM, send_io(self->fd, 0, &ok));
	EXPECT_EQ(BADITEM, send_io(self->fd, self->dev, &ok));	/* a device, no IOReq */
	EXPECT_EQ(BADITEM, do_io(self->fd, self->dev, &ok));
	EXPECT_EQ(BADITEM, send_io(self->fd, ior + 0x10000, &ok));	/* stale */
	EXPECT_EQ(MACHIO_PF_BADPTR, send_io(self->fd, ior, (void *)8));

	info = ok;
	info.ioi_Flags2 = 1;
	EXPECT_EQ(MACHIO_PF_BADIOARG, send_io(self->fd, ior, &info));
	info = ok;
	info.ioi_Flags = MACHIO_PF_IO_QUICK | 4;
	EXPECT_EQ(MACHIO_PF_BADIOARG, send_io(self->fd, ior, &info));
	/* ioi_Flags2 is checked before the unit, the unit before the buffers. */
	info.ioi_Flags = 0;
	info.ioi_Unit = 1;
	info.ioi_Recv.iob_Len = -1;
	EXPECT_EQ(MACHIO_PF_BADUNIT, send_io(self->fd, ior, &info));
	info.ioi_Unit = 0;
	EXPECT_EQ(MACHIO_PF_BADPTR, send_io(self->fd, ior, &info));
	info = ok;
	info.ioi_Send.iob_Buffer = 0xffff800000000000ULL;	/* the kernel's */
	info.ioi_Send.iob_Len = BS;
	EXPECT_EQ(MACHIO_PF_BADPTR, send_io(self->fd, ior, &info));
	/* Memory that is not there, found when pinning it. */
	gone = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	munmap(gone, 8192);
	info = rw_info(MACHIO_PF_CMD_READ, gone, 8192, 0, 0);
	EXPECT_EQ(MACHIO_PF_BADPTR, send_io(self->fd, ior, &info));
	/* Read-only memory cannot be read into. */
	info = rw_info(MACHIO_PF_CMD_READ, (void *)((uintptr_t)v & ~4095UL), 4096, 0, 0);
	EXPECT_EQ(MACHIO_PF_BADPTR, send_io(self->fd, ior, &info));

	/* Not one started: the IOReq is as it was made. */
	EXPECT_EQ(MACHIO_PF_IO_DONE | MACHIO_PF_IO_QUICK, v->io_Flags);
	EXPECT_EQ(0, pending(self->fd) & SIGF_IODONE);

	/* The ioctl's own argument. */
	a.flags = MACHIO_PF_IO_PENDING;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_SEND_IO, &a));
	a.flags = 0;
	a.error = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_SEND_IO, &a));
	a.error = 0;
	a.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_SEND_IO, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->fd, MACHIO_IOC_PF_SEND_IO, (void *)8));
	EXPECT_EQ(0, do_io(self->fd, ior, &ok));
}

struct other_task {
	int fd;
	__s32 ior;
	const struct machio_pf_ioinfo *info;
	__s32 send, wait, abort, del;
};

static void *use_another_tasks_ioreq(void *p)
{
	struct other_task *o = p;

	o->send = send_io(o->fd, o->ior, o->info);
	o->wait = WAIT_IO(o->fd, o->ior);
	o->abort = ABORT_IO(o->fd, o->ior);
	o->del = DELETE_ITEM(o->fd, o->ior);
	return NULL;
}

TEST_F(io, only_the_owner_uses_an_ioreq)
{
	struct machio_pf_ioinfo info = { .ioi_Command = MACHIO_PF_CMD_STATUS };
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	struct other_task o = { .fd = self->fd, .ior = ior, .info = &info };

	/* Done without IO_QUICK: WaitIO checks the owner. */
	EXPECT_EQ(1, send_io(self->fd, ior, &info));
	in_thread(use_another_tasks_ioreq, &o);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, o.send);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, o.wait);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, o.abort);
	EXPECT_EQ(MACHIO_PF_BADPRIV, o.del);
	/* Done with IO_QUICK: WaitIO returns io_Error to anyone, as Opera's. */
	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	in_thread(use_another_tasks_ioreq, &o);
	EXPECT_EQ(0, o.wait);
	EXPECT_EQ(1, check_io(self->view, ior));

	/* DeleteItem of what one may not delete. */
	EXPECT_EQ(MACHIO_PF_BADPRIV, DELETE_ITEM(self->fd, self->dev));	/* the kernel's */
	EXPECT_EQ(MACHIO_PF_NOSUPPORT, DELETE_ITEM(self->fd, task_item(self->fd)));
	EXPECT_EQ(BADITEM, DELETE_ITEM(self->fd, 0));
	EXPECT_EQ(0, DELETE_ITEM(self->fd, ior));
	EXPECT_EQ(BADITEM, DELETE_ITEM(self->fd, ior));
	EXPECT_EQ(BADITEM, WAIT_IO(self->fd, ior));
	EXPECT_EQ(BADITEM, ABORT_IO(self->fd, ior));
}

TEST_F(io, io_quick_decides_whether_a_done_request_notifies)
{
	struct machio_pf_ioinfo info = { .ioi_Command = MACHIO_PF_CMD_STATUS };
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);

	clear_iodone(self->fd);
	/* Done in SendIO, asked to be quick: no notification. */
	info.ioi_Flags = MACHIO_PF_IO_QUICK;
	EXPECT_EQ(1, send_io(self->fd, ior, &info));
	EXPECT_EQ(MACHIO_PF_IO_DONE | MACHIO_PF_IO_QUICK, v->io_Flags);
	EXPECT_EQ(0, pending(self->fd) & SIGF_IODONE);
	/* Done in SendIO, not asked to be quick: notified all the same. */
	info.ioi_Flags = 0;
	EXPECT_EQ(1, send_io(self->fd, ior, &info));
	EXPECT_EQ(MACHIO_PF_IO_DONE, v->io_Flags);
	EXPECT_EQ(SIGF_IODONE, pending(self->fd) & SIGF_IODONE);
	/* WaitIO of a done request leaves the signal alone. */
	EXPECT_EQ(0, WAIT_IO(self->fd, ior));
	EXPECT_EQ(SIGF_IODONE, pending(self->fd) & SIGF_IODONE);
	clear_iodone(self->fd);
	/* DoIO is quick. */
	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	EXPECT_EQ(0, pending(self->fd) & SIGF_IODONE);
}

/* The item view's padding, and a new IOReq's unused fields, are zero. */
TEST_F(io, the_view_shows_nothing_but_the_ioreq)
{
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_READ, self->back, BS, 0, 0);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	const unsigned char *slot = (const void *)v;
	size_t i;

	info.ioi_Send.iob_pad = 0xffffffff;
	info.ioi_Recv.iob_pad = 0xffffffff;
	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	EXPECT_EQ(0, v->io_Info.ioi_Send.iob_pad);
	EXPECT_EQ(0, v->io_Info.ioi_Recv.iob_pad);
	EXPECT_EQ(0, v->io.n_pad);
	EXPECT_EQ(0, v->io_pad);
	EXPECT_EQ(0, v->io_Link[0] | v->io_Link[1] | v->io_CallBack | v->io_Dev);
	for (i = sizeof(*v); i < MACHIO_PF_VIEW_SLOT; i++)
		ASSERT_EQ(0, slot[i]);
}

/* --- a slow disk: requests in progress for SLOW_MS ------------------ */

FIXTURE(slow) {
	struct nullb nb;
	int fd, bfd;
	void *view;
	__s32 dev;
	unsigned char *buf;
	__u32 mach_dev;
};

static const char *slow_attrs[] = {
	"irqmode=2", "completion_nsec=200000000", "no_sched=1", "hw_queue_depth=1024", NULL,
};

FIXTURE_SETUP(slow)
{
	ASSERT_EQ(0, nullb_create(&self->nb, "pis", slow_attrs));
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	self->view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
	self->dev = OPEN_DEVICE(self->fd, self->bfd);
	ASSERT_LT(0, self->dev);
	ASSERT_EQ(0, mio_device_open(self->fd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->mach_dev));
	self->buf = aligned_buf(64 * BS, 4096);
	ASSERT_NE(NULL, self->buf);
	fill_pattern(self->buf, 64 * BS, 1);
}

FIXTURE_TEARDOWN(slow)
{
	munmap(self->view, MACHIO_PF_VIEW_SIZE);
	close(self->fd);
	close(self->bfd);
	free(self->buf);
	nullb_destroy(&self->nb);
}

/* The disk's in-flight limit (Mach's MDIOCSETL), through the Mach device name. */
static int set_limit(FIXTURE_DATA(slow) *self, __u32 limit)
{
	struct machio_device_limit a = {
		.device = self->mach_dev, .flags = MACHIO_LIMIT_SET, .limit = limit,
	};

	return machio_ioctl(self->fd, MACHIO_IOC_DEVICE_LIMIT, &a);
}

TEST_F(slow, a_deferred_request_notifies_exactly_once)
{
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_READ, self->buf, BS, 0,
					       MACHIO_PF_IO_QUICK);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	__s32 got;

	clear_iodone(self->fd);
	/* Deferred, though asked to be quick: IO_QUICK goes, it notifies. */
	EXPECT_EQ(0, send_io(self->fd, ior, &info));
	EXPECT_EQ(0, v->io_Flags);
	EXPECT_EQ(0, check_io(self->view, ior));
	EXPECT_EQ(MACHIO_PF_IONOTDONE, send_io(self->fd, ior, &info));
	got = sig_call(self->fd, MACHIO_IOC_PF_WAIT_SIGNAL, SIGF_IODONE);
	EXPECT_EQ(SIGF_IODONE, got);
	EXPECT_EQ(1, check_io(self->view, ior));
	EXPECT_EQ(BS, v->io_Actual);
	usleep(2 * SLOW_MS * 1000);
	EXPECT_EQ(0, pending(self->fd) & SIGF_IODONE);	/* once */
	EXPECT_EQ(0, WAIT_IO(self->fd, ior));

	/* WaitIO of one in progress sleeps, and takes the signal. */
	info.ioi_Flags = 0;
	EXPECT_EQ(0, send_io(self->fd, ior, &info));
	EXPECT_EQ(0, WAIT_IO(self->fd, ior));
	EXPECT_EQ(0, v->io_Flags & (MACHIO_PF_IO_WAITING | MACHIO_PF_IO_QUICK));
	EXPECT_EQ(0, pending(self->fd) & SIGF_IODONE);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(slow, do_io_waits_and_a_linux_signal_leaves_it_pending)
{
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_WRITE, self->buf, BS, 3, 0);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct machio_pf_io out;
	double t0 = now_ms();

	EXPECT_EQ(0, do_io(self->fd, ior, &info));
	EXPECT_LE(SLOW_MS * 0.8, now_ms() - t0);
	EXPECT_EQ(0, pending(self->fd) & SIGF_IODONE);

	/* Alarms every 20 ms: one lands in the wait, whenever it starts. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ualarm(20 * 1000, 20 * 1000);
	EXPECT_EQ(0, send_io_full(self->fd, ior, &info, MACHIO_PF_IO_WAIT, &out));
	ualarm(0, 0);
	EXPECT_EQ(MACHIO_PF_IO_PENDING, out.flags & MACHIO_PF_IO_PENDING);
	EXPECT_EQ(0, WAIT_IO(self->fd, ior));
	EXPECT_EQ(BS, ioreq_view(self->view, ior)->io_Actual);
	signal(SIGALRM, SIG_DFL);
}

TEST_F(slow, abort_io_takes_a_waiting_request_out_of_the_queue)
{
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_READ, self->buf, BS, 0, 0);
	__s32 first = create_ioreq(self->fd, self->dev, 0);
	__s32 second = create_ioreq(self->fd, self->dev, 0);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, second);
	struct other_task o = { .fd = self->fd, .ior = second, .info = &info };
	double t0;

	ASSERT_EQ(0, set_limit(self, 1));
	EXPECT_EQ(0, send_io(self->fd, first, &info));		/* at the device */
	info.ioi_Recv.iob_Buffer += BS;
	EXPECT_EQ(0, send_io(self->fd, second, &info));		/* waits behind it */
	in_thread(use_another_tasks_ioreq, &o);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, o.abort);
	t0 = now_ms();
	EXPECT_EQ(0, ABORT_IO(self->fd, second));
	EXPECT_EQ(MACHIO_PF_ABORTED, WAIT_IO(self->fd, second));
	EXPECT_GT(SLOW_MS * 0.5, now_ms() - t0);		/* not after the first */
	EXPECT_EQ(MACHIO_PF_ABORTED, v->io_Error);
	EXPECT_EQ(0, v->io_Actual);
	/* One at the device completes as usual; AbortIO of it is 0 too. */
	EXPECT_EQ(0, ABORT_IO(self->fd, first));
	EXPECT_EQ(0, WAIT_IO(self->fd, first));
	EXPECT_EQ(BS, ioreq_view(self->view, first)->io_Actual);
	EXPECT_EQ(0, ABORT_IO(self->fd, first));		/* done: no effect */
	EXPECT_EQ(0, WAIT_IO(self->fd, first));
	EXPECT_EQ(0, set_limit(self, 0));
}

TEST_F(slow, ioreq_priority_orders_the_dispatch_queue)
{
	static const __u8 prio[] = { 10, 50, 200, 100, 50 };
	static const int order[] = { 2, 3, 1, 4, 0 };	/* highest first, FIFO */
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_WRITE, self->buf, BS, 0, 0);
	__s32 plug = create_ioreq(self->fd, self->dev, 0);
	__s32 ior[5];
	int seen[5], nr_seen = 0, i;
	double t0 = now_ms();

	ASSERT_EQ(0, set_limit(self, 1));
	EXPECT_EQ(0, send_io(self->fd, plug, &info));		/* holds the device */
	for (i = 0; i < 5; i++) {
		ior[i] = create_ioreq(self->fd, self->dev, prio[i]);
		ASSERT_LT(0, ior[i]);
		info = rw_info(MACHIO_PF_CMD_WRITE, self->buf + i * BS, BS, 1 + i, 0);
		EXPECT_EQ(0, send_io(self->fd, ior[i], &info));
	}
	/* One completes per SLOW_MS: watch the order they are done in. */
	while (nr_seen < 5 && now_ms() - t0 < 60000) {
		for (i = 0; i < 5; i++) {
			int j, known = 0;

			for (j = 0; j < nr_seen; j++)
				known |= seen[j] == i;
			if (!known && check_io(self->view, ior[i]) == 1)
				seen[nr_seen++] = i;
		}
		usleep(5000);
	}
	ASSERT_EQ(5, nr_seen);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(order[i], seen[i]);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, WAIT_IO(self->fd, ior[i]));
	EXPECT_EQ(0, WAIT_IO(self->fd, plug));
	EXPECT_EQ(0, set_limit(self, 0));
}

TEST_F(slow, delete_ioreq_waits_for_its_io)
{
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_READ, self->buf, BS, 0, 0);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	__s32 waiting = create_ioreq(self->fd, self->dev, 0);
	double t0;

	ASSERT_EQ(0, set_limit(self, 1));
	t0 = now_ms();
	EXPECT_EQ(0, send_io(self->fd, ior, &info));
	EXPECT_EQ(0, send_io(self->fd, waiting, &info));
	/* Waiting in the queue: aborted, gone at once. */
	EXPECT_EQ(0, DELETE_ITEM(self->fd, waiting));
	EXPECT_GT(SLOW_MS * 0.5, now_ms() - t0);
	/* At the device: waited for. */
	EXPECT_EQ(0, DELETE_ITEM(self->fd, ior));
	EXPECT_LE(SLOW_MS * 0.8, now_ms() - t0);
	EXPECT_EQ(BADITEM, check_io(self->view, ior));
	EXPECT_EQ(BADITEM, WAIT_IO(self->fd, ior));
	EXPECT_EQ(0, set_limit(self, 0));
}

TEST_F(slow, the_last_close_of_the_device_deletes_its_ioreqs)
{
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_READ, self->buf, BS, 0, 0);
	__s32 again = OPEN_DEVICE(self->fd, self->bfd);
	__s32 ior = create_ioreq(self->fd, self->dev, 0);
	double t0;

	ASSERT_EQ(self->dev, again);
	ASSERT_LT(0, ior);
	EXPECT_EQ(0, CLOSE_ITEM(self->fd, self->dev));		/* still open once */
	EXPECT_EQ(1, check_io(self->view, ior));
	t0 = now_ms();
	EXPECT_EQ(0, send_io(self->fd, ior, &info));
	EXPECT_EQ(0, CLOSE_ITEM(self->fd, self->dev));		/* the last */
	EXPECT_LE(SLOW_MS * 0.8, now_ms() - t0);		/* its I/O waited for */
	EXPECT_EQ(BADITEM, check_io(self->view, ior));
	EXPECT_EQ(BADITEM, send_io(self->fd, ior, &info));
	/* Nobody has the device open any more: its item is gone too. */
	EXPECT_EQ(BADITEM, create_ioreq(self->fd, self->dev, 0));
}

struct exiting_task {
	int fd, bfd;
	unsigned char *buf;
	bool say_exit;
	__s32 ior, sent;
	pid_t tid;
};

static void *task_leaves_io_running(void *p)
{
	struct exiting_task *e = p;
	struct machio_pf_ioinfo info = rw_info(MACHIO_PF_CMD_READ, e->buf, BS, 0, 0);
	__s32 dev = OPEN_DEVICE(e->fd, e->bfd);

	e->tid = gettid();
	e->ior = create_ioreq(e->fd, dev, 0);
	e->sent = send_io(e->fd, e->ior, &info);
	if (e->say_exit) {
		struct machio_pf_task_info a = { .flags = MACHIO_PF_TASK_EXIT };

		machio_ioctl(e->fd, MACHIO_IOC_PF_TASK, &a);
	}
	return NULL;
}

TEST_F(slow, a_tasks_end_deletes_its_ioreqs)
{
	struct exiting_task e = { .fd = self->fd, .bfd = self->bfd, .buf = self->buf };
	double t0 = now_ms();
	__s32 left;

	e.say_exit = true;
	in_thread(task_leaves_io_running, &e);
	EXPECT_LE(SLOW_MS * 0.8, now_ms() - t0);	/* the end waited for the I/O */
	EXPECT_EQ(0, e.sent);
	EXPECT_EQ(BADITEM, check_io(self->view, e.ior));

	/* A thread gone without a word: its task ends at the next one made. */
	e.say_exit = false;
	in_thread(task_leaves_io_running, &e);
	EXPECT_EQ(0, e.sent);
	left = e.ior;
	EXPECT_NE(BADITEM, check_io(self->view, left));	/* still there */
	ASSERT_EQ(0, wait_thread_gone(e.tid));
	e.say_exit = true;
	in_thread(task_leaves_io_running, &e);		/* makes a task: reaps */
	EXPECT_EQ(BADITEM, check_io(self->view, left));
}

/* A process that exits with its I/O in progress leaves nothing behind. */
TEST_F(slow, a_process_exits_with_io_in_progress)
{
	int status, i;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		__s32 dev = OPEN_DEVICE(fd, self->bfd);

		for (i = 0; i < 8; i++) {
			struct machio_pf_ioinfo info =
				rw_info(MACHIO_PF_CMD_READ, self->buf + i * BS, BS, i, 0);

			if (send_io(fd, create_ioreq(fd, dev, 0), &info))
				_exit(1);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * As uid 65534: a read of more pages than the space may pin is refused
 * with NOMEM, nothing started, and one within the bound goes through.
 */
TEST_F(io, a_pin_bound_refuses_send_io_as_nobody)
{
	const char *param = "/sys/module/machio/parameters/max_pinned_pages";
	char old[32] = "";
	int status;
	pid_t pid;

	ASSERT_LT(0, read_text(param, old, sizeof(old)));
	ASSERT_EQ(0, chmod(self->nb.dev, 0666));
	ASSERT_EQ(0, write_file(param, "8"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct machio_pf_ioinfo big, small;
		int fd, bfd;
		__s32 dev, ior;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
		dev = OPEN_DEVICE(fd, bfd);
		ior = create_ioreq(fd, dev, 0);
		if (ior <= 0)
			_exit(11);
		big = rw_info(MACHIO_PF_CMD_READ, self->back, 64 * 1024, 0, 0);
		if (send_io(fd, ior, &big) != MACHIO_PF_NOMEM)
			_exit(12);
		if (WAIT_IO(fd, ior) != 0)	/* as made: done, quick */
			_exit(13);
		small = rw_info(MACHIO_PF_CMD_READ, self->back, 4096, 0, 0);
		if (do_io(fd, ior, &small) != 0)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	write_file(param, old);
	EXPECT_EQ(0, WEXITSTATUS(status));
}

MACHIO_TEST_MAIN
