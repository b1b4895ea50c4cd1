// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes with I/O in flight: terminate, close, and process death (fork,
 * then kill) on a slow device.  None may leak, hang, or touch freed memory;
 * the VM runner unloads the module afterwards and, on the debug kernel,
 * checks KASAN and kmemleak.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define BS 512
#define SLOW_NSEC "200000000"	/* each request takes 200 ms */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Open a space, a queue and a device port on @nb; all or nothing. */
static int open_all(struct nullb *nb, int *mfd, int *bfd, __u32 *queue, __u32 *dev)
{
	*mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	if (*mfd < 0)
		return -errno;
	*bfd = open(nb->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (*bfd < 0)
		return -errno;
	if (mio_queue_create(*mfd, mio_host(*mfd), queue))
		return -1;
	return mio_device_open(*mfd, *bfd, MACHIO_D_READ | MACHIO_D_WRITE, dev);
}

/* One of every request kind, @n times over, most of them still in flight. */
static int submit_mix(int mfd, __u32 dev, __u32 queue, unsigned char *buf, int n)
{
	int i, ret = 0;

	for (i = 0; i < n && !ret; i++) {
		ret = mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, i, 0, i, BS,
				 buf + i * BS);
		if (!ret)
			ret = mio_submit(mfd, MACHIO_OP_READ, dev, queue, i, 0, i, 4096, NULL);
		if (!ret)
			ret = mio_submit(mfd, MACHIO_OP_WRITE, dev, queue, i, 0, 1000 + i, BS,
					 buf + i * BS);
		if (!ret)
			ret = mio_submit(mfd, MACHIO_OP_WRITE, dev, MACHIO_PORT_NULL, i, 0,
					 2000 + i, BS, buf + i * BS);
		if (!ret)
			ret = mio_submit(mfd, MACHIO_OP_READ_INBAND, dev, queue, i, 0, i, 64,
					 NULL);
		if (!ret)
			ret = mio_submit(mfd, MACHIO_OP_WRITE_INBAND, dev, queue, i, 0,
					 3000 + i, 64, buf);
	}
	return ret;
}

FIXTURE(slow) {
	struct nullb nb;
	unsigned char *buf;
};

FIXTURE_SETUP(slow)
{
	const char *attrs[] = { "irqmode=2", "completion_nsec=" SLOW_NSEC, NULL };

	ASSERT_EQ(0, nullb_create(&self->nb, "slow", attrs));
	self->buf = aligned_buf(64 * BS, 4096);
	ASSERT_NE(NULL, self->buf);
	memset(self->buf, 0x3c, 64 * BS);
}

FIXTURE_TEARDOWN(slow)
{
	nullb_destroy(&self->nb);
	free(self->buf);
}

TEST_F(slow, terminate_waits_for_io_in_flight)
{
	struct machio_io_done_result res;
	__u32 queue, dev;
	int mfd, bfd;
	double t0;

	ASSERT_EQ(0, open_all(&self->nb, &mfd, &bfd, &queue, &dev));
	ASSERT_EQ(0, submit_mix(mfd, dev, queue, self->buf, 8));
	t0 = now_ms();
	ASSERT_EQ(0, mio_terminate(mfd, queue));
	/* It returned only after the slow device finished. */
	EXPECT_LE(150, now_ms() - t0);
	EXPECT_EQ(-ESHUTDOWN, mio_wait(mfd, queue, &res));
	close(mfd);
	close(bfd);
}

TEST_F(slow, close_with_io_in_flight)
{
	__u32 queue, dev;
	int mfd, bfd;

	ASSERT_EQ(0, open_all(&self->nb, &mfd, &bfd, &queue, &dev));
	ASSERT_EQ(0, submit_mix(mfd, dev, queue, self->buf, 16));
	/* The bdev fd goes first: the device port keeps its own reference. */
	EXPECT_EQ(0, close(bfd));
	EXPECT_EQ(0, close(mfd));
}

TEST_F(slow, second_queue_and_waiter_survive_close_of_other_space)
{
	struct machio_io_done_result res;
	__u32 q1, d1, q2, d2;
	int m1, b1, m2, b2;

	ASSERT_EQ(0, open_all(&self->nb, &m1, &b1, &q1, &d1));
	ASSERT_EQ(0, open_all(&self->nb, &m2, &b2, &q2, &d2));
	ASSERT_EQ(0, submit_mix(m1, d1, q1, self->buf, 4));
	ASSERT_EQ(0, mio_submit(m2, MACHIO_OP_WRITE, d2, q2, 42, 0, 9, BS, self->buf));
	close(m1);
	close(b1);
	ASSERT_EQ(0, mio_wait(m2, q2, &res));
	EXPECT_EQ(42, res.qd_reqid);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	close(m2);
	close(b2);
}

static void child_submits_and_waits(struct nullb *nb, unsigned char *buf, int ready_fd,
				    int how)
{
	__u32 queue, dev;
	int mfd, bfd;

	if (open_all(nb, &mfd, &bfd, &queue, &dev) || submit_mix(mfd, dev, queue, buf, 16))
		_exit(1);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	if (how == 0)
		pause();	/* killed by the parent */
	_exit(0);		/* exits with everything in flight */
}

static void fork_and_end(struct __test_metadata *_metadata, FIXTURE_DATA(slow) *self,
			 int how)
{
	int pipefd[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[0]);
		child_submits_and_waits(&self->nb, self->buf, pipefd[1], how);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	if (how == 0)
		ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (how == 0) {
		EXPECT_TRUE(WIFSIGNALED(status));
	} else {
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

TEST_F(slow, process_killed_with_io_in_flight)
{
	fork_and_end(_metadata, self, 0);
}

TEST_F(slow, process_exits_with_io_in_flight)
{
	fork_and_end(_metadata, self, 1);
}

TEST_F(slow, forked_child_shares_the_space)
{
	/* The child inherits the open file, so the same names work there. */
	struct machio_io_done_result res;
	__u32 queue, dev;
	int mfd, bfd, status;
	pid_t pid;

	ASSERT_EQ(0, open_all(&self->nb, &mfd, &bfd, &queue, &dev));
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_WRITE, dev, queue, 7, 0, 3, BS, self->buf));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (mio_wait(mfd, queue, &res) || res.qd_reqid != 7 || res.qd_code)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(mfd);
	close(bfd);
}

/*
 * A disk that keeps I/O in flight for seconds: null_blk throttled to
 * 1 MiB/s, which it enforces per 20 ms tick, so 16 KiB requests complete
 * one per tick, 50 a second.  Each child below queues STUCK_REQS of them
 * (all three together about 18 s of I/O), so none of its I/O can be done
 * before 6 s have passed.  A throttle rather than completion_nsec: a disk
 * whose every request takes seconds would already take minutes in
 * power=1, whose partition scan reads sector 0 once per partition parser
 * (each read failing by the block layer's 30 s timeout), and only 6.1
 * could skip that scan (zoned disks).
 */
#define STUCK_REQ (16 * 1024)
#define STUCK_REQS 300
/* Deadline for the drain: twice what it should take, for a slow VM. */
#define DRAIN_MS 40000
#define NR_STUCK_KIDS 3

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* waitpid() bounded by @ms: @pid once reaped, 0 if still running, -errno. */
static pid_t waitpid_ms(pid_t pid, int *status, int ms)
{
	double end = now_ms() + ms;
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret)
			return ret < 0 ? -errno : ret;
		if (now_ms() >= end)
			return 0;
		sleep_ms(5);
	}
}

/* Read exactly @len bytes from @fd within @ms: 0, -ETIMEDOUT or -EPIPE. */
static int read_ms(int fd, void *buf, size_t len, int ms)
{
	double end = now_ms() + ms;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = end - now_ms();

		if (left <= 0 || poll(&p, 1, left) == 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		got += n;
	}
	return 0;
}

/* The state letter of /proc/@pid/stat (R, S, D, Z...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], line[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	line[n] = 0;
	paren = strrchr(line, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

static const char *module_control(void)
{
	const char *ko = getenv("MACHIO_KO");

	return ko && *ko && geteuid() == 0 ? ko : NULL;
}

/*
 * STUCK_REQS reads and writes of STUCK_REQ bytes from @buf, into
 * @queue but for every fourth write: most of them wait for the throttle.
 */
static int submit_stuck(int mfd, __u32 dev, __u32 queue, unsigned char *buf, int base)
{
	static const __u32 ops[] = {
		MACHIO_OP_READ_OVERWRITE, MACHIO_OP_WRITE, MACHIO_OP_READ, MACHIO_OP_WRITE
	};
	int i, ret = 0;

	for (i = 0; i < STUCK_REQS && !ret; i++) {
		__u32 op = ops[i % 4];

		ret = mio_submit(mfd, op, dev, i % 4 == 3 ? MACHIO_PORT_NULL : queue, i, 0,
				 base + i * (STUCK_REQ / BS), STUCK_REQ,
				 op == MACHIO_OP_READ ? NULL : buf + (size_t)i * STUCK_REQ);
	}
	return ret;
}

FIXTURE(stuck) {
	struct nullb nb;
	unsigned char *buf;
	pid_t kids[NR_STUCK_KIDS];
};

FIXTURE_SETUP(stuck)
{
	/* No scheduler: it would allow only 256 requests, then block submit. */
	static const char *const attrs[] = {
		"irqmode=1", "mbps=1", "hw_queue_depth=1024", "no_sched=1", NULL
	};

	ASSERT_EQ(0, nullb_create(&self->nb, "stuck", attrs));
	self->buf = aligned_buf((size_t)STUCK_REQS * STUCK_REQ, 4096);
	ASSERT_NE(NULL, self->buf);
	memset(self->buf, 0x5a, (size_t)STUCK_REQS * STUCK_REQ);
}

FIXTURE_TEARDOWN(stuck)
{
	const char *ko = module_control();
	int i, status;

	/* After a failed assertion: nobody may outlive the test. */
	for (i = 0; i < NR_STUCK_KIDS; i++) {
		if (self->kids[i] <= 0)
			continue;
		kill(self->kids[i], SIGKILL);
		waitpid_ms(self->kids[i], &status, DRAIN_MS);
	}
	if (ko && access(MACHIO_DEV, F_OK))
		load_machio(ko);
	nullb_destroy(&self->nb);
	free(self->buf);
}

/*
 * A child with a space, a queue and a device on the stuck disk and I/O in
 * flight.  It writes 'r' to @fd once everything is submitted, then: closes
 * the space and reports how long close() took (how 0); exits (how 1); or
 * blocks in io_done_queue_terminate (how 2), with a SIGUSR1 handler that
 * does not restart, reporting terminate's result should it ever return.
 */
enum { KID_CLOSE, KID_EXIT, KID_TERMINATE };

static void sigusr1_noop(int sig)
{
}

static void stuck_child(struct nullb *nb, unsigned char *buf, int fd, int how)
{
	struct sigaction sa = { .sa_handler = sigusr1_noop };	/* no SA_RESTART */
	__u32 queue, dev;
	int mfd, bfd, ret;
	double t0;

	if (sigaction(SIGUSR1, &sa, NULL) || open_all(nb, &mfd, &bfd, &queue, &dev) ||
	    submit_stuck(mfd, dev, queue, buf, 40000 * how))
		_exit(10);
	close(bfd);
	if (write(fd, "r", 1) != 1)
		_exit(11);
	switch (how) {
	case KID_CLOSE:
		t0 = now_ms();
		close(mfd);
		ret = now_ms() - t0;
		break;
	case KID_EXIT:
		_exit(0);
	default:
		ret = mio_terminate(mfd, queue);
		break;
	}
	_exit(write(fd, &ret, sizeof(ret)) == sizeof(ret) ? 0 : 12);
}

/*
 * With no process left holding /dev/machio, the bios still in flight keep
 * the module: rmmod is refused until they are done, then succeeds.  The
 * module is loaded again for the tests after this one.  Children not yet
 * reaped (the old module makes them wait for the device) are reaped here,
 * by @drain_end.
 */
static void rmmod_waits_for_bios(struct __test_metadata *_metadata, FIXTURE_DATA(stuck) *self,
				 double drain_end)
{
	const char *ko = module_control();
	bool unloaded = false;
	int i, ret = 0, status, fd, alive;

	if (ko) {
		ret = delete_machio();
		EXPECT_EQ(-EWOULDBLOCK, ret)
			TH_LOG("rmmod must be refused while the bios are in flight");
		unloaded = !ret;
	}
	for (;;) {
		alive = 0;
		for (i = 0; i < NR_STUCK_KIDS; i++) {
			if (self->kids[i] > 0 && waitpid(self->kids[i], &status, WNOHANG))
				self->kids[i] = 0;
			alive += self->kids[i] > 0;
		}
		ret = 0;
		if (!alive && ko && !unloaded) {
			ret = delete_machio();
			unloaded = !ret;
		}
		if (!alive && (!ko || unloaded))
			break;
		/* Refused (EWOULDBLOCK, or EBUSY): the I/O is still draining. */
		if ((ret && ret != -EWOULDBLOCK && ret != -EBUSY) || now_ms() >= drain_end)
			break;
		sleep_ms(100);
	}
	ASSERT_EQ(0, alive) TH_LOG("%d children still alive %d ms after submitting", alive,
				   DRAIN_MS);
	if (!ko)
		return;
	ASSERT_TRUE(unloaded) TH_LOG("rmmod: %d, %d ms after submitting", ret, DRAIN_MS);
	TH_LOG("rmmod refused until %.0f ms after submitting",
	       now_ms() - (drain_end - DRAIN_MS));
	EXPECT_NE(0, access(MACHIO_DEV, F_OK));
	ASSERT_EQ(0, load_machio(ko));
	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
}

/*
 * Issue 6: close() of /dev/machio, process exit and SIGKILL of a process
 * blocked in io_done_queue_terminate return at once, I/O in flight or not;
 * a non-fatal signal does not interrupt terminate.  One disk and one
 * drain for all three.
 */
TEST_F_TIMEOUT(stuck, close_exit_and_kill_in_terminate_return_at_once, 120)
{
	int pipes[NR_STUCK_KIDS][2], i, ret, ms, status;
	double drain_end, t0;
	char c;

	for (i = 0; i < NR_STUCK_KIDS; i++) {
		ASSERT_EQ(0, pipe2(pipes[i], O_CLOEXEC));
		self->kids[i] = fork();
		ASSERT_LE(0, self->kids[i]);
		if (self->kids[i] == 0) {
			close(pipes[i][0]);
			stuck_child(&self->nb, self->buf, pipes[i][1], i);
		}
		close(pipes[i][1]);
	}
	for (i = 0; i < NR_STUCK_KIDS; i++)
		ASSERT_EQ(0, read_ms(pipes[i][0], &c, 1, 10000)) TH_LOG("child %d not ready", i);
	drain_end = now_ms() + DRAIN_MS;

	/* b: a process with I/O in flight exits without waiting for it... */
	ret = waitpid_ms(self->kids[KID_EXIT], &status, 1000);
	EXPECT_EQ(self->kids[KID_EXIT], ret)
		TH_LOG("process exit still blocked after 1 s: it waits for the device");
	if (ret == self->kids[KID_EXIT]) {
		self->kids[KID_EXIT] = 0;
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("status %#x", status);
	}

	/* ... and close() returns at once. */
	ret = read_ms(pipes[KID_CLOSE][0], &ms, sizeof(ms), 1000);
	EXPECT_EQ(0, ret) TH_LOG("close() of /dev/machio still blocked after 1 s");
	if (!ret) {
		EXPECT_GT(1000, ms) TH_LOG("close() took %d ms", ms);
		ret = waitpid_ms(self->kids[KID_CLOSE], &status, 1000);
		EXPECT_EQ(self->kids[KID_CLOSE], ret);
		if (ret == self->kids[KID_CLOSE]) {
			self->kids[KID_CLOSE] = 0;
			EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
				TH_LOG("status %#x", status);
		}
	}

	/* a: terminate waits, and SIGUSR1 does not interrupt it... */
	/*
	 * Each throttled completion wakes it to recheck, so one look may
	 * catch it running: it must be seen asleep within 2 s.
	 */
	for (i = 0; i < 20; i++) {
		sleep_ms(100);
		c = proc_state(self->kids[KID_TERMINATE]);
		if (c == 'D' || c == 'S')
			break;
	}
	EXPECT_TRUE(c == 'D' || c == 'S') TH_LOG("terminate child in state '%c'", c ? c : '?');
	ASSERT_EQ(0, kill(self->kids[KID_TERMINATE], SIGUSR1));
	ms = 0;
	EXPECT_EQ(-ETIMEDOUT, read_ms(pipes[KID_TERMINATE][0], &ms, sizeof(ms), 200))
		TH_LOG("terminate returned (%d) on SIGUSR1", ms);
	EXPECT_EQ(0, waitpid(self->kids[KID_TERMINATE], &status, WNOHANG));

	/* ... but SIGKILL ends it at once. */
	ASSERT_EQ(0, kill(self->kids[KID_TERMINATE], SIGKILL));
	t0 = now_ms();
	ret = waitpid_ms(self->kids[KID_TERMINATE], &status, 1000);
	EXPECT_EQ(self->kids[KID_TERMINATE], ret)
		TH_LOG("SIGKILLed child blocked in terminate still alive after 1 s");
	if (ret == self->kids[KID_TERMINATE]) {
		self->kids[KID_TERMINATE] = 0;
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("status %#x", status);
		TH_LOG("SIGKILL to reaped: %.0f ms", now_ms() - t0);
	}
	for (i = 0; i < NR_STUCK_KIDS; i++)
		close(pipes[i][0]);

	rmmod_waits_for_bios(_metadata, self, drain_end);
}

MACHIO_TEST_MAIN
