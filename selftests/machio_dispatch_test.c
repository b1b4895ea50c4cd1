// SPDX-License-Identifier: GPL-2.0
/*
 * A disk's dispatch queue: the in-flight limit (MACHIO_IOC_DEVICE_LIMIT,
 * Mach's MDIOCSETL / MDIOCGETL) and the order of the requests that wait
 * beyond it -- highest priority first, FIFO among equal ones, each
 * waiting request gaining a level per request dispatched meanwhile.
 *
 * The disks are slow null_blk ones (irqmode=2: every request completes
 * completion_nsec after it reached the device), so that with a limit of
 * one, completions come one per completion_nsec in dispatch order, and
 * a waiter sees that order in the times it wakes.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <sys/wait.h>
#include <time.h>

#define BS 512
#define NR_ORDERED 64
#define PLUG NR_ORDERED		/* the reqid of a request that holds the device */
#define SLOW_MS 200		/* completion_nsec of the fixture's disk */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int mio_limit(int fd, __u32 dev, __u32 flags, __u32 *limit)
{
	struct machio_device_limit a = { .device = dev, .flags = flags, .limit = *limit };
	int ret = machio_ioctl(fd, MACHIO_IOC_DEVICE_LIMIT, &a);

	if (!ret)
		*limit = a.limit;
	return ret;
}

static int set_limit(int fd, __u32 dev, __u32 limit)
{
	return mio_limit(fd, dev, MACHIO_LIMIT_SET, &limit);
}

static __u32 get_limit(int fd, __u32 dev)
{
	__u32 limit = 0;

	return mio_limit(fd, dev, 0, &limit) ? ~0U : limit;
}

static int submit_prio(int fd, __u32 op, __u32 dev, __u32 queue, __u32 reqid, __u32 recnum,
		       void *buf, __u32 prio)
{
	struct machio_io_request a = {
		.op = op, .device = dev, .queue = queue, .reqid = reqid, .recnum = recnum,
		.count = BS, .buffer = (__u64)(uintptr_t)buf, .priority = prio,
	};

	return machio_ioctl(fd, MACHIO_IOC_SUBMIT, &a);
}

/* One space with a queue and the disk opened for reading and writing. */
struct space {
	int mfd, bfd;
	__u32 dev, queue;
};

static int space_open(struct space *s, const char *disk)
{
	s->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	if (s->mfd < 0)
		return -errno;
	if (mio_open_disk(s->mfd, disk, &s->bfd, &s->dev))
		return -ENODEV;
	return mio_queue_create(s->mfd, mio_host(s->mfd), &s->queue);
}

static void space_close(struct space *s)
{
	close(s->mfd);
	close(s->bfd);
}

FIXTURE(dispatch) {
	struct nullb nb;
	struct space s;
	unsigned char *buf;
};

/* A disk whose every request takes @nsec at the device. */
static int slow_disk(struct nullb *nb, const char *nsec)
{
	const char *attrs[] = { "irqmode=2", nsec, "no_sched=1", "hw_queue_depth=1024", NULL };

	return nullb_create(nb, "di", attrs);
}

/* SLOW_MS per request: a test's requests are all queued well within one. */
FIXTURE_SETUP(dispatch)
{
	self->s.mfd = self->s.bfd = -1;
	ASSERT_EQ(0, slow_disk(&self->nb, "completion_nsec=200000000"));
	ASSERT_EQ(0, space_open(&self->s, self->nb.dev));
	self->buf = aligned_buf(NR_ORDERED * BS * 2, 4096);
	ASSERT_NE(NULL, self->buf);
	fill_pattern(self->buf, NR_ORDERED * BS, 3);
}

FIXTURE_TEARDOWN(dispatch)
{
	if (self->s.mfd >= 0)
		set_limit(self->s.mfd, self->s.dev, 0);
	if (self->s.mfd >= 0)
		space_close(&self->s);
	free(self->buf);
	nullb_destroy(&self->nb);
}

TEST_F(dispatch, limit_get_set_and_errors)
{
	struct machio_device_limit a = {};
	struct space other;
	__u32 rdev, limit;
	int rfd;

	EXPECT_EQ(0, get_limit(self->s.mfd, self->s.dev));	/* none by default */
	EXPECT_EQ(0, set_limit(self->s.mfd, self->s.dev, 1));
	EXPECT_EQ(1, get_limit(self->s.mfd, self->s.dev));
	EXPECT_EQ(0, set_limit(self->s.mfd, self->s.dev, MACHIO_LIMIT_MAX));
	EXPECT_EQ(-EINVAL, set_limit(self->s.mfd, self->s.dev, MACHIO_LIMIT_MAX + 1));
	EXPECT_EQ(MACHIO_LIMIT_MAX, get_limit(self->s.mfd, self->s.dev));

	/* The disk's, seen and set by every space. */
	ASSERT_EQ(0, space_open(&other, self->nb.dev));
	EXPECT_EQ(MACHIO_LIMIT_MAX, get_limit(other.mfd, other.dev));
	EXPECT_EQ(0, set_limit(other.mfd, other.dev, 7));
	EXPECT_EQ(7, get_limit(self->s.mfd, self->s.dev));
	space_close(&other);

	/* Setting needs the device open for writing; reading it does not. */
	rfd = open(self->nb.dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, mio_device_open(self->s.mfd, rfd, MACHIO_D_READ, &rdev));
	EXPECT_EQ(-EPERM, set_limit(self->s.mfd, rdev, 3));
	EXPECT_EQ(7, get_limit(self->s.mfd, rdev));
	close(rfd);

	/* Bad arguments. */
	EXPECT_EQ(-EINVAL, set_limit(self->s.mfd, self->s.queue, 1));	/* not a device */
	EXPECT_EQ(-EINVAL, set_limit(self->s.mfd, 0x12345, 1));
	limit = 1;
	EXPECT_EQ(-EINVAL, mio_limit(self->s.mfd, self->s.dev, 0, &limit));	/* no SET */
	limit = 1;
	EXPECT_EQ(-EINVAL, mio_limit(self->s.mfd, self->s.dev, 2, &limit));
	a.device = self->s.dev;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->s.mfd, MACHIO_IOC_DEVICE_LIMIT, &a));
	a.pad = 0;
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->s.mfd, MACHIO_IOC_DEVICE_LIMIT, &a));
	EXPECT_EQ(7, get_limit(self->s.mfd, self->s.dev));
	EXPECT_EQ(0, set_limit(self->s.mfd, self->s.dev, 0));
	EXPECT_EQ(0, get_limit(self->s.mfd, self->s.dev));
}

TEST_F(dispatch, bad_priority_is_einval)
{
	struct machio_io_request a = {
		.op = MACHIO_OP_WRITE, .device = self->s.dev, .queue = self->s.queue,
		.count = BS, .buffer = (__u64)(uintptr_t)self->buf,
		.priority = MACHIO_PRIORITY_MAX + 1,
	};
	struct machio_io_done_result res;

	EXPECT_EQ(-EINVAL, machio_ioctl(self->s.mfd, MACHIO_IOC_SUBMIT, &a));
	a.priority = 0;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->s.mfd, MACHIO_IOC_SUBMIT, &a));
	/* Nothing was accepted; a good one goes through. */
	a.pad = 0;
	a.priority = MACHIO_PRIORITY_MAX;
	ASSERT_EQ(0, machio_ioctl(self->s.mfd, MACHIO_IOC_SUBMIT, &a));
	ASSERT_EQ(0, mio_wait(self->s.mfd, self->s.queue, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
}

/* Priorities of the ordered test: eight levels, eight requests each, mixed. */
static __u32 ordered_prio(int i)
{
	return (i * 5 % 8) * 30;
}

/*
 * Wait for @n completions on @s's queue and note when each arrived, by
 * reqid, in @at.  0 or -errno.
 */
static int note_completions(struct space *s, int n, double *at)
{
	struct machio_io_done_result res;
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = mio_wait(s->mfd, s->queue, &res);
		if (ret)
			return ret;
		if (res.qd_code || res.qd_count != BS || res.qd_reqid > PLUG)
			return -EIO;
		if (res.qd_reqid != PLUG)
			at[res.qd_reqid] = now_ms();
	}
	return 0;
}

/*
 * With a limit of one, a first write holds the device while 64 writes of
 * mixed priorities queue up, 32 from this process and then 32 from
 * another: they reach the device highest priority first, and in the
 * order they were submitted among equal priorities -- across processes.
 * The bytes each wrote are read back.
 */
TEST_F_TIMEOUT(dispatch, priority_then_fifo_order_across_processes, 120)
{
	double at[NR_ORDERED] = {}, *child_at;
	int i, j, ready[2], go[2], ret, status;
	pid_t pid;
	char c;

	child_at = mmap(NULL, sizeof(at), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, child_at);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, set_limit(self->s.mfd, self->s.dev, 1));
	/* The other process gets its space ready before the clock starts. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct space cs;

		if (space_open(&cs, self->nb.dev))
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		for (i = NR_ORDERED / 2; i < NR_ORDERED; i++)
			if (submit_prio(cs.mfd, MACHIO_OP_WRITE, cs.dev, cs.queue, i, i,
					self->buf + i * BS, ordered_prio(i)))
				_exit(3);
		_exit(note_completions(&cs, NR_ORDERED / 2, child_at) ? 4 : 0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));

	/* The plug, at a block none of the others writes; then ours, then theirs. */
	ASSERT_EQ(0, submit_prio(self->s.mfd, MACHIO_OP_WRITE, self->s.dev, self->s.queue, PLUG,
				 NR_ORDERED, self->buf, 0));
	for (i = 0; i < NR_ORDERED / 2; i++)
		ASSERT_EQ(0, submit_prio(self->s.mfd, MACHIO_OP_WRITE, self->s.dev, self->s.queue,
					 i, i, self->buf + i * BS, ordered_prio(i)));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, note_completions(&self->s, NR_ORDERED / 2 + 1, at));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	for (i = NR_ORDERED / 2; i < NR_ORDERED; i++)
		at[i] = child_at[i];

	/* Completions SLOW_MS apart: their order is the dispatch order. */
	for (i = 0; i < NR_ORDERED; i++)
		for (j = 0; j < NR_ORDERED; j++) {
			if (ordered_prio(i) > ordered_prio(j) ||
			    (ordered_prio(i) == ordered_prio(j) && i < j))
				EXPECT_LT(at[i], at[j])
					TH_LOG("request %d (priority %u) after %d (priority %u)", i,
					       ordered_prio(i), j, ordered_prio(j));
		}
	ret = pread(self->s.bfd, self->buf + NR_ORDERED * BS, NR_ORDERED * BS, 0);
	ASSERT_EQ(NR_ORDERED * BS, ret);
	EXPECT_EQ(0, memcmp(self->buf, self->buf + NR_ORDERED * BS, NR_ORDERED * BS));
	munmap(child_at, sizeof(at));
}

/*
 * Lifting the limit starts every waiting request at once: eight requests
 * behind a limit of one all complete about one request time after it.
 */
TEST_F(dispatch, lifting_the_limit_starts_the_waiting)
{
	struct machio_io_done_result res;
	double t0;
	int i;

	ASSERT_EQ(0, set_limit(self->s.mfd, self->s.dev, 1));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, submit_prio(self->s.mfd, MACHIO_OP_WRITE, self->s.dev, self->s.queue,
					 i, i, self->buf + i * BS, 0));
	t0 = now_ms();
	ASSERT_EQ(0, set_limit(self->s.mfd, self->s.dev, 0));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, mio_wait(self->s.mfd, self->s.queue, &res));
		EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	}
	/* One at a time would take 8 * SLOW_MS. */
	EXPECT_GT(4 * SLOW_MS, now_ms() - t0);
}

/*
 * A process that exits with requests waiting does not wait for them;
 * they still go to the device in their turn: a request this process
 * submits afterwards, at the same priority, completes after all of them.
 */
TEST_F_TIMEOUT(dispatch, exit_with_requests_waiting, 60)
{
	struct machio_io_done_result res;
	int status, go[2];
	double t0;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, set_limit(self->s.mfd, self->s.dev, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct space cs;
		int i;

		if (space_open(&cs, self->nb.dev))
			_exit(1);
		for (i = 0; i < 16; i++)
			if (submit_prio(cs.mfd, MACHIO_OP_WRITE, cs.dev, cs.queue, i, i,
					self->buf + i * BS, 0))
				_exit(2);
		_exit(write(go[1], "r", 1) == 1 ? 0 : 3);
	}
	ASSERT_EQ(1, read(go[0], &c, 1));
	t0 = now_ms();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_GT(4 * SLOW_MS, now_ms() - t0) TH_LOG("exit waited for the queued requests");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, submit_prio(self->s.mfd, MACHIO_OP_WRITE, self->s.dev, self->s.queue, 99,
				 32, self->buf, 0));
	ASSERT_EQ(0, mio_wait(self->s.mfd, self->s.queue, &res));
	EXPECT_EQ(99, res.qd_reqid);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	/* Behind the child's sixteen. */
	EXPECT_LT(15 * SLOW_MS, now_ms() - t0);
}

/*
 * Aging: under a steady stream of priority-200 requests (STREAM always
 * waiting), on a disk of 1 ms per request, a priority-0 request waits
 * for the 200 levels it lacks -- no more than 200 dispatches plus what
 * was already waiting, and not much fewer: the stream does go first.
 * STREAM is deep enough that a test thread slowed down by its emulator
 * for tens of milliseconds never lets the stream run dry (with five
 * waiting, one did on a slow 6.12 run).
 */
#define STREAM 64
TEST_F_TIMEOUT(dispatch, aging_bounds_the_wait_of_a_low_priority, 120)
{
	struct machio_io_done_result res;
	struct nullb fast;
	struct space s;
	int i, before = 0;

	ASSERT_EQ(0, slow_disk(&fast, "completion_nsec=1000000"));
	ASSERT_EQ(0, space_open(&s, fast.dev));
	ASSERT_EQ(0, set_limit(s.mfd, s.dev, 1));
	for (i = 0; i < STREAM; i++)
		ASSERT_EQ(0, submit_prio(s.mfd, MACHIO_OP_WRITE, s.dev, s.queue, 1, i,
					 self->buf + (i % 5) * BS, 200));
	ASSERT_EQ(0, submit_prio(s.mfd, MACHIO_OP_WRITE, s.dev, s.queue, 0, 10, self->buf, 0));
	for (;;) {
		ASSERT_EQ(0, mio_wait(s.mfd, s.queue, &res));
		ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
		if (res.qd_reqid == 0)
			break;
		before++;
		ASSERT_GT(1000, before) TH_LOG("the priority-0 request starves");
		/* Keep the stream going. */
		ASSERT_EQ(0, submit_prio(s.mfd, MACHIO_OP_WRITE, s.dev, s.queue, 1, before % 5,
					 self->buf, 200));
	}
	TH_LOG("%d priority-200 requests went before the priority-0 one", before);
	/*
	 * A few more on a slow kernel, never many: the debug one has let 268
	 * and 274 through, when its completions ran ahead of the dispatches
	 * they start, so that two of the stream arrived at the same count.
	 */
	EXPECT_GE(200 + STREAM + 16, before);
	EXPECT_LE(190 + STREAM - 5, before);
	for (i = 0; i < STREAM; i++)
		ASSERT_EQ(0, mio_wait(s.mfd, s.queue, &res));
	set_limit(s.mfd, s.dev, 0);
	space_close(&s);
	nullb_destroy(&fast);
}

MACHIO_TEST_MAIN
