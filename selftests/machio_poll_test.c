// SPDX-License-Identifier: GPL-2.0
/*
 * Polled queues (MACHIO_QUEUE_POLLED): I/O on a null_blk disk's poll queue
 * completes when a waiter polls for it; a disk without poll queues, and
 * ops other than zero-copy reads and writes, are refused; terminate and
 * close drain polled I/O that nobody waits for.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <time.h>

#define BS 512
#define REFCNT "/sys/module/machio/refcnt"

FIXTURE(poll) {
	struct nullb polled;
	struct nullb plain;
	int mfd;
	int pfd;
	int nfd;
	__u32 pdev;
	__u32 ndev;
	__u32 queue;
	int qfd;
	struct mio_ring r;
	unsigned char *buf;
};

FIXTURE_SETUP(poll)
{
	const char *with[] = { "memory_backed=1", "poll_queues=1", NULL };
	const char *without[] = { "memory_backed=1", "poll_queues=0", NULL };
	struct machio_queue_setup a = {
		.flags = MACHIO_QUEUE_POLLED | MACHIO_QUEUE_RING, .ring_entries = 64,
	};

	self->mfd = self->pfd = self->nfd = self->qfd = -1;
	memset(&self->r, 0, sizeof(self->r));
	ASSERT_EQ(0, nullb_create(&self->polled, "pq", with));
	ASSERT_EQ(0, nullb_create(&self->plain, "pn", without));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_open_disk(self->mfd, self->polled.dev, &self->pfd, &self->pdev));
	ASSERT_EQ(0, mio_open_disk(self->mfd, self->plain.dev, &self->nfd, &self->ndev));
	a.host = mio_host(self->mfd);
	ASSERT_EQ(0, mio_queue_setup(self->mfd, &a));
	self->queue = a.queue;
	self->qfd = a.fd;
	ASSERT_EQ(0, mio_ring_map(&self->r, &a));
	self->buf = aligned_buf(1 << 20, 4096);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(poll)
{
	mio_ring_unmap(&self->r);
	if (self->qfd >= 0)
		close(self->qfd);
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->pfd >= 0)
		close(self->pfd);
	if (self->nfd >= 0)
		close(self->nfd);
	free(self->buf);
	nullb_destroy(&self->polled);
	nullb_destroy(&self->plain);
}

static int reap_all(int mfd, __u32 queue, int n, struct machio_cqe *c)
{
	int got = 0;

	while (got < n) {
		int k = mio_reap(mfd, queue, 1, n - got, c + got, -1);

		if (k < 0)
			return k;
		got += k;
	}
	return got;
}

TEST_F(poll, writes_and_reads_complete_by_polling)
{
	unsigned char *in = self->buf + (512 << 10);
	struct machio_cqe c[32];
	struct machio_io_done_result res;
	int i;

	fill_pattern(self->buf, 16 * 4096, 21);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->pdev, self->queue, i, 0,
					i * 8, 4096, self->buf + i * 4096));
	/* Nothing completes until someone polls. */
	usleep(100000);
	EXPECT_EQ(0, mio_ring_ready(&self->r));
	ASSERT_EQ(16, reap_all(self->mfd, self->queue, 16, c));
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(0, c[i].code);
		EXPECT_EQ(4096, c[i].count);
	}
	memset(in, 0, 16 * 4096);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->pdev,
					self->queue, 100 + i, 0, i * 8, 4096, in + i * 4096));
	/* io_done_queue_wait polls too, one completion per call. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ(0, res.qd_code);
		EXPECT_EQ(MACHIO_IO_DONE_OVERWRITE, res.qd_type);
	}
	EXPECT_EQ(0, memcmp(self->buf, in, 16 * 4096));
}

TEST_F(poll, registered_buffer_on_a_polled_queue)
{
	struct machio_buffer_register b = { .addr = (__u64)(uintptr_t)self->buf, .len = 65536 };
	struct machio_cqe c[8];
	int i;

	fill_pattern(self->buf, 8 * 4096, 5);
	ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, &b));
	for (i = 0; i < 8; i++) {
		struct machio_io_request rq = {
			.op = MACHIO_OP_WRITE_FIXED, .device = self->pdev, .queue = self->queue,
			.reqid = i, .recnum = i * 8, .count = 4096, .fixed = b.name,
			.buffer = i * 4096,
		};

		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &rq));
	}
	ASSERT_EQ(8, reap_all(self->mfd, self->queue, 8, c));
	for (i = 0; i < 8; i++) {
		struct machio_io_request rq = {
			.op = MACHIO_OP_READ_FIXED, .device = self->pdev, .queue = self->queue,
			.reqid = 10 + i, .recnum = i * 8, .count = 4096, .fixed = b.name,
			.buffer = 32768 + i * 4096,
		};

		ASSERT_EQ(0, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &rq));
	}
	ASSERT_EQ(8, reap_all(self->mfd, self->queue, 8, c));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, c[i].code);
	EXPECT_EQ(0, memcmp(self->buf, self->buf + 32768, 8 * 4096));
	ASSERT_EQ(0, mio_deallocate(self->mfd, b.name));
}

TEST_F(poll, refused_without_poll_queues_and_for_other_ops)
{
	EXPECT_EQ(-EOPNOTSUPP, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->ndev,
					  self->queue, 1, 0, 0, BS, self->buf));
	EXPECT_EQ(-EOPNOTSUPP, mio_submit(self->mfd, MACHIO_OP_READ, self->pdev, self->queue,
					  1, 0, 0, BS, NULL));
	EXPECT_EQ(-EOPNOTSUPP, mio_submit(self->mfd, MACHIO_OP_READ_INBAND, self->pdev,
					  self->queue, 1, 0, 0, 16, NULL));
	EXPECT_EQ(-EOPNOTSUPP, mio_submit(self->mfd, MACHIO_OP_WRITE_INBAND, self->pdev,
					  self->queue, 1, 0, 0, 16, self->buf));
	/* Nothing was accepted: a timed reap finds nothing. */
	EXPECT_EQ(0, mio_reap(self->mfd, self->queue, 1, 8,
			      (struct machio_cqe *)(self->buf + 4096), 50 * 1000 * 1000LL));
}

TEST_F(poll, reap_timeout_with_nothing_in_flight)
{
	struct machio_cqe c[8];
	struct timespec t0, t1;
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, mio_reap(self->mfd, self->queue, 1, 8, c, 100 * 1000 * 1000LL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
	EXPECT_LE(95000, us);
}

TEST_F(poll, terminate_polls_io_in_flight_to_completion)
{
	int i;

	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->pdev,
					self->queue, i, 0, i, BS, self->buf + i * 4096));
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	EXPECT_EQ(MACHIO_RING_DEAD, self->r.hdr->flags);
}

static int refcnt(void)
{
	char buf[16] = {};
	int fd = open(REFCNT, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return atoi(buf);
}

/* Nobody polls a closed space's I/O but the module: it still drains. */
TEST_F(poll, close_with_polled_io_in_flight_drains)
{
	int i, before;

	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->pdev, self->queue, i, 0,
					i, BS, self->buf + i * 4096));
	mio_ring_unmap(&self->r);
	close(self->qfd);
	self->qfd = -1;
	before = refcnt();
	close(self->mfd);
	self->mfd = -1;
	/*
	 * The file's module reference goes at once; the space's (it holds one
	 * while requests hold it) once its I/O is done.
	 */
	for (i = 0; i < 500 && refcnt() > before - 2; i++)
		usleep(10000);
	EXPECT_EQ(before - 2, refcnt());
}

MACHIO_TEST_MAIN
