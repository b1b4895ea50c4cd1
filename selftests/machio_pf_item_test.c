// SPDX-License-Identifier: GPL-2.0
/*
 * The Portfolio item view (LookupItem): mmap of /dev/machio, read-only,
 * one slot per item index, showing each item as Opera's structure with
 * its number in n_Item while it exists -- and only the mapping user's
 * items.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <pthread.h>
#include <sys/wait.h>

static __s32 task_item(int fd)
{
	struct machio_pf_task_info a = {};

	return machio_ioctl(fd, MACHIO_IOC_PF_TASK, &a) ? -1 : a.result;
}

static const struct machio_pf_node *slot(const void *view, __s32 item)
{
	return (const void *)((const char *)view +
			      (size_t)(item & (MACHIO_PF_MAX_ITEMS - 1)) * MACHIO_PF_VIEW_SLOT);
}

FIXTURE(view) {
	int fd;
	void *view;
};

FIXTURE_SETUP(view)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
}

FIXTURE_TEARDOWN(view)
{
	munmap(self->view, MACHIO_PF_VIEW_SIZE);
	close(self->fd);
}

TEST_F(view, a_task_is_shown_while_it_exists)
{
	__s32 me = task_item(self->fd);
	const struct machio_pf_node *n = slot(self->view, me);
	struct machio_pf_task_info a = { .flags = MACHIO_PF_TASK_EXIT };

	ASSERT_LT(0, me);
	EXPECT_EQ(me, n->n_Item);
	EXPECT_EQ(MACHIO_PF_KERNELNODE, n->n_SubsysType);
	EXPECT_EQ(MACHIO_PF_TASKNODE, n->n_Type);
	EXPECT_EQ(me, n->n_Owner);			/* a task owns itself */
	EXPECT_EQ(sizeof(*n), n->n_Size);
	/* No kernel address shows. */
	EXPECT_EQ(0, n->n_Next);
	EXPECT_EQ(0, n->n_Prev);
	EXPECT_EQ(0, n->n_Name);
	EXPECT_EQ(0, n->n_ReservedP);

	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PF_TASK, &a));
	EXPECT_NE(me, n->n_Item);			/* gone: LookupItem is NULL */
	EXPECT_EQ(0, n->n_Item);
}

/* One view per user: another space of this user shows the same items. */
TEST_F(view, every_space_of_a_user_sees_the_same_items)
{
	__s32 me = task_item(self->fd);
	int fd2 = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	void *view2;

	ASSERT_LE(0, fd2);
	view2 = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, view2);
	EXPECT_EQ(me, slot(view2, me)->n_Item);
	munmap(view2, MACHIO_PF_VIEW_SIZE);
	close(fd2);
}

/* A process of another user maps its own view: this user's items are not in it. */
TEST_F(view, another_user_does_not_see_them)
{
	__s32 me = task_item(self->fd);
	int status;
	pid_t pid;

	ASSERT_LT(0, me);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		void *v;
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		v = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		if (v == MAP_FAILED)
			_exit(12);
		_exit(slot(v, me)->n_Item == me ? 13 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(view, mapping_rules)
{
	void *m;

	/* Read only: no writable mapping, and no making it writable later. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_NE(0, mprotect(self->view, 4096, PROT_READ | PROT_WRITE));
	/* Shared only, from offset 0, no longer than the view. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, MACHIO_PF_VIEW_SIZE + 4096, PROT_READ, MAP_SHARED,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	/* A part of it is fine. */
	m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, ((const struct machio_pf_node *)m)->n_Item);	/* index 0: never an item */
	munmap(m, 8192);
}

MACHIO_TEST_MAIN
