// SPDX-License-Identifier: GPL-2.0
/*
 * Coherence: machio requests against the page cache (they must behave like
 * O_DIRECT), inband writes against every other write to the same disk, a
 * disk that goes away under an open device port, and out-of-line reads
 * reaped by a process other than the one that submitted them.
 *
 * Every wait is bounded, so a module that never delivers a completion
 * fails the test rather than hanging it.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define BS 512
#define PG 4096
#define WAIT_MS 5000	/* no request here takes more than a fraction of that */

/* glibc 2.36 has SIGEV_THREAD_ID but not the POSIX-style field name. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static void on_sigalrm(int sig)
{
	(void)sig;	/* only here to make a blocked ioctl return -EINTR */
}

/*
 * mio_wait() that gives up after @ms with -EINTR.  The timer signals the
 * calling thread only, so threads can each bound their own waits, and it
 * keeps firing every 10 ms once it has expired: a signal that lands just
 * before the thread blocks in the ioctl cannot leave it blocked.
 */
static int wait_ms(int fd, __u32 queue, struct machio_io_done_result *res, int ms)
{
	struct sigaction sa = { .sa_handler = on_sigalrm };	/* no SA_RESTART */
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGALRM,
	};
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L },
		.it_interval = { .tv_nsec = 10000000L },
	};
	timer_t timer;
	int ret;

	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		return -errno;
	if (timer_settime(timer, 0, &its, NULL)) {
		ret = -errno;
		timer_delete(timer);
		return ret;
	}
	memset(res, 0xa5, sizeof(*res));
	ret = mio_wait(fd, queue, res);
	timer_delete(timer);
	return ret;
}

/* One request, and its completion (which must be that request's). */
static int io_sync(int mfd, __u32 dev, __u32 queue, __u32 op, __u32 recnum, __s32 count,
		   const void *buf, struct machio_io_done_result *res)
{
	int ret = mio_submit(mfd, op, dev, queue, op, 0, recnum, count, buf);

	if (ret)
		return ret;
	ret = wait_ms(mfd, queue, res, WAIT_MS);
	if (!ret && res->qd_reqid != op)
		ret = -EPROTO;
	return ret;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- A. The page cache ------------------------------------------------ */

#define PC_OFF (16 * PG)	/* a page-aligned range, away from block 0 */

FIXTURE(cache) {
	struct nullb nb;
	int mfd;	/* /dev/machio */
	int dfd;	/* the disk, O_DIRECT: the device port's and the checker's */
	int bfd;	/* the same disk, buffered: goes through the page cache */
	__u32 queue;
	__u32 dev;
	unsigned char *p, *q, *buf;
};

FIXTURE_SETUP(cache)
{
	self->mfd = self->dfd = self->bfd = -1;
	ASSERT_EQ(0, nullb_create(&self->nb, "pc", NULL));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, mio_queue_create(self->mfd, mio_host(self->mfd), &self->queue));
	self->dfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->dfd);
	ASSERT_EQ(0, mio_device_open(self->mfd, self->dfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->dev));
	self->bfd = open(self->nb.dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	self->p = aligned_buf(PG, PG);
	self->q = aligned_buf(PG, PG);
	self->buf = aligned_buf(PG, PG);
	ASSERT_NE(NULL, self->p);
	ASSERT_NE(NULL, self->q);
	ASSERT_NE(NULL, self->buf);
	fill_pattern(self->p, PG, 0x50);
	fill_pattern(self->q, PG, 0x51);
}

FIXTURE_TEARDOWN(cache)
{
	close(self->mfd);
	close(self->dfd);
	close(self->bfd);
	nullb_destroy(&self->nb);
	free(self->p);
	free(self->q);
	free(self->buf);
}

TEST_F(cache, read_sees_buffered_write)
{
	struct machio_io_done_result res;

	/* Q on the disk, P only in the page cache (dirty: no fsync). */
	ASSERT_EQ(PG, pwrite(self->dfd, self->q, PG, PC_OFF));
	ASSERT_EQ(PG, pwrite(self->bfd, self->p, PG, PC_OFF));

	/* Like an O_DIRECT read, the request writes P back before reading. */
	memset(self->buf, 0, PG);
	ASSERT_EQ(0, io_sync(self->mfd, self->dev, self->queue, MACHIO_OP_READ_OVERWRITE,
			     PC_OFF / BS, PG, self->buf, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(PG, res.qd_count);
	EXPECT_EQ(0, memcmp(self->p, self->buf, PG)) {
		TH_LOG("the read got %s", memcmp(self->q, self->buf, PG) ?
		       "neither P nor Q" : "Q, the disk under a dirty page");
	}
}

TEST_F(cache, buffered_read_sees_machio_write)
{
	struct machio_io_done_result res;

	ASSERT_EQ(PG, pwrite(self->dfd, self->q, PG, PC_OFF));
	/* A buffered read puts Q in the page cache. */
	ASSERT_EQ(PG, pread(self->bfd, self->buf, PG, PC_OFF));
	ASSERT_EQ(0, memcmp(self->q, self->buf, PG));

	ASSERT_EQ(0, io_sync(self->mfd, self->dev, self->queue, MACHIO_OP_WRITE,
			     PC_OFF / BS, PG, self->p, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(PG, res.qd_count);

	/* The write invalidated the cached Q before its completion was queued. */
	memset(self->buf, 0, PG);
	ASSERT_EQ(PG, pread(self->bfd, self->buf, PG, PC_OFF));
	EXPECT_EQ(0, memcmp(self->p, self->buf, PG)) {
		TH_LOG("the buffered read got %s", memcmp(self->q, self->buf, PG) ?
		       "neither P nor Q" : "the stale cached Q");
	}
	memset(self->buf, 0, PG);
	ASSERT_EQ(PG, pread(self->dfd, self->buf, PG, PC_OFF));
	EXPECT_EQ(0, memcmp(self->p, self->buf, PG));
}

TEST_F(cache, dirty_page_does_not_overwrite_machio_write)
{
	struct machio_io_done_result res;

	/* Q dirty in the page cache, never synced. */
	ASSERT_EQ(PG, pwrite(self->bfd, self->q, PG, PC_OFF));
	ASSERT_EQ(0, io_sync(self->mfd, self->dev, self->queue, MACHIO_OP_WRITE,
			     PC_OFF / BS, PG, self->p, &res));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(PG, res.qd_count);

	/* Anything still dirty would go out now, over P. */
	ASSERT_EQ(0, fsync(self->bfd));
	ASSERT_EQ(0, ioctl(self->bfd, BLKFLSBUF, 0));
	memset(self->buf, 0, PG);
	ASSERT_EQ(PG, pread(self->dfd, self->buf, PG, PC_OFF));
	EXPECT_EQ(0, memcmp(self->p, self->buf, PG)) {
		TH_LOG("the disk holds %s", memcmp(self->q, self->buf, PG) ?
		       "neither P nor Q" : "Q: the dirty page was written over P");
	}
}

/* --- Devices made per test --------------------------------------------- */

#define NSPACES 2

struct disk {
	struct nullb nb;
	int bfd;		/* the disk, O_RDWR | O_DIRECT */
	int mfd[NSPACES];	/* independent spaces, one queue and port each */
	__u32 queue[NSPACES];
	__u32 dev[NSPACES];
};

/*
 * D_NOWAIT: writing back or dropping cached pages of the range would
 * block, so the request completes D_WOULD_BLOCK and moves nothing, as an
 * O_DIRECT RWF_NOWAIT request gets EAGAIN.  Without cached pages it goes.
 */
TEST_F(cache, nowait_with_cached_pages_would_block)
{
	struct machio_io_done_result res;

	ASSERT_EQ(PG, pwrite(self->dfd, self->q, PG, PC_OFF));
	ASSERT_EQ(PG, pwrite(self->bfd, self->p, PG, PC_OFF));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue, 1,
				MACHIO_D_NOWAIT, PC_OFF / BS, PG, self->buf));
	ASSERT_EQ(0, wait_ms(self->mfd, self->queue, &res, WAIT_MS));
	EXPECT_EQ(MACHIO_D_WOULD_BLOCK, res.qd_code);
	EXPECT_EQ(0, res.qd_count);

	/* Written back and dropped: nothing cached, so NOWAIT goes through. */
	ASSERT_EQ(0, fsync(self->bfd));
	ASSERT_EQ(0, ioctl(self->bfd, BLKFLSBUF, 0));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, self->queue, 2,
				MACHIO_D_NOWAIT, PC_OFF / BS, PG, self->buf));
	ASSERT_EQ(0, wait_ms(self->mfd, self->queue, &res, WAIT_MS));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(0, memcmp(self->p, self->buf, PG));
}

/*
 * Writing back the dirty page of the range fails (a bad sector in it that
 * the request itself does not touch): the request completes D_IO_ERROR
 * without doing its I/O, as an O_DIRECT read returns the writeback error.
 */
TEST_F(cache, writeback_error_before_the_request_is_io_error)
{
	struct machio_io_done_result res;

	ASSERT_EQ(PG, pwrite(self->bfd, self->p, PG, PC_OFF));
	ASSERT_EQ(0, nullb_set(&self->nb, "badblocks", "+135-135"));	/* page's last */
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev, self->queue, 1,
				0, PC_OFF / BS, BS, self->buf));
	ASSERT_EQ(0, wait_ms(self->mfd, self->queue, &res, WAIT_MS));
	EXPECT_EQ(MACHIO_D_IO_ERROR, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
}

FIXTURE(disk) {
	struct disk d;
};

FIXTURE_SETUP(disk)
{
	int i;

	self->d.bfd = -1;
	for (i = 0; i < NSPACES; i++)
		self->d.mfd[i] = -1;
}

FIXTURE_TEARDOWN(disk)
{
	int i;

	for (i = 0; i < NSPACES; i++)
		close(self->d.mfd[i]);
	close(self->d.bfd);
	nullb_destroy(&self->d.nb);
}

/* Each test makes its disk with its own null_blk settings. */
static void disk_open(struct __test_metadata *_metadata, struct disk *d,
		      const char *const *attrs)
{
	int i;

	ASSERT_EQ(0, nullb_create(&d->nb, "co", attrs));
	d->bfd = open(d->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, d->bfd);
	for (i = 0; i < NSPACES; i++) {
		d->mfd[i] = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, d->mfd[i]);
		ASSERT_EQ(0, mio_queue_create(d->mfd[i], mio_host(d->mfd[i]), &d->queue[i]));
		ASSERT_EQ(0, mio_device_open(d->mfd[i], d->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
					     &d->dev[i]));
	}
}

/* --- B. Inband write atomicity ----------------------------------------- */

#define RACE_BLOCK 5
#define RACE_WRITES 5000	/* per thread */
#define RACE_DEPTH 64		/* B's writes in flight */

/* Orders events of both threads: submit and reap times of the last writes. */
static unsigned long race_clock;

static unsigned long race_tick(void)
{
	return __atomic_add_fetch(&race_clock, 1, __ATOMIC_SEQ_CST);
}

struct racer {
	int mfd;
	__u32 queue, dev;
	pthread_barrier_t *start;
	int errors;		/* failed calls or wrong completions */
	char err[160];		/* the first of them */
	int lost;		/* A: reads that did not see A's latest write */
	__u32 lost_seq, seen_seq;	/* A: the first of them */
	unsigned long last_sub;	/* tick before the last write was submitted */
	unsigned long last_done;	/* tick after its completion was reaped */
};

static void racer_fail(struct racer *r, const char *what, long val)
{
	if (!r->errors++)
		snprintf(r->err, sizeof(r->err), "%s: %ld", what, val);
}

/* A's 128 bytes: 4-byte marker, seq, 120 bytes that depend on seq. */
static void a_payload(unsigned char *p, __u32 seq)
{
	int i;

	memset(p, 'A', 4);
	memcpy(p + 4, &seq, sizeof(seq));
	for (i = 8; i < MACHIO_IO_INBAND_MAX; i++)
		p[i] = (unsigned char)(seq * 13 + i * 7 + 1);
}

/* B's 4 bytes: marker, 24-bit seq. */
static void b_payload(unsigned char *p, __u32 seq)
{
	p[0] = 'B';
	p[1] = seq;
	p[2] = seq >> 8;
	p[3] = seq >> 16;
}

/*
 * A: one inband write of the first 128 bytes at a time, each followed by a
 * read of them.  Only A writes bytes 4..127, so once A's write is complete
 * those bytes can only be what A wrote last; an older seq there means some
 * other read-modify-write wrote back the block it read before A's write.
 */
static void *racer_a(void *arg)
{
	unsigned char out[MACHIO_IO_INBAND_MAX];
	struct machio_io_done_result res;
	struct racer *r = arg;
	unsigned long t0;
	__u32 seq;
	int ret;

	pthread_barrier_wait(r->start);
	for (seq = 0; seq < RACE_WRITES; seq++) {
		a_payload(out, seq);
		t0 = race_tick();
		ret = mio_submit(r->mfd, MACHIO_OP_WRITE_INBAND, r->dev, r->queue, seq, 0,
				 RACE_BLOCK, sizeof(out), out);
		if (ret) {
			racer_fail(r, "A: submit write", ret);
			break;
		}
		ret = wait_ms(r->mfd, r->queue, &res, WAIT_MS);
		if (ret) {
			racer_fail(r, "A: wait write", ret);
			break;
		}
		r->last_sub = t0;
		r->last_done = race_tick();
		if (res.qd_reqid != seq || res.qd_code || res.qd_count != sizeof(out))
			racer_fail(r, "A: write completion code", res.qd_code);

		ret = mio_submit(r->mfd, MACHIO_OP_READ_INBAND, r->dev, r->queue, ~seq, 0,
				 RACE_BLOCK, sizeof(out), NULL);
		if (!ret)
			ret = wait_ms(r->mfd, r->queue, &res, WAIT_MS);
		if (ret) {
			racer_fail(r, "A: read", ret);
			break;
		}
		if (res.qd_reqid != ~seq || res.qd_code || res.qd_count != sizeof(out)) {
			racer_fail(r, "A: read completion code", res.qd_code);
			continue;
		}
		if (memcmp(res.qd_inline + 4, out + 4, sizeof(out) - 4)) {
			if (!r->lost++) {
				r->lost_seq = seq;
				memcpy(&r->seen_seq, res.qd_inline + 4, sizeof(r->seen_seq));
			}
		}
	}
	return NULL;
}

/* B: 4-byte inband writes at the start of the same block, many in flight. */
static void *racer_b(void *arg)
{
	struct machio_io_done_result res;
	struct racer *r = arg;
	__u32 sub = 0, done = 0;
	unsigned char out[4];
	unsigned long t0;
	int ret;

	pthread_barrier_wait(r->start);
	while (done < RACE_WRITES) {
		while (sub < RACE_WRITES && sub - done < RACE_DEPTH) {
			/* Copied at submit: @out may be reused at once. */
			b_payload(out, sub);
			t0 = race_tick();
			ret = mio_submit(r->mfd, MACHIO_OP_WRITE_INBAND, r->dev, r->queue, sub,
					 0, RACE_BLOCK, sizeof(out), out);
			if (ret) {
				racer_fail(r, "B: submit write", ret);
				return NULL;
			}
			if (sub == RACE_WRITES - 1)
				r->last_sub = t0;
			sub++;
		}
		ret = wait_ms(r->mfd, r->queue, &res, WAIT_MS);
		if (ret) {
			racer_fail(r, "B: wait write", ret);
			return NULL;
		}
		if (res.qd_reqid == RACE_WRITES - 1)
			r->last_done = race_tick();
		if (res.qd_reqid >= sub || res.qd_code || res.qd_count != sizeof(out))
			racer_fail(r, "B: write completion code", res.qd_code);
		done++;
	}
	return NULL;
}

/*
 * 20 to 25 s on the debug kernel as a rule, but its 20 us timer
 * completions can swamp an emulated CPU: runs of 120 s and more have been
 * seen there, so the bound is generous.
 */
TEST_F_TIMEOUT(disk, inband_writes_from_two_threads_lose_nothing, 400)
{
	/* Timer completions, so read and write halves of the RMWs interleave. */
	static const char *const attrs[] = { "irqmode=2", "completion_nsec=20000", NULL };
	struct disk *d = &self->d;
	unsigned char *init = aligned_buf(BS, PG), *block = aligned_buf(BS, PG);
	unsigned char a_last[MACHIO_IO_INBAND_MAX], b_last[4];
	struct racer a = {}, b = {};
	pthread_barrier_t start;
	pthread_t ta, tb;
	bool is_a, is_b, a_first, b_first;
	double t0;

	ASSERT_NE(NULL, init);
	ASSERT_NE(NULL, block);
	disk_open(_metadata, d, attrs);
	fill_pattern(init, BS, 0x44);
	ASSERT_EQ(BS, pwrite(d->bfd, init, BS, RACE_BLOCK * BS));

	/* Two spaces: the atomicity must hold across spaces, not only in one. */
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));
	a.mfd = d->mfd[0];
	a.queue = d->queue[0];
	a.dev = d->dev[0];
	a.start = &start;
	b.mfd = d->mfd[1];
	b.queue = d->queue[1];
	b.dev = d->dev[1];
	b.start = &start;
	t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&ta, NULL, racer_a, &a));
	ASSERT_EQ(0, pthread_create(&tb, NULL, racer_b, &b));
	/* Both threads end: every wait in them is bounded. */
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	TH_LOG("%d + %d inband writes in %.0f ms; %d of %d reads saw a lost update",
	       RACE_WRITES, RACE_WRITES, now_ms() - t0, a.lost, RACE_WRITES);
	EXPECT_EQ(0, a.errors) {
		TH_LOG("%s", a.err);
	}
	EXPECT_EQ(0, b.errors) {
		TH_LOG("%s", b.err);
	}
	EXPECT_EQ(0, a.lost) {
		TH_LOG("first after A's write %u: the block held A's write %u",
		       a.lost_seq, a.seen_seq);
	}

	/* The block at the end: A's last write over bytes 4..127, rest untouched. */
	ASSERT_EQ(BS, pread(d->bfd, block, BS, RACE_BLOCK * BS));
	a_payload(a_last, RACE_WRITES - 1);
	b_payload(b_last, RACE_WRITES - 1);
	EXPECT_EQ(0, memcmp(block + 4, a_last + 4, sizeof(a_last) - 4));
	EXPECT_EQ(0, memcmp(block + sizeof(a_last), init + sizeof(a_last),
			    BS - sizeof(a_last)));
	/*
	 * Bytes 0..3 are from whichever last write went last; a write
	 * submitted after the other's completion was reaped went after it.
	 */
	is_a = !memcmp(block, a_last, 4);
	is_b = !memcmp(block, b_last, 4);
	a_first = a.last_done < b.last_sub;
	b_first = b.last_done < a.last_sub;
	EXPECT_TRUE(is_a || is_b) {
		TH_LOG("bytes 0..3: %02x %02x %02x %02x, neither A's nor B's last write",
		       block[0], block[1], block[2], block[3]);
	}
	EXPECT_TRUE(!a_first || is_b) {
		TH_LOG("A's last write was reaped before B's was submitted, yet A's is on top");
	}
	EXPECT_TRUE(!b_first || is_a) {
		TH_LOG("B's last write was reaped before A's was submitted, yet B's is on top");
	}
	pthread_barrier_destroy(&start);
	free(init);
	free(block);
}

#define SLOW_ATTRS "irqmode=2", "completion_nsec=100000000"	/* 100 ms each */

TEST_F(disk, plain_write_after_inband_write_is_ordered)
{
	static const char *const attrs[] = { SLOW_ATTRS, NULL };
	struct disk *d = &self->d;
	unsigned char *wbuf = aligned_buf(BS, PG), *block = aligned_buf(BS, PG);
	struct machio_io_done_result res;
	unsigned char ibuf[64];
	int i;

	ASSERT_NE(NULL, wbuf);
	ASSERT_NE(NULL, block);
	disk_open(_metadata, d, attrs);
	memset(block, '.', BS);
	ASSERT_EQ(BS, pwrite(d->bfd, block, BS, 0));
	memset(ibuf, 'I', sizeof(ibuf));
	memset(wbuf, 'W', BS);

	/*
	 * The plain write goes out while the inband write is still reading
	 * the block it patches: it was submitted later, so it must land later.
	 */
	ASSERT_EQ(0, mio_submit(d->mfd[0], MACHIO_OP_WRITE_INBAND, d->dev[0],
				d->queue[0], 1, 0, 0, sizeof(ibuf), ibuf));
	ASSERT_EQ(0, mio_submit(d->mfd[1], MACHIO_OP_WRITE, d->dev[1],
				d->queue[1], 2, 0, 0, BS, wbuf));
	for (i = 0; i < NSPACES; i++) {
		ASSERT_EQ(0, wait_ms(d->mfd[i], d->queue[i], &res, WAIT_MS));
		EXPECT_EQ(i + 1, res.qd_reqid);
		EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	}
	ASSERT_EQ(BS, pread(d->bfd, block, BS, 0));
	EXPECT_EQ(0, memcmp(wbuf, block, BS)) {
		TH_LOG("block 0 starts \"%.8s\", ends \"%.8s\"", block, block + BS - 8);
	}
	free(wbuf);
	free(block);
}

#define HOLD_READS 4		/* 16 KiB reads ahead of the two writes */
#define HOLD_LEN (16 * 1024)
#define ORDER_BLOCK 8192	/* above the holding reads: read in the same sweep */

/*
 * null_blk moves the data when it takes a request and completes it
 * later, so a write is on the disk before a read submitted after it
 * unless something reorders them.  Make that happen: at 1 MB/s it
 * takes one 16 KiB request per 20 ms tick, so the holding reads keep
 * the queue stopped while both writes are submitted, and when it runs
 * again mq-deadline serves reads first.  The inband write's read of
 * its block then goes to the disk before the plain write, unless
 * machio holds it back until the plain write is done.  (Without
 * machio, an O_DIRECT read after an O_DIRECT write saw the old block
 * 10 times out of 10 here.)
 */
/*
 * A D_NOWAIT write that would have to wait for an inband write to its
 * block completes D_WOULD_BLOCK and writes nothing; one to another block
 * does not conflict and goes through.
 */
TEST_F(disk, nowait_write_behind_inband_write_would_block)
{
	static const char *const attrs[] = { SLOW_ATTRS, NULL };
	struct disk *d = &self->d;
	unsigned char *wbuf = aligned_buf(BS, PG), *block = aligned_buf(BS, PG);
	struct machio_io_done_result res;
	unsigned char ibuf[64];

	ASSERT_NE(NULL, wbuf);
	ASSERT_NE(NULL, block);
	disk_open(_metadata, d, attrs);
	memset(block, '.', BS);
	ASSERT_EQ(BS, pwrite(d->bfd, block, BS, 0));
	memset(ibuf, 'I', sizeof(ibuf));
	memset(wbuf, 'W', BS);

	ASSERT_EQ(0, mio_submit(d->mfd[0], MACHIO_OP_WRITE_INBAND, d->dev[0],
				d->queue[0], 1, 0, 0, sizeof(ibuf), ibuf));
	ASSERT_EQ(0, mio_submit(d->mfd[1], MACHIO_OP_WRITE, d->dev[1],
				d->queue[1], 2, MACHIO_D_NOWAIT, 0, BS, wbuf));
	ASSERT_EQ(0, wait_ms(d->mfd[1], d->queue[1], &res, WAIT_MS));
	EXPECT_EQ(2, res.qd_reqid);
	EXPECT_EQ(MACHIO_D_WOULD_BLOCK, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	ASSERT_EQ(0, mio_submit(d->mfd[1], MACHIO_OP_WRITE, d->dev[1],
				d->queue[1], 3, MACHIO_D_NOWAIT, 8, BS, wbuf));
	ASSERT_EQ(0, wait_ms(d->mfd[1], d->queue[1], &res, WAIT_MS));
	EXPECT_EQ(3, res.qd_reqid);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	ASSERT_EQ(0, wait_ms(d->mfd[0], d->queue[0], &res, WAIT_MS));
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);

	/* Block 0 has the inband write and nothing of the refused one. */
	ASSERT_EQ(BS, pread(d->bfd, block, BS, 0));
	EXPECT_EQ(0, memcmp(block, ibuf, sizeof(ibuf)));
	EXPECT_EQ('.', block[BS - 1]);
	free(wbuf);
	free(block);
}

TEST_F(disk, inband_write_after_plain_write_is_ordered)
{
	static const char *const attrs[] = { SLOW_ATTRS, "mbps=1", NULL };
	struct disk *d = &self->d;
	unsigned char *hold = aligned_buf(HOLD_READS * HOLD_LEN, PG);
	unsigned char *wbuf = aligned_buf(BS, PG), *block = aligned_buf(BS, PG);
	struct machio_io_done_result res;
	char sched[sizeof(d->nb.name) + 32];
	unsigned char ibuf[64];
	int i, got_i = 0;

	ASSERT_NE(NULL, hold);
	ASSERT_NE(NULL, wbuf);
	ASSERT_NE(NULL, block);
	disk_open(_metadata, d, attrs);
	snprintf(sched, sizeof(sched), "/sys/block/%s/queue/scheduler", d->nb.name);
	ASSERT_EQ(0, write_file(sched, "mq-deadline"));
	memset(block, '.', BS);
	ASSERT_EQ(BS, pwrite(d->bfd, block, BS, ORDER_BLOCK * BS));
	memset(ibuf, 'I', sizeof(ibuf));
	memset(wbuf, 'W', BS);

	/* Spaced out so that the scheduler cannot merge them into one. */
	for (i = 0; i < HOLD_READS; i++)
		ASSERT_EQ(0, mio_submit(d->mfd[0], MACHIO_OP_READ_OVERWRITE, d->dev[0],
					d->queue[0], 100 + i, 0, i * 2 * HOLD_LEN / BS,
					HOLD_LEN, hold + i * HOLD_LEN));
	ASSERT_EQ(0, mio_submit(d->mfd[1], MACHIO_OP_WRITE, d->dev[1],
				d->queue[1], 2, 0, ORDER_BLOCK, BS, wbuf));
	ASSERT_EQ(0, mio_submit(d->mfd[0], MACHIO_OP_WRITE_INBAND, d->dev[0],
				d->queue[0], 1, 0, ORDER_BLOCK, sizeof(ibuf), ibuf));

	ASSERT_EQ(0, wait_ms(d->mfd[1], d->queue[1], &res, WAIT_MS));
	EXPECT_EQ(2, res.qd_reqid);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	for (i = 0; i < HOLD_READS + 1; i++) {
		ASSERT_EQ(0, wait_ms(d->mfd[0], d->queue[0], &res, WAIT_MS));
		EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
		got_i += res.qd_reqid == 1;
	}
	EXPECT_EQ(1, got_i);

	ASSERT_EQ(BS, pread(d->bfd, block, BS, ORDER_BLOCK * BS));
	memcpy(wbuf, ibuf, sizeof(ibuf));
	EXPECT_EQ(0, memcmp(wbuf, block, BS)) {
		TH_LOG("the block is \"%.8s\"...\"%.8s\"...\"%.8s\" (want I x 64, W x 448)",
		       block, block + 64, block + BS - 8);
	}
	free(hold);
	free(wbuf);
	free(block);
}

/* --- C. A disk that goes away ----------------------------------------- */

TEST_F(disk, removed_device_is_device_down)
{
	struct disk *d = &self->d;
	unsigned char *buf = aligned_buf(PG, PG);
	struct machio_io_done_result res;
	__u32 again = MACHIO_PORT_NULL;
	int ret;

	ASSERT_NE(NULL, buf);
	disk_open(_metadata, d, NULL);
	fill_pattern(buf, PG, 0x70);
	ASSERT_EQ(0, io_sync(d->mfd[0], d->dev[0], d->queue[0], MACHIO_OP_WRITE, 0,
			     PG, buf, &res));
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);

	/* Powered off: the disk is deleted, our fd and device port live on. */
	ASSERT_EQ(0, nullb_set(&d->nb, "power", "0"));
	ASSERT_EQ(0, io_sync(d->mfd[0], d->dev[0], d->queue[0],
			     MACHIO_OP_READ_OVERWRITE, 0, PG, buf, &res));
	EXPECT_EQ(MACHIO_D_DEVICE_DOWN, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	ASSERT_EQ(0, io_sync(d->mfd[0], d->dev[0], d->queue[0], MACHIO_OP_WRITE, 0,
			     PG, buf, &res));
	EXPECT_EQ(MACHIO_D_DEVICE_DOWN, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	ASSERT_EQ(0, io_sync(d->mfd[0], d->dev[0], d->queue[0],
			     MACHIO_OP_WRITE_INBAND, 0, 16, buf, &res));
	EXPECT_EQ(MACHIO_D_DEVICE_DOWN, res.qd_code);

	/* And gone from configfs too. */
	ASSERT_EQ(0, rmdir(d->nb.dir));
	d->nb.dir[0] = 0;	/* nothing left for the teardown */
	ASSERT_EQ(0, io_sync(d->mfd[1], d->dev[1], d->queue[1],
			     MACHIO_OP_READ_OVERWRITE, 0, PG, buf, &res));
	EXPECT_EQ(MACHIO_D_DEVICE_DOWN, res.qd_code);
	ASSERT_EQ(0, io_sync(d->mfd[1], d->dev[1], d->queue[1], MACHIO_OP_READ, 0,
			     PG, NULL, &res));
	EXPECT_EQ(MACHIO_D_DEVICE_DOWN, res.qd_code);
	EXPECT_EQ(0, res.qd_data);
	ASSERT_EQ(0, io_sync(d->mfd[1], d->dev[1], d->queue[1],
			     MACHIO_OP_READ_INBAND, 0, 16, NULL, &res));
	EXPECT_EQ(MACHIO_D_DEVICE_DOWN, res.qd_code);

	/* No new device port on it. */
	ret = mio_device_open(d->mfd[0], d->bfd, MACHIO_D_READ | MACHIO_D_WRITE, &again);
	EXPECT_EQ(-ENXIO, ret);
	if (!ret)
		mio_deallocate(d->mfd[0], again);
	free(buf);
}

/* --- D. Out-of-line reads ---------------------------------------------- */

TEST_F(disk, zero_byte_ool_read_has_no_data)
{
	struct disk *d = &self->d;
	struct machio_io_done_result res;
	unsigned char junk[64];

	disk_open(_metadata, d, NULL);
	/* The buffer field means nothing for device_read: it must not come back. */
	ASSERT_EQ(0, io_sync(d->mfd[0], d->dev[0], d->queue[0], MACHIO_OP_READ, 0, 0,
			     junk, &res));
	EXPECT_EQ(MACHIO_IO_DONE_READ, res.qd_type);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	EXPECT_EQ(0, res.qd_count);
	EXPECT_EQ(0, res.qd_data);
}

#define OOL_READS 16
#define OOL_LEN (64 * 1024)

/*
 * What this process has mapped: bytes and lines of /proc/self/maps, not
 * counting [heap] and [stack], which grow by themselves.  Allocates
 * nothing, so that it does not change what it measures.
 */
static int mapped(long *bytes, int *lines)
{
	static char text[1 << 17];
	unsigned long start, end;
	size_t len = 0;
	char *p, *e;
	ssize_t n;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	close(fd);
	text[len] = 0;
	*bytes = 0;
	*lines = 0;
	for (p = text; *p; p = e + 1) {
		e = strchr(p, '\n');
		if (!e)
			break;
		*e = 0;
		if (strstr(p, "[heap]") || strstr(p, "[stack]"))
			continue;
		start = strtoul(p, &p, 16);
		end = strtoul(p + 1, NULL, 16);
		*bytes += end - start;
		++*lines;
	}
	return 0;
}

/* The child: reap every read; none may hand it the parent's memory. */
static void reap_foreign(struct __test_metadata *_metadata, int mfd, __u32 queue)
{
	struct machio_io_done_result res;
	int i, bad = 0;

	for (i = 0; i < OOL_READS; i++) {
		if (wait_ms(mfd, queue, &res, WAIT_MS))
			_exit(100 + i);
		if (res.qd_type == MACHIO_IO_DONE_READ &&
		    res.qd_code == MACHIO_D_INVALID_OPERATION &&
		    !res.qd_data && !res.qd_count)
			continue;
		if (!bad++)
			TH_LOG("child: read %u came back code %d, data %#llx, count %d",
			       res.qd_reqid, res.qd_code, (unsigned long long)res.qd_data,
			       res.qd_count);
	}
	_exit(bad);
}

TEST_F(disk, ool_read_reaped_by_other_process_leaks_nothing)
{
	static const char *const attrs[] = { "irqmode=2", "completion_nsec=200000000", NULL };
	struct disk *d = &self->d;
	unsigned char *pattern = aligned_buf(OOL_LEN, PG);
	long base_bytes, bytes = 0;
	int base_lines, lines = 0;
	struct machio_io_done_result res;
	int i, status = 0;
	double deadline;
	pid_t pid;

	ASSERT_NE(NULL, pattern);
	disk_open(_metadata, d, attrs);
	fill_pattern(pattern, OOL_LEN, 0x90);
	ASSERT_EQ(OOL_LEN, pwrite(d->bfd, pattern, OOL_LEN, 0));

	ASSERT_EQ(0, mapped(&base_bytes, &base_lines));
	for (i = 0; i < OOL_READS; i++)
		ASSERT_EQ(0, mio_submit(d->mfd[0], MACHIO_OP_READ, d->dev[0],
					d->queue[0], i, 0, i * (OOL_LEN / BS), OOL_LEN, NULL));
	/* The buffers are mapped in this process at submit. */
	ASSERT_EQ(0, mapped(&bytes, &lines));
	EXPECT_LE(base_bytes + OOL_READS * OOL_LEN, bytes);

	/* The child shares the space (the open file) and reaps them all. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		reap_foreign(_metadata, d->mfd[0], d->queue[0]);
	deadline = now_ms() + 2 * WAIT_MS;
	while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() < deadline)
		usleep(10000);
	if (now_ms() >= deadline) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		if (WEXITSTATUS(status) >= 100)
			TH_LOG("the child's wait for read %d failed", WEXITSTATUS(status) - 100);
		else
			TH_LOG("%d reads reached the child as if it were the submitter",
			       WEXITSTATUS(status));
	}

	/* Nobody here will ever see those buffers: the kernel unmaps them. */
	deadline = now_ms() + 5000;
	do {
		ASSERT_EQ(0, mapped(&bytes, &lines));
		if (bytes == base_bytes && lines == base_lines)
			break;
		usleep(10000);
	} while (now_ms() < deadline);
	EXPECT_EQ(base_bytes, bytes);
	EXPECT_EQ(base_lines, lines);

	/* The submitter reaping its own read still gets the data, mapped. */
	ASSERT_EQ(0, io_sync(d->mfd[0], d->dev[0], d->queue[0], MACHIO_OP_READ, 0,
			     OOL_LEN, NULL, &res));
	EXPECT_EQ(MACHIO_IO_DONE_READ, res.qd_type);
	ASSERT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	ASSERT_EQ(OOL_LEN, res.qd_count);
	ASSERT_NE(0, res.qd_data);
	EXPECT_EQ(0, memcmp(pattern, (void *)(uintptr_t)res.qd_data, OOL_LEN));
	EXPECT_EQ(0, munmap((void *)(uintptr_t)res.qd_data, OOL_LEN));
	free(pattern);
}

MACHIO_TEST_MAIN
