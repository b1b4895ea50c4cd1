// SPDX-License-Identifier: GPL-2.0
/*
 * MACHIO_IOC_SUBMIT_BATCH: many requests in one call, with io_submit's
 * rules -- the count accepted comes back, the first refused request ends
 * the batch, and its error is returned only when it is the first.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define BS 512
#define NR 256
#define MAX_REQUESTS_PARAM "/sys/module/machio/parameters/max_requests"

FIXTURE(batch) {
	struct nullb nb;
	int mfd;
	int bfd;
	__u32 queue;
	__u32 dev;
	unsigned char *out;
	unsigned char *in;
	struct machio_io_request req[NR];
	char old_max[32];
};

FIXTURE_SETUP(batch)
{
	const char *attrs[] = { "irqmode=1", NULL };

	self->mfd = self->bfd = -1;
	self->old_max[0] = 0;
	ASSERT_EQ(0, nullb_create(&self->nb, "ba", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &self->queue));
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	ASSERT_EQ(0, mio_device_open(self->mfd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->dev));
	self->out = aligned_buf(NR * BS, 4096);
	self->in = aligned_buf(NR * BS, 4096);
	ASSERT_NE(NULL, self->out);
	ASSERT_NE(NULL, self->in);
	fill_pattern(self->out, NR * BS, 7);
	memset(self->in, 0, NR * BS);
}

FIXTURE_TEARDOWN(batch)
{
	if (self->old_max[0])
		write_file(MAX_REQUESTS_PARAM, self->old_max);
	close(self->mfd);
	close(self->bfd);
	nullb_destroy(&self->nb);
	free(self->out);
	free(self->in);
}

static void set_req(struct machio_io_request *r, __u32 op, __u32 dev, __u32 queue,
		    __u32 reqid, __u32 recnum, __s32 count, const void *buf)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->device = dev;
	r->queue = queue;
	r->reqid = reqid;
	r->recnum = recnum;
	r->count = count;
	r->buffer = (__u64)(uintptr_t)buf;
}

/* The ioctl's own return value: accepted count or -errno. */
static long submit_batch(int fd, const struct machio_io_request *reqs, __u32 nr)
{
	struct machio_submit_batch a = {
		.requests = (__u64)(uintptr_t)reqs,
		.nr = nr,
	};
	long ret = ioctl(fd, MACHIO_IOC_SUBMIT_BATCH, &a);

	return ret < 0 ? -errno : ret;
}

static __u32 nr_requests(int fd)
{
	struct machio_query q;

	return mio_query(fd, &q) ? ~0U : q.nr_requests;
}

/* Reap @n completions; each reqid below @n exactly once, all successful. */
static void reap_all(struct __test_metadata *_metadata, int fd, __u32 queue, int n,
		     __s32 count)
{
	struct machio_io_done_result res;
	char seen[NR] = {};
	int i;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, mio_wait(fd, queue, &res));
		ASSERT_GT(n, (int)res.qd_reqid);
		EXPECT_EQ(0, seen[res.qd_reqid]);
		seen[res.qd_reqid] = 1;
		EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
		EXPECT_EQ(count, res.qd_count);
	}
	EXPECT_EQ(0, nr_requests(fd));
}

TEST_F(batch, many_writes_then_reads_in_two_calls)
{
	int i;

	for (i = 0; i < NR; i++)
		set_req(&self->req[i], MACHIO_OP_WRITE, self->dev, self->queue, i, i, BS,
			self->out + i * BS);
	ASSERT_EQ(NR, submit_batch(self->mfd, self->req, NR));
	reap_all(_metadata, self->mfd, self->queue, NR, BS);

	for (i = 0; i < NR; i++)
		set_req(&self->req[i], MACHIO_OP_READ_OVERWRITE, self->dev, self->queue, i, i,
			BS, self->in + i * BS);
	ASSERT_EQ(NR, submit_batch(self->mfd, self->req, NR));
	reap_all(_metadata, self->mfd, self->queue, NR, BS);
	EXPECT_EQ(0, memcmp(self->out, self->in, NR * BS));
}

TEST_F(batch, every_kind_of_request_in_one_batch)
{
	struct machio_io_done_result res;
	int i, got = 0;

	set_req(&self->req[0], MACHIO_OP_WRITE, self->dev, self->queue, 0, 0, BS, self->out);
	set_req(&self->req[1], MACHIO_OP_WRITE_INBAND, self->dev, self->queue, 1, 1, 64,
		self->out);
	set_req(&self->req[2], MACHIO_OP_WRITE, self->dev, MACHIO_PORT_NULL, 2, 2, BS,
		self->out);
	set_req(&self->req[3], MACHIO_OP_READ_INBAND, self->dev, self->queue, 3, 3, 64, NULL);
	set_req(&self->req[4], MACHIO_OP_READ, self->dev, self->queue, 4, 4, BS, NULL);
	set_req(&self->req[5], MACHIO_OP_READ_OVERWRITE, self->dev, self->queue, 5, 5, BS,
		self->in);
	ASSERT_EQ(6, submit_batch(self->mfd, self->req, 6));
	/* Five completions: the write without a queue reports none. */
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
		EXPECT_NE(2, res.qd_reqid);
		got |= 1 << res.qd_reqid;
		if (res.qd_reqid == 4)
			EXPECT_EQ(0, munmap((void *)(uintptr_t)res.qd_data, 4096));
	}
	EXPECT_EQ(0x3b, got);
}

TEST_F(batch, first_refused_request_ends_the_batch)
{
	struct machio_io_done_result res;
	int i;

	for (i = 0; i < 4; i++)
		set_req(&self->req[i], MACHIO_OP_WRITE, self->dev, self->queue, i, i, BS,
			self->out + i * BS);
	self->req[2].device = 0x7fff01;		/* no such name */
	ASSERT_EQ(2, submit_batch(self->mfd, self->req, 4));
	reap_all(_metadata, self->mfd, self->queue, 2, BS);

	/* Refused first: its own error, nothing queued. */
	ASSERT_EQ(-EINVAL, submit_batch(self->mfd, self->req + 2, 2));
	self->req[2].device = self->dev;
	self->req[2].op = 99;
	ASSERT_EQ(-EINVAL, submit_batch(self->mfd, self->req + 2, 2));
	self->req[2].op = MACHIO_OP_WRITE;
	self->req[2].reserved[0] = 1;
	ASSERT_EQ(-EINVAL, submit_batch(self->mfd, self->req + 2, 2));
	self->req[2].reserved[0] = 0;
	self->req[2].buffer = 4096;	/* aligned, never mapped: the pin fails */
	ASSERT_EQ(-EFAULT, submit_batch(self->mfd, self->req + 2, 2));
	EXPECT_EQ(0, nr_requests(self->mfd));
	/* A refused middle request is a short count, not an error. */
	set_req(&self->req[2], MACHIO_OP_WRITE, self->dev, self->queue, 0, 2, BS, (void *)4096);
	ASSERT_EQ(1, submit_batch(self->mfd, self->req + 1, 3));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(1, res.qd_reqid);
	EXPECT_EQ(0, nr_requests(self->mfd));
}

TEST_F(batch, bad_batches)
{
	struct machio_submit_batch a = {};
	struct machio_io_request *gone;
	long ret;

	/* Nothing to do is not an error. */
	EXPECT_EQ(0, submit_batch(self->mfd, self->req, 0));
	EXPECT_EQ(-EINVAL, submit_batch(self->mfd, self->req, MACHIO_SUBMIT_BATCH_MAX + 1));
	a.requests = (__u64)(uintptr_t)self->req;
	a.nr = 1;
	a.flags = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT_BATCH, &a));
	a.flags = 0;
	a.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT_BATCH, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT_BATCH, (void *)16));
	EXPECT_EQ(-EFAULT, submit_batch(self->mfd, (void *)16, 4));

	/* The array runs into an unmapped page: the part before it counts. */
	gone = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, munmap((char *)gone + 4096, 4096));
	gone = (struct machio_io_request *)((char *)gone + 4096) - 1;
	set_req(gone, MACHIO_OP_WRITE, self->dev, self->queue, 0, 9, BS, self->out);
	ret = submit_batch(self->mfd, gone, 2);
	EXPECT_EQ(1, ret);
	if (ret == 1)
		reap_all(_metadata, self->mfd, self->queue, 1, BS);
	munmap((char *)(gone + 1) - 4096, 4096);
}

TEST_F(batch, request_bound_cuts_the_batch)
{
	int fd, i;
	ssize_t n;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	fd = open(MAX_REQUESTS_PARAM, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, self->old_max, sizeof(self->old_max) - 1);
	close(fd);
	ASSERT_LT(0, n);
	self->old_max[n] = 0;
	ASSERT_EQ(0, write_file(MAX_REQUESTS_PARAM, "10"));

	for (i = 0; i < 20; i++)
		set_req(&self->req[i], MACHIO_OP_READ_INBAND, self->dev, self->queue, i, i, 64,
			NULL);
	ASSERT_EQ(10, submit_batch(self->mfd, self->req, 20));
	/* Full: the next batch's first request is refused, with its error. */
	ASSERT_EQ(-EAGAIN, submit_batch(self->mfd, self->req + 10, 10));
	reap_all(_metadata, self->mfd, self->queue, 10, 64);
}

static __u32 nr_pooled(int fd)
{
	struct machio_query q;

	return mio_query(fd, &q) ? ~0U : q.nr_pooled;
}

/* Submit @n writes to @queue in batches, then reap them all; 0 or a check number. */
static int write_and_reap(FIXTURE_DATA(batch) *self, int fd, __u32 dev, __u32 queue, int n)
{
	struct machio_cqe cqes[NR];
	int i, done, k;

	for (done = 0; done < n; done += k) {
		k = n - done < NR ? n - done : NR;
		for (i = 0; i < k; i++)
			set_req(&self->req[i], MACHIO_OP_WRITE, dev, queue, done + i, i, BS,
				self->out + i * BS);
		if (submit_batch(fd, self->req, k) != k)
			return 20;
	}
	/* A list queue: each request is freed as it is reaped. */
	for (done = 0; done < n; done += k) {
		k = n - done < NR ? n - done : NR;
		if (mio_reap(fd, queue, k, k, cqes, -1) != k)
			return 21;
		for (i = 0; i < k; i++)
			if (cqes[i].code || cqes[i].count != BS)
				return 22;
	}
	return 0;
}

/*
 * In a child as uid 65534 with a space of its own: twice @n writes in
 * flight at once on each of two fresh queues.  Returns 0, or the number
 * of the check that failed.  No request is pooled at first; a queue
 * keeps at most POOL_MAX of its freed ones, the space at most @space_cap
 * (max_requests), and nothing is left once the queues are gone.
 */
#define POOL_MAX 256
static int pool_child(FIXTURE_DATA(batch) *self, int n, __u32 space_cap)
{
	__u32 queues[2], dev, want = 0;
	int fd, q, r, ret;

	if (setgid(65534) || setuid(65534))
		return 1;
	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || mio_device_open(fd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE, &dev))
		return 2;
	if (nr_pooled(fd) != 0)
		return 3;
	for (q = 0; q < 2; q++) {
		if (mio_queue_create(fd, mio_host(fd), &queues[q]))
			return 4;
		want += n < POOL_MAX ? n : POOL_MAX;
		if (want > space_cap)
			want = space_cap;
		for (r = 0; r < 2; r++) {
			ret = write_and_reap(self, fd, dev, queues[q], n);
			if (ret)
				return ret;
			if (nr_pooled(fd) != want)
				return 5 + q;
		}
	}
	for (q = 0; q < 2; q++)
		if (mio_terminate(fd, queues[q]) || mio_deallocate(fd, queues[q]))
			return 7;
	if (nr_pooled(fd) != 0)
		return 8;
	return 0;
}

/*
 * Freed requests are kept for reuse by their queue -- up to 256 each, and
 * no more for a space than max_requests -- and released with the queue.
 */
TEST_F(batch, freed_requests_are_pooled_within_bounds)
{
	static const struct { int n; __u32 max_requests; } cases[] = {
		{ 300, 65536 },	/* each queue stops at 256 */
		{ 100, 100 },	/* the second queue pools nothing */
	};
	int c, status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	ASSERT_LT(0, read_text(MAX_REQUESTS_PARAM, self->old_max, sizeof(self->old_max)));
	for (c = 0; c < 2; c++) {
		char val[16];

		snprintf(val, sizeof(val), "%u", cases[c].max_requests);
		ASSERT_EQ(0, write_file(MAX_REQUESTS_PARAM, val));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(pool_child(self, cases[c].n, cases[c].max_requests));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("case %d: check %d failed", c,
							   WEXITSTATUS(status));
	}
}

MACHIO_TEST_MAIN
