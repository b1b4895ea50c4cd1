// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures, injected one at a time with fail-nth (the debug
 * kernel has FAULT_INJECTION and FAILSLAB): the Nth slab allocation of the
 * calling thread fails, for N = 1, 2, ... until the call makes fewer than
 * N allocations.  Every outcome must be one of: the call itself refuses
 * (ENOMEM: KERN_RESOURCE_SHORTAGE), the completion says D_NO_MEMORY, or
 * the request succeeds with the right bytes.  kmemleak and KASAN (checked
 * by the VM runner) see that the error paths free what they took.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <sys/eventfd.h>
#include <sys/mman.h>

#define BS 512
#define FAILSLAB "/sys/kernel/debug/failslab"
#define FAIL_NTH "/proc/thread-self/fail-nth"
#define FAIL_PAGE "/sys/kernel/debug/fail_page_alloc"
#define MAX_NTH 64

static int read_int(const char *path)
{
	char buf[32] = {};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

static void arm_nth(int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	write_file(FAIL_NTH, buf);
}

/* True if the fault was not reached (the call made fewer than N allocations). */
static bool disarm_nth(void)
{
	bool unused = read_int(FAIL_NTH) > 0;

	arm_nth(0);
	return unused;
}

FIXTURE(fault) {
	struct nullb nb;
	int mfd;
	int bfd;
	__u32 queue;
	__u32 dev;
	unsigned char *out;
	unsigned char *in;
};

FIXTURE_SETUP(fault)
{
	const char *attrs[] = { "irqmode=1", NULL };

	/* Only the debug kernel injects faults; elsewhere the body skips. */
	if (access(FAIL_NTH, W_OK) || access(FAILSLAB, F_OK))
		return;
	/* GFP_KERNEL allocations are exempt unless told otherwise. */
	ASSERT_EQ(0, write_file(FAILSLAB "/ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_file(FAILSLAB "/verbose", "0"));
	ASSERT_EQ(0, nullb_create(&self->nb, "f", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &self->queue));
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	ASSERT_EQ(0, mio_device_open(self->mfd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->dev));
	self->out = aligned_buf(8 * 4096, 4096);
	self->in = aligned_buf(8 * 4096, 4096);
	ASSERT_NE(NULL, self->out);
	ASSERT_NE(NULL, self->in);
	fill_pattern(self->out, 8 * 4096, 9);
	/* null_blk allocates its backing pages on first write: do that now. */
	ASSERT_EQ(8 * 4096, pwrite(self->bfd, self->out, 8 * 4096, 0));
}

FIXTURE_TEARDOWN(fault)
{
	if (!self->nb.dir[0])
		return;
	write_file(FAILSLAB "/ignore-gfp-wait", "Y");
	close(self->mfd);
	close(self->bfd);
	nullb_destroy(&self->nb);
	free(self->out);
	free(self->in);
}

#define REQUIRE_FAULT_INJECTION()					\
	do {								\
		if (!self->nb.dir[0])					\
			SKIP(return, "no fail-nth/failslab (debug kernel only)"); \
	} while (0)

/*
 * Run one submit of @op with the Nth allocation failing, for every N, and
 * check each outcome.  Returns how many ended in D_NO_MEMORY.
 */
static int sweep(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self, __u32 op,
		 __s32 count, int *refused)
{
	struct machio_io_done_result res;
	int n, nomem = 0;
	bool unused = false;
	void *buf = op == MACHIO_OP_READ_OVERWRITE ? self->in : self->out;

	*refused = 0;
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		int ret;

		memset(self->in, 0, 8 * 4096);
		arm_nth(n);
		ret = mio_submit(self->mfd, op, self->dev, self->queue, n, 0, 0, count, buf);
		unused = disarm_nth();
		if (ret == -ENOMEM) {
			(*refused)++;
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("fail-nth %d", n);
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ((__u32)n, res.qd_reqid);
		if (res.qd_code == MACHIO_D_NO_MEMORY) {
			nomem++;
			EXPECT_EQ(0, res.qd_count);
			EXPECT_EQ(0, res.qd_data);
			continue;
		}
		ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code) TH_LOG("fail-nth %d", n);
		EXPECT_EQ(count, res.qd_count);
		if (op == MACHIO_OP_READ_OVERWRITE)
			EXPECT_EQ(0, memcmp(self->out, self->in, count));
		if (op == MACHIO_OP_READ) {
			EXPECT_EQ(0, memcmp(self->out, (void *)(uintptr_t)res.qd_data, count));
			munmap((void *)(uintptr_t)res.qd_data, count);
		}
		if (op == MACHIO_OP_READ_INBAND)
			EXPECT_EQ(0, memcmp(self->out, res.qd_inline, count));
	}
	/* The sweep went past the last allocation the call makes. */
	EXPECT_TRUE(unused);
	return nomem;
}

/*
 * A batch of four overwrite reads with the Nth allocation failing: the
 * call accepts a prefix (or refuses the first with ENOMEM), and every
 * accepted request completes with D_NO_MEMORY or the right bytes.
 */
TEST_F(fault, submit_batch)
{
	struct machio_io_request reqs[4];
	struct machio_submit_batch a;
	struct machio_io_done_result res;
	int n, i, short_batches = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		__u32 queue;
		long ret;

		/* A fresh queue: its pool is empty, so each request is allocated. */
		ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &queue));
		memset(self->in, 0, 8 * 4096);
		memset(reqs, 0, sizeof(reqs));
		for (i = 0; i < 4; i++) {
			reqs[i].op = MACHIO_OP_READ_OVERWRITE;
			reqs[i].device = self->dev;
			reqs[i].queue = queue;
			reqs[i].reqid = i;
			reqs[i].recnum = i * 8;
			reqs[i].count = 4096;
			reqs[i].buffer = (__u64)(uintptr_t)(self->in + i * 4096);
		}
		memset(&a, 0, sizeof(a));
		a.requests = (__u64)(uintptr_t)reqs;
		a.nr = 4;
		arm_nth(n);
		ret = ioctl(self->mfd, MACHIO_IOC_SUBMIT_BATCH, &a);
		ret = ret < 0 ? -errno : ret;
		unused = disarm_nth();
		if (ret != -ENOMEM) {
			ASSERT_LE(1, ret) TH_LOG("fail-nth %d", n);
			ASSERT_GE(4, ret);
			short_batches += ret < 4;
		}
		for (i = 0; i < ret; i++) {
			ASSERT_EQ(0, mio_wait(self->mfd, queue, &res));
			if (res.qd_code == MACHIO_D_NO_MEMORY)
				continue;
			ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code) TH_LOG("fail-nth %d", n);
			EXPECT_EQ(0, memcmp(self->out + res.qd_reqid * 4096,
					    self->in + res.qd_reqid * 4096, 4096));
		}
		ASSERT_EQ(0, mio_terminate(self->mfd, queue));
		ASSERT_EQ(0, mio_deallocate(self->mfd, queue));
	}
	EXPECT_TRUE(unused);
	EXPECT_LE(1, short_batches);	/* a later request refused: a prefix */
}

TEST_F(fault, out_of_line_read)
{
	int refused, nomem;

	REQUIRE_FAULT_INJECTION();
	nomem = sweep(_metadata, self, MACHIO_OP_READ, 8 * 4096, &refused);
	EXPECT_LE(1, refused);	/* the request itself */
	EXPECT_LE(1, nomem);	/* its mapping or page array */
}

TEST_F(fault, overwrite_read)
{
	int refused;

	REQUIRE_FAULT_INJECTION();
	sweep(_metadata, self, MACHIO_OP_READ_OVERWRITE, 8 * 4096, &refused);
	EXPECT_LE(1, refused);
}

TEST_F(fault, write)
{
	int refused;

	REQUIRE_FAULT_INJECTION();
	sweep(_metadata, self, MACHIO_OP_WRITE, 8 * 4096, &refused);
	EXPECT_LE(1, refused);
}

TEST_F(fault, inband_read_and_write)
{
	int refused;

	REQUIRE_FAULT_INJECTION();
	sweep(_metadata, self, MACHIO_OP_READ_INBAND, 100, &refused);
	EXPECT_LE(1, refused);
	sweep(_metadata, self, MACHIO_OP_WRITE_INBAND, 100, &refused);
	EXPECT_LE(1, refused);
}

TEST_F(fault, queue_create_and_device_open)
{
	__u32 name;
	int n, ret, refused = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		arm_nth(n);
		ret = mio_queue_create(self->mfd, mio_host(self->mfd), &name);
		unused = disarm_nth();
		if (ret == -ENOMEM) {
			refused++;
			continue;
		}
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, mio_terminate(self->mfd, name));
		ASSERT_EQ(0, mio_deallocate(self->mfd, name));
	}
	EXPECT_LE(1, refused);
	unused = false;
	refused = 0;
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		arm_nth(n);
		ret = mio_device_open(self->mfd, self->bfd, MACHIO_D_READ, &name);
		unused = disarm_nth();
		if (ret == -ENOMEM) {
			refused++;
			continue;
		}
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, mio_deallocate(self->mfd, name));
	}
	EXPECT_LE(1, refused);
}

/*
 * A thread's first Portfolio call, in a fresh space, makes its user's item
 * table and its task: under each allocation failure it answers NOMEM, and
 * the next call works.
 */
TEST_F(fault, portfolio_task_and_signal)
{
	int n, fd, nomem = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_pf_task_info t = {};
		struct machio_pf_signal a = {};

		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PF_ALLOC_SIGNAL, &a));
		unused = disarm_nth();
		if (a.result == MACHIO_PF_NOMEM) {
			nomem++;
			memset(&a, 0, sizeof(a));
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PF_ALLOC_SIGNAL, &a));
		}
		EXPECT_EQ(0x100, a.result) TH_LOG("fault %d", n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PF_TASK, &t));
		EXPECT_LT(0, t.result);
		close(fd);
	}
	EXPECT_LE(1, nomem);
}

/*
 * OpenNamedDevice's kernel half under each allocation failure: NOMEM, or
 * the device item; afterwards the device opens and closes as ever.
 */
TEST_F(fault, portfolio_open_device)
{
	struct machio_pf_signal sig = {};
	int n, nomem = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	/* The task and the item table first, outside the sweep. */
	ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PF_GET_SIGNALS, &sig));
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_pf_call a = { .arg = self->bfd };
		struct machio_pf_call c = {};

		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PF_OPEN_DEVICE, &a));
		unused = disarm_nth();
		if (a.result == MACHIO_PF_NOMEM) {
			nomem++;
			memset(&a, 0, sizeof(a));
			a.arg = self->bfd;
			ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PF_OPEN_DEVICE, &a));
		}
		ASSERT_LT(0, a.result) TH_LOG("fault %d: %#x", n, a.result);
		c.arg = a.result;
		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PF_CLOSE_ITEM, &c));
		EXPECT_EQ(0, c.result);
	}
	EXPECT_LE(1, nomem);
}

/* A Portfolio call on one item: its Err. */
static __s32 pf_item_call(int fd, unsigned long cmd, __s32 item)
{
	struct machio_pf_call a = { .arg = item };

	return machio_ioctl(fd, cmd, &a) ? -1 : a.result;
}

/* DoIO of @cmd, @len bytes at block 0 from or into @buf: its result. */
static __s32 pf_do_io(int fd, __s32 ior, __u8 cmd, void *buf, __s32 len)
{
	struct machio_pf_ioinfo info = { .ioi_Command = cmd };
	struct machio_pf_io a = {
		.ioreq = ior, .flags = MACHIO_PF_IO_WAIT, .info = (__u64)(uintptr_t)&info,
	};
	struct machio_pf_iobuf *b = cmd == MACHIO_PF_CMD_WRITE ? &info.ioi_Send : &info.ioi_Recv;

	b->iob_Buffer = (__u64)(uintptr_t)buf;
	b->iob_Len = len;
	return machio_ioctl(fd, MACHIO_IOC_PF_SEND_IO, &a) ? -1 : a.result;
}

/*
 * CreateItem of @type from @tags with the @n-th allocation failing: the
 * item, made again if the first try said NOMEM (counted in @nomem); @unused
 * stays true only while fault @n is not reached.
 */
static __s32 create_nth(int fd, __s32 type, const struct machio_pf_tag *tags, int n,
			bool *unused, int *nomem)
{
	struct machio_pf_create c = { .type = type, .tags = (__u64)(uintptr_t)tags };
	int ret;

	arm_nth(n);
	ret = machio_ioctl(fd, MACHIO_IOC_PF_CREATE_ITEM, &c);
	*unused = disarm_nth() && *unused;
	if (ret)
		return ret;
	if (c.result != MACHIO_PF_NOMEM)
		return c.result;
	(*nomem)++;
	c.result = 0;
	ret = machio_ioctl(fd, MACHIO_IOC_PF_CREATE_ITEM, &c);
	return ret ? ret : c.result;
}

/*
 * CreateIOReq and DoIO under each allocation failure: the IOReq or NOMEM;
 * a write that goes through or NOMEM, leaving the IOReq usable; the bytes
 * of every write that went through read back.
 */
TEST_F(fault, portfolio_ioreq_create_and_io)
{
	__s32 dev, ior;
	int n, nomem = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	dev = pf_item_call(self->mfd, MACHIO_IOC_PF_OPEN_DEVICE, self->bfd);
	ASSERT_LT(0, dev);
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_pf_tag tags[] = {
			{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)"faulty" },
			{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)dev }, { 0 },
		};
		__s32 got;

		unused = true;
		ior = create_nth(self->mfd, (MACHIO_PF_KERNELNODE << 8) | MACHIO_PF_IOREQNODE, tags,
				 n, &unused, &nomem);
		ASSERT_LT(0, ior) TH_LOG("fault %d: %#x", n, ior);

		fill_pattern(self->out, 4096, n);
		arm_nth(n);
		got = pf_do_io(self->mfd, ior, MACHIO_PF_CMD_WRITE, self->out, 4096);
		unused = disarm_nth() && unused;
		if (got == MACHIO_PF_NOMEM) {
			nomem++;
			got = pf_do_io(self->mfd, ior, MACHIO_PF_CMD_WRITE, self->out, 4096);
		}
		ASSERT_EQ(0, got) TH_LOG("fault %d: %#x", n, got);
		memset(self->in, 0, 4096);
		ASSERT_EQ(0, pf_do_io(self->mfd, ior, MACHIO_PF_CMD_READ, self->in, 4096));
		EXPECT_EQ(0, memcmp(self->out, self->in, 4096)) TH_LOG("fault %d", n);
		EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_DELETE_ITEM, ior));
	}
	EXPECT_LE(2, nomem);
	EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_CLOSE_ITEM, dev));
}

/*
 * CreateMsgPort, CreateSmallMsg and an IOReq with a reply port under each
 * allocation failure: the item or NOMEM, and then the message goes round
 * and the IOReq's completion arrives on the port.
 */
TEST_F(fault, portfolio_ports_and_messages)
{
	__s32 dev;
	int n, nomem = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	dev = pf_item_call(self->mfd, MACHIO_IOC_PF_OPEN_DEVICE, self->bfd);
	ASSERT_LT(0, dev);
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_pf_tag port_tags[] = {
			{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)"faulty-port" }, { 0 },
		};
		struct machio_pf_tag msg_tags[] = {
			{ MACHIO_PF_CREATEMSG_TAG_REPLYPORT, 0, 0 },
			{ MACHIO_PF_CREATEMSG_TAG_MSG_IS_SMALL, 0, 0 }, { 0 },
		};
		struct machio_pf_tag ior_tags[] = {
			{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)dev },
			{ MACHIO_PF_CREATEIOREQ_TAG_REPLYPORT, 0, 0 }, { 0 },
		};
		struct machio_pf_msg_call send = {};
		__s32 port, msg, ior;

		unused = true;
		port = create_nth(self->mfd, (MACHIO_PF_KERNELNODE << 8) | MACHIO_PF_MSGPORTNODE,
				  port_tags, n, &unused, &nomem);
		ASSERT_LT(0, port) TH_LOG("fault %d: %#x", n, port);
		msg_tags[0].arg = (__u64)port;
		msg = create_nth(self->mfd, (MACHIO_PF_KERNELNODE << 8) | MACHIO_PF_MESSAGENODE,
				 msg_tags, n, &unused, &nomem);
		ASSERT_LT(0, msg) TH_LOG("fault %d: %#x", n, msg);
		send.port = port;
		send.msg = msg;
		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PF_SEND_MSG, &send));
		EXPECT_EQ(0, send.result);
		EXPECT_EQ(msg, pf_item_call(self->mfd, MACHIO_IOC_PF_GET_MSG, port));
		ior_tags[1].arg = (__u64)port;
		ior = create_nth(self->mfd, (MACHIO_PF_KERNELNODE << 8) | MACHIO_PF_IOREQNODE,
				 ior_tags, n, &unused, &nomem);
		ASSERT_LT(0, ior) TH_LOG("fault %d: %#x", n, ior);
		EXPECT_EQ(0, pf_do_io(self->mfd, ior, MACHIO_PF_CMD_READ, self->in, 4096));
		EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_GET_MSG, port));	/* quick */
		EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_DELETE_ITEM, ior));
		EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_DELETE_ITEM, msg));
		EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_DELETE_ITEM, port));
	}
	EXPECT_LE(3, nomem);
	EXPECT_EQ(0, pf_item_call(self->mfd, MACHIO_IOC_PF_CLOSE_ITEM, dev));
}

/* mach_port_allocate_full's kern_return_t, the name in and out. */
static int port_allocate(int fd, __u32 right, __u32 qos, __u32 *name)
{
	struct machio_port_allocate a = { .right = right, .qos = qos, .name = *name };

	if (machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &a))
		return -1;
	*name = a.name;
	return a.kr;
}

/*
 * Port rights under each allocation failure: a receive right, a set, and
 * a send-once right under a name that grows the table, each made or
 * refused with KERN_RESOURCE_SHORTAGE; then they all work and go.
 */
TEST_F(fault, port_rights)
{
	int n, shortage = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		struct machio_port_insert_right ins = {
			.name = 0x2001, .msgt_name = MACHIO_MSG_TYPE_MAKE_SEND_ONCE,
		};
		__u32 rcv = 0, set = 0;
		int kr[3];

		ASSERT_LE(0, fd);
		arm_nth(n);
		kr[0] = port_allocate(fd, MACHIO_PORT_RIGHT_RECEIVE, MACHIO_QOS_RT, &rcv);
		kr[1] = port_allocate(fd, MACHIO_PORT_RIGHT_PORT_SET, 0, &set);
		ins.poly = rcv;
		kr[2] = kr[0] ? MACHIO_KERN_RESOURCE_SHORTAGE :
			machio_ioctl(fd, MACHIO_IOC_PORT_INSERT_RIGHT, &ins) ?: ins.kr;
		unused = disarm_nth();
		for (int i = 0; i < 3; i++) {
			EXPECT_TRUE(kr[i] == MACHIO_KERN_SUCCESS ||
				    kr[i] == MACHIO_KERN_RESOURCE_SHORTAGE) TH_LOG("fault %d: %d", n, kr[i]);
			shortage += kr[i] == MACHIO_KERN_RESOURCE_SHORTAGE;
		}
		/* Whatever was refused works now. */
		if (kr[0]) {
			ASSERT_EQ(MACHIO_KERN_SUCCESS,
				  port_allocate(fd, MACHIO_PORT_RIGHT_RECEIVE, 0, &rcv));
			ins.poly = rcv;
		}
		if (kr[0] || kr[2]) {
			ins.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_INSERT_RIGHT, &ins));
			EXPECT_EQ(MACHIO_KERN_SUCCESS, ins.kr);
		}
		close(fd);	/* every right goes with the space */
	}
	EXPECT_LE(1, shortage);
}

/*
 * mach_msg under each allocation failure: a send that cannot get memory
 * fails with MACH_SEND_NO_BUFFER and loses nothing (the send right it
 * would have moved is still there), and the next send goes through.
 */
TEST_F(fault, mach_msg_send)
{
	int n, no_buffer = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE };
		struct machio_msg_header h = { .msgh_size = sizeof(h), .msgh_id = n };
		struct machio_port_insert_right ins = { .msgt_name = MACHIO_MSG_TYPE_MAKE_SEND };
		struct machio_port_right refs = {
			.op = MACHIO_PORT_OP_GET_REFS, .right = MACHIO_PORT_RIGHT_SEND,
		};
		struct machio_msg m = {
			.msg = (__u64)(uintptr_t)&h, .option = MACHIO_SEND_MSG,
			.send_size = sizeof(h),
		};
		struct machio_msg r = {
			.msg = (__u64)(uintptr_t)&h, .option = MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
			.rcv_size = sizeof(h),
		};
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
		ins.name = ins.poly = pa.name;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_INSERT_RIGHT, &ins));
		h.msgh_bits = MACHIO_MSG_TYPE_MOVE_SEND;
		h.msgh_remote_port = pa.name;
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &m));
		unused = disarm_nth();
		refs.name = pa.name;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_RIGHT, &refs));
		if (m.kr == MACHIO_SEND_NO_BUFFER) {
			no_buffer++;
			EXPECT_EQ(1, refs.value) TH_LOG("fault %d: the right was lost", n);
			m.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &m));
		}
		EXPECT_EQ(MACHIO_MSG_SUCCESS, m.kr) TH_LOG("fault %d", n);
		r.rcv_name = pa.name;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &r));
		EXPECT_EQ(MACHIO_MSG_SUCCESS, r.kr);
		EXPECT_EQ(n, h.msgh_id);
		close(fd);
	}
	EXPECT_LE(1, no_buffer);
}

/*
 * @n dead names more in @fd: its first table has 15 names (16 slots, no
 * index 0), so a name past those must grow it.
 */
static void fill_table(int fd, int n)
{
	struct machio_port_allocate d = { .right = MACHIO_PORT_RIGHT_DEAD_NAME };

	for (int i = 0; i < n; i++) {
		d.kr = 0;
		d.name = 0;
		machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &d);
	}
}

/*
 * A complex message under each allocation failure, sent (carrying a
 * send-once right and a receive right) and received (into a space whose
 * table must grow for the new names): the send fails with
 * MACH_SEND_NO_BUFFER taking nothing, or goes; the receive gets the
 * message, with MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE where a name
 * could not be made (that right destroyed).  kmemleak watches the rest.
 */
TEST_F(fault, mach_msg_complex)
{
	int n, no_buffer = 0, body_error = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE };
		struct {
			struct machio_msg_header h;
			struct machio_msg_body b;
			struct machio_msg_port_descriptor d[2];
		} c = {};
		struct machio_port_right type = { .op = MACHIO_PORT_OP_TYPE };
		struct machio_msg m = {
			.msg = (__u64)(uintptr_t)&c, .option = MACHIO_SEND_MSG, .send_size = sizeof(c),
		};
		struct machio_msg r = {
			.msg = (__u64)(uintptr_t)&c, .option = MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
			.rcv_size = sizeof(c),
		};
		__u32 dest, carried;
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
		dest = pa.name;
		pa.kr = 0;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
		carried = pa.name;
		/* 15 names: the receive right's frees one, the second new name grows the table. */
		fill_table(fd, 10);
		c.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MACHIO_MSG_TYPE_MAKE_SEND;
		c.h.msgh_size = sizeof(c);
		c.h.msgh_remote_port = dest;
		c.h.msgh_id = n;
		c.b.msgh_descriptor_count = 2;
		c.d[0].name = carried;
		c.d[0].disposition = MACHIO_MSG_TYPE_MAKE_SEND_ONCE;
		c.d[1].name = carried;
		c.d[1].disposition = MACHIO_MSG_TYPE_MOVE_RECEIVE;
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &m));
		unused = disarm_nth();
		if (m.kr == MACHIO_SEND_NO_BUFFER) {
			no_buffer++;
			/* Nothing was taken: the receive right is still here. */
			type.name = carried;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_RIGHT, &type));
			EXPECT_EQ(MACHIO_PORT_TYPE_RECEIVE, type.value) TH_LOG("fault %d", n);
			m.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &m));
		}
		ASSERT_EQ(MACHIO_MSG_SUCCESS, m.kr) TH_LOG("fault %d", n);
		r.rcv_name = dest;
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &r));
		unused = disarm_nth() && unused;
		if (r.kr == (MACHIO_RCV_BODY_ERROR | MACHIO_MSG_IPC_SPACE)) {
			body_error++;
			EXPECT_TRUE(!c.d[0].name || !c.d[1].name) TH_LOG("fault %d", n);
		} else {
			ASSERT_EQ(MACHIO_MSG_SUCCESS, r.kr) TH_LOG("fault %d", n);
			EXPECT_NE(0, c.d[0].name);
			EXPECT_NE(0, c.d[1].name);
		}
		EXPECT_EQ(n, c.h.msgh_id);
		close(fd);
	}
	EXPECT_LE(1, no_buffer);
	EXPECT_LE(1, body_error);
}

/*
 * The name service under each allocation failure: a check-in that
 * cannot get memory is KERN_RESOURCE_SHORTAGE and holds nothing; a
 * look-up into a space whose table must grow is MACH_RCV_BODY_ERROR |
 * MACH_MSG_IPC_SPACE, and the name is still checked in.
 */
TEST_F(fault, netname)
{
	int n, shortage = 0, no_room = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE };
		struct machio_netname ci = { .op = MACHIO_NETNAME_CHECK_IN, .server = MACHIO_NAME_SERVER };
		struct machio_netname lu = { .op = MACHIO_NETNAME_LOOK_UP, .server = MACHIO_NAME_SERVER };
		struct machio_netname co = { .op = MACHIO_NETNAME_CHECK_OUT, .server = MACHIO_NAME_SERVER };
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC), other = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_LE(0, other);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
		snprintf(ci.name, sizeof(ci.name), "machio-fault-%d-%d", getpid(), n);
		memcpy(lu.name, ci.name, sizeof(lu.name));
		memcpy(co.name, ci.name, sizeof(co.name));
		ci.port = pa.name;
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_NETNAME, &ci));
		unused = disarm_nth();
		if (ci.kr == MACHIO_KERN_RESOURCE_SHORTAGE) {
			shortage++;
			ASSERT_EQ(0, machio_ioctl(other, MACHIO_IOC_NETNAME, &lu));
			EXPECT_EQ(MACHIO_KERN_INVALID_NAME, lu.kr);
			lu.kr = 0;
			ci.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_NETNAME, &ci));
		}
		ASSERT_EQ(MACHIO_NETNAME_SUCCESS, ci.kr) TH_LOG("fault %d", n);
		fill_table(other, 12);	/* 15 names: the right looked up grows the table */
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(other, MACHIO_IOC_NETNAME, &lu));
		unused = disarm_nth() && unused;
		if (lu.kr == (MACHIO_RCV_BODY_ERROR | MACHIO_MSG_IPC_SPACE)) {
			no_room++;
			EXPECT_EQ(0, lu.port);
		} else {
			EXPECT_EQ(MACHIO_NETNAME_SUCCESS, lu.kr) TH_LOG("fault %d", n);
			EXPECT_NE(0, lu.port);
		}
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_NETNAME, &co));
		EXPECT_EQ(MACHIO_NETNAME_SUCCESS, co.kr);
		close(other);
		close(fd);
	}
	EXPECT_LE(1, shortage);
	EXPECT_LE(1, no_room);
}

/*
 * mach_port_request_notification under each allocation failure: the
 * reservation fails with KERN_RESOURCE_SHORTAGE and nothing is
 * registered, or the request is in and fires later without allocating.
 */
TEST_F(fault, request_notification)
{
	int n, shortage = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE };
		struct machio_port_request_notification rq = {
			.variant = MACHIO_NOTIFY_NO_SENDERS, .sync = 1,
			.notify_type = MACHIO_MSG_TYPE_MAKE_SEND_ONCE,
		};
		struct machio_port_insert_right ins = { .msgt_name = MACHIO_MSG_TYPE_MAKE_SEND };
		struct machio_port_deallocate dealloc = {};
		struct machio_notification note;
		struct machio_msg r = {
			.msg = (__u64)(uintptr_t)&note, .option = MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
			.rcv_size = sizeof(note),
		};
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
		rq.name = ins.name = ins.poly = dealloc.name = pa.name;
		pa.kr = 0;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
		rq.notify = r.rcv_name = pa.name;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_INSERT_RIGHT, &ins));
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_REQUEST_NOTIFICATION, &rq));
		unused = disarm_nth();
		if (rq.kr == MACHIO_KERN_RESOURCE_SHORTAGE) {
			shortage++;
			rq.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_REQUEST_NOTIFICATION, &rq));
		}
		ASSERT_EQ(MACHIO_KERN_SUCCESS, rq.kr) TH_LOG("fault %d", n);
		/* The last send right goes with every allocation failing: it still fires. */
		arm_nth(1);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_DEALLOCATE, &dealloc));
		arm_nth(0);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &r));
		EXPECT_EQ(MACHIO_MSG_SUCCESS, r.kr);
		EXPECT_EQ(MACHIO_NOTIFY_NO_SENDERS, note.not_header.msgh_id);
		EXPECT_EQ(1, note.not_value);
		close(fd);
	}
	EXPECT_LE(1, shortage);
}

/*
 * The realtime guarantee: with every allocation of the sender failing
 * (fail-nth armed at each N in turn), sends to a realtime port with room
 * in its queue succeed, because its messages come from the pool made
 * with it; the same sends to a regular port fail with
 * MACH_SEND_NO_BUFFER and take nothing.  Raising the realtime port's
 * limit under the same failures is KERN_RESOURCE_SHORTAGE, the limit
 * unchanged.  kmemleak then finds every buffer accounted for.
 */
TEST_F(fault, realtime_sends_never_allocate)
{
	int n, regular_failed = 0, raise_failed = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_msg_header h = { .msgh_size = sizeof(h), .msgh_id = n };
		struct machio_msg m = {
			.msg = (__u64)(uintptr_t)&h, .option = MACHIO_SEND_MSG,
			.send_size = sizeof(h),
		};
		struct machio_msg r = {
			.msg = (__u64)(uintptr_t)&h, .option = MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
			.rcv_size = sizeof(h),
		};
		struct machio_port_attributes lim = {
			.flavor = MACHIO_PORT_LIMITS_INFO, .count = 1, .flags = MACHIO_PORT_ATTR_SET,
			.info = { MACHIO_PORT_QLIMIT_MAX },
		};
		__u32 rt = 0, regular = 0;
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC), i;

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, port_allocate(fd, MACHIO_PORT_RIGHT_RECEIVE, MACHIO_QOS_RT, &rt));
		ASSERT_EQ(0, port_allocate(fd, MACHIO_PORT_RIGHT_RECEIVE, 0, &regular));
		h.msgh_bits = MACHIO_MSG_TYPE_MAKE_SEND;
		/* The realtime port: its whole queue, every allocation failing from the Nth. */
		h.msgh_remote_port = rt;
		arm_nth(n);
		for (i = 0; i < MACHIO_PORT_QLIMIT_DEFAULT; i++) {
			m.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &m));
			EXPECT_EQ(MACHIO_MSG_SUCCESS, m.kr) TH_LOG("fault %d, send %d", n, i);
		}
		/* Wherever the Nth failure fell, no realtime send failed. */
		disarm_nth();
		/* The regular port: the same send. */
		h.msgh_remote_port = regular;
		arm_nth(n);
		m.kr = 0;
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &m));
		unused = disarm_nth();
		if (m.kr == MACHIO_SEND_NO_BUFFER)
			regular_failed++;
		else
			EXPECT_EQ(MACHIO_MSG_SUCCESS, m.kr);
		/* Raising the realtime limit needs buffers first. */
		lim.name = rt;
		arm_nth(n);
		ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ATTRIBUTES, &lim));
		unused = disarm_nth() && unused;
		if (lim.kr == MACHIO_KERN_RESOURCE_SHORTAGE) {
			struct machio_port_attributes get = {
				.name = rt, .flavor = MACHIO_PORT_LIMITS_INFO, .count = 1,
			};

			raise_failed++;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_PORT_ATTRIBUTES, &get));
			EXPECT_EQ(MACHIO_PORT_QLIMIT_DEFAULT, get.info[0]);
		} else {
			EXPECT_EQ(MACHIO_KERN_SUCCESS, lim.kr);
		}
		/* Everything sent is there. */
		r.rcv_name = rt;
		for (i = 0; i < MACHIO_PORT_QLIMIT_DEFAULT; i++) {
			r.kr = 0;
			ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_MSG, &r));
			EXPECT_EQ(MACHIO_MSG_SUCCESS, r.kr);
			EXPECT_EQ(n, h.msgh_id);
		}
		close(fd);
	}
	EXPECT_LE(1, regular_failed);
	EXPECT_LE(1, raise_failed);
}

/*
 * Device requests answered by message under each allocation failure: the
 * request is refused with MACH_SEND_NO_BUFFER and takes nothing (no reply
 * right, no reply), or it is accepted and its reply comes, with the bytes
 * or D_NO_MEMORY: completion itself never allocates.
 */
TEST_F(fault, device_request)
{
	static const __u32 ops[] = {
		MACHIO_OP_READ, MACHIO_OP_READ_INBAND, MACHIO_OP_READ_OVERWRITE, MACHIO_OP_WRITE,
	};
	int refused = 0;

	REQUIRE_FAULT_INJECTION();
	for (unsigned int o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		bool unused = false;

		for (int n = 1; n <= MAX_NTH && !unused; n++) {
			struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE };
			struct machio_device_request rq = {
				.op = ops[o], .device = self->dev,
				.reply_type = MACHIO_MSG_TYPE_MAKE_SEND_ONCE, .count = 4096,
				.buffer = (__u64)(uintptr_t)(ops[o] == MACHIO_OP_WRITE ? self->out :
							     self->in),
			};
			struct machio_port_attributes st = {
				.flavor = MACHIO_PORT_RECEIVE_STATUS, .count = 10,
			};
			union {
				struct machio_msg_header h;
				unsigned char raw[256];
			} r;
			struct machio_msg m = {
				.msg = (__u64)(uintptr_t)&r, .rcv_size = sizeof(r),
				.option = MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT, .timeout = 5000,
			};

			if (ops[o] == MACHIO_OP_READ_INBAND)
				rq.count = 100;
			ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PORT_ALLOCATE, &pa));
			rq.reply_port = m.rcv_name = st.name = pa.name;
			arm_nth(n);
			ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_REQUEST, &rq));
			unused = disarm_nth();
			if (rq.kr == MACHIO_SEND_NO_BUFFER) {
				refused++;
				ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_PORT_ATTRIBUTES, &st));
				EXPECT_EQ(0, st.info[5]) TH_LOG("op %u fault %d: a right was taken",
								ops[o], n);
				m.timeout = 0;
				ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_MSG, &m));
				EXPECT_EQ(MACHIO_RCV_TIMED_OUT, m.kr);
			} else {
				ASSERT_EQ(MACHIO_MSG_SUCCESS, rq.kr) TH_LOG("op %u fault %d", ops[o], n);
				ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_MSG, &m));
				ASSERT_EQ(MACHIO_MSG_SUCCESS, m.kr) TH_LOG("op %u fault %d", ops[o], n);
				EXPECT_LE(MACHIO_DS_WRITE_REPLY, r.h.msgh_id);
				if (ops[o] == MACHIO_OP_READ && (r.h.msgh_bits & MACHIO_MSGH_BITS_COMPLEX)) {
					struct machio_msg_ool_descriptor d;

					memcpy(&d, r.raw + 28, sizeof(d));
					if (d.address) {
						EXPECT_EQ(0, memcmp(self->out, (void *)(uintptr_t)d.address,
								    4096));
						munmap((void *)(uintptr_t)d.address, 4096);
					}
				}
			}
			{
				struct machio_port_right d = {
					.op = MACHIO_PORT_OP_DESTROY, .name = pa.name,
				};

				machio_ioctl(self->mfd, MACHIO_IOC_PORT_RIGHT, &d);
			}
		}
		EXPECT_TRUE(unused);
	}
	EXPECT_LE(1, refused);
}

/* Ring pages come from the page allocator: let fail-nth reach order 0 too. */
static void fail_pages_too(bool on)
{
	write_file(FAIL_PAGE "/ignore-gfp-wait", on ? "N" : "Y");
	write_file(FAIL_PAGE "/min-order", on ? "0" : "1");
	write_file(FAIL_PAGE "/verbose", on ? "0" : "2");
}

TEST_F(fault, queue_setup_with_ring_and_eventfd)
{
	int n, ret, refused = 0, efd = eventfd(0, EFD_CLOEXEC);
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	ASSERT_LE(0, efd);
	fail_pages_too(true);
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_queue_setup a = {
			.host = mio_host(self->mfd),
			.flags = MACHIO_QUEUE_RING | MACHIO_QUEUE_EVENTFD,
			.ring_entries = 256, .eventfd = efd,
		};
		struct mio_ring r = {};

		arm_nth(n);
		ret = mio_queue_setup(self->mfd, &a);
		unused = disarm_nth();
		if (ret == -ENOMEM) {
			refused++;
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("fail-nth %d", n);
		/* What was made works: a read completes into the ring. */
		ASSERT_EQ(0, mio_ring_map(&r, &a));
		memset(self->in, 0, 4096);
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, a.queue,
					n, 0, 8, 4096, self->in));
		ASSERT_EQ(1, mio_reap(self->mfd, a.queue, 1, MACHIO_CQE_MAX_SLOTS, c, -1));
		EXPECT_EQ(n, c[0].reqid);
		EXPECT_EQ(0, c[0].code);
		EXPECT_EQ(0, memcmp(self->out + 4096, self->in, 4096));
		ASSERT_EQ(0, mio_terminate(self->mfd, a.queue));
		ASSERT_EQ(0, mio_deallocate(self->mfd, a.queue));
		mio_ring_unmap(&r);
		close(a.fd);
	}
	fail_pages_too(false);
	close(efd);
	EXPECT_TRUE(unused);
	EXPECT_LE(3, refused);	/* queue, page array, ring pages, file */
}

/*
 * Reaping allocates nothing of its own, so no injected failure makes it
 * fail (debug code such as KASAN's stack depot may still reach a fault
 * point under it).
 */
TEST_F(fault, reap)
{
	struct machio_cqe c[8];
	bool unused = false;
	int ret, i, n;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
						self->queue, i, 0, i * 8, 4096,
						self->in + i * 4096));
		usleep(10000);
		arm_nth(n);
		ret = mio_reap(self->mfd, self->queue, 2, 8, c, -1);
		unused = disarm_nth();
		ASSERT_EQ(2, ret) TH_LOG("fail-nth %d", n);
	}
	EXPECT_TRUE(unused);
}

TEST_F(fault, buffer_register)
{
	int n, ret, refused = 0;
	bool unused = false;

	REQUIRE_FAULT_INJECTION();
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		struct machio_buffer_register a = {
			.addr = (__u64)(uintptr_t)self->in, .len = 8 * 4096,
		};
		struct machio_io_done_result res;

		arm_nth(n);
		ret = machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, &a);
		unused = disarm_nth();
		if (ret == -ENOMEM) {
			refused++;
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("fail-nth %d", n);
		/* It works: a read into it. */
		memset(self->in, 0, 4096);
		ret = machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &(struct machio_io_request){
			.op = MACHIO_OP_READ_FIXED, .device = self->dev, .queue = self->queue,
			.reqid = n, .recnum = 8, .count = 4096, .fixed = a.name });
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ(0, res.qd_code);
		EXPECT_EQ(0, memcmp(self->out + 4096, self->in, 4096));
		ASSERT_EQ(0, mio_deallocate(self->mfd, a.name));
	}
	EXPECT_TRUE(unused);
	EXPECT_LE(2, refused);	/* the buffer and its page array */
}

TEST(open_under_allocation_failure)
{
	int n, fd = -1;
	bool unused = false;

	if (access(FAIL_NTH, W_OK) || access(FAILSLAB, F_OK))
		SKIP(return, "no fail-nth/failslab (debug kernel only)");
	ASSERT_EQ(0, write_file(FAILSLAB "/ignore-gfp-wait", "N"));
	for (n = 1; n <= MAX_NTH && !unused; n++) {
		arm_nth(n);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		unused = disarm_nth();
		if (fd < 0) {
			EXPECT_EQ(ENOMEM, errno);
			continue;
		}
		close(fd);
	}
	write_file(FAILSLAB "/ignore-gfp-wait", "Y");
	EXPECT_TRUE(unused);
}

MACHIO_TEST_MAIN
