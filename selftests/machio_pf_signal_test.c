// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio tasks and signals (MACHIO_IOC_PF_*): a thread's task item and
 * its end, and AllocSignal / FreeSignal / WaitSignal / SendSignal /
 * GetCurrentSignals with Opera's rules, between threads, between
 * processes of one user, and refused to another user.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define BADITEM		MACHIO_PF_BADITEM
#define BADPRIV		MACHIO_PF_BADPRIV
#define ILLEGALSIGNAL	MACHIO_PF_ILLEGALSIGNAL

static int pf_task(int fd, __u32 flags, __s32 *result)
{
	struct machio_pf_task_info a = { .flags = flags };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_TASK, &a);

	*result = a.result;
	return ret;
}

static __s32 task_item(int fd)
{
	__s32 item;

	return pf_task(fd, 0, &item) ? -1 : item;
}

/* A signal call's Err (or -errno for the ioctl's own failure). */
static __s32 pf_sig(int fd, unsigned long cmd, __s32 task, __u32 mask)
{
	struct machio_pf_signal a = { .task = task, .mask = mask };
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

#define ALLOC(fd, m)		pf_sig(fd, MACHIO_IOC_PF_ALLOC_SIGNAL, 0, m)
#define FREE(fd, m)		pf_sig(fd, MACHIO_IOC_PF_FREE_SIGNAL, 0, m)
#define WAIT(fd, m)		pf_sig(fd, MACHIO_IOC_PF_WAIT_SIGNAL, 0, m)
#define SEND(fd, t, m)		pf_sig(fd, MACHIO_IOC_PF_SEND_SIGNAL, t, m)
#define CURRENT(fd)		pf_sig(fd, MACHIO_IOC_PF_GET_SIGNALS, 0, 0)

FIXTURE(pf) {
	int fd;
};

FIXTURE_SETUP(pf)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(pf)
{
	close(self->fd);
}

/* A thread that makes its task, reports it, and exits (telling or not). */
struct peer {
	int fd;
	bool say_exit;
	__s32 item;
	__u32 mask;		/* allocated, for the waiting peer */
	__s32 got;		/* what its WaitSignal returned */
	int ready[2];		/* it writes one byte once it is about to wait */
	pid_t tid;		/* its thread id */
};

static void *peer_exits(void *arg)
{
	struct peer *p = arg;

	p->tid = gettid();
	p->item = task_item(p->fd);
	if (p->say_exit) {
		__s32 r;

		pf_task(p->fd, MACHIO_PF_TASK_EXIT, &r);
	}
	return NULL;
}

static void *peer_waits(void *arg)
{
	struct peer *p = arg;

	p->item = task_item(p->fd);
	p->mask = ALLOC(p->fd, 0);
	if (write(p->ready[1], "r", 1) != 1)
		return NULL;
	p->got = WAIT(p->fd, p->mask);
	return NULL;
}

TEST_F(pf, task_items_have_operas_layout_and_end_with_their_thread)
{
	__s32 me = task_item(self->fd), r;
	struct peer p = { .fd = self->fd };
	pthread_t th;
	int i;

	ASSERT_LT(0, me);
	EXPECT_LE(16, me & 0xfff);			/* index, never below 16 */
	EXPECT_EQ(0, me & 0xf000);
	EXPECT_LE(1, (me >> 16) & 0x7fff);		/* a generation */
	EXPECT_EQ(me, task_item(self->fd));		/* one per thread */

	/* A thread that says it is done, and one that just exits. */
	for (i = 0; i < 2; i++) {
		p.say_exit = i == 0;
		ASSERT_EQ(0, pthread_create(&th, NULL, peer_exits, &p));
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_LT(0, p.item);
		EXPECT_NE(me, p.item);
		if (i == 1) {
			/* Found gone when the space makes its next task. */
			struct peer q = { .fd = self->fd };

			ASSERT_EQ(0, wait_thread_gone(p.tid));
			ASSERT_EQ(0, pthread_create(&th, NULL, peer_exits, &q));
			ASSERT_EQ(0, pthread_join(th, NULL));
			EXPECT_NE(p.item, q.item);
		}
		EXPECT_EQ(BADITEM, SEND(self->fd, p.item, 0)) TH_LOG("case %d", i);
	}
	EXPECT_EQ(0, pf_task(self->fd, MACHIO_PF_TASK_EXIT, &r));
	EXPECT_EQ(0, r);
	/* A new task for this thread: the old number is stale. */
	EXPECT_NE(me, task_item(self->fd));
	EXPECT_EQ(BADITEM, SEND(self->fd, me, 0));
}

TEST_F(pf, alloc_and_free_rules)
{
	__u32 mask;
	int i;

	EXPECT_EQ(0x100, ALLOC(self->fd, 0));		/* the lowest user bit first */
	EXPECT_EQ(0x200, ALLOC(self->fd, 0));
	EXPECT_EQ(0, ALLOC(self->fd, 0x100));		/* taken */
	EXPECT_EQ(0, ALLOC(self->fd, 0x400 | 0x100));	/* partly taken: nothing */
	EXPECT_EQ(0x400 | 0x800, ALLOC(self->fd, 0x400 | 0x800));
	EXPECT_EQ(ILLEGALSIGNAL, ALLOC(self->fd, MACHIO_PF_SIGF_IODONE));
	EXPECT_EQ(ILLEGALSIGNAL, ALLOC(self->fd, 0x80000000));
	EXPECT_EQ(ILLEGALSIGNAL, ALLOC(self->fd, 0x1000 | 0x1));

	/* 23 user bits in all: 8-30. */
	for (i = 4; i < 23; i++) {
		mask = ALLOC(self->fd, 0);
		EXPECT_EQ(1U << (8 + i), mask);
	}
	EXPECT_EQ(0, ALLOC(self->fd, 0));		/* none left */

	EXPECT_EQ(ILLEGALSIGNAL, FREE(self->fd, MACHIO_PF_SIGF_IODONE));
	EXPECT_EQ(ILLEGALSIGNAL, FREE(self->fd, 0x80000000));
	EXPECT_EQ(0, FREE(self->fd, 0x200 | 0x800));
	EXPECT_EQ(ILLEGALSIGNAL, FREE(self->fd, 0x200));	/* not allocated now */
	EXPECT_EQ(0x200, ALLOC(self->fd, 0));
}

TEST_F(pf, signals_between_threads_do_not_count)
{
	struct peer p = { .fd = self->fd };
	pthread_t th;
	char c;

	ASSERT_EQ(0, pipe2(p.ready, O_CLOEXEC));
	ASSERT_EQ(0, pthread_create(&th, NULL, peer_waits, &p));
	ASSERT_EQ(1, read(p.ready[0], &c, 1));
	ASSERT_EQ(0x100, p.mask);
	usleep(50000);
	EXPECT_EQ(0, SEND(self->fd, p.item, 0x100));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0x100, p.got);

	/* To itself (task 0): twice is once, other bits stay pending. */
	ASSERT_EQ(0x100, ALLOC(self->fd, 0));
	ASSERT_EQ(0x200, ALLOC(self->fd, 0));
	EXPECT_EQ(0, SEND(self->fd, 0, 0x100));
	EXPECT_EQ(0, SEND(self->fd, 0, 0x100 | 0x200));
	EXPECT_EQ(0x300, CURRENT(self->fd));
	EXPECT_EQ(0x100, WAIT(self->fd, 0x100));
	EXPECT_EQ(0x200, CURRENT(self->fd));
	EXPECT_EQ(0x200, WAIT(self->fd, 0x300));
	EXPECT_EQ(0, CURRENT(self->fd));
	/* A newly allocated bit starts clear. */
	EXPECT_EQ(0, SEND(self->fd, 0, 0x100));
	EXPECT_EQ(0, FREE(self->fd, 0x100));
	EXPECT_EQ(0x100, ALLOC(self->fd, 0x100));
	EXPECT_EQ(0, CURRENT(self->fd));
}

TEST_F(pf, errors_of_send_and_wait)
{
	__s32 me = task_item(self->fd);

	ASSERT_EQ(0x100, ALLOC(self->fd, 0));
	EXPECT_EQ(BADITEM, SEND(self->fd, 0x12345, 0x100));
	EXPECT_EQ(BADITEM, SEND(self->fd, -5, 0x100));
	EXPECT_EQ(BADITEM, SEND(self->fd, me + 0x10000, 0x100));	/* another generation */
	EXPECT_EQ(ILLEGALSIGNAL, SEND(self->fd, me, 0x200));		/* not allocated */
	EXPECT_EQ(ILLEGALSIGNAL, SEND(self->fd, me, 0x80000000));
	EXPECT_EQ(BADPRIV, SEND(self->fd, me, MACHIO_PF_SIGF_IODONE));	/* the system's */
	EXPECT_EQ(ILLEGALSIGNAL, WAIT(self->fd, 0x200));
	EXPECT_EQ(0, CURRENT(self->fd));
}

static void noop(int sig)
{
}

/* A Linux signal ends the wait in the kernel with EINTR (libmachio waits again). */
TEST_F(pf, a_linux_signal_interrupts_the_kernel_wait)
{
	struct sigaction sa = { .sa_handler = noop };

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0x100, ALLOC(self->fd, 0));
	alarm(1);
	EXPECT_EQ(-EINTR, WAIT(self->fd, 0x100));
	EXPECT_EQ(0, CURRENT(self->fd));
}

TEST_F(pf, bad_arguments_are_einval)
{
	struct machio_pf_signal a = { .mask = 0x100 };
	struct machio_pf_task_info t = {};

	a.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_ALLOC_SIGNAL, &a));
	a.pad = 0;
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_ALLOC_SIGNAL, &a));
	a.reserved[1] = 0;
	a.result = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_WAIT_SIGNAL, &a));
	a.result = 0;
	a.task = 5;	/* only SendSignal names a task */
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_FREE_SIGNAL, &a));
	t.flags = 2;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_TASK, &t));
	t.flags = 0;
	t.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_TASK, &t));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->fd, MACHIO_IOC_PF_SEND_SIGNAL, (void *)8));
	/* Nothing was allocated by the refused calls. */
	EXPECT_EQ(0x100, ALLOC(self->fd, 0));
}

/*
 * Another process of the same user reaches this task's signals; a
 * process of another user cannot see it; once this space is closed, the
 * task is gone for everyone.
 */
TEST_F(pf, between_processes_of_one_user_and_not_another)
{
	__s32 me = task_item(self->fd);
	int status, uid, fd;
	pid_t pid;

	ASSERT_LT(0, me);
	ASSERT_EQ(0x100, ALLOC(self->fd, 0));
	for (uid = 0; uid < 2; uid++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			__s32 want = uid ? BADITEM : 0;

			if (uid && (setgid(65534) || setuid(65534)))
				_exit(10);
			fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				_exit(11);
			_exit(SEND(fd, me, 0x100) == want ? 0 : 12);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("uid %s", uid ? "65534" : "same");
	}
	EXPECT_EQ(0x100, CURRENT(self->fd));	/* from the same user only */
	EXPECT_EQ(0x100, WAIT(self->fd, 0x100));

	/* Closing the space ends its tasks. */
	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(self->fd);
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(BADITEM, SEND(fd, me, 0x100));
	close(fd);
}

#define MAX_PF_ITEMS_PARAM "/sys/module/machio/parameters/max_pf_items"

/* Makes its task, then holds it until the pipe closes; exits without telling. */
static void *holder(void *arg)
{
	int *fds = arg;		/* in: [0] the space, [1] a pipe; out: [3] tid, [2] item */
	char c;

	fds[3] = gettid();
	__atomic_store_n(&fds[2], task_item(fds[0]), __ATOMIC_RELEASE);
	if (read(fds[1], &c, 1) < 0)
		return NULL;
	return NULL;
}

/*
 * A user's items are bounded (max_pf_items), as uid 65534: with room for
 * three, a third live task is refused with ITEMTABLEFULL, and room comes
 * back once the tasks' threads have gone.
 */
TEST(item_table_bound_as_nobody)
{
	char old[32];
	int status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	ASSERT_LT(0, read_text(MAX_PF_ITEMS_PARAM, old, sizeof(old)));
	ASSERT_EQ(0, write_file(MAX_PF_ITEMS_PARAM, "2"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int a[4] = {}, b[4] = {}, rel[2], fd;
		pthread_t ta, tb;

		if (setgid(65534) || setuid(65534) || pipe(rel))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		a[0] = b[0] = fd;
		a[1] = b[1] = rel[0];
		if (pthread_create(&ta, NULL, holder, a) || pthread_create(&tb, NULL, holder, b))
			_exit(12);
		while (!__atomic_load_n(&a[2], __ATOMIC_ACQUIRE) ||
		       !__atomic_load_n(&b[2], __ATOMIC_ACQUIRE))
			usleep(10000);
		if (a[2] <= 0 || b[2] <= 0)
			_exit(13);
		/* The third task: no room. */
		if (task_item(fd) != MACHIO_PF_ITEMTABLEFULL)
			_exit(14);
		close(rel[1]);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		if (wait_thread_gone(a[3]) || wait_thread_gone(b[3]))
			_exit(16);
		/* Their tasks are found gone: room again. */
		_exit(task_item(fd) > 0 ? 0 : 15);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	write_file(MAX_PF_ITEMS_PARAM, old);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

MACHIO_TEST_MAIN
