// SPDX-License-Identifier: GPL-2.0
/*
 * Device requests answered by message: each of the five requests moves
 * the same bytes as its io_done_queue twin and answers in
 * device_reply.defs's format, on null_blk completing inline (irqmode 0),
 * in softirq (1) and from a timer (2); device errors come in the reply;
 * the request's own errors take nothing; a reply port destroyed with
 * requests in flight; a realtime reply port; out-of-line data received
 * by another process.
 */
#include "kselftest_harness.h"
#include "machio_mach_test.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define BS 512

/* The replies, as MIG lays them out. */
#pragma pack(push, 4)
struct count_reply {
	struct machio_msg_header h;
	__u8 ndr[8];
	__s32 code;
	__s32 count;
};

struct inband_reply {
	struct machio_msg_header h;
	__u8 ndr[8];
	__s32 code;
	__u32 count;
	unsigned char data[MACHIO_IO_INBAND_MAX];
};

struct ool_reply {
	struct machio_msg_header h;
	struct machio_msg_body b;
	struct machio_msg_ool_descriptor d;
	__u8 ndr[8];
	__s32 code;
	__u32 count;
};
#pragma pack(pop)

union reply {
	struct machio_msg_header h;
	struct count_reply c;
	struct inband_reply i;
	struct ool_reply o;
	unsigned char raw[256];
};

static int request(int fd, __u32 op, __u32 dev, __u32 reply, __u32 type, __u32 recnum,
		   __s32 count, const void *buf)
{
	struct machio_device_request a = {
		.op = op, .device = dev, .reply_port = reply, .reply_type = type,
		.recnum = recnum, .count = count, .buffer = (__u64)(uintptr_t)buf,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_DEVICE_REQUEST, &a);

	return ret ?: a.kr;
}

static int receive(int fd, __u32 port, union reply *r, __u32 timeout_ms)
{
	struct machio_msg a = {
		.msg = (__u64)(uintptr_t)r, .option = MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
		.rcv_size = sizeof(*r), .rcv_name = port, .timeout = timeout_ms,
	};
	int ret;

	memset(r, 0xee, sizeof(*r));
	ret = machio_ioctl(fd, MACHIO_IOC_MSG, &a);
	return ret ?: a.kr;
}

FIXTURE(dreply) {
	struct nullb nb;
	int mfd;
	int bfd;
	__u32 dev;
	__u32 reply;
	unsigned char *out;
	unsigned char *in;
};

FIXTURE_VARIANT(dreply) {
	const char *irqmode;
};

FIXTURE_VARIANT_ADD(dreply, inline) { .irqmode = "0" };
FIXTURE_VARIANT_ADD(dreply, softirq) { .irqmode = "1" };
FIXTURE_VARIANT_ADD(dreply, timer) { .irqmode = "2" };

FIXTURE_SETUP(dreply)
{
	const char *attrs[] = { NULL, "completion_nsec=20000", NULL };
	char irq[16];

	snprintf(irq, sizeof(irq), "irqmode=%s", variant->irqmode);
	attrs[0] = irq;
	ASSERT_EQ(0, nullb_create(&self->nb, "dr", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	ASSERT_EQ(0, mio_device_open(self->mfd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->dev));
	self->reply = allocate(self->mfd, MACHIO_PORT_RIGHT_RECEIVE);
	ASSERT_NE(0, self->reply);
	self->out = aligned_buf(16 * BS, 4096);
	self->in = aligned_buf(16 * BS, 4096);
	ASSERT_NE(NULL, self->out);
	ASSERT_NE(NULL, self->in);
	fill_pattern(self->out, 16 * BS, 5);
}

FIXTURE_TEARDOWN(dreply)
{
	close(self->mfd);
	close(self->bfd);
	nullb_destroy(&self->nb);
	free(self->out);
	free(self->in);
}

TEST_F(dreply, every_request_moves_the_bytes_and_answers_by_message)
{
	union reply r;

	/* device_write_request: 8 blocks. */
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_WRITE, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 0, 8 * BS, self->out));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_WRITE_REPLY, r.h.msgh_id);
	EXPECT_EQ(sizeof(r.c), r.h.msgh_size);
	EXPECT_EQ(MACHIO_MSGH_BITS(0, MSGT(MOVE_SEND_ONCE)), r.h.msgh_bits);
	EXPECT_EQ(self->reply, r.h.msgh_local_port);
	EXPECT_EQ(0, r.h.msgh_remote_port);
	EXPECT_EQ(1, r.c.ndr[4]);
	EXPECT_EQ(0, r.c.code);
	EXPECT_EQ(8 * BS, r.c.count);
	ASSERT_EQ(8 * BS, pread(self->bfd, self->in, 8 * BS, 0));
	EXPECT_EQ(0, memcmp(self->out, self->in, 8 * BS));

	/* device_read_request: out of line, in fresh memory. */
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 0, 8 * BS, NULL));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_READ_REPLY, r.h.msgh_id);
	EXPECT_EQ(sizeof(r.o), r.h.msgh_size);
	EXPECT_EQ(MACHIO_MSGH_BITS_COMPLEX | MACHIO_MSGH_BITS(0, MSGT(MOVE_SEND_ONCE)),
		  r.h.msgh_bits);
	EXPECT_EQ(1, r.o.b.msgh_descriptor_count);
	EXPECT_EQ(MACHIO_MSG_OOL_DESCRIPTOR, r.o.d.type);
	EXPECT_EQ(8 * BS, r.o.d.size);
	EXPECT_EQ(0, r.o.code);
	EXPECT_EQ(8 * BS, r.o.count);
	ASSERT_NE(0, r.o.d.address);
	EXPECT_EQ(0, memcmp(self->out, (void *)(uintptr_t)r.o.d.address, 8 * BS));
	munmap((void *)(uintptr_t)r.o.d.address, 8 * BS);

	/* device_read_overwrite_request: into our buffer. */
	memset(self->in, 0, 16 * BS);
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 2, 4 * BS, self->in));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_READ_REPLY_OVERWRITE, r.h.msgh_id);
	EXPECT_EQ(0, r.c.code);
	EXPECT_EQ(4 * BS, r.c.count);
	EXPECT_EQ(0, memcmp(self->out + 2 * BS, self->in, 4 * BS));

	/* device_write_request_inband, device_read_request_inband: 100 bytes at block 9. */
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_WRITE_INBAND, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 9, 100, self->out + 3000));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_WRITE_REPLY_INBAND, r.h.msgh_id);
	EXPECT_EQ(0, r.c.code);
	EXPECT_EQ(100, r.c.count);
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ_INBAND, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 9, 100, NULL));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_READ_REPLY_INBAND, r.h.msgh_id);
	EXPECT_EQ(40 + 100, r.h.msgh_size);
	EXPECT_EQ(0, r.i.code);
	EXPECT_EQ(100, r.i.count);
	EXPECT_EQ(0, memcmp(self->out + 3000, r.i.data, 100));
	EXPECT_EQ(0, status(self->mfd, self->reply, 5));	/* no send-once right left */
}

TEST_F(dreply, device_errors_come_in_the_reply)
{
	union reply r;
	__u32 blocks = 64 * 1024 * 1024 / BS;	/* the 64 MiB device's end */

	/* device_read_reply's RetCode: the code alone. */
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), blocks, BS, NULL));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_READ_REPLY, r.h.msgh_id);
	EXPECT_EQ(36, r.h.msgh_size);
	EXPECT_EQ(MACHIO_MSGH_BITS(0, MSGT(MOVE_SEND_ONCE)), r.h.msgh_bits);
	EXPECT_EQ(MACHIO_D_INVALID_RECNUM, r.c.code);
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_WRITE, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 0, 100, self->out));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_WRITE_REPLY, r.h.msgh_id);
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, r.c.code);
	EXPECT_EQ(0, r.c.count);
	ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ_INBAND, self->dev, self->reply,
			     MSGT(MAKE_SEND_ONCE), 0, 129, NULL));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, r.i.code);
	EXPECT_EQ(0, r.i.count);
	EXPECT_EQ(40, r.h.msgh_size);
}

TEST_F(dreply, a_refused_request_takes_nothing)
{
	struct machio_device_request a = {
		.op = MACHIO_OP_READ, .device = self->dev, .reply_port = self->reply,
		.reply_type = MSGT(MAKE_SEND_ONCE), .count = BS,
	};
	union reply r;
	__u32 so = 0x6901;
	struct machio_port_insert_right ins = {
		.name = so, .poly = self->reply, .msgt_name = MSGT(MAKE_SEND_ONCE),
	};

	/* Not a device, not a reply right; a buffer that cannot be pinned. */
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, request(self->mfd, MACHIO_OP_READ, self->reply,
						    self->reply, MSGT(MAKE_SEND_ONCE), 0, BS,
						    NULL));
	EXPECT_EQ(MACHIO_SEND_INVALID_REPLY, request(self->mfd, MACHIO_OP_READ, self->dev,
						     0x7777701, MSGT(MAKE_SEND_ONCE), 0, BS,
						     NULL));
	EXPECT_EQ(MACHIO_SEND_INVALID_REPLY, request(self->mfd, MACHIO_OP_READ, self->dev,
						     self->reply, MSGT(COPY_SEND), 0, BS, NULL));
	ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PORT_INSERT_RIGHT, &ins));
	ASSERT_EQ(0, ins.kr);
	EXPECT_EQ(MACHIO_SEND_INVALID_DATA, request(self->mfd, MACHIO_OP_WRITE, self->dev, so,
						    MSGT(MOVE_SEND_ONCE), 0, BS, (void *)4096));
	EXPECT_EQ(MACHIO_SEND_INVALID_DATA, request(self->mfd, MACHIO_OP_WRITE_INBAND,
						    self->dev, so, MSGT(MOVE_SEND_ONCE), 0, 8,
						    (void *)8));
	/* The moved send-once right is still there, and nothing came. */
	EXPECT_EQ(1, status(self->mfd, self->reply, 5));
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, receive(self->mfd, self->reply, &r, 0));
	/* It goes with a good request. */
	EXPECT_EQ(0, request(self->mfd, MACHIO_OP_READ_INBAND, self->dev, so,
			     MSGT(MOVE_SEND_ONCE), 0, 16, NULL));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 5000));
	EXPECT_EQ(MACHIO_DS_READ_REPLY_INBAND, r.h.msgh_id);
	/* The form: ops, dispositions, reserved fields. */
	a.op = MACHIO_OP_READ_FIXED;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &a));
	a.op = MACHIO_OP_READ;
	a.reply_type = MSGT(MOVE_RECEIVE);
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &a));
	a.reply_type = MSGT(MAKE_SEND_ONCE);
	a.flags = 2;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &a));
	a.flags = 0;
	a.rcv_size = 64;	/* a receive's fields without the receive */
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &a));
	a.rcv_size = 0;
	a.rcv_msg = 64;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &a));
	a.rcv_msg = 0;
	a.mode = 0x100;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, (void *)8));
}

/* A request and the receive of its reply in one call (MACHIO_DEVREQ_RECEIVE). */
static int request_rpc(int fd, __u32 op, __u32 dev, __u32 reply, __u32 recnum, __s32 count,
		       const void *buf, void *r, __u32 rcv_size)
{
	struct machio_device_request a = {
		.op = op, .device = dev, .reply_port = reply,
		.reply_type = MSGT(MAKE_SEND_ONCE), .recnum = recnum, .count = count,
		.buffer = (__u64)(uintptr_t)buf, .rcv_msg = (__u64)(uintptr_t)r,
		.rcv_size = rcv_size, .flags = MACHIO_DEVREQ_RECEIVE,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_DEVICE_REQUEST, &a);

	return ret ?: a.kr;
}

/*
 * The RPC form: a write and a read back, each answered in the same call,
 * byte for byte; the request's errors come before any receive, the
 * receive's after the request went (its reply then waits on the port).
 */
TEST_F(dreply, a_request_and_its_reply_in_one_call)
{
	union reply r;
	int i;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, request_rpc(self->mfd, MACHIO_OP_WRITE, self->dev, self->reply, 2 * i,
					 2 * BS, self->out + 2 * i * BS, &r, sizeof(r)));
		EXPECT_EQ(MACHIO_DS_WRITE_REPLY, r.h.msgh_id);
		EXPECT_EQ(0, r.c.code);
		EXPECT_EQ(2 * BS, r.c.count);
		EXPECT_EQ(self->reply, r.h.msgh_local_port);
	}
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, request_rpc(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
					 self->reply, 2 * i, 2 * BS, self->in + 2 * i * BS, &r,
					 sizeof(r)));
		EXPECT_EQ(MACHIO_DS_READ_REPLY_OVERWRITE, r.h.msgh_id);
		EXPECT_EQ(0, r.c.code);
		EXPECT_EQ(2 * BS, r.c.count);
	}
	EXPECT_EQ(0, memcmp(self->out, self->in, 16 * BS));
	ASSERT_EQ(0, request_rpc(self->mfd, MACHIO_OP_READ_INBAND, self->dev, self->reply, 3, 40,
				 NULL, &r, sizeof(r)));
	EXPECT_EQ(MACHIO_DS_READ_REPLY_INBAND, r.h.msgh_id);
	EXPECT_EQ(40, r.i.count);
	EXPECT_EQ(0, memcmp(self->out + 3 * BS, r.i.data, 40));
	/* The request's own error: nothing sent, nothing received. */
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, request_rpc(self->mfd, MACHIO_OP_READ_INBAND,
							self->reply, self->reply, 0, 8, NULL, &r,
							sizeof(r)));
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, receive(self->mfd, self->reply, &r, 0));
	/*
	 * Too small for the reply: MACH_RCV_TOO_LARGE, the reply destroyed as
	 * mach_msg destroys it, its unused send-once right telling the port.
	 */
	EXPECT_EQ(MACHIO_RCV_TOO_LARGE, request_rpc(self->mfd, MACHIO_OP_READ_OVERWRITE,
						    self->dev, self->reply, 0, BS, self->in, &r,
						    sizeof(struct machio_msg_header)));
	ASSERT_EQ(0, receive(self->mfd, self->reply, &r, 0));
	EXPECT_EQ(MACHIO_NOTIFY_SEND_ONCE, r.h.msgh_id);
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, receive(self->mfd, self->reply, &r, 0));
	/*
	 * A reply buffer it cannot write: MACH_RCV_INVALID_DATA, the reply
	 * taken and destroyed, as mach_msg's receive; the data was read.
	 */
	memset(self->in, 0, BS);
	EXPECT_EQ(MACHIO_RCV_INVALID_DATA,
		  request_rpc(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, self->reply, 4, BS,
			      self->in, (void *)8, sizeof(r)));
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, receive(self->mfd, self->reply, &r, 0));
	EXPECT_EQ(0, memcmp(self->out + 4 * BS, self->in, BS));
}

TEST_F(dreply, a_reply_port_destroyed_with_requests_in_flight)
{
	struct machio_port_right d = { .op = MACHIO_PORT_OP_DESTROY, .name = self->reply };
	struct machio_query q = {};
	int i;

	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, request(self->mfd, i % 2 ? MACHIO_OP_READ : MACHIO_OP_WRITE,
				     self->dev, self->reply, MSGT(MAKE_SEND_ONCE), i, BS,
				     self->out));
	ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PORT_RIGHT, &d));
	ASSERT_EQ(0, d.kr);
	/* Every request completes, its reply discarded: none is left. */
	for (i = 0; i < 500; i++) {
		memset(&q, 0, sizeof(q));
		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_QUERY, &q));
		if (!q.nr_requests && !q.nr_pinned_pages)
			break;
		usleep(10 * 1000);
	}
	EXPECT_EQ(0, q.nr_requests);
	EXPECT_EQ(0, q.nr_pinned_pages);
}

TEST_F(dreply, a_realtime_reply_port)
{
	__u32 rt = allocate_qos(self->mfd, MACHIO_PORT_RIGHT_RECEIVE, MACHIO_QOS_RT);
	union reply r;
	int i;

	ASSERT_NE(0, rt);
	/* More requests than its queue holds: the replies past it allocate, all come. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ_INBAND, self->dev, rt,
				     MSGT(MAKE_SEND_ONCE), i, 64, NULL));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, receive(self->mfd, rt, &r, 5000));
		EXPECT_EQ(MACHIO_DS_READ_REPLY_INBAND, r.h.msgh_id);
		EXPECT_EQ(0, r.i.code);
		EXPECT_EQ(64, r.i.count);
	}
	EXPECT_EQ(0, status(self->mfd, rt, 4));	/* mps_msgcount */
}

/* Out-of-line data is the requester's: another process receiving the reply gets none. */
TEST_F(dreply, out_of_line_data_received_by_another_process)
{
	int ready[2], status_;
	char name[64];
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	snprintf(name, sizeof(name), "machio-dreply-%d", getpid());
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int mine = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		__u32 port = allocate(mine, MACHIO_PORT_RIGHT_RECEIVE);
		struct machio_netname ci = {
			.op = MACHIO_NETNAME_CHECK_IN, .server = MACHIO_NAME_SERVER, .port = port,
		};
		union reply r;
		int kr;

		memcpy(ci.name, name, strlen(name));
		if (machio_ioctl(mine, MACHIO_IOC_NETNAME, &ci) || ci.kr ||
		    write(ready[1], "r", 1) != 1)
			_exit(10);
		kr = receive(mine, port, &r, 10000);
		if (kr != (MACHIO_RCV_BODY_ERROR | MACHIO_MSG_VM_SPACE))
			_exit(11);
		if (r.h.msgh_id != MACHIO_DS_READ_REPLY || r.o.d.address || r.o.d.size ||
		    r.o.count || r.o.code)
			_exit(12);
		_exit(0);
	}
	{
		struct machio_netname lu = { .op = MACHIO_NETNAME_LOOK_UP, .server = MACHIO_NAME_SERVER };
		char c;

		ASSERT_EQ(1, read(ready[0], &c, 1));
		memcpy(lu.name, name, strlen(name));
		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_NETNAME, &lu));
		ASSERT_EQ(0, lu.kr);
		/* The reply goes to the child's port, by the send right the look-up gave. */
		ASSERT_EQ(0, request(self->mfd, MACHIO_OP_READ, self->dev, lu.port,
				     MSGT(MOVE_SEND), 0, 4 * BS, NULL));
	}
	ASSERT_EQ(pid, waitpid(pid, &status_, 0));
	EXPECT_TRUE(WIFEXITED(status_));
	EXPECT_EQ(0, WEXITSTATUS(status_));
}

TEST_HARNESS_MAIN
