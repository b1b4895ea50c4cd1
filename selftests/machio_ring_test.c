// SPDX-License-Identifier: GPL-2.0
/*
 * Completion rings, queue files and batched reaping: MACHIO_IOC_QUEUE_SETUP
 * and MACHIO_IOC_QUEUE_REAP, the ring mapping, poll/epoll, eventfd, and
 * io_done_queue_wait's semantics kept on a ring (one per call, FIFO,
 * exactly once across threads, terminate wakes everyone).
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>

#define BS 512
#define RING_SLOTS_PARAM "/sys/module/machio/parameters/max_ring_slots"

FIXTURE(ring) {
	struct nullb nb;
	int mfd;
	int bfd;
	__u32 dev;
	__u32 queue;
	int qfd;
	struct mio_ring r;
	unsigned char *buf;
};

FIXTURE_SETUP(ring)
{
	const char *attrs[] = { "irqmode=1", "memory_backed=1", NULL };

	self->mfd = self->bfd = self->qfd = -1;
	memset(&self->r, 0, sizeof(self->r));
	ASSERT_EQ(0, nullb_create(&self->nb, "ri", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_open_disk(self->mfd, self->nb.dev, &self->bfd, &self->dev));
	ASSERT_EQ(0, mio_ring_queue(self->mfd, 64, &self->queue, &self->qfd, &self->r));
	self->buf = aligned_buf(1 << 20, 4096);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(ring)
{
	mio_ring_unmap(&self->r);
	if (self->qfd >= 0)
		close(self->qfd);
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->bfd >= 0)
		close(self->bfd);
	free(self->buf);
	nullb_destroy(&self->nb);
}

/*
 * Pop one completion, waiting in the kernel when the ring is empty.  The
 * kernel is asked for one slot (it takes every completion that fits),
 * and for five if the oldest is an inband read that needs them.
 */
static int pop_wait(struct mio_ring *r, int mfd, __u32 queue, struct machio_cqe *out)
{
	for (;;) {
		int n = mio_ring_pop(r, out);

		if (n < 0)
			return -ESHUTDOWN;
		if (n)
			return n;
		n = mio_reap(mfd, queue, 1, 1, out, -1);
		if (n == -EOVERFLOW)
			n = mio_reap(mfd, queue, 1, MACHIO_CQE_MAX_SLOTS, out, -1);
		if (n < 0)
			return n;
		if (n == 1)
			return out[0].slots;
	}
}

static void setup_expect(struct __test_metadata *_metadata, int mfd,
			 struct machio_queue_setup *a, int err)
{
	EXPECT_EQ(err, mio_queue_setup(mfd, a));
}

TEST_F(ring, setup_rejects_bad_arguments)
{
	struct machio_queue_setup a;
	__u32 host = mio_host(self->mfd);
	struct machio_query query;
	int efd, old;
	char val[32];

#define SETUP(field_init, err)						\
	do {								\
		memset(&a, 0, sizeof(a));				\
		a.host = host;						\
		field_init;						\
		setup_expect(_metadata, self->mfd, &a, err);		\
	} while (0)

	SETUP(a.flags = 1U << 7, -EINVAL);
	SETUP((a.flags = MACHIO_QUEUE_RING, a.ring_entries = 0), -EINVAL);
	SETUP((a.flags = MACHIO_QUEUE_RING, a.ring_entries = 48), -EINVAL);
	SETUP((a.flags = MACHIO_QUEUE_RING, a.ring_entries = 131072), -EINVAL);
	SETUP(a.ring_entries = 64, -EINVAL);
	SETUP(a.eventfd = 3, -EINVAL);
	SETUP(a.host = self->dev, -EINVAL);
	SETUP(a.queue = 1, -EINVAL);
	SETUP(a.fd = 1, -EINVAL);
	SETUP(a.ring_size = 1, -EINVAL);
	SETUP(a.pad = 1, -EINVAL);
	SETUP(a.reserved[3] = 1, -EINVAL);
	SETUP((a.flags = MACHIO_QUEUE_EVENTFD, a.eventfd = 999), -EBADF);
	/* An fd that is not an eventfd. */
	SETUP((a.flags = MACHIO_QUEUE_EVENTFD, a.eventfd = self->bfd), -EINVAL);
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_QUEUE_SETUP, (void *)8));

	/* Past max_ring_slots: -EAGAIN, and the space's count is unchanged. */
	efd = open(RING_SLOTS_PARAM, O_RDONLY);
	ASSERT_LE(0, efd);
	ASSERT_LT(0, read(efd, val, sizeof(val) - 1));
	close(efd);
	old = atoi(val);
	ASSERT_EQ(0, write_file(RING_SLOTS_PARAM, "100"));
	SETUP((a.flags = MACHIO_QUEUE_RING, a.ring_entries = 64), -EAGAIN);
	ASSERT_EQ(0, write_file(RING_SLOTS_PARAM, "128"));
	SETUP((a.flags = MACHIO_QUEUE_RING, a.ring_entries = 64), 0);
	close(a.fd);
	snprintf(val, sizeof(val), "%d", old);
	ASSERT_EQ(0, write_file(RING_SLOTS_PARAM, val));
#undef SETUP
	ASSERT_EQ(0, mio_query(self->mfd, &query));
	EXPECT_EQ(128, query.nr_ring_slots);
	EXPECT_EQ(old, query.max_ring_slots);
}

/* The answer cannot be written back: the queue, its file and ring are undone. */
TEST_F(ring, setup_undone_when_the_reply_cannot_be_written)
{
	struct machio_queue_setup *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct machio_query q0, q1;
	int fd0, fd1;

	ASSERT_NE(MAP_FAILED, a);
	memset(a, 0, sizeof(*a));
	a->host = mio_host(self->mfd);
	a->flags = MACHIO_QUEUE_RING;
	a->ring_entries = 256;
	ASSERT_EQ(0, mprotect(a, 4096, PROT_READ));
	ASSERT_EQ(0, mio_query(self->mfd, &q0));
	fd0 = dup(0);
	close(fd0);
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_QUEUE_SETUP, a));
	fd1 = dup(0);
	close(fd1);
	EXPECT_EQ(fd0, fd1);	/* no descriptor was left behind */
	ASSERT_EQ(0, mio_query(self->mfd, &q1));
	EXPECT_EQ(q0.nr_ring_slots, q1.nr_ring_slots);
	munmap(a, 4096);
}

/* As uid 65534: ring slots come out of the space's max_ring_slots budget. */
TEST_F(ring, ring_budget_as_nobody)
{
	pid_t pid;
	int status;

	ASSERT_EQ(0, write_file(RING_SLOTS_PARAM, "8192"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd, i, ret;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		/* Two rings of 4096 use it up: the third is refused. */
		for (i = 0; i < 3; i++) {
			struct machio_queue_setup a = {
				.host = mio_host(fd), .flags = MACHIO_QUEUE_RING,
				.ring_entries = 4096,
			};

			ret = mio_queue_setup(fd, &a);
			if (ret != (i < 2 ? 0 : -EAGAIN))
				_exit(12 + i);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	write_file(RING_SLOTS_PARAM, "524288");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(ring, mmap_rules)
{
	struct machio_queue_setup a = { .host = mio_host(self->mfd) };
	void *p;

	/* Private, too long, or past the end: refused. */
	p = mmap(NULL, self->r.size, PROT_READ, MAP_PRIVATE, self->qfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->r.size + 4096, PROT_READ, MAP_SHARED, self->qfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->qfd, self->r.size);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(64, self->r.hdr->entries);
	EXPECT_EQ(0, self->r.hdr->head);
	EXPECT_EQ(0, self->r.hdr->tail);
	EXPECT_EQ(0, self->r.hdr->flags);

	/* A queue without a ring has nothing to map. */
	ASSERT_EQ(0, mio_queue_setup(self->mfd, &a));
	EXPECT_EQ(0, a.ring_size);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, a.fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
	close(a.fd);
}

TEST_F(ring, writes_and_reads_complete_into_the_ring)
{
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	unsigned char *in = self->buf + (512 << 10);
	int i;

	fill_pattern(self->buf, 16 * BS, 7);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue,
					100 + i, 0, i, BS, self->buf + i * BS));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(1, pop_wait(&self->r, self->mfd, self->queue, c));
		EXPECT_EQ(MACHIO_IO_DONE_WRITE, c[0].type);
		EXPECT_EQ(0, c[0].code);
		EXPECT_EQ(BS, c[0].count);
		EXPECT_EQ(1, c[0].slots);
		EXPECT_EQ(0, c[0].flags);
		EXPECT_EQ(0, c[0].reserved);
		EXPECT_LE(100, c[0].reqid);
		EXPECT_GT(116, c[0].reqid);
	}
	memset(in, 0, 16 * BS);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
					self->queue, 200 + i, 0, i, BS, in + i * BS));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(1, pop_wait(&self->r, self->mfd, self->queue, c));
		EXPECT_EQ(MACHIO_IO_DONE_OVERWRITE, c[0].type);
		EXPECT_EQ(0, c[0].code);
		EXPECT_EQ((__u64)(uintptr_t)(in + (c[0].reqid - 200) * BS), c[0].data);
	}
	EXPECT_EQ(0, memcmp(self->buf, in, 16 * BS));
	/* 32 completions, one slot each. */
	EXPECT_EQ((32ULL << 32) | 32, self->r.hdr->tail);
	EXPECT_EQ(self->r.hdr->tail, self->r.hdr->head);
}

TEST_F(ring, out_of_line_read_through_the_ring)
{
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];

	fill_pattern(self->buf, 4 * BS, 3);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, MACHIO_PORT_NULL,
				1, 0, 8, 4 * BS, self->buf));
	usleep(100000);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ, self->dev, self->queue,
				2, 0, 8, 4 * BS, NULL));
	ASSERT_EQ(1, pop_wait(&self->r, self->mfd, self->queue, c));
	ASSERT_EQ(0, c[0].code);
	ASSERT_EQ(4 * BS, c[0].count);
	ASSERT_NE(0, c[0].data);
	EXPECT_EQ(0, memcmp(self->buf, (void *)(uintptr_t)c[0].data, 4 * BS));
	EXPECT_EQ(0, munmap((void *)(uintptr_t)c[0].data, 4096 * ((4 * BS + 4095) / 4096)));
}

TEST_F(ring, inband_read_takes_five_slots_and_classic_wait_unpacks_it)
{
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	struct machio_io_done_result res;

	fill_pattern(self->buf, BS, 5);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, MACHIO_PORT_NULL,
				1, 0, 20, BS, self->buf));
	usleep(100000);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_INBAND, self->dev, self->queue,
				7, 0, 20, 100, NULL));
	ASSERT_EQ(5, pop_wait(&self->r, self->mfd, self->queue, c));
	EXPECT_EQ(MACHIO_CQE_INBAND, c[0].flags);
	EXPECT_EQ(100, c[0].count);
	EXPECT_EQ(0, c[0].data);
	EXPECT_EQ(0, memcmp(self->buf, &c[1], 100));
	/* The rest of the last slot is zero. */
	EXPECT_EQ(0, ((unsigned char *)&c[1])[100]);

	/* A short inband read takes fewer slots. */
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_INBAND, self->dev, self->queue,
				8, 0, 20, 10, NULL));
	ASSERT_EQ(2, pop_wait(&self->r, self->mfd, self->queue, c));

	/* io_done_queue_wait on a ring queue: the kernel takes it from the ring. */
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_INBAND, self->dev, self->queue,
				9, 0, 20, 128, NULL));
	memset(&res, 0xaa, sizeof(res));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(MACHIO_IO_DONE_READ, res.qd_type);
	EXPECT_EQ(9, res.qd_reqid);
	EXPECT_EQ(0, res.qd_code);
	EXPECT_EQ(128, res.qd_count);
	EXPECT_EQ(0, res.qd_pad0);
	EXPECT_EQ(0, res.qd_pad1);
	EXPECT_EQ((__u64)(uintptr_t)res.qd_inline, res.qd_data);
	EXPECT_EQ(0, memcmp(self->buf, res.qd_inline, 128));
	EXPECT_EQ(mio_ring_ready(&self->r), 0);
}

TEST_F(ring, full_ring_refuses_requests_and_never_overflows)
{
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	struct mio_ring r8 = {};
	__u32 q8;
	int qfd8, i;

	ASSERT_EQ(0, mio_ring_queue(self->mfd, 8, &q8, &qfd8, &r8));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, q8,
					i, 0, i, BS, self->buf + i * BS));
	/* In flight or waiting, eight completions fill it: the ninth is refused. */
	EXPECT_EQ(-EAGAIN, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, q8,
				      8, 0, 8, BS, self->buf));
	/* An inband read needs five slots. */
	while (mio_ring_ready(&r8) < 8)
		usleep(1000);
	ASSERT_EQ(1, mio_ring_pop(&r8, c));
	EXPECT_EQ(0, c[0].reqid);
	EXPECT_EQ(-EAGAIN, mio_submit(self->mfd, MACHIO_OP_READ_INBAND, self->dev, q8,
				      9, 0, 0, 16, NULL));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, q8,
				10, 0, 0, BS, self->buf));
	for (i = 1; i < 8; i++) {
		ASSERT_EQ(1, pop_wait(&r8, self->mfd, q8, c));
		EXPECT_EQ(i, c[0].reqid);
	}
	ASSERT_EQ(1, pop_wait(&r8, self->mfd, q8, c));
	EXPECT_EQ(10, c[0].reqid);
	/* Wrapped around: nine completions through eight slots. */
	EXPECT_EQ((9ULL << 32) | 9, r8.hdr->tail);
	mio_ring_unmap(&r8);
	close(qfd8);
}

/* A consumer that scribbles on head hurts only itself. */
TEST_F(ring, wild_head_counts_as_full)
{
	self->r.hdr->head = 0x12345678deadbeefULL;
	EXPECT_EQ(-EAGAIN, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
				      self->queue, 1, 0, 0, BS, self->buf));
	self->r.hdr->head = 0;
	EXPECT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
				self->queue, 1, 0, 0, BS, self->buf));
	while (!mio_ring_ready(&self->r))
		usleep(1000);
}

static void reap_errors(struct __test_metadata *_metadata, int mfd, __u32 queue,
			__u32 dev, unsigned char *buf)
{
	struct machio_cqe c[8];
	struct machio_queue_reap a = { .queue = queue, .max = 8, .cqes = (__u64)(uintptr_t)c };

	a.max = 0;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	a.max = 65537;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	a.max = 4;
	a.min = 5;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	a.min = 0;
	a.flags = 2;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	a.flags = 0;
	a.timeout_ns = 5;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	a.timeout_ns = 0;
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	a.reserved[1] = 0;
	a.queue = dev;
	EXPECT_EQ(-EINVAL, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(mfd, MACHIO_IOC_QUEUE_REAP, (void *)8));

	/* Nothing waiting: min 0 and a zero timeout return 0 at once. */
	EXPECT_EQ(0, mio_reap(mfd, queue, 0, 8, c, -1));
	EXPECT_EQ(0, mio_reap(mfd, queue, 1, 8, c, 0));

	/* A bad array: -EFAULT, and the completion stays for the next call. */
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 42, 0, 0, BS, buf));
	EXPECT_EQ(-EFAULT, mio_reap(mfd, queue, 1, 8, (void *)8, -1));
	ASSERT_EQ(1, mio_reap(mfd, queue, 1, 8, c, -1));
	EXPECT_EQ(42, c[0].reqid);

	/* An inband read needs five slots: -EOVERFLOW with four, then it fits. */
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_INBAND, dev, queue, 43, 0, 0, 128, NULL));
	EXPECT_EQ(-EOVERFLOW, mio_reap(mfd, queue, 1, 4, c, -1));
	ASSERT_EQ(1, mio_reap(mfd, queue, 1, 8, c, -1));
	EXPECT_EQ(43, c[0].reqid);
	EXPECT_EQ(5, c[0].slots);
}

TEST_F(ring, reap_rejects_bad_arguments_on_a_ring)
{
	reap_errors(_metadata, self->mfd, self->queue, self->dev, self->buf);
}

TEST_F(ring, reap_rejects_bad_arguments_on_a_list)
{
	__u32 q;

	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &q));
	reap_errors(_metadata, self->mfd, q, self->dev, self->buf);
}

static void reap_min_max(struct __test_metadata *_metadata, int mfd, __u32 queue,
			 __u32 dev, unsigned char *buf)
{
	struct machio_cqe c[64];
	struct timespec t0, t1;
	int i, n, got = 0;
	long long us;

	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, i, 0, i,
					BS, buf + i * BS));
	/* At least 16, at most 32: FIFO, each once. */
	n = mio_reap(mfd, queue, 16, 32, c, -1);
	ASSERT_LE(16, n);
	ASSERT_GE(32, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(got + i, c[i].reqid);
	got += n;
	while (got < 40) {
		n = mio_reap(mfd, queue, 40 - got, 64, c, -1);
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++)
			EXPECT_EQ(got + i, c[i].reqid);
		got += n;
	}
	EXPECT_EQ(40, got);

	/* Fewer than min after the timeout: what there is. */
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 99, 0, 0, BS, buf));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = mio_reap(mfd, queue, 2, 64, c, 200 * 1000 * 1000LL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
	EXPECT_EQ(1, n);
	EXPECT_EQ(99, c[0].reqid);
	EXPECT_LE(190000, us);
	/* Nothing at all after the timeout: 0. */
	EXPECT_EQ(0, mio_reap(mfd, queue, 1, 64, c, 10 * 1000 * 1000LL));
}

TEST_F(ring, reap_min_max_timeout_on_a_ring)
{
	reap_min_max(_metadata, self->mfd, self->queue, self->dev, self->buf);
}

TEST_F(ring, reap_min_max_timeout_on_a_list)
{
	__u32 q;

	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &q));
	reap_min_max(_metadata, self->mfd, q, self->dev, self->buf);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(ring, signal_interrupts_reap_and_wait)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct machio_io_done_result res;
	struct machio_cqe c[8];

	sigaction(SIGALRM, &sa, NULL);
	ualarm(100000, 0);
	EXPECT_EQ(-EINTR, mio_reap(self->mfd, self->queue, 1, 8, c, -1));
	ualarm(100000, 0);
	EXPECT_EQ(-EINTR, mio_wait(self->mfd, self->queue, &res));
	signal(SIGALRM, SIG_DFL);
}

struct waiter_arg {
	int mfd;
	__u32 queue;
	int ret;
};

static void *classic_waiter(void *p)
{
	struct waiter_arg *w = p;
	struct machio_io_done_result res;

	w->ret = mio_wait(w->mfd, w->queue, &res);
	return NULL;
}

static void *reap_waiter(void *p)
{
	struct waiter_arg *w = p;
	struct machio_cqe c[8];

	w->ret = mio_reap(w->mfd, w->queue, 4, 8, c, -1);
	return NULL;
}

TEST_F(ring, terminate_wakes_every_waiter_and_marks_the_ring_dead)
{
	struct waiter_arg w[4];
	pthread_t t[4];
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	int i;

	for (i = 0; i < 4; i++) {
		w[i] = (struct waiter_arg){ .mfd = self->mfd, .queue = self->queue, .ret = 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, i & 1 ? reap_waiter : classic_waiter,
					    &w[i]));
	}
	usleep(200000);
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(-ESHUTDOWN, w[i].ret);
	}
	EXPECT_EQ(MACHIO_RING_DEAD, self->r.hdr->flags);
	EXPECT_EQ(-1, mio_ring_pop(&self->r, c));
	EXPECT_EQ(-ESHUTDOWN, mio_reap(self->mfd, self->queue, 0, 8, c, -1));
	EXPECT_EQ(-ESHUTDOWN, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
					 self->queue, 1, 0, 0, BS, self->buf));
}

/* One waiting for four must not swallow the wakeup one waiting for one needs. */
TEST_F(ring, a_waiter_for_many_does_not_take_a_single_wakeup)
{
	struct waiter_arg big = { .mfd = self->mfd, .queue = self->queue, .ret = 1 };
	struct waiter_arg one = { .mfd = self->mfd, .queue = self->queue, .ret = 1 };
	pthread_t tb, t1;

	ASSERT_EQ(0, pthread_create(&tb, NULL, reap_waiter, &big));
	usleep(100000);
	ASSERT_EQ(0, pthread_create(&t1, NULL, classic_waiter, &one));
	usleep(100000);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, self->queue,
				1, 0, 0, BS, self->buf));
	pthread_join(t1, NULL);
	EXPECT_EQ(0, one.ret);
	EXPECT_EQ(1, big.ret);	/* still waiting for four */
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	pthread_join(tb, NULL);
	EXPECT_EQ(-ESHUTDOWN, big.ret);
}

TEST_F(ring, poll_and_epoll_readiness)
{
	struct pollfd pfd = { .fd = self->qfd, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->qfd, &ev));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, self->queue,
				1, 0, 0, BS, self->buf));
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLIN, pfd.revents & (POLLIN | POLLHUP));
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 5000));
	EXPECT_EQ(EPOLLIN, out.events);
	ASSERT_EQ(1, mio_ring_pop(&self->r, c));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLHUP, pfd.revents & (POLLIN | POLLHUP));
	close(ep);
}

TEST_F(ring, poll_on_a_queue_without_ring)
{
	struct machio_queue_setup a = { .host = mio_host(self->mfd) };
	struct pollfd pfd = { .events = POLLIN };
	struct machio_io_done_result res;

	ASSERT_EQ(0, mio_queue_setup(self->mfd, &a));
	pfd.fd = a.fd;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, a.queue,
				1, 0, 0, BS, self->buf));
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	ASSERT_EQ(0, mio_wait(self->mfd, a.queue, &res));
	EXPECT_EQ(1, res.qd_reqid);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	/* The file outlives a close of the space; the queue is dead then. */
	close(self->mfd);
	self->mfd = -1;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLHUP, pfd.revents & (POLLIN | POLLHUP));
	close(a.fd);
}

TEST_F(ring, eventfd_counts_completions)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct machio_queue_setup a = {
		.host = mio_host(self->mfd),
		.flags = MACHIO_QUEUE_RING | MACHIO_QUEUE_EVENTFD,
		.ring_entries = 16,
	};
	struct pollfd pfd = { .events = POLLIN };
	struct mio_ring r = {};
	__u64 count = 0;
	int i;

	ASSERT_LE(0, efd);
	a.eventfd = efd;
	ASSERT_EQ(0, mio_queue_setup(self->mfd, &a));
	ASSERT_EQ(0, mio_ring_map(&r, &a));
	EXPECT_EQ(-1, read(efd, &count, sizeof(count)));
	EXPECT_EQ(EAGAIN, errno);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, a.queue,
					i, 0, i, BS, self->buf + i * BS));
	while (mio_ring_ready(&r) < 5)
		usleep(1000);
	pfd.fd = efd;
	EXPECT_EQ(1, poll(&pfd, 1, 1000));
	ASSERT_EQ(sizeof(count), read(efd, &count, sizeof(count)));
	EXPECT_EQ(5, count);
	mio_ring_unmap(&r);
	close(a.fd);
	close(efd);
}

/* ---- Exactly once, FIFO, across threads ---- */

#define MANY 100000
#define THREADS 8

struct consumer {
	struct mio_ring *r;
	int mfd;
	__u32 queue;
	unsigned char *seen;	/* per reqid */
	int dup;
	int out_of_order;
	int got;
	int ret;
};

static void *consume(void *p)
{
	struct consumer *c = p;
	struct machio_cqe cqe[MACHIO_CQE_MAX_SLOTS];
	int last = -1;

	for (;;) {
		int n = pop_wait(c->r, c->mfd, c->queue, cqe);

		if (n < 0) {
			c->ret = n;
			return NULL;
		}
		if (cqe[0].reqid >= MANY) {	/* the end marker */
			c->ret = 0;
			return NULL;
		}
		if (__atomic_exchange_n(&c->seen[cqe[0].reqid], 1, __ATOMIC_RELAXED))
			c->dup++;
		/* Submitted in reqid order on one device queue: one thread sees them rising. */
		if ((int)cqe[0].reqid < last)
			c->out_of_order++;
		last = cqe[0].reqid;
		c->got++;
	}
}

static __attribute__((noinline)) void run_many(struct __test_metadata *_metadata, FIXTURE_DATA(ring) *self,
		     bool terminate)
{
	struct consumer c[THREADS];
	pthread_t t[THREADS];
	struct mio_ring r = {};
	unsigned char *seen = calloc(MANY, 1);
	struct machio_io_request *reqs = calloc(512, sizeof(*reqs));
	int i, submitted = 0, total = 0, dups = 0, ooo = 0, refused = 0;
	__u32 q = 0;
	int qfd = -1;

	ASSERT_NE(NULL, seen);
	ASSERT_NE(NULL, reqs);
	ASSERT_EQ(0, mio_ring_queue(self->mfd, 4096, &q, &qfd, &r));
	for (i = 0; i < THREADS; i++) {
		c[i] = (struct consumer){ .r = &r, .mfd = self->mfd, .queue = q, .seen = seen };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, consume, &c[i]));
	}
	while (submitted < MANY) {
		struct machio_submit_batch b = { .requests = (__u64)(uintptr_t)reqs };
		int n = MANY - submitted < 512 ? MANY - submitted : 512, k;

		for (k = 0; k < n; k++)
			reqs[k] = (struct machio_io_request){
				.op = MACHIO_OP_READ_OVERWRITE, .device = self->dev, .queue = q,
				.reqid = submitted + k, .recnum = (submitted + k) % 1024,
				.count = BS, .buffer = (__u64)(uintptr_t)(self->buf + (k % 64) * BS),
			};
		b.nr = n;
		k = machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT_BATCH, &b);
		if (k == -EAGAIN) {
			/* The ring is full until the consumers catch up. */
			if (++refused % 200000 == 0) {
				struct machio_query mq;
				int j;

				mio_query(self->mfd, &mq);
				TH_LOG("refused for long: head %llx tail %llx, %d submitted, %u requests, %u pinned",
				       (unsigned long long)r.hdr->head,
				       (unsigned long long)r.hdr->tail, submitted, mq.nr_requests,
				       mq.nr_pinned_pages);
				for (j = 0; j < THREADS; j++)
					TH_LOG("consumer %d: got %d ret %d", j, c[j].got, c[j].ret);
			}
			usleep(100);
			continue;
		}
		refused = 0;
		if (terminate && k == -ESHUTDOWN)
			break;
		ASSERT_LT(0, k);
		submitted += k;
		if (terminate && submitted >= MANY / 2)
			ASSERT_EQ(0, mio_terminate(self->mfd, q));
	}
	if (!terminate) {
		/* One end marker per consumer. */
		for (i = 0; i < THREADS; i++) {
			while (mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, q,
					  MANY + i, 0, 0, BS, self->buf) == -EAGAIN)
				usleep(100);
		}
	}
	for (i = 0; i < THREADS; i++) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		if (pthread_timedjoin_np(t[i], NULL, &until)) {
			struct machio_query mq;
			int k;

			mio_query(self->mfd, &mq);
			TH_LOG("consumer %d stuck: head %llx tail %llx flags %x, %d submitted, %u requests",
			       i, (unsigned long long)r.hdr->head, (unsigned long long)r.hdr->tail,
			       r.hdr->flags, submitted, mq.nr_requests);
			for (k = 0; k < THREADS; k++)
				TH_LOG("consumer %d: got %d ret %d", k, c[k].got, c[k].ret);
			ASSERT_TRUE(0);
		}
		EXPECT_EQ(terminate ? -ESHUTDOWN : 0, c[i].ret);
		total += c[i].got;
		dups += c[i].dup;
		ooo += c[i].out_of_order;
	}
	EXPECT_EQ(0, dups);
	if (terminate) {
		EXPECT_GE(submitted, total);
	} else {
		EXPECT_EQ(MANY, total);
		for (i = 0; i < MANY; i++)
			if (!seen[i])
				break;
		EXPECT_EQ(MANY, i);
	}
	TH_LOG("%d taken of %d submitted, %d seen out of order", total, submitted, ooo);
	mio_ring_unmap(&r);
	close(qfd);
	free(seen);
	free(reqs);
}

TEST_F_TIMEOUT(ring, exactly_once_to_eight_threads, 300)
{
	run_many(_metadata, self, false);
}

TEST_F_TIMEOUT(ring, exactly_once_while_terminate_races, 300)
{
	run_many(_metadata, self, true);
}

/* A ring of 65,536 slots holds 65,536 completions nobody has reaped yet. */
static __attribute__((noinline)) void hold_65536(struct __test_metadata *_metadata, FIXTURE_DATA(ring) *self)
{
	struct machio_io_request *reqs = calloc(4096, sizeof(*reqs));
	struct machio_cqe c[MACHIO_CQE_MAX_SLOTS];
	struct mio_ring r = {};
	int submitted = 0, i, k;
	__u32 q = 0;
	int qfd = -1;

	ASSERT_NE(NULL, reqs);
	ASSERT_EQ(0, mio_ring_queue(self->mfd, 65536, &q, &qfd, &r));
	while (submitted < 65536) {
		struct machio_submit_batch b = { .requests = (__u64)(uintptr_t)reqs };
		int n = 65536 - submitted < 4096 ? 65536 - submitted : 4096;

		for (k = 0; k < n; k++)
			reqs[k] = (struct machio_io_request){
				.op = MACHIO_OP_READ_OVERWRITE, .device = self->dev, .queue = q,
				.reqid = submitted + k, .recnum = k % 1024, .count = BS,
				.buffer = (__u64)(uintptr_t)(self->buf + (k % 64) * BS),
			};
		b.nr = n;
		k = machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT_BATCH, &b);
		if (k == -EAGAIN) {
			usleep(1000);	/* pin bound: wait for I/O in flight */
			continue;
		}
		ASSERT_LT(0, k);
		submitted += k;
	}
	while (mio_ring_ready(&r) < 65536)
		usleep(10000);
	EXPECT_EQ(-EAGAIN, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, q,
				      1, 0, 0, BS, self->buf));
	for (i = 0; i < 65536; i++) {
		ASSERT_EQ(1, mio_ring_pop(&r, c));
		ASSERT_EQ(0, c[0].code);
	}
	EXPECT_EQ(0, mio_ring_ready(&r));
	mio_ring_unmap(&r);
	close(qfd);
	free(reqs);
}

TEST_F_TIMEOUT(ring, ring_of_65536_holds_65536_outstanding, 300)
{
	hold_65536(_metadata, self);
}

MACHIO_TEST_MAIN
