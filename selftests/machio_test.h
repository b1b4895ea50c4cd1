/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the machio selftests.  Include after
 * kselftest_harness.h.
 */
#ifndef MACHIO_TEST_H
#define MACHIO_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <uapi/linux/machio.h>

#define MACHIO_DEV "/dev/machio"

/*
 * ioctl() that returns -errno instead of -1, for exact-code assertions,
 * and what the call returns (a count, for some) otherwise.
 */
static inline int machio_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* --- unloading and reloading machio.ko ------------------------------- */

/* rmmod machio without waiting: -EWOULDBLOCK while it is in use. */
static inline int delete_machio(void)
{
	return syscall(SYS_delete_module, "machio", O_NONBLOCK) ? -errno : 0;
}

/* insmod @ko (the VM runner exports its path as $MACHIO_KO). */
static inline int load_machio(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* --- null_blk devices made through configfs ------------------------- */

#define NULLB_CONFIGFS "/sys/kernel/config/nullb"

struct nullb {
	char name[32];
	char dir[sizeof(NULLB_CONFIGFS) + 32];
	char dev[sizeof("/dev/") + 32];
};

static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -errno;
}

/* A small text file (a module parameter), NUL-terminated; its length or -errno. */
static inline int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return got;
}

static inline int nullb_set(struct nullb *nb, const char *attr, const char *val)
{
	char path[sizeof(nb->dir) + 128];

	snprintf(path, sizeof(path), "%s/%s", nb->dir, attr);
	return write_file(path, val);
}

/*
 * Make a memory-backed null_blk disk.  @attrs is a NULL-terminated list of
 * "attribute=value" strings applied over these defaults: 64 MiB,
 * 512-byte blocks, memory backed.  Returns 0 or -errno.
 */
static inline int nullb_create(struct nullb *nb, const char *tag,
			       const char *const *attrs)
{
	static int seq;
	char buf[96];
	int ret;

	snprintf(nb->name, sizeof(nb->name), "mt%s%d_%d", tag, (int)getpid(), seq++);
	snprintf(nb->dir, sizeof(nb->dir), NULLB_CONFIGFS "/%s", nb->name);
	snprintf(nb->dev, sizeof(nb->dev), "/dev/%s", nb->name);
	if (mkdir(nb->dir, 0755))
		return -errno;
	ret = nullb_set(nb, "size", "64");
	if (!ret)
		ret = nullb_set(nb, "blocksize", "512");
	if (!ret)
		ret = nullb_set(nb, "memory_backed", "1");
	for (; !ret && attrs && *attrs; attrs++) {
		const char *eq = strchr(*attrs, '=');

		if (!eq || eq - *attrs >= (int)sizeof(buf))
			return -EINVAL;
		memcpy(buf, *attrs, eq - *attrs);
		buf[eq - *attrs] = 0;
		ret = nullb_set(nb, buf, eq + 1);
	}
	if (!ret)
		ret = nullb_set(nb, "power", "1");
	if (!ret && access(nb->dev, F_OK))
		ret = -ENODEV;
	return ret;
}

static inline void nullb_destroy(struct nullb *nb)
{
	if (!nb->dir[0])
		return;
	nullb_set(nb, "power", "0");
	rmdir(nb->dir);
	nb->dir[0] = 0;
}

/* --- machio calls ------------------------------------------------------ */

static inline int mio_query(int fd, struct machio_query *q)
{
	memset(q, 0, sizeof(*q));
	return machio_ioctl(fd, MACHIO_IOC_QUERY, q);
}

static inline __u32 mio_host(int fd)
{
	struct machio_query q;

	return mio_query(fd, &q) ? 0 : q.host_name;
}

static inline int mio_queue_create(int fd, __u32 host, __u32 *queue)
{
	struct machio_queue_create a = { .host = host };
	int ret = machio_ioctl(fd, MACHIO_IOC_QUEUE_CREATE, &a);

	*queue = a.queue;
	return ret;
}

static inline int mio_terminate(int fd, __u32 queue)
{
	struct machio_queue_terminate a = { .queue = queue };

	return machio_ioctl(fd, MACHIO_IOC_QUEUE_TERMINATE, &a);
}

static inline int mio_wait(int fd, __u32 queue, struct machio_io_done_result *res)
{
	struct machio_queue_wait a = {
		.queue = queue,
		.result = (__u64)(uintptr_t)res,
	};

	return machio_ioctl(fd, MACHIO_IOC_QUEUE_WAIT, &a);
}

static inline int mio_device_open(int fd, int bdev_fd, __u32 mode, __u32 *device)
{
	struct machio_device_open a = { .fd = bdev_fd, .mode = mode };
	int ret = machio_ioctl(fd, MACHIO_IOC_DEVICE_OPEN, &a);

	*device = a.device;
	return ret;
}

/* Open the disk at @path O_DIRECT read-write and make a device port of it. */
static inline int mio_open_disk(int mfd, const char *path, int *bfd, __u32 *dev)
{
	*bfd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (*bfd < 0)
		return -errno;
	return mio_device_open(mfd, *bfd, MACHIO_D_READ | MACHIO_D_WRITE, dev);
}

static inline int mio_deallocate(int fd, __u32 name)
{
	struct machio_port_deallocate a = { .name = name };

	return machio_ioctl(fd, MACHIO_IOC_PORT_DEALLOCATE, &a);
}

static inline int mio_submit(int fd, __u32 op, __u32 device, __u32 queue,
			     __u32 reqid, __u32 mode, __u32 recnum, __s32 count,
			     const void *buf)
{
	struct machio_io_request a = {
		.op = op, .device = device, .queue = queue, .reqid = reqid,
		.mode = mode, .recnum = recnum, .count = count,
		.buffer = (__u64)(uintptr_t)buf,
	};

	return machio_ioctl(fd, MACHIO_IOC_SUBMIT, &a);
}

/* --- Queues with options, rings, reaping ------------------------------ */

static inline int mio_queue_setup(int fd, struct machio_queue_setup *a)
{
	return machio_ioctl(fd, MACHIO_IOC_QUEUE_SETUP, a);
}

static inline int mio_reap(int fd, __u32 queue, __u32 min, __u32 max,
			   struct machio_cqe *cqes, long long timeout_ns)
{
	struct machio_queue_reap a = {
		.queue = queue, .min = min, .max = max,
		.flags = timeout_ns >= 0 ? MACHIO_REAP_TIMEOUT : 0,
		.timeout_ns = timeout_ns >= 0 ? (__u64)timeout_ns : 0,
		.cqes = (__u64)(uintptr_t)cqes,
	};

	return machio_ioctl(fd, MACHIO_IOC_QUEUE_REAP, &a);
}

/* A mapped completion ring, consumed the way the ABI header describes. */
struct mio_ring {
	void *map;
	size_t size;
	struct machio_ring_header *hdr;
	struct machio_cqe *cqes;
	__u32 mask;
};

static inline int mio_ring_map(struct mio_ring *r, const struct machio_queue_setup *a)
{
	r->size = a->ring_size;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	r->hdr = r->map;
	r->cqes = (struct machio_cqe *)((char *)r->map + a->cqes_offset);
	r->mask = r->hdr->entries - 1;
	return 0;
}

static inline void mio_ring_unmap(struct mio_ring *r)
{
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->size);
	r->map = NULL;
}

/* A ring queue of @entries slots, mapped; returns 0 or -errno. */
static inline int mio_ring_queue(int fd, __u32 entries, __u32 *queue, int *qfd,
				 struct mio_ring *r)
{
	struct machio_queue_setup a = {
		.host = mio_host(fd), .flags = MACHIO_QUEUE_RING, .ring_entries = entries,
	};
	int ret = mio_queue_setup(fd, &a);

	if (ret)
		return ret;
	*queue = a.queue;
	*qfd = a.fd;
	return mio_ring_map(r, &a);
}

static inline __u32 mio_ring_ready(const struct mio_ring *r)
{
	__u64 head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	__u64 tail = __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
	__s32 n = (__u32)(tail >> 32) - (__u32)(head >> 32);

	return n > 0 ? n : 0;
}

/*
 * Take the oldest completion into @out (room for MACHIO_CQE_MAX_SLOTS):
 * its slot count, 0 if the ring is empty, -1 once the queue is dead.
 */
static inline int mio_ring_pop(struct mio_ring *r, struct machio_cqe *out)
{
	for (;;) {
		__u64 head, tail;
		__u32 nr, i;

		if (__atomic_load_n(&r->hdr->flags, __ATOMIC_ACQUIRE) & MACHIO_RING_DEAD)
			return -1;
		head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
		tail = __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
		/* Empty; or head is past this tail (read before head moved). */
		if ((__s32)((__u32)(tail >> 32) - (__u32)(head >> 32)) <= 0)
			return 0;
		out[0] = r->cqes[(__u32)head & r->mask];
		nr = out[0].slots;
		if (nr < 1 || nr > MACHIO_CQE_MAX_SLOTS)
			nr = 1;
		for (i = 1; i < nr; i++)
			out[i] = r->cqes[((__u32)head + i) & r->mask];
		if (__atomic_compare_exchange_n(&r->hdr->head, &head,
						head + (1ULL << 32) + nr, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return (int)nr;
	}
}

/*
 * Wait (up to 10 s) until thread @tid of this process is gone from the
 * kernel too: pthread_join() returns once the thread has cleared its tid,
 * a little before the kernel lets go of it.  0, or -ETIMEDOUT.
 */
static inline int wait_thread_gone(pid_t tid)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	for (i = 0; i < 10000; i++) {
		if (access(path, F_OK))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* Deterministic test data: byte i of a buffer seeded with @seed. */
static inline void fill_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static inline void *aligned_buf(size_t len, size_t align)
{
	void *p = NULL;

	return posix_memalign(&p, align, len) ? NULL : p;
}

/*
 * A test binary is skipped as a whole (kselftest exit code 4) when the
 * module is not loaded.
 */
#define MACHIO_TEST_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		if (access(MACHIO_DEV, F_OK)) {				\
			ksft_print_header();				\
			ksft_exit_skip(MACHIO_DEV " is absent: is machio.ko loaded?\n"); \
		}							\
		return test_harness_run(argc, argv);			\
	}

#endif /* MACHIO_TEST_H */
