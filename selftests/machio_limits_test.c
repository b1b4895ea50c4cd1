// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits, exercised the way a hostile local user would: /dev/machio
 * is mode 0666, so everything that matters here runs in a child that has
 * dropped to uid/gid 65534 and holds nothing but a read-only O_DIRECT fd of
 * a null_blk disk that root opened for it.  Reads are all such an fd allows,
 * and reads are enough to pin user pages, fill the kernel with completions
 * and, without bounds, overflow a page's reference count.
 *
 * The child reports through a MAP_SHARED page made by the parent (root),
 * and the parent asserts.  Not a pipe: in the memory cgroup test the child
 * sits at memory.max and must not allocate anything (a pipe buffer, a page
 * table) to tell the parent so.
 *
 * Every wait is bounded: the child arms alarm() and dies with its parent,
 * the parent polls with deadlines shorter than the harness timeout (on a
 * harness timeout the fixture teardown would not run).
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>

#define NOBODY		65534
#define MIB		(1024 * 1024)
#define PG		4096
#define MIB_PAGES	(MIB / PG)
#define PARAM_DIR	"/sys/module/machio/parameters/"
#define DEF_MAX_PINNED	16384	/* spec default, used when the parameter is absent */
#define SLOW_NSEC	"2000000000"	/* every command of a slow disk takes 2 s */
#define PIN_SLACK	256	/* pins the rest of the VM may take meanwhile */
#define CGROOT		"/sys/fs/cgroup"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	usleep(ms * 1000);
}

static int read_ll(const char *path, long long *val)
{
	char buf[64];
	int ret = read_text(path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	*val = strtoll(buf, NULL, 10);
	return 0;
}

/* The number after "@key " in @text (key value lines), or -1. */
static long long keyed_value(const char *text, const char *key)
{
	size_t len = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key))) {
		if ((p == text || p[-1] == '\n') && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
		p += len;
	}
	return -1;
}

/*
 * Pages FOLL_PIN-pinned in the whole system right now: what the kernel
 * counts, not what the module says.  LLONG_MIN if /proc/vmstat cannot tell.
 */
static long long pins_held(void)
{
	static char buf[16384];
	long long acq, rel;

	if (read_text("/proc/vmstat", buf, sizeof(buf)) <= 0)
		return LLONG_MIN;
	acq = keyed_value(buf, "nr_foll_pin_acquired");
	rel = keyed_value(buf, "nr_foll_pin_released");
	if (acq < 0 || rel < 0)
		return LLONG_MIN;
	return acq - rel;
}

/* "WARNING:" and "BUG:" reports in the kernel log buffer so far. */
static int kernel_reports(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	int n, count = 0;
	char *buf, *p;

	if (size <= 0)
		return -1;
	buf = malloc(size + 1);
	if (!buf)
		return -1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		free(buf);
		return -1;
	}
	buf[n] = 0;
	for (p = buf; (p = strstr(p, "WARNING:")); p++)
		count++;
	for (p = buf; (p = strstr(p, "BUG:")); p++)
		count++;
	free(buf);
	return count;
}

/* A module parameter of the new module; -ENOENT on the old one. */
static int param_get(const char *name, long long *val)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return read_ll(path, val);
}

static int param_set(const char *name, long long val)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%lld", val);
	return write_file(path, buf);
}

/* --- the unprivileged child and its report page ------------------------ */

/*
 * First member of every report page.  @stage is the child's progress,
 * @go the parent's permission to go on, @stop asks a submit loop to end.
 * @why points at a string literal: same address in parent and child.
 */
struct child_hdr {
	int stage;
	int go;
	int stop;
	int alarm_s;
	const char *why;
	int err;
};

/* Record the child's first failure; returns @err for "return child_fail()". */
static int child_fail(struct child_hdr *h, const char *why, int err)
{
	if (h->why)
		return err;
	h->err = err;
	__atomic_store_n(&h->why, why, __ATOMIC_RELEASE);
	return err;
}

static void set_stage(struct child_hdr *h, int stage)
{
	__atomic_store_n(&h->stage, stage, __ATOMIC_RELEASE);
}

/* Child: wait for go >= @n.  Allocates nothing (see the memcg test). */
static int child_wait_go(struct child_hdr *h, int n, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (__atomic_load_n(&h->go, __ATOMIC_ACQUIRE) < n) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
	return 0;
}

static int drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	if (getuid() != NOBODY || geteuid() != NOBODY || getegid() != NOBODY)
		return -EPERM;
	return 0;
}

/* One port name space with a queue and a read-only device port. */
struct space {
	int mfd;
	__u32 queue;
	__u32 dev;
};

static int space_open(struct space *s, int bfd)
{
	int ret;

	s->mfd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	if (s->mfd < 0)
		return -errno;
	ret = mio_queue_create(s->mfd, mio_host(s->mfd), &s->queue);
	if (!ret)
		ret = mio_device_open(s->mfd, bfd, MACHIO_D_READ, &s->dev);
	if (ret) {
		close(s->mfd);
		s->mfd = -1;
	}
	return ret;
}

static void space_close(struct space *s)
{
	if (s->mfd >= 0)
		close(s->mfd);
	s->mfd = -1;
}

/* What a test sets up, for the teardown to undo whatever happened. */
struct limits_ctx {
	struct nullb nb;
	int bfd;			/* read-only O_DIRECT, for the child */
	void *shm;			/* the child's report page */
	size_t shm_len;
	pid_t child;
	int child_status;
	bool reaped;
	long long max_pinned;		/* max_pinned_pages in force */
	char saved_max_requests[32];	/* to restore; empty: untouched */
	char cg[96];			/* memory cgroup made for the child */
	bool cg_made;
	bool cg_mounted;		/* cgroup2 mounted by us */
};

FIXTURE(limits) {
	struct limits_ctx c;
};

FIXTURE_SETUP(limits)
{
	struct limits_ctx *c = &self->c;

	c->bfd = -1;
	ASSERT_EQ(0, geteuid()) TH_LOG("the limits tests set the scene as root");
}

static void stop_child(struct limits_ctx *c)
{
	if (c->child > 0 && !c->reaped) {
		kill(c->child, SIGKILL);
		waitpid(c->child, &c->child_status, 0);
		c->reaped = true;
	}
}

FIXTURE_TEARDOWN(limits)
{
	struct limits_ctx *c = &self->c;
	int i;

	stop_child(c);
	if (c->saved_max_requests[0])
		write_file(PARAM_DIR "max_requests", c->saved_max_requests);
	if (c->cg_made) {
		/* The dead child leaves its cgroup a moment after waitpid(). */
		for (i = 0; i < 100 && rmdir(c->cg) && errno == EBUSY; i++)
			sleep_ms(20);
	}
	if (c->cg_mounted)
		umount(CGROOT);
	if (c->bfd >= 0)
		close(c->bfd);
	nullb_destroy(&c->nb);
	if (c->shm)
		munmap(c->shm, c->shm_len);
}

/* The report page, zeroed and faulted in by the parent before the fork. */
static void *report_page(struct limits_ctx *c, size_t len, int alarm_s)
{
	struct child_hdr *h;

	c->shm_len = (len + PG - 1) / PG * PG;
	c->shm = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shm == MAP_FAILED) {
		c->shm = NULL;
		return NULL;
	}
	memset(c->shm, 0, c->shm_len);
	h = c->shm;
	h->alarm_s = alarm_s;
	return c->shm;
}

/* A null_blk disk, and a read-only O_DIRECT fd of it for the child. */
static int make_disk(struct limits_ctx *c, const char *tag,
		     const char *const *attrs)
{
	int ret = nullb_create(&c->nb, tag, attrs);

	if (ret)
		return ret;
	c->bfd = open(c->nb.dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	return c->bfd < 0 ? -errno : 0;
}

/*
 * Fork the child: it joins cgroup @cg (if any) while still root, drops to
 * 65534, arms its alarm and runs @fn.  It exits 0, or 1 after child_fail().
 */
static pid_t spawn_nobody(struct limits_ctx *c,
			  int (*fn)(struct limits_ctx *c), const char *cg)
{
	struct child_hdr *h = c->shm;
	char path[160], pid[16];
	int ret;

	fflush(stdout);
	fflush(stderr);
	c->child = fork();
	if (c->child)
		return c->child;

	if (cg) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		ret = write_file(path, pid);
		if (ret) {
			child_fail(h, "cannot join the memory cgroup", ret);
			_exit(1);
		}
	}
	ret = drop_privileges();
	if (ret) {
		child_fail(h, "cannot drop to uid/gid 65534", ret);
		_exit(1);
	}
	/* After the uid change, which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	alarm(h->alarm_s);
	fn(c);
	_exit(h->why ? 1 : 0);
}

/* Parent: reap the child within @timeout_ms, else kill it.  0 if reaped. */
static int reap_child(struct limits_ctx *c, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	pid_t r;

	while (!c->reaped) {
		r = waitpid(c->child, &c->child_status, WNOHANG);
		if (r == c->child) {
			c->reaped = true;
			break;
		}
		if (r < 0 || now_ms() > end) {
			stop_child(c);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
	return 0;
}

/* Parent: wait for the child to reach @stage.  -ECHILD if it ended first. */
static int wait_stage(struct limits_ctx *c, int stage, int timeout_ms)
{
	struct child_hdr *h = c->shm;
	long long end = now_ms() + timeout_ms;
	pid_t r;

	while (__atomic_load_n(&h->stage, __ATOMIC_ACQUIRE) < stage) {
		if (!c->reaped) {
			r = waitpid(c->child, &c->child_status, WNOHANG);
			if (r == c->child)
				c->reaped = true;
		}
		if (c->reaped)
			return __atomic_load_n(&h->stage, __ATOMIC_ACQUIRE) < stage ?
			       -ECHILD : 0;
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
	return 0;
}

static void allow(struct limits_ctx *c, int n)
{
	struct child_hdr *h = c->shm;

	__atomic_store_n(&h->go, n, __ATOMIC_RELEASE);
}

/* The child finished cleanly: no failure of its own, exit status 0. */
static void check_child(struct __test_metadata *_metadata,
			struct limits_ctx *c)
{
	struct child_hdr *h = c->shm;
	const char *why = __atomic_load_n(&h->why, __ATOMIC_ACQUIRE);
	int st = c->child_status;

	ASSERT_EQ(NULL, why) TH_LOG("uid 65534 child: %s: %s", why, strerror(-h->err));
	ASSERT_TRUE(c->reaped) TH_LOG("uid 65534 child did not end in time");
	if (WIFSIGNALED(st))
		TH_LOG("uid 65534 child killed by signal %d (%s) at stage %d",
		       WTERMSIG(st), WTERMSIG(st) == SIGALRM ? "its own alarm: hung" :
		       "?", h->stage);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* --- 1: pins are bounded while the disk works ------------------------- */

/* max_pinned_pages, or the spec's default when the module lacks it. */
static void get_max_pinned(struct __test_metadata *_metadata,
			   struct limits_ctx *c)
{
	int ret = param_get("max_pinned_pages", &c->max_pinned);

	EXPECT_EQ(0, ret) TH_LOG("no max_pinned_pages parameter (%s): old module?",
				 strerror(-ret));
	if (ret)
		c->max_pinned = DEF_MAX_PINNED;
}

struct pins_bounded_rep {
	struct child_hdr hdr;
	int cap;			/* in: most requests to try */
	__u64 features;
	__u32 q_max_pinned;
	int accepted;
	int refused_ret;		/* first refused submit; 0: none refused */
	long long submit_ms;		/* first submit to the refusal */
	__u32 nr_pinned_full;		/* right after the refusal */
	__u32 nr_requests_full;
	long long pins_full;		/* system pins above the baseline then */
	long long drain_ms;		/* until unpinned; -1: not in 10 s */
	__u32 nr_pinned_drained;
	__u32 nr_requests_drained;
	long long pins_drained;
	int reaped;
	int bad;			/* completions with a wrong field */
	struct machio_io_done_result first_bad;
	__u32 nr_requests_end;
};

static int child_pins_bounded(struct limits_ctx *c)
{
	struct pins_bounded_rep *r = c->shm;
	static char seen[1024];
	struct machio_io_done_result res;
	struct machio_query q;
	long long pins0, t0, end, pins;
	struct space s;
	unsigned char *bufs;
	int i, ret;

	bufs = mmap(NULL, (size_t)r->cap * MIB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED)
		return child_fail(&r->hdr, "mmap of the buffers", -errno);
	/* Real, distinct pages: never the shared zero page. */
	memset(bufs, 0x5a, (size_t)r->cap * MIB);
	ret = space_open(&s, c->bfd);
	if (ret)
		return child_fail(&r->hdr, "open /dev/machio, queue, device port", ret);
	ret = mio_query(s.mfd, &q);
	if (ret)
		return child_fail(&r->hdr, "MACHIO_IOC_QUERY", ret);
	r->features = q.features;
	r->q_max_pinned = q.max_pinned_pages;
	pins0 = pins_held();
	if (pins0 == LLONG_MIN)
		return child_fail(&r->hdr, "no nr_foll_pin_* in /proc/vmstat", -ENOENT);

	t0 = now_ms();
	for (i = 0; i < r->cap; i++) {
		ret = mio_submit(s.mfd, MACHIO_OP_READ_OVERWRITE, s.dev, s.queue, i, 0,
				 (i % 1024) * (MIB / 512), MIB, bufs + (size_t)i * MIB);
		if (ret)
			break;
	}
	r->submit_ms = now_ms() - t0;
	r->accepted = i;
	r->refused_ret = ret;
	pins = pins_held();
	if (mio_query(s.mfd, &q))
		return child_fail(&r->hdr, "MACHIO_IOC_QUERY", -errno);
	r->pins_full = pins - pins0;
	r->nr_pinned_full = q.nr_pinned_pages;
	r->nr_requests_full = q.nr_requests;

	/* Reap nothing: the pins must go when the disk is done. */
	r->drain_ms = -1;
	end = now_ms() + 10000;
	do {
		sleep_ms(20);
		pins = pins_held();
		if (mio_query(s.mfd, &q))
			return child_fail(&r->hdr, "MACHIO_IOC_QUERY", -errno);
		if (!q.nr_pinned_pages && pins - pins0 <= PIN_SLACK) {
			r->drain_ms = now_ms() - t0;
			break;
		}
	} while (now_ms() < end);
	r->nr_pinned_drained = q.nr_pinned_pages;
	r->nr_requests_drained = q.nr_requests;
	r->pins_drained = pins - pins0;

	for (i = 0; i < r->accepted; i++) {
		ret = mio_wait(s.mfd, s.queue, &res);
		if (ret)
			return child_fail(&r->hdr, "io_done_queue_wait", ret);
		r->reaped++;
		if (res.qd_code != MACHIO_KERN_SUCCESS || res.qd_count != MIB ||
		    res.qd_type != MACHIO_IO_DONE_OVERWRITE ||
		    res.qd_reqid >= (__u32)r->accepted || seen[res.qd_reqid] ||
		    res.qd_data != (__u64)(uintptr_t)(bufs + (size_t)res.qd_reqid * MIB)) {
			if (!r->bad++)
				r->first_bad = res;
		} else {
			seen[res.qd_reqid] = 1;
		}
	}
	if (!mio_query(s.mfd, &q))
		r->nr_requests_end = q.nr_requests;
	space_close(&s);
	return 0;
}

TEST_F_TIMEOUT(limits, pins_bounded_with_io_in_flight, 90)
{
	struct limits_ctx *c = &self->c;
	static const char *const attrs[] = {
		"irqmode=2", "completion_nsec=" SLOW_NSEC, "memory_backed=0",
		"size=1024", "hw_queue_depth=1024", "max_sectors=2048", "no_sched=1",
		NULL,
	};
	struct pins_bounded_rep *r;
	long long max_pinned;

	get_max_pinned(_metadata, c);
	max_pinned = c->max_pinned;
	ASSERT_EQ(0, make_disk(c, "pb", attrs));
	r = report_page(c, sizeof(*r), 75);
	ASSERT_NE(NULL, r);
	/* Enough to pass the bound by 16 MiB if nothing stops us. */
	r->cap = max_pinned / MIB_PAGES + 16;
	if (r->cap > 1024)
		r->cap = 1024;

	ASSERT_LE(0, spawn_nobody(c, child_pins_bounded, NULL));
	ASSERT_EQ(0, reap_child(c, 80000));
	check_child(_metadata, c);

	TH_LOG("accepted %d x 1 MiB in %lld ms, then %d; %u pinned per query, %lld per vmstat",
	       r->accepted, r->submit_ms, r->refused_ret, r->nr_pinned_full, r->pins_full);
	EXPECT_TRUE(r->features & MACHIO_FEAT_LIMITS)
		TH_LOG("MACHIO_FEAT_LIMITS missing from the query");
	EXPECT_EQ(max_pinned, r->q_max_pinned)
		TH_LOG("query max_pinned_pages differs from the module parameter");
	EXPECT_EQ(-EAGAIN, r->refused_ret)
		TH_LOG("%d reads of 1 MiB in flight (%d pages pinned) and no -EAGAIN",
		       r->accepted, r->accepted * MIB_PAGES);
	EXPECT_LE((long long)r->accepted * MIB_PAGES, max_pinned)
		TH_LOG("%d requests of %d pages accepted past max_pinned_pages %lld",
		       r->accepted, MIB_PAGES, max_pinned);
	EXPECT_LE(r->nr_pinned_full, max_pinned);
	EXPECT_LT(0, r->nr_pinned_full)
		TH_LOG("nr_pinned_pages 0 with %d reads in flight", r->accepted);
	EXPECT_LE(r->pins_full, max_pinned + PIN_SLACK)
		TH_LOG("the kernel counts %lld pins held, bound %lld", r->pins_full, max_pinned);
	EXPECT_EQ(r->accepted, r->nr_requests_full)
		TH_LOG("nr_requests should count the accepted requests only");
	EXPECT_LT(r->submit_ms, 1900)
		TH_LOG("submitting took longer than the disk: the bound was not tested");

	EXPECT_LE(0, r->drain_ms)
		TH_LOG("pins held 10 s after the disk finished: %u per query, %lld per vmstat",
		       r->nr_pinned_drained, r->pins_drained);
	EXPECT_EQ(0, r->nr_pinned_drained);
	EXPECT_GE(PIN_SLACK, r->pins_drained);
	EXPECT_EQ(r->accepted, r->nr_requests_drained)
		TH_LOG("unreaped completions must still count as requests");

	EXPECT_EQ(r->accepted, r->reaped);
	EXPECT_EQ(0, r->bad)
		TH_LOG("%d bad completions; first: reqid %u code %d count %d type %d",
		       r->bad, r->first_bad.qd_reqid, r->first_bad.qd_code,
		       r->first_bad.qd_count, r->first_bad.qd_type);
	EXPECT_EQ(0, r->nr_requests_end);
}

/* --- 2: completed requests hold no pins, reaped or not ----------------- */

#define RELEASED_NR	512
#define RELEASED_DISK	64	/* MiB of pattern on the disk */

static __u64 pat_word(unsigned int mib, size_t j)
{
	return ((__u64)(mib + 1) << 44) ^ (j * 0x9e3779b97f4a7c15ULL);
}

static void fill_mib(void *buf, unsigned int mib)
{
	__u64 *w = buf;
	size_t j;

	for (j = 0; j < MIB / 8; j++)
		w[j] = pat_word(mib, j);
}

/* Byte offset of the first difference from the pattern, or -1. */
static long check_mib(const void *buf, unsigned int mib)
{
	const __u64 *w = buf;
	size_t j;

	for (j = 0; j < MIB / 8; j++)
		if (w[j] != pat_word(mib, j))
			return j * 8;
	return -1;
}

struct pins_released_rep {
	struct child_hdr hdr;
	int accepted;
	int eagain;			/* refusals, retried */
	int other_ret;			/* a refusal other than -EAGAIN */
	__u32 max_nr_pinned;		/* most the query showed */
	long long max_pins;		/* most system pins above the baseline */
	long long drain_ms;		/* -1: not drained in 10 s */
	__u32 nr_pinned_drained;
	long long pins_drained;
	__u32 nr_requests_unreaped;
	int reaped;
	int bad;
	struct machio_io_done_result first_bad;
	int verified;
	int bad_buffers;
	int first_bad_buffer;
	long first_bad_offset;
};

static int child_pins_released(struct limits_ctx *c)
{
	struct pins_released_rep *r = c->shm;
	static char seen[RELEASED_NR];
	struct machio_io_done_result res;
	struct machio_query q;
	long long pins0, pins, end;
	unsigned char *bufs;
	struct space s;
	long off;
	int i, ret;

	bufs = mmap(NULL, (size_t)RELEASED_NR * MIB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED)
		return child_fail(&r->hdr, "mmap of the buffers", -errno);
	memset(bufs, 0xa5, (size_t)RELEASED_NR * MIB);
	ret = space_open(&s, c->bfd);
	if (ret)
		return child_fail(&r->hdr, "open /dev/machio, queue, device port", ret);
	pins0 = pins_held();
	if (pins0 == LLONG_MIN)
		return child_fail(&r->hdr, "no nr_foll_pin_* in /proc/vmstat", -ENOENT);

	/* At the bound, wait for the disk (never reap) and try again. */
	end = now_ms() + 30000;
	for (i = 0; i < RELEASED_NR && now_ms() < end;) {
		ret = mio_submit(s.mfd, MACHIO_OP_READ_OVERWRITE, s.dev, s.queue, i, 0,
				 (i % RELEASED_DISK) * (MIB / 512), MIB,
				 bufs + (size_t)i * MIB);
		if (!ret)
			i++;
		else if (ret == -EAGAIN)
			r->eagain++;
		else
			break;
		pins = pins_held() - pins0;
		if (pins > r->max_pins)
			r->max_pins = pins;
		if (!mio_query(s.mfd, &q) && q.nr_pinned_pages > r->max_nr_pinned)
			r->max_nr_pinned = q.nr_pinned_pages;
		if (ret)
			sleep_ms(1);
	}
	r->accepted = i;
	if (ret && ret != -EAGAIN)
		r->other_ret = ret;

	r->drain_ms = -1;
	end = now_ms() + 10000;
	do {
		pins = pins_held();
		if (mio_query(s.mfd, &q))
			return child_fail(&r->hdr, "MACHIO_IOC_QUERY", -errno);
		if (!q.nr_pinned_pages && pins - pins0 <= PIN_SLACK) {
			r->drain_ms = 10000 - (end - now_ms());
			break;
		}
		sleep_ms(20);
	} while (now_ms() < end);
	r->nr_pinned_drained = q.nr_pinned_pages;
	r->pins_drained = pins - pins0;
	r->nr_requests_unreaped = q.nr_requests;

	for (i = 0; i < r->accepted; i++) {
		ret = mio_wait(s.mfd, s.queue, &res);
		if (ret)
			return child_fail(&r->hdr, "io_done_queue_wait", ret);
		r->reaped++;
		if (res.qd_code != MACHIO_KERN_SUCCESS || res.qd_count != MIB ||
		    res.qd_reqid >= RELEASED_NR || seen[res.qd_reqid] ||
		    res.qd_data != (__u64)(uintptr_t)(bufs + (size_t)res.qd_reqid * MIB)) {
			if (!r->bad++)
				r->first_bad = res;
		} else {
			seen[res.qd_reqid] = 1;
		}
	}
	/* Every 8th buffer and the last, every byte. */
	for (i = 0; i < r->accepted; i++) {
		if (i % 8 && i != r->accepted - 1)
			continue;
		r->verified++;
		off = check_mib(bufs + (size_t)i * MIB, i % RELEASED_DISK);
		if (off >= 0 && !r->bad_buffers++) {
			r->first_bad_buffer = i;
			r->first_bad_offset = off;
		}
	}
	space_close(&s);
	return 0;
}

TEST_F_TIMEOUT(limits, pins_released_without_reaping, 150)
{
	struct limits_ctx *c = &self->c;
	static const char *const attrs[] = {
		"irqmode=1", "memory_backed=1", "size=64", "hw_queue_depth=256",
		"max_sectors=2048", "no_sched=1", NULL,
	};
	struct pins_released_rep *r;
	long long max_pinned;
	unsigned char *buf;
	unsigned int m;
	int fd;

	get_max_pinned(_metadata, c);
	max_pinned = c->max_pinned;
	ASSERT_EQ(0, make_disk(c, "pr", attrs));

	/* The data the child must find, written by root before it starts. */
	buf = aligned_buf(MIB, PG);
	ASSERT_NE(NULL, buf);
	fd = open(c->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (m = 0; m < RELEASED_DISK; m++) {
		fill_mib(buf, m);
		ASSERT_EQ(MIB, pwrite(fd, buf, MIB, (off_t)m * MIB));
	}
	close(fd);
	free(buf);

	r = report_page(c, sizeof(*r), 100);
	ASSERT_NE(NULL, r);
	ASSERT_LE(0, spawn_nobody(c, child_pins_released, NULL));
	ASSERT_EQ(0, reap_child(c, 110000));
	check_child(_metadata, c);

	TH_LOG("%d accepted, %d -EAGAIN; most pinned %u (query) %lld (vmstat); drained in %lld ms",
	       r->accepted, r->eagain, r->max_nr_pinned, r->max_pins, r->drain_ms);
	ASSERT_EQ(0, r->other_ret) TH_LOG("submit refused with %d", r->other_ret);
	EXPECT_EQ(RELEASED_NR, r->accepted)
		TH_LOG("completed unreaped requests must not keep the bound full");
	EXPECT_LE(r->max_nr_pinned, max_pinned);
	EXPECT_LE(r->max_pins, max_pinned + PIN_SLACK)
		TH_LOG("the kernel counted %lld pins held at once, bound %lld",
		       r->max_pins, max_pinned);
	EXPECT_LE(0, r->drain_ms)
		TH_LOG("%d completions unreaped still pin pages: %u per query, %lld per vmstat",
		       r->accepted, r->nr_pinned_drained, r->pins_drained);
	EXPECT_EQ(0, r->nr_pinned_drained);
	EXPECT_GE(PIN_SLACK, r->pins_drained);
	EXPECT_EQ(r->accepted, r->nr_requests_unreaped);
	EXPECT_EQ(r->accepted, r->reaped);
	EXPECT_EQ(0, r->bad)
		TH_LOG("%d bad completions; first: reqid %u code %d count %d",
		       r->bad, r->first_bad.qd_reqid, r->first_bad.qd_code,
		       r->first_bad.qd_count);
	EXPECT_LT(0, r->verified);
	EXPECT_EQ(0, r->bad_buffers)
		TH_LOG("%d of %d buffers differ from the disk; first: buffer %d byte %ld",
		       r->bad_buffers, r->verified, r->first_bad_buffer, r->first_bad_offset);
}

/* --- 3: no page's pin count can be driven to overflow ------------------ */

#define STORM_SPACES	64
#define STORM_ROUNDS	4
#define STORM_PAGES	16000	/* one VMA each: well under vm.max_map_count */

struct storm_rep {
	struct child_hdr hdr;
	int attempts;
	int accepted;
	int eagain;
	int other_ret;			/* first refusal other than -EAGAIN */
	int other_at;
	long long submit_ms;
	long long pins;			/* system pins above the baseline, all submitted */
	int per_space[STORM_SPACES];
	int reaped;
	int bad;
	struct machio_io_done_result first_bad;
};

static int child_pin_storm(struct limits_ctx *c)
{
	struct storm_rep *r = c->shm;
	struct space sp[STORM_SPACES];
	struct machio_io_done_result res;
	unsigned char *region, *page;
	long long t0, pins0;
	int i, k, mfd, ret;

	/* One shmem page, mapped at every page of the region. */
	mfd = memfd_create("machio-pin-storm", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, PG))
		return child_fail(&r->hdr, "memfd", -errno);
	region = mmap(NULL, (size_t)STORM_PAGES * PG, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return child_fail(&r->hdr, "mmap of the region", -errno);
	for (i = 0; i < STORM_PAGES; i++) {
		page = mmap(region + (size_t)i * PG, PG, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED, mfd, 0);
		if (page != region + (size_t)i * PG)
			return child_fail(&r->hdr, "mmap of the shared page", -errno);
		page[0] = 1;	/* fault it in */
	}
	for (i = 0; i < STORM_SPACES; i++) {
		ret = space_open(&sp[i], c->bfd);
		if (ret)
			return child_fail(&r->hdr, "open /dev/machio, queue, device port", ret);
	}

	/*
	 * Unbounded, each accepted request takes STORM_PAGES pins of the one
	 * page (GUP_PIN_COUNTING_BIAS references each): 2^21 pins overflow
	 * its reference count after about 131 of these 256.
	 */
	pins0 = pins_held();
	if (pins0 == LLONG_MIN)
		return child_fail(&r->hdr, "no nr_foll_pin_* in /proc/vmstat", -ENOENT);
	t0 = now_ms();
	for (k = 0; k < STORM_ROUNDS; k++) {
		for (i = 0; i < STORM_SPACES; i++) {
			r->attempts++;
			ret = mio_submit(sp[i].mfd, MACHIO_OP_READ_OVERWRITE, sp[i].dev,
					 sp[i].queue, k, 0, 0, STORM_PAGES * PG, region);
			if (!ret) {
				r->accepted++;
				r->per_space[i]++;
			} else if (ret == -EAGAIN) {
				r->eagain++;
			} else if (!r->other_ret) {
				r->other_ret = ret;
				r->other_at = r->attempts;
			}
		}
	}
	r->submit_ms = now_ms() - t0;
	r->pins = pins_held() - pins0;

	/* What went through must complete, and right. */
	for (i = 0; i < STORM_SPACES; i++) {
		for (k = 0; k < r->per_space[i]; k++) {
			ret = mio_wait(sp[i].mfd, sp[i].queue, &res);
			if (ret)
				return child_fail(&r->hdr, "io_done_queue_wait", ret);
			r->reaped++;
			if (res.qd_code != MACHIO_KERN_SUCCESS ||
			    res.qd_count != STORM_PAGES * PG) {
				if (!r->bad++)
					r->first_bad = res;
			}
		}
		ret = mio_terminate(sp[i].mfd, sp[i].queue);
		if (ret)
			return child_fail(&r->hdr, "io_done_queue_terminate", ret);
		space_close(&sp[i]);
	}
	munmap(region, (size_t)STORM_PAGES * PG);
	close(mfd);
	return 0;
}

/*
 * Mapping 16000 pages and 64 spaces takes seconds on the debug kernel,
 * and once took the child past a 120 s alarm when the emulator was slow:
 * the bounds are generous.
 */
TEST_F_TIMEOUT(limits, shared_page_pin_storm, 330)
{
	struct limits_ctx *c = &self->c;
	static const char *const attrs[] = {
		"irqmode=2", "completion_nsec=" SLOW_NSEC, "memory_backed=0",
		"size=1024", "hw_queue_depth=4096", "max_sectors=2048", "no_sched=1",
		NULL,
	};
	struct storm_rep *r;
	int reports0, reports1;
	long long total;

	/* The module-wide bound is what keeps 64 spaces off the one page. */
	if (param_get("max_pinned_total", &total)) {
		TH_LOG("no max_pinned_total parameter: old module?");
		total = 262144;
	}
	reports0 = kernel_reports();
	ASSERT_LE(0, reports0) TH_LOG("cannot read the kernel log");
	ASSERT_EQ(0, make_disk(c, "ps", attrs));
	r = report_page(c, sizeof(*r), 300);
	ASSERT_NE(NULL, r);
	ASSERT_LE(0, spawn_nobody(c, child_pin_storm, NULL));
	ASSERT_EQ(0, reap_child(c, 310000));
	reports1 = kernel_reports();
	check_child(_metadata, c);

	TH_LOG("%d of %d submits accepted, %d -EAGAIN, in %lld ms; %lld pins held then",
	       r->accepted, r->attempts, r->eagain, r->submit_ms, r->pins);
	EXPECT_EQ(0, r->other_ret)
		TH_LOG("submit %d failed with %d: every refusal must be -EAGAIN",
		       r->other_at, r->other_ret);
	EXPECT_EQ(r->attempts, r->accepted + r->eagain);
	EXPECT_LT(0, r->eagain)
		TH_LOG("%d reads of one page x %d accepted: %lld pins of one page",
		       r->accepted, STORM_PAGES, (long long)r->accepted * STORM_PAGES);
	EXPECT_LE(r->pins, total + PIN_SLACK)
		TH_LOG("the kernel counted %lld pins held, max_pinned_total %lld",
		       r->pins, total);
	EXPECT_EQ(r->accepted, r->reaped);
	EXPECT_EQ(0, r->bad)
		TH_LOG("%d bad completions; first: code %d count %d",
		       r->bad, r->first_bad.qd_code, r->first_bad.qd_count);
	/* Not EXPECT_EQ: a wrapped log buffer may have dropped old reports. */
	EXPECT_GE(reports0, reports1)
		TH_LOG("the kernel logged %d new WARNING/BUG reports (try_grab_folio?)",
		       reports1 - reports0);
}

/* --- 4: max_requests counts unreaped completions ----------------------- */

#define REQ_BOUND	1000

struct request_bound_rep {
	struct child_hdr hdr;
	__u64 features;
	int accepted;
	int refused_ret;		/* the (REQ_BOUND + 1)th submit */
	int again_ret;			/* one more, still full */
	__u32 q_max_requests;
	__u32 nr_requests_full;
	int wait_ret;
	struct machio_io_done_result reaped;
	int after_reap_ret;		/* one more after reaping one */
	int after_reap2_ret;		/* and the next: full again */
	__u32 nr_requests_end;
};

static int child_request_bound(struct limits_ctx *c)
{
	struct request_bound_rep *r = c->shm;
	struct machio_query q;
	struct space s;
	int i, ret;

	ret = space_open(&s, c->bfd);
	if (ret)
		return child_fail(&r->hdr, "open /dev/machio, queue, device port", ret);
	for (i = 0; i <= REQ_BOUND; i++) {
		ret = mio_submit(s.mfd, MACHIO_OP_READ_INBAND, s.dev, s.queue, i, 0,
				 i % 128, 64, NULL);
		if (ret)
			break;
	}
	r->accepted = i;
	r->refused_ret = ret;
	r->again_ret = mio_submit(s.mfd, MACHIO_OP_READ_INBAND, s.dev, s.queue,
				  5000, 0, 0, 64, NULL);
	if (mio_query(s.mfd, &q))
		return child_fail(&r->hdr, "MACHIO_IOC_QUERY", -errno);
	r->features = q.features;
	r->q_max_requests = q.max_requests;
	r->nr_requests_full = q.nr_requests;

	r->wait_ret = mio_wait(s.mfd, s.queue, &r->reaped);
	r->after_reap_ret = mio_submit(s.mfd, MACHIO_OP_READ_INBAND, s.dev, s.queue,
				       6000, 0, 0, 64, NULL);
	r->after_reap2_ret = mio_submit(s.mfd, MACHIO_OP_READ_INBAND, s.dev, s.queue,
					6001, 0, 0, 64, NULL);
	if (mio_query(s.mfd, &q))
		return child_fail(&r->hdr, "MACHIO_IOC_QUERY", -errno);
	r->nr_requests_end = q.nr_requests;
	space_close(&s);
	return 0;
}

TEST_F_TIMEOUT(limits, request_bound, 60)
{
	struct limits_ctx *c = &self->c;
	static const char *const attrs[] = { "irqmode=1", NULL };
	struct request_bound_rep *r;
	char old[32];
	int ret;

	ret = read_text(PARAM_DIR "max_requests", old, sizeof(old));
	EXPECT_LT(0, ret) TH_LOG("no max_requests parameter (%s): old module?",
				 strerror(-ret));
	if (ret > 0) {
		/* Teardown puts it back, whatever happens below. */
		memcpy(c->saved_max_requests, old, sizeof(old));
		ASSERT_EQ(0, param_set("max_requests", REQ_BOUND));
	}
	ASSERT_EQ(0, make_disk(c, "rb", attrs));
	r = report_page(c, sizeof(*r), 45);
	ASSERT_NE(NULL, r);
	ASSERT_LE(0, spawn_nobody(c, child_request_bound, NULL));
	ASSERT_EQ(0, reap_child(c, 50000));
	check_child(_metadata, c);

	EXPECT_TRUE(r->features & MACHIO_FEAT_LIMITS)
		TH_LOG("MACHIO_FEAT_LIMITS missing from the query");
	EXPECT_EQ(REQ_BOUND, r->accepted)
		TH_LOG("%d requests accepted with max_requests %d", r->accepted, REQ_BOUND);
	EXPECT_EQ(-EAGAIN, r->refused_ret);
	EXPECT_EQ(-EAGAIN, r->again_ret);
	EXPECT_EQ(REQ_BOUND, r->q_max_requests);
	EXPECT_EQ(REQ_BOUND, r->nr_requests_full);
	ASSERT_EQ(0, r->wait_ret);
	EXPECT_EQ(MACHIO_KERN_SUCCESS, r->reaped.qd_code);
	EXPECT_EQ(64, r->reaped.qd_count);
	EXPECT_EQ(0, r->after_reap_ret)
		TH_LOG("reaping one completion must make room for one request");
	EXPECT_EQ(-EAGAIN, r->after_reap2_ret);
	EXPECT_EQ(REQ_BOUND, r->nr_requests_end);
}

/* --- 5: kernel memory is charged to the caller's memory cgroup --------- */

#define MEMCG_SPACES	8
#define MEMCG_CAP	20000	/* per space: far past 32M even at 256 bytes each */
#define MEMCG_MAX	(32LL * MIB)

struct memcg_rep {
	struct child_hdr hdr;
	int accepted[MEMCG_SPACES];
	int ret[MEMCG_SPACES];		/* the refusal that ended each space */
	int total;
	int first_ret;
	int stopped;			/* the parent ran out of patience */
};

enum { MC_READY = 1, MC_FILLED, MC_CLOSED };

/* Fault in stack the child will use once it may not allocate. */
static void touch_stack(void)
{
	char pad[64 * 1024];

	memset(pad, 0, sizeof(pad));
	/* Keep the stores: the compiler must assume pad is read here. */
	__asm__ __volatile__("" : : "r"(pad) : "memory");
}

static int child_memcg(struct limits_ctx *c)
{
	struct memcg_rep *r = c->shm;
	struct space sp[MEMCG_SPACES];
	int i, n, ret, fd;

	/*
	 * At memory.max a page fault would end in the OOM killer: touch now
	 * everything used after the fill (stack, this page, the wait loop,
	 * close()) so that nothing is left to fault in.
	 */
	touch_stack();
	memset(sp, 0xff, sizeof(sp));
	fd = dup(0);
	if (fd >= 0)
		close(fd);
	set_stage(&r->hdr, MC_READY);
	if (child_wait_go(&r->hdr, 1, 20000))
		return child_fail(&r->hdr, "no go from the parent", -ETIMEDOUT);

	for (i = 0; i < MEMCG_SPACES; i++) {
		ret = space_open(&sp[i], c->bfd);
		if (ret)
			return child_fail(&r->hdr, "open /dev/machio, queue, device port", ret);
	}
	for (i = 0; i < MEMCG_SPACES; i++) {
		ret = 0;
		for (n = 0; n < MEMCG_CAP; n++) {
			if (__atomic_load_n(&r->hdr.stop, __ATOMIC_ACQUIRE)) {
				r->stopped = 1;
				break;
			}
			ret = mio_submit(sp[i].mfd, MACHIO_OP_READ_INBAND, sp[i].dev,
					 sp[i].queue, n, 0, n % 128, 64, NULL);
			if (ret)
				break;
		}
		r->accepted[i] = n;
		r->ret[i] = ret;
		r->total += n;
		if (ret && !r->first_ret)
			r->first_ret = ret;
	}
	set_stage(&r->hdr, MC_FILLED);
	if (child_wait_go(&r->hdr, 2, 30000))
		return child_fail(&r->hdr, "no go from the parent", -ETIMEDOUT);
	for (i = 0; i < MEMCG_SPACES; i++)
		space_close(&sp[i]);
	set_stage(&r->hdr, MC_CLOSED);
	if (child_wait_go(&r->hdr, 3, 30000))
		return child_fail(&r->hdr, "no go from the parent", -ETIMEDOUT);
	return 0;
}

static int cg_file(struct limits_ctx *c, const char *file, char *buf, size_t len)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", c->cg, file);
	return read_text(path, buf, len);
}

static long long cg_current(struct limits_ctx *c)
{
	char buf[32];

	return cg_file(c, "memory.current", buf, sizeof(buf)) > 0 ?
	       strtoll(buf, NULL, 10) : -1;
}

static long long cg_event(struct limits_ctx *c, const char *key)
{
	char buf[512];

	return cg_file(c, "memory.events", buf, sizeof(buf)) > 0 ?
	       keyed_value(buf, key) : -1;
}

static long long mem_available(void)
{
	char buf[4096];

	if (read_text("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	return keyed_value(buf, "MemAvailable:") * 1024;
}

TEST_F_TIMEOUT(limits, memcg_charged_and_bounded, 150)
{
	struct limits_ctx *c = &self->c;
	static const char *const attrs[] = { "irqmode=1", "memory_backed=0", NULL };
	long long base, held, after, end;
	struct memcg_rep *r;
	struct statfs sf;
	char buf[256], val[32];
	int ret, i;

	if (statfs(CGROOT, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) {
		if (mount("none", CGROOT, "cgroup2", 0, NULL) == 0)
			c->cg_mounted = true;
		else
			ASSERT_EQ(EBUSY, errno) TH_LOG("mount cgroup2: %s", strerror(errno));
	}
	if (statfs(CGROOT, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		SKIP(return, CGROOT " is not cgroup2");
	if (read_text(CGROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory"))
		SKIP(return, "no memory controller");
	write_file(CGROOT "/cgroup.subtree_control", "+memory");
	ASSERT_LE(0, read_text(CGROOT "/cgroup.subtree_control", buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "memory")) TH_LOG("cannot enable +memory");
	snprintf(c->cg, sizeof(c->cg), CGROOT "/machio-limits-%d", (int)getpid());
	ASSERT_EQ(0, mkdir(c->cg, 0755)) TH_LOG("mkdir %s: %s", c->cg, strerror(errno));
	c->cg_made = true;
	snprintf(buf, sizeof(buf), "%s/memory.max", c->cg);
	snprintf(val, sizeof(val), "%lld", MEMCG_MAX);
	ASSERT_EQ(0, write_file(buf, val));

	ASSERT_EQ(0, make_disk(c, "mc", attrs));
	r = report_page(c, sizeof(*r), 120);
	ASSERT_NE(NULL, r);
	ASSERT_LE(0, spawn_nobody(c, child_memcg, c->cg));
	ret = wait_stage(c, MC_READY, 20000);
	if (ret)
		check_child(_metadata, c);
	ASSERT_EQ(0, ret);
	base = cg_current(c);
	ASSERT_LE(0, base);
	allow(c, 1);

	/*
	 * An old module charges nothing and the cgroup never stops the child:
	 * stop it before the VM itself runs short.
	 */
	end = now_ms() + 60000;
	while ((ret = wait_stage(c, MC_FILLED, 50)) == -ETIMEDOUT && now_ms() < end) {
		if (mem_available() < 384LL * MIB)
			__atomic_store_n(&r->hdr.stop, 1, __ATOMIC_RELEASE);
	}
	if (ret)
		check_child(_metadata, c);
	ASSERT_EQ(0, ret);
	held = cg_current(c);
	TH_LOG("memory.current %lld -> %lld with %d inband completions held; first refusal %d",
	       base, held, r->total, r->first_ret);
	for (i = 0; i < MEMCG_SPACES; i++)
		TH_LOG("space %d: %d accepted, then %d", i, r->accepted[i], r->ret[i]);
	allow(c, 2);
	ret = wait_stage(c, MC_CLOSED, 20000);
	if (ret)
		check_child(_metadata, c);
	ASSERT_EQ(0, ret);

	/* close() returns at once; the rest drains in the background. */
	end = now_ms() + 10000;
	do {
		after = cg_current(c);
		if (after >= 0 && after <= base + 2 * MIB)
			break;
		sleep_ms(50);
	} while (now_ms() < end);
	allow(c, 3);
	ASSERT_EQ(0, reap_child(c, 10000));
	check_child(_metadata, c);

	EXPECT_EQ(0, r->stopped)
		TH_LOG("%d requests and no refusal: kernel memory not charged to memory.max %lld",
		       r->total, MEMCG_MAX);
	EXPECT_NE(0, r->first_ret) TH_LOG("no submit refused");
	EXPECT_TRUE(r->first_ret == -ENOMEM || r->first_ret == -EAGAIN)
		TH_LOG("refused with %d", r->first_ret);
	EXPECT_EQ(-ENOMEM, r->first_ret)
		TH_LOG("the memory cgroup should stop it before max_requests does");
	EXPECT_LE(base + 8 * MIB, held)
		TH_LOG("%d completions held but memory.current rose %lld bytes only",
		       r->total, held - base);
	EXPECT_LT(0, cg_event(c, "max")) TH_LOG("memory.max was never reached");
	EXPECT_EQ(0, cg_event(c, "oom_kill")) TH_LOG("the OOM killer ran");
	EXPECT_GE(base + 2 * MIB, after)
		TH_LOG("memory.current still %lld after close (was %lld before open)",
		       after, base);
}

MACHIO_TEST_MAIN
