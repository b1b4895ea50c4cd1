// SPDX-License-Identifier: GPL-2.0
/*
 * Data moves: every transfer variant writes and reads back the same bytes,
 * on null_blk completing inline (irqmode 0), in softirq (1) and from a
 * timer (2).  Also the device outcomes reported through the queue: sizes,
 * record numbers, short transfers, I/O errors, read-only ports, D_NOWAIT.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <linux/fs.h>
#include <sys/mman.h>

#define BS 512
#define REQID 0xdeadbeefU

FIXTURE(io) {
	struct nullb nb;
	int mfd;	/* /dev/machio */
	int bfd;	/* the block device, O_RDWR | O_DIRECT */
	__u32 queue;
	__u32 dev;
};

FIXTURE_VARIANT(io) {
	const char *irqmode;
};

FIXTURE_VARIANT_ADD(io, inline) { .irqmode = "0" };
FIXTURE_VARIANT_ADD(io, softirq) { .irqmode = "1" };
FIXTURE_VARIANT_ADD(io, timer) { .irqmode = "2" };

FIXTURE_SETUP(io)
{
	const char *attrs[] = { NULL, "completion_nsec=20000", NULL };
	char irq[16];

	snprintf(irq, sizeof(irq), "irqmode=%s", variant->irqmode);
	attrs[0] = irq;
	ASSERT_EQ(0, nullb_create(&self->nb, "io", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &self->queue));
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	ASSERT_EQ(0, mio_device_open(self->mfd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->dev));
}

FIXTURE_TEARDOWN(io)
{
	close(self->mfd);
	close(self->bfd);
	nullb_destroy(&self->nb);
}

/* Submit, wait for exactly that request, and check the common fields. */
static void one_io(struct __test_metadata *_metadata, FIXTURE_DATA(io) *self,
		   __u32 op, __u32 recnum, __s32 count, const void *buf,
		   struct machio_io_done_result *res)
{
	ASSERT_EQ(0, mio_submit(self->mfd, op, self->dev, self->queue, REQID, 0,
				recnum, count, buf));
	memset(res, 0xa5, sizeof(*res));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, res));
	EXPECT_EQ(REQID, res->qd_reqid);
	EXPECT_EQ(0, res->qd_pad0);
	EXPECT_EQ(0, res->qd_pad1);
}

TEST_F(io, write_then_overwrite_read)
{
	size_t len = 1 << 20;
	unsigned char *out = aligned_buf(len, 4096), *in = aligned_buf(len, 4096);
	struct machio_io_done_result res;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	fill_pattern(out, len, 1);
	memset(in, 0, len);
	one_io(_metadata, self, MACHIO_OP_WRITE, 8, len, out, &res);
	EXPECT_EQ(MACHIO_IO_DONE_WRITE, res.qd_type);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ((int)len, res.qd_count);

	one_io(_metadata, self, MACHIO_OP_READ_OVERWRITE, 8, len, in, &res);
	EXPECT_EQ(MACHIO_IO_DONE_OVERWRITE, res.qd_type);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ((int)len, res.qd_count);
	EXPECT_EQ((__u64)(uintptr_t)in, res.qd_data);
	EXPECT_EQ(0, memcmp(out, in, len));

	/* And the kernel's own O_DIRECT path agrees about the bytes. */
	memset(in, 0, len);
	ASSERT_EQ((ssize_t)len, pread(self->bfd, in, len, 8 * BS));
	EXPECT_EQ(0, memcmp(out, in, len));
	free(out);
	free(in);
}

TEST_F(io, out_of_line_read_maps_fresh_memory)
{
	size_t len = 3 * 4096 + BS;	/* not a whole number of pages */
	unsigned char *out = aligned_buf(len, 4096);
	struct machio_io_done_result res;
	unsigned char *data;

	ASSERT_NE(NULL, out);
	fill_pattern(out, len, 2);
	ASSERT_EQ((ssize_t)len, pwrite(self->bfd, out, len, 100 * BS));

	one_io(_metadata, self, MACHIO_OP_READ, 100, len, NULL, &res);
	EXPECT_EQ(MACHIO_IO_DONE_READ, res.qd_type);
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	ASSERT_EQ((int)len, res.qd_count);
	data = (unsigned char *)(uintptr_t)res.qd_data;
	ASSERT_NE(NULL, data);
	EXPECT_EQ(0, (uintptr_t)data % 4096);
	EXPECT_EQ(0, memcmp(out, data, len));
	/* The tail of the last page is zero, and the region is ours to free. */
	EXPECT_EQ(0, data[len]);
	EXPECT_EQ(0, munmap(data, 4 * 4096));
	free(out);
}

TEST_F(io, inband_write_preserves_rest_of_block)
{
	unsigned char *block = aligned_buf(BS, 4096), *check = aligned_buf(BS, 4096);
	unsigned char small[100];
	struct machio_io_done_result res;

	ASSERT_NE(NULL, block);
	ASSERT_NE(NULL, check);
	fill_pattern(block, BS, 3);
	ASSERT_EQ(BS, pwrite(self->bfd, block, BS, 7 * BS));

	fill_pattern(small, sizeof(small), 4);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE_INBAND, self->dev, self->queue,
				REQID, 0, 7, sizeof(small), small));
	/* Copied at submit: scribbling on it now changes nothing. */
	memset(small + 50, 0, 50);
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(MACHIO_IO_DONE_WRITE, res.qd_type);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ((int)sizeof(small), res.qd_count);

	fill_pattern(small, sizeof(small), 4);
	memcpy(block, small, sizeof(small));
	ASSERT_EQ(BS, pread(self->bfd, check, BS, 7 * BS));
	EXPECT_EQ(0, memcmp(block, check, BS));

	one_io(_metadata, self, MACHIO_OP_READ_INBAND, 7, MACHIO_IO_INBAND_MAX, NULL, &res);
	EXPECT_EQ(MACHIO_IO_DONE_READ, res.qd_type);
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(MACHIO_IO_INBAND_MAX, res.qd_count);
	EXPECT_EQ(0, memcmp(block, res.qd_inline, MACHIO_IO_INBAND_MAX));
	EXPECT_EQ((__u64)(uintptr_t)res.qd_inline, res.qd_data);
	free(block);
	free(check);
}

TEST_F(io, misaligned_buffer_the_device_allows)
{
	/* null_blk needs 512-byte alignment, not page alignment. */
	size_t len = 64 * 1024;
	unsigned char *raw = aligned_buf(len + 4096, 4096), *in = aligned_buf(len + 4096, 4096);
	unsigned char *out = raw + BS, *back = in + 3 * BS;
	struct machio_io_done_result res;

	ASSERT_NE(NULL, raw);
	ASSERT_NE(NULL, in);
	fill_pattern(out, len, 5);
	one_io(_metadata, self, MACHIO_OP_WRITE, 300, len, out, &res);
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	one_io(_metadata, self, MACHIO_OP_READ_OVERWRITE, 300, len, back, &res);
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(0, memcmp(out, back, len));
	free(raw);
	free(in);
}

TEST_F(io, device_outcomes_arrive_in_the_queue)
{
	unsigned char *buf = aligned_buf(8192, 4096);
	__u32 nblocks = 64 * 1024 * 1024 / BS;
	struct machio_io_done_result res;

	ASSERT_NE(NULL, buf);
	memset(buf, 0x5a, 8192);
	/* Not a whole number of blocks. */
	one_io(_metadata, self, MACHIO_OP_READ_OVERWRITE, 0, 100, buf, &res);
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	one_io(_metadata, self, MACHIO_OP_WRITE, 0, -512, buf, &res);
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	/* A buffer the device cannot DMA to. */
	one_io(_metadata, self, MACHIO_OP_READ_OVERWRITE, 0, BS, buf + 1, &res);
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	/* Inband is at most IO_INBAND_MAX bytes. */
	one_io(_metadata, self, MACHIO_OP_READ_INBAND, 0, MACHIO_IO_INBAND_MAX + 1, NULL, &res);
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	one_io(_metadata, self, MACHIO_OP_WRITE_INBAND, 0, MACHIO_IO_INBAND_MAX + 1, buf, &res);
	EXPECT_EQ(MACHIO_D_INVALID_SIZE, res.qd_code);
	/* recnum past the end. */
	one_io(_metadata, self, MACHIO_OP_READ_OVERWRITE, nblocks, BS, buf, &res);
	EXPECT_EQ(MACHIO_D_INVALID_RECNUM, res.qd_code);
	one_io(_metadata, self, MACHIO_OP_READ_INBAND, nblocks + 5, 16, NULL, &res);
	EXPECT_EQ(MACHIO_D_INVALID_RECNUM, res.qd_code);
	/* Running off the end: the short count. */
	one_io(_metadata, self, MACHIO_OP_WRITE, nblocks - 2, 8192, buf, &res);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(2 * BS, res.qd_count);
	one_io(_metadata, self, MACHIO_OP_READ, nblocks - 1, 8192, NULL, &res);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(BS, res.qd_count);
	if (res.qd_data)
		munmap((void *)(uintptr_t)res.qd_data, 4096);
	/* Zero bytes: nothing to do, success. */
	one_io(_metadata, self, MACHIO_OP_WRITE, 0, 0, buf, &res);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	free(buf);
}

TEST_F(io, write_without_queue_is_discarded)
{
	unsigned char *out = aligned_buf(4096, 4096), *in = aligned_buf(4096, 4096);
	int tries;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	fill_pattern(out, 4096, 6);
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, MACHIO_PORT_NULL,
				1, 0, 40, 4096, out));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE_INBAND, self->dev,
				MACHIO_PORT_NULL, 2, 0, 60, 64, out));
	/* Reads need somewhere to deliver the data. */
	EXPECT_EQ(-EINVAL, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
				      MACHIO_PORT_NULL, 3, 0, 40, 4096, in));
	/* The data lands even though nobody hears about it. */
	for (tries = 0; tries < 500; tries++) {
		ASSERT_EQ(4096, pread(self->bfd, in, 4096, 40 * BS));
		if (!memcmp(out, in, 4096))
			break;
		usleep(10000);
	}
	EXPECT_EQ(0, memcmp(out, in, 4096));
	free(out);
	free(in);
}

/* Each test below makes its own device with special settings. */

static void open_nullb(struct __test_metadata *_metadata, const char *const *attrs,
		       struct nullb *nb, int *mfd, int *bfd, int bflags, __u32 mode,
		       __u32 *queue, __u32 *dev)
{
	ASSERT_EQ(0, nullb_create(nb, "x", attrs));
	*mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, *mfd);
	ASSERT_EQ(0, mio_queue_create(*mfd, mio_host(*mfd), queue));
	*bfd = open(nb->dev, bflags | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, *bfd);
	ASSERT_EQ(0, mio_device_open(*mfd, *bfd, mode, dev));
}

TEST(large_transfer_split_into_many_bios)
{
	/* 4 KiB per request at most: a 4 MiB transfer needs 1024 bios. */
	const char *attrs[] = { "max_sectors=8", "irqmode=1", NULL };
	size_t len = 4 << 20;
	unsigned char *out = aligned_buf(len, 4096), *in = aligned_buf(len + BS, 4096);
	struct machio_io_done_result res;
	struct nullb nb = {};
	__u32 queue, dev;
	int mfd, bfd;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	open_nullb(_metadata, attrs, &nb, &mfd, &bfd, O_RDWR, MACHIO_D_READ | MACHIO_D_WRITE,
		   &queue, &dev);
	fill_pattern(out, len, 7);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_WRITE, dev, queue, 1, 0, 16, len, out));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ((int)len, res.qd_count);
	/* Misaligned by one block, so bios straddle pages. */
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 2, 0, 16, len,
				in + BS));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(0, memcmp(out, in + BS, len));
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ, dev, queue, 3, 0, 16, len, NULL));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(0, memcmp(out, (void *)(uintptr_t)res.qd_data, len));
	munmap((void *)(uintptr_t)res.qd_data, len);
	close(mfd);
	close(bfd);
	nullb_destroy(&nb);
	free(out);
	free(in);
}

TEST(bad_blocks_give_io_error)
{
	const char *attrs[] = { "irqmode=1", NULL };
	unsigned char *buf = aligned_buf(8192, 4096);
	struct machio_io_done_result res;
	struct nullb nb = {};
	__u32 queue, dev;
	int mfd, bfd;

	ASSERT_NE(NULL, buf);
	memset(buf, 1, 8192);
	open_nullb(_metadata, attrs, &nb, &mfd, &bfd, O_RDWR, MACHIO_D_READ | MACHIO_D_WRITE,
		   &queue, &dev);
	ASSERT_EQ(0, nullb_set(&nb, "badblocks", "+20-23"));
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 1, 0, 16, 8192, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_IO_ERROR, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_WRITE, dev, queue, 2, 0, 22, BS, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_IO_ERROR, res.qd_code);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_INBAND, dev, queue, 3, 0, 21, 64, NULL));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_IO_ERROR, res.qd_code);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ, dev, queue, 4, 0, 23, BS, NULL));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_IO_ERROR, res.qd_code);
	EXPECT_EQ(0, res.qd_data);
	/* Blocks outside the bad range still work. */
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 5, 0, 24, BS, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	close(mfd);
	close(bfd);
	nullb_destroy(&nb);
	free(buf);
}

TEST(read_only_fd_gives_read_only)
{
	unsigned char *buf = aligned_buf(BS, 4096);
	struct machio_io_done_result res;
	struct nullb nb = {};
	__u32 queue, dev;
	int mfd, bfd;

	ASSERT_NE(NULL, buf);
	memset(buf, 7, BS);
	/* Asking for write access does not get it through an O_RDONLY fd. */
	open_nullb(_metadata, NULL, &nb, &mfd, &bfd, O_RDONLY, MACHIO_D_READ | MACHIO_D_WRITE,
		   &queue, &dev);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_WRITE, dev, queue, 1, 0, 0, BS, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_READ_ONLY, res.qd_code);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_WRITE_INBAND, dev, queue, 2, 0, 0, 16, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_READ_ONLY, res.qd_code);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 3, 0, 0, BS, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	close(mfd);
	close(bfd);
	nullb_destroy(&nb);
	free(buf);
}

TEST(read_only_block_device_gives_read_only)
{
	unsigned char *buf = aligned_buf(BS, 4096);
	struct machio_io_done_result res;
	struct nullb nb = {};
	__u32 queue, dev;
	int mfd, bfd, ro = 1;

	ASSERT_NE(NULL, buf);
	open_nullb(_metadata, NULL, &nb, &mfd, &bfd, O_RDWR, MACHIO_D_READ | MACHIO_D_WRITE,
		   &queue, &dev);
	ASSERT_EQ(0, ioctl(bfd, BLKROSET, &ro));
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_WRITE, dev, queue, 1, 0, 0, BS, buf));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(MACHIO_D_READ_ONLY, res.qd_code);
	ro = 0;
	ASSERT_EQ(0, ioctl(bfd, BLKROSET, &ro));
	close(mfd);
	close(bfd);
	nullb_destroy(&nb);
	free(buf);
}

TEST(nowait_would_block)
{
	/* One tag, no scheduler, slow completions: the second request must wait. */
	const char *attrs[] = { "hw_queue_depth=1", "submit_queues=1", "no_sched=1",
				"irqmode=2", "completion_nsec=300000000", NULL };
	unsigned char *buf = aligned_buf(2 * BS, 4096);
	struct machio_io_done_result res;
	struct nullb nb = {};
	__u32 queue, dev;
	int mfd, bfd;

	ASSERT_NE(NULL, buf);
	open_nullb(_metadata, attrs, &nb, &mfd, &bfd, O_RDWR, MACHIO_D_READ | MACHIO_D_WRITE,
		   &queue, &dev);
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 1, 0, 0, BS, buf));
	ASSERT_EQ(0, mio_submit(mfd, MACHIO_OP_READ_OVERWRITE, dev, queue, 2,
				MACHIO_D_NOWAIT, 1, BS, buf + BS));
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(2, res.qd_reqid);
	EXPECT_EQ(MACHIO_D_WOULD_BLOCK, res.qd_code);
	ASSERT_EQ(0, mio_wait(mfd, queue, &res));
	EXPECT_EQ(1, res.qd_reqid);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	close(mfd);
	close(bfd);
	nullb_destroy(&nb);
	free(buf);
}

MACHIO_TEST_MAIN
