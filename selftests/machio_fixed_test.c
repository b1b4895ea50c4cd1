// SPDX-License-Identifier: GPL-2.0
/*
 * Registered buffers: MACHIO_IOC_BUFFER_REGISTER, MACHIO_OP_READ_FIXED and
 * MACHIO_OP_WRITE_FIXED, RLIMIT_MEMLOCK (as uid 65534), and deallocating
 * a buffer while I/O uses it.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define BS 512
#define LEN (64 << 10)

static int buffer_register(int fd, void *addr, __u64 len, __u32 *name)
{
	struct machio_buffer_register a = { .addr = (__u64)(uintptr_t)addr, .len = len };
	int ret = machio_ioctl(fd, MACHIO_IOC_BUFFER_REGISTER, &a);

	if (name)
		*name = a.name;
	return ret;
}

static int submit_fixed(int fd, __u32 op, __u32 dev, __u32 queue, __u32 reqid,
			__u32 recnum, __s32 count, __u32 buf, __u64 offset)
{
	struct machio_io_request a = {
		.op = op, .device = dev, .queue = queue, .reqid = reqid,
		.recnum = recnum, .count = count, .fixed = buf, .buffer = offset,
	};

	return machio_ioctl(fd, MACHIO_IOC_SUBMIT, &a);
}

FIXTURE(fixed) {
	struct nullb nb;
	int mfd;
	int bfd;
	__u32 dev;
	__u32 queue;
	unsigned char *mem;
};

FIXTURE_VARIANT(fixed) {
	const char *completion;		/* null_blk attributes */
	const char *completion_nsec;
};

FIXTURE_VARIANT_ADD(fixed, fast) {
	.completion = "irqmode=1",
	.completion_nsec = NULL,
};

/* Completions 300 ms after submission. */
FIXTURE_VARIANT_ADD(fixed, slow) {
	.completion = "irqmode=2",
	.completion_nsec = "completion_nsec=300000000",
};

FIXTURE_SETUP(fixed)
{
	const char *attrs[] = { variant->completion, "memory_backed=1",
				variant->completion_nsec, NULL };

	self->mfd = self->bfd = -1;
	ASSERT_EQ(0, nullb_create(&self->nb, "fx", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_open_disk(self->mfd, self->nb.dev, &self->bfd, &self->dev));
	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &self->queue));
	self->mem = aligned_buf(LEN, 4096);
	ASSERT_NE(NULL, self->mem);
}

FIXTURE_TEARDOWN(fixed)
{
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->bfd >= 0)
		close(self->bfd);
	free(self->mem);
	nullb_destroy(&self->nb);
}

TEST_F(fixed, register_rejects_bad_arguments)
{
	struct machio_buffer_register a = { .addr = (__u64)(uintptr_t)self->mem, .len = LEN };
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u32 name;

	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-EINVAL, buffer_register(self->mfd, self->mem, 0, &name));
	EXPECT_EQ(-EINVAL, buffer_register(self->mfd, self->mem, (1ULL << 30) + 1, &name));
	EXPECT_EQ(-EINVAL, buffer_register(self->mfd, (void *)~0xfffUL, 8192, &name));
	/* Unmapped, or not writable (the device writes into it): -EFAULT. */
	EXPECT_EQ(-EFAULT, buffer_register(self->mfd, (void *)4096, 4096, &name));
	EXPECT_EQ(-EFAULT, buffer_register(self->mfd, ro, 4096, &name));
	a.flags = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, &a));
	a.flags = 0;
	a.name = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, &a));
	a.name = 0;
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, (void *)8));
	munmap(ro, 4096);
}

/* The name cannot be written back: the registration is undone. */
TEST_F(fixed, register_undone_when_the_reply_cannot_be_written)
{
	struct machio_buffer_register *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u32 name;

	ASSERT_NE(MAP_FAILED, a);
	memset(a, 0, sizeof(*a));
	a->addr = (__u64)(uintptr_t)self->mem;
	a->len = LEN;
	ASSERT_EQ(0, mprotect(a, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_BUFFER_REGISTER, a));
	/* Its pins and memlock charge went with it: the same range registers again. */
	EXPECT_EQ(0, buffer_register(self->mfd, self->mem, LEN, &name));
	EXPECT_EQ(0, mio_deallocate(self->mfd, name));
	munmap(a, 4096);
}

TEST_F(fixed, write_and_read_back_through_a_registered_buffer)
{
	struct machio_io_done_result res;
	struct machio_query q0, q1;
	__u32 buf;
	int i;

	fill_pattern(self->mem, LEN / 2, 11);
	memset(self->mem + LEN / 2, 0, LEN / 2);
	ASSERT_EQ(0, buffer_register(self->mfd, self->mem, LEN, &buf));
	ASSERT_EQ(0, mio_query(self->mfd, &q0));
	/* Eight 4 KiB writes from the first half, read back into the second. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_WRITE_FIXED, self->dev, self->queue,
					  i, i * 8, 4096, buf, i * 4096));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ(MACHIO_IO_DONE_WRITE, res.qd_type);
		EXPECT_EQ(0, res.qd_code);
		EXPECT_EQ(4096, res.qd_count);
	}
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
					  10 + i, i * 8, 4096, buf, LEN / 2 + i * 4096));
	/* Per-I/O pins are not charged: the buffer is pinned already. */
	ASSERT_EQ(0, mio_query(self->mfd, &q1));
	EXPECT_EQ(q0.nr_pinned_pages, q1.nr_pinned_pages);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ(MACHIO_IO_DONE_OVERWRITE, res.qd_type);
		EXPECT_EQ(0, res.qd_code);
		EXPECT_EQ((__u64)(uintptr_t)(self->mem + LEN / 2 + (res.qd_reqid - 10) * 4096),
			  res.qd_data);
	}
	EXPECT_EQ(0, memcmp(self->mem, self->mem + LEN / 2, LEN / 2));
	/* An unaligned sub-range at a block multiple works too. */
	ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
				  99, 1, BS, buf, LEN - BS));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(0, res.qd_code);
	EXPECT_EQ(0, memcmp(self->mem + BS, self->mem + LEN - BS, BS));
	ASSERT_EQ(0, mio_deallocate(self->mfd, buf));
	/* Gone: a request naming it is refused. */
	EXPECT_EQ(-EINVAL, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
					1, 0, BS, buf, 0));
}

TEST_F(fixed, fixed_requests_reject_bad_arguments)
{
	struct machio_io_done_result res;
	__u32 buf;

	ASSERT_EQ(0, buffer_register(self->mfd, self->mem, LEN, &buf));
	/* Outside the buffer: the submit fails, KERN_INVALID_ADDRESS. */
	EXPECT_EQ(-EFAULT, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
					1, 0, 4096, buf, LEN - 2048));
	EXPECT_EQ(-EFAULT, submit_fixed(self->mfd, MACHIO_OP_WRITE_FIXED, self->dev, self->queue,
					1, 0, BS, buf, ~0ULL - 100));
	/* Not a buffer, or a buffer name on an ordinary request. */
	EXPECT_EQ(-EINVAL, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
					1, 0, BS, self->queue, 0));
	EXPECT_EQ(-EINVAL, submit_fixed(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
					self->queue, 1, 0, BS, buf, (__u64)(uintptr_t)self->mem));
	EXPECT_EQ(-EINVAL, submit_fixed(self->mfd, 8, self->dev, self->queue, 1, 0, BS, buf, 0));
	/* Device outcomes: not whole blocks, not DMA-aligned. */
	ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
				  2, 0, 100, buf, 0));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_WRITE_FIXED, self->dev, self->queue,
				  3, 0, BS, buf, 1));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	ASSERT_EQ(0, mio_deallocate(self->mfd, buf));
}

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* Deallocating waits until no device touches the memory. */
TEST_F(fixed, deallocate_waits_for_io_in_flight)
{
	struct machio_cqe c[4];
	long long t0, waited;
	__u32 buf;

	ASSERT_EQ(0, buffer_register(self->mfd, self->mem, LEN, &buf));
	t0 = now_us();
	ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
				  5, 0, 4096, buf, 0));
	ASSERT_EQ(0, mio_deallocate(self->mfd, buf));
	waited = now_us() - t0;
	/* The read is over: its completion is there at once. */
	EXPECT_EQ(1, mio_reap(self->mfd, self->queue, 0, 4, c, -1));
	EXPECT_EQ(5, c[0].reqid);
	EXPECT_EQ(0, c[0].code);
	if (variant->completion_nsec)
		EXPECT_LE(250000, waited) TH_LOG("deallocate returned after %lld us", waited);
}

/* Closing the space with a registered buffer and I/O in flight leaks nothing. */
TEST_F(fixed, close_with_io_in_flight)
{
	__u32 buf;

	ASSERT_EQ(0, buffer_register(self->mfd, self->mem, LEN, &buf));
	ASSERT_EQ(0, submit_fixed(self->mfd, MACHIO_OP_READ_FIXED, self->dev, self->queue,
				  5, 0, 4096, buf, 0));
	close(self->mfd);
	self->mfd = -1;
}

/* As uid 65534 with a 64 KiB RLIMIT_MEMLOCK: registrations are charged to it. */
TEST_F(fixed, memlock_limit_as_nobody)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = LEN, .rlim_max = LEN };
		__u32 a, b;
		int fd;

		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		if (buffer_register(fd, self->mem, LEN, &a))
			_exit(12);
		if (buffer_register(fd, self->mem, 4096, &b) != -ENOMEM)
			_exit(13);
		if (mio_deallocate(fd, a))
			_exit(14);
		/* The charge went with it. */
		if (buffer_register(fd, self->mem, LEN, &a))
			_exit(15);
		close(fd);
		/* And with the space. */
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (buffer_register(fd, self->mem, LEN, &a))
			_exit(16);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

MACHIO_TEST_MAIN
