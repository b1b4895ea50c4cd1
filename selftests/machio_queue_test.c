// SPDX-License-Identifier: GPL-2.0
/*
 * io_done_queue semantics: names and stale names, FIFO exactly-once
 * delivery to many waiters, terminate with blocked waiters and I/O in
 * flight, signals during a wait, bad result addresses, and a full name
 * space.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#define BS 512

FIXTURE(q) {
	struct nullb nb;
	int mfd;
	int bfd;
	__u32 host;
	__u32 queue;
	__u32 dev;
};

FIXTURE_VARIANT(q) {
	const char *irqmode;
	const char *completion_nsec;
};

FIXTURE_VARIANT_ADD(q, inline) { .irqmode = "0", .completion_nsec = "0" };
FIXTURE_VARIANT_ADD(q, softirq) { .irqmode = "1", .completion_nsec = "0" };
FIXTURE_VARIANT_ADD(q, timer) { .irqmode = "2", .completion_nsec = "50000" };

FIXTURE_SETUP(q)
{
	char irq[32], nsec[48];
	const char *attrs[] = { irq, nsec, NULL };

	snprintf(irq, sizeof(irq), "irqmode=%s", variant->irqmode);
	snprintf(nsec, sizeof(nsec), "completion_nsec=%s", variant->completion_nsec);
	ASSERT_EQ(0, nullb_create(&self->nb, "q", attrs));
	self->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	self->host = mio_host(self->mfd);
	ASSERT_EQ(0, mio_queue_create(self->mfd, self->host, &self->queue));
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	ASSERT_EQ(0, mio_device_open(self->mfd, self->bfd, MACHIO_D_READ | MACHIO_D_WRITE,
				     &self->dev));
}

FIXTURE_TEARDOWN(q)
{
	close(self->mfd);
	close(self->bfd);
	nullb_destroy(&self->nb);
}

/* --- many waiters on one queue ------------------------------------------ */

#define FIFO_REQS 10000
#define FIFO_THREADS 8

struct fifo_waiter {
	int mfd;
	__u32 queue;
	int *seen;		/* per reqid delivery count, shared */
	int *order;		/* reqids this thread got, in order */
	int got;
	int bad;		/* non-success completions, or wrong fields */
	pthread_mutex_t *lock;
	int *remaining;
};

static void *fifo_wait_thread(void *arg)
{
	struct fifo_waiter *w = arg;
	struct machio_io_done_result res;

	for (;;) {
		int ret = mio_wait(w->mfd, w->queue, &res);

		if (ret == -ESHUTDOWN)
			return NULL;
		if (ret || res.qd_code || res.qd_reqid >= FIFO_REQS ||
		    res.qd_type != MACHIO_IO_DONE_OVERWRITE) {
			w->bad++;
			continue;
		}
		w->order[w->got++] = res.qd_reqid;
		pthread_mutex_lock(w->lock);
		w->seen[res.qd_reqid]++;
		pthread_mutex_unlock(w->lock);
	}
}

TEST_F_TIMEOUT(q, fifo_exactly_once_to_8_waiters, 300)
{
	struct fifo_waiter w[FIFO_THREADS];
	pthread_t tid[FIFO_THREADS];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int *seen = calloc(FIFO_REQS, sizeof(int));
	unsigned char *buf = aligned_buf(BS * 64, 4096);
	int i, total = 0, remaining = FIFO_REQS;

	ASSERT_NE(NULL, seen);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < FIFO_THREADS; i++) {
		w[i] = (struct fifo_waiter){ .mfd = self->mfd, .queue = self->queue,
					     .seen = seen, .lock = &lock,
					     .remaining = &remaining };
		w[i].order = calloc(FIFO_REQS, sizeof(int));
		ASSERT_NE(NULL, w[i].order);
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, fifo_wait_thread, &w[i]));
	}
	for (i = 0; i < FIFO_REQS; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
					self->queue, i, 0, i % 1024, BS, buf + (i % 64) * BS));
	/* Wait until everything was delivered, then release the threads. */
	for (i = 0; i < 3000; i++) {
		int sum = 0, t;

		for (t = 0; t < FIFO_THREADS; t++)
			sum += __atomic_load_n(&w[t].got, __ATOMIC_RELAXED);
		if (sum == FIFO_REQS)
			break;
		usleep(10000);
	}
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	for (i = 0; i < FIFO_THREADS; i++) {
		int k;

		pthread_join(tid[i], NULL);
		EXPECT_EQ(0, w[i].bad);
		total += w[i].got;
		/* Inline completion happens in submit order: FIFO shows. */
		if (variant->irqmode[0] == '0')
			for (k = 1; k < w[i].got; k++)
				EXPECT_LT(w[i].order[k - 1], w[i].order[k]);
		free(w[i].order);
	}
	EXPECT_EQ(FIFO_REQS, total);
	for (i = 0; i < FIFO_REQS; i++)
		if (seen[i] != 1) {
			EXPECT_EQ(1, seen[i]) TH_LOG("reqid %d delivered %d times", i, seen[i]);
			break;
		}
	free(seen);
	free(buf);
}

TEST_F(q, single_waiter_sees_completion_order)
{
	/* One thread reaping: completions come back in the order they happened. */
	unsigned char *buf = aligned_buf(BS * 8, 4096);
	struct machio_io_done_result res;
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue,
					0x80000000U | i, 0, i, BS, buf + i * BS));
		/* Let each finish before the next: completion order is then known. */
		usleep(2000);
	}
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
		EXPECT_EQ(0x80000000U | i, res.qd_reqid);
		EXPECT_EQ(MACHIO_IO_DONE_WRITE, res.qd_type);
	}
	free(buf);
}

/* --- terminate ------------------------------------------------------------ */

struct blocked_waiter {
	int mfd;
	__u32 queue;
	int ret;
};

static void *blocked_wait_thread(void *arg)
{
	struct blocked_waiter *b = arg;
	struct machio_io_done_result res;

	b->ret = mio_wait(b->mfd, b->queue, &res);
	return NULL;
}

TEST_F(q, terminate_wakes_waiters_and_drains_io)
{
	struct blocked_waiter b[4];
	pthread_t tid[4];
	unsigned char *buf = aligned_buf(BS * 32, 4096);
	struct machio_io_done_result res;
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < 4; i++) {
		b[i] = (struct blocked_waiter){ .mfd = self->mfd, .queue = self->queue,
						.ret = 1 };
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, blocked_wait_thread, &b[i]));
	}
	usleep(100000);	/* let them block */
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
					self->queue, i, 0, i, BS, buf + i * BS));
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		/* Either it got a completion before the terminate, or it was told. */
		EXPECT_TRUE(b[i].ret == 0 || b[i].ret == -ESHUTDOWN) TH_LOG("ret %d", b[i].ret);
	}
	/* The name is stale now: every use says KERN_TERMINATED. */
	EXPECT_EQ(-ESHUTDOWN, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(-ESHUTDOWN, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue,
					 1, 0, 0, BS, buf));
	EXPECT_EQ(-ESHUTDOWN, mio_terminate(self->mfd, self->queue));
	/* Until it is deallocated; then it is just unknown. */
	EXPECT_EQ(0, mio_deallocate(self->mfd, self->queue));
	EXPECT_EQ(-EINVAL, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(-EINVAL, mio_deallocate(self->mfd, self->queue));
	free(buf);
}

TEST_F(q, terminate_blocked_waiters_only)
{
	struct blocked_waiter b[3];
	pthread_t tid[3];
	int i;

	for (i = 0; i < 3; i++) {
		b[i] = (struct blocked_waiter){ .mfd = self->mfd, .queue = self->queue,
						.ret = 1 };
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, blocked_wait_thread, &b[i]));
	}
	usleep(100000);
	ASSERT_EQ(0, mio_terminate(self->mfd, self->queue));
	for (i = 0; i < 3; i++) {
		pthread_join(tid[i], NULL);
		EXPECT_EQ(-ESHUTDOWN, b[i].ret);
	}
}

/* --- names ---------------------------------------------------------------- */

TEST_F(q, names_are_checked)
{
	struct machio_io_done_result res;
	unsigned char *buf = aligned_buf(BS, 4096);
	struct machio_query info;
	__u32 q2, dev2;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mio_query(self->mfd, &info));
	/* Only the host name makes queues. */
	EXPECT_EQ(-EINVAL, mio_queue_create(self->mfd, info.task_name, &q2));
	EXPECT_EQ(-EINVAL, mio_queue_create(self->mfd, self->queue, &q2));
	EXPECT_EQ(-EINVAL, mio_queue_create(self->mfd, MACHIO_PORT_NULL, &q2));
	EXPECT_EQ(-EINVAL, mio_queue_create(self->mfd, MACHIO_PORT_DEAD, &q2));
	/* The wrong kind of name, or a name with the wrong generation. */
	EXPECT_EQ(-EINVAL, mio_wait(self->mfd, self->dev, &res));
	EXPECT_EQ(-EINVAL, mio_wait(self->mfd, self->queue ^ 1, &res));
	EXPECT_EQ(-EINVAL, mio_wait(self->mfd, MACHIO_PORT_NULL, &res));
	EXPECT_EQ(-EINVAL, mio_submit(self->mfd, MACHIO_OP_WRITE, self->queue, self->queue,
				      1, 0, 0, BS, buf));
	EXPECT_EQ(-EINVAL, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->dev,
				      1, 0, 0, BS, buf));
	EXPECT_EQ(-EINVAL, mio_terminate(self->mfd, self->dev));
	/* Host and task names are not ours to drop; live queues are terminated first. */
	EXPECT_EQ(-EINVAL, mio_deallocate(self->mfd, info.host_name));
	EXPECT_EQ(-EINVAL, mio_deallocate(self->mfd, info.task_name));
	EXPECT_EQ(-EBUSY, mio_deallocate(self->mfd, self->queue));

	/* A deallocated device name is stale; its slot comes back with a new name. */
	ASSERT_EQ(0, mio_device_open(self->mfd, self->bfd, MACHIO_D_READ, &dev2));
	ASSERT_EQ(0, mio_deallocate(self->mfd, dev2));
	EXPECT_EQ(-EINVAL, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, dev2, self->queue,
				      1, 0, 0, BS, buf));
	ASSERT_EQ(0, mio_queue_create(self->mfd, self->host, &q2));
	EXPECT_NE(dev2, q2);
	EXPECT_EQ(dev2 >> 8, q2 >> 8);	/* same slot, new generation */
	ASSERT_EQ(0, mio_terminate(self->mfd, q2));
	free(buf);
}

TEST_F(q, bad_arguments_are_rejected)
{
	struct machio_io_request req = {
		.op = MACHIO_OP_READ_OVERWRITE, .device = self->dev, .queue = self->queue,
		.count = BS,
	};
	struct machio_queue_wait wait = { .queue = self->queue };
	struct machio_device_open dopen = { .fd = self->bfd, .mode = MACHIO_D_READ };
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	__u32 dev;

	req.buffer = (__u64)(uintptr_t)aligned_buf(BS, 4096);
	req.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &req));
	req.reserved[0] = 0;
	req.fixed = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &req));
	req.fixed = 0;
	req.op = 99;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &req));
	req.op = MACHIO_OP_READ_OVERWRITE;
	req.mode = 0x100;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, &req));
	wait.flags = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_QUEUE_WAIT, &wait));
	dopen.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_OPEN, &dopen));
	dopen.reserved[0] = 0;
	dopen.mode = 0x80;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->mfd, MACHIO_IOC_DEVICE_OPEN, &dopen));
	/* Only block devices, only open fds. */
	ASSERT_LE(0, nullfd);
	EXPECT_EQ(-ENOTBLK, mio_device_open(self->mfd, nullfd, MACHIO_D_READ, &dev));
	EXPECT_EQ(-ENOTBLK, mio_device_open(self->mfd, self->mfd, MACHIO_D_READ, &dev));
	EXPECT_EQ(-EBADF, mio_device_open(self->mfd, 1000, MACHIO_D_READ, &dev));
	EXPECT_EQ(-EBADF, mio_device_open(self->mfd, -1, MACHIO_D_READ, &dev));
	close(nullfd);
	free((void *)(uintptr_t)req.buffer);
}

TEST_F(q, bad_addresses)
{
	unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *buf = aligned_buf(BS, 4096);
	struct machio_io_done_result res;

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(NULL, buf);
	/* Buffers the kernel cannot use fail the submit itself. */
	EXPECT_EQ(-EFAULT, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
				      self->queue, 1, 0, 0, BS, (void *)4096));
	EXPECT_EQ(-EFAULT, mio_submit(self->mfd, MACHIO_OP_READ_OVERWRITE, self->dev,
				      self->queue, 1, 0, 0, BS, ro));
	EXPECT_EQ(-EFAULT, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev,
				      self->queue, 1, 0, 0, BS, (void *)4096));
	EXPECT_EQ(-EFAULT, mio_submit(self->mfd, MACHIO_OP_WRITE_INBAND, self->dev,
				      self->queue, 1, 0, 0, 16, (void *)4096));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->mfd, MACHIO_IOC_SUBMIT, (void *)4096));

	/* A bad result address: EFAULT, and the completion stays at the head. */
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue, 77, 0,
				0, BS, buf));
	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue, 78, 0,
				1, BS, buf));
	usleep(50000);
	EXPECT_EQ(-EFAULT, mio_wait(self->mfd, self->queue, (void *)4096));
	EXPECT_EQ(-EFAULT, mio_wait(self->mfd, self->queue,
				    (struct machio_io_done_result *)ro));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(77, res.qd_reqid);
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(78, res.qd_reqid);
	munmap(ro, 4096);
	free(buf);
}

/* --- signals ---------------------------------------------------------------- */

static void on_sigusr1(int sig)
{
	(void)sig;
}

TEST_F(q, signal_aborts_wait_and_loses_nothing)
{
	struct sigaction sa = { .sa_handler = on_sigusr1, .sa_flags = SA_RESTART };
	struct blocked_waiter b = { .mfd = self->mfd, .queue = self->queue, .ret = 1 };
	unsigned char *buf = aligned_buf(BS, 4096);
	struct machio_io_done_result res;
	pthread_t tid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&tid, NULL, blocked_wait_thread, &b));
	usleep(100000);
	ASSERT_EQ(0, pthread_kill(tid, SIGUSR1));
	pthread_join(tid, NULL);
	/* KERN_ABORTED, even with SA_RESTART: the caller decides. */
	EXPECT_EQ(-EINTR, b.ret);

	ASSERT_EQ(0, mio_submit(self->mfd, MACHIO_OP_WRITE, self->dev, self->queue, 5, 0, 0,
				BS, buf));
	ASSERT_EQ(0, mio_wait(self->mfd, self->queue, &res));
	EXPECT_EQ(5, res.qd_reqid);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, res.qd_code);
	free(buf);
}

/* --- name space limit ------------------------------------------------------- */

#define MAX_NAMES_PARAM "/sys/module/machio/parameters/max_names"

TEST(full_name_space)
{
	char old[32] = {};
	__u32 q, names[16];
	int fd, pfd, i, made = 0, ret = 0;

	if (geteuid() != 0)
		SKIP(return, "needs root to set max_names");
	pfd = open(MAX_NAMES_PARAM, O_RDONLY);
	ASSERT_LE(0, pfd);
	ASSERT_LT(0, read(pfd, old, sizeof(old) - 1));
	close(pfd);
	EXPECT_EQ(-EINVAL, write_file(MAX_NAMES_PARAM, "2"));
	ASSERT_EQ(0, write_file(MAX_NAMES_PARAM, "8"));

	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < 16; i++) {
		ret = mio_queue_create(fd, mio_host(fd), &names[made]);
		if (ret)
			break;
		made++;
	}
	/* Host, task and the name server hold three of the eight. */
	EXPECT_EQ(5, made);
	EXPECT_EQ(-ENOSPC, ret);
	/* Freeing one makes room for exactly one. */
	ASSERT_EQ(0, mio_terminate(fd, names[0]));
	EXPECT_EQ(-ENOSPC, mio_queue_create(fd, mio_host(fd), &q));
	ASSERT_EQ(0, mio_deallocate(fd, names[0]));
	EXPECT_EQ(0, mio_queue_create(fd, mio_host(fd), &q));
	EXPECT_EQ(-ENOSPC, mio_queue_create(fd, mio_host(fd), &q));
	close(fd);
	ASSERT_EQ(0, write_file(MAX_NAMES_PARAM, old));
}

MACHIO_TEST_MAIN
