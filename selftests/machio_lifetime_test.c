// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes with I/O in flight: terminate, close, and process death (fork,
 * then kill) on a slow device.  None may leak, hang, or touch freed memory;
 * the VM runner unloads the module afterwards and, on the debug kernel,
 * checks KASAN and kmemleak.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <signal.h>
#include <sys/mman.h>
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

MACHIO_TEST_MAIN
