// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio devices (MACHIO_IOC_PF_OPEN_DEVICE, MACHIO_IOC_PF_CLOSE_ITEM):
 * one device item per block device and user, opens counted per task and
 * nesting, the last close deleting the item, a task's end closing what it
 * opened, and the item view's dev_OpenCnt kept current.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <pthread.h>
#include <sys/wait.h>

static __s32 open_device(int fd, int bfd)
{
	struct machio_pf_call a = { .arg = bfd };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_OPEN_DEVICE, &a);

	return ret ? ret : a.result;
}

static __s32 close_item(int fd, __s32 item)
{
	struct machio_pf_call a = { .arg = item };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_CLOSE_ITEM, &a);

	return ret ? ret : a.result;
}

FIXTURE(dev) {
	struct nullb nb;
	int fd, bfd;
	void *view;
};

FIXTURE_SETUP(dev)
{
	ASSERT_EQ(0, nullb_create(&self->nb, "pd", NULL));
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	self->view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
}

FIXTURE_TEARDOWN(dev)
{
	munmap(self->view, MACHIO_PF_VIEW_SIZE);
	close(self->fd);
	close(self->bfd);
	nullb_destroy(&self->nb);
}

static const struct machio_pf_node *node(FIXTURE_DATA(dev) *self, __s32 item)
{
	return (const void *)((const char *)self->view +
			      (size_t)(item & (MACHIO_PF_MAX_ITEMS - 1)) * MACHIO_PF_VIEW_SLOT);
}

static __s32 open_count(FIXTURE_DATA(dev) *self, __s32 item)
{
	return *(const __s32 *)((const char *)node(self, item) + MACHIO_PF_DEVICE_OPENCNT);
}

TEST_F(dev, opens_nest_and_the_last_close_deletes_the_item)
{
	__s32 d = open_device(self->fd, self->bfd);

	ASSERT_LT(0, d);
	EXPECT_EQ(d, node(self, d)->n_Item);
	EXPECT_EQ(MACHIO_PF_DEVICENODE, node(self, d)->n_Type);
	EXPECT_EQ(0, node(self, d)->n_Owner);		/* the kernel's */
	EXPECT_EQ(MACHIO_PF_DEVICE_SIZE, node(self, d)->n_Size);
	EXPECT_EQ(1, open_count(self, d));
	EXPECT_EQ(d, open_device(self->fd, self->bfd));	/* the same item */
	EXPECT_EQ(2, open_count(self, d));
	EXPECT_EQ(0, close_item(self->fd, d));
	EXPECT_EQ(1, open_count(self, d));
	EXPECT_EQ(d, node(self, d)->n_Item);
	EXPECT_EQ(0, close_item(self->fd, d));
	EXPECT_EQ(0, node(self, d)->n_Item);		/* deleted */
	EXPECT_EQ(MACHIO_PF_BADITEM, close_item(self->fd, d));
	/* Opened again: a new item. */
	EXPECT_NE(d, open_device(self->fd, self->bfd));
}

struct peer {
	int fd, bfd;
	__s32 item;
	__s32 close_result;
};

/* Closes what it did not open, opens it, and exits saying so. */
static void *peer_opens(void *arg)
{
	struct peer *p = arg;
	struct machio_pf_task_info t = { .flags = MACHIO_PF_TASK_EXIT };

	p->close_result = close_item(p->fd, p->item);
	p->item = open_device(p->fd, p->bfd);
	machio_ioctl(p->fd, MACHIO_IOC_PF_TASK, &t);
	return NULL;
}

TEST_F(dev, opens_are_each_tasks_own_and_end_with_it)
{
	__s32 d = open_device(self->fd, self->bfd);
	struct peer p = { .fd = self->fd, .bfd = self->bfd, .item = d };
	pthread_t th;

	ASSERT_LT(0, d);
	ASSERT_EQ(0, pthread_create(&th, NULL, peer_opens, &p));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(MACHIO_PF_ITEMNOTOPEN, p.close_result);
	EXPECT_EQ(d, p.item);				/* one item for all */
	EXPECT_EQ(1, open_count(self, d));		/* the peer's open ended with it */
	EXPECT_EQ(0, close_item(self->fd, d));
	EXPECT_EQ(0, node(self, d)->n_Item);
}

TEST_F(dev, bad_descriptors_and_items)
{
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct machio_pf_call a = { .arg = self->bfd };
	struct machio_pf_task_info t = {};

	ASSERT_LE(0, nullfd);
	EXPECT_EQ(MACHIO_PF_NOTFOUND, open_device(self->fd, nullfd));	/* not a block device */
	EXPECT_EQ(MACHIO_PF_NOTFOUND, open_device(self->fd, -1));
	EXPECT_EQ(MACHIO_PF_NOTFOUND, open_device(self->fd, 9999));
	close(nullfd);
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PF_TASK, &t));
	EXPECT_EQ(MACHIO_PF_ITEMNOTOPEN, close_item(self->fd, t.result));	/* a task: not open */
	EXPECT_EQ(MACHIO_PF_BADITEM, close_item(self->fd, 0x12345));
	EXPECT_EQ(MACHIO_PF_BADITEM, close_item(self->fd, 0));
	a.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_OPEN_DEVICE, &a));
	a.reserved[0] = 0;
	a.result = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_OPEN_DEVICE, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->fd, MACHIO_IOC_PF_OPEN_DEVICE, (void *)8));
}

/* CloseItem's argument: reserved and output fields must be zero. */
TEST_F(dev, bad_close_arguments_close_nothing)
{
	__s32 d = open_device(self->fd, self->bfd);
	struct machio_pf_call c = { .arg = d };

	ASSERT_LT(0, d);
	c.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_CLOSE_ITEM, &c));
	c.reserved[1] = 0;
	c.result = -1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_CLOSE_ITEM, &c));
	EXPECT_EQ(-EFAULT, machio_ioctl(self->fd, MACHIO_IOC_PF_CLOSE_ITEM, (void *)8));
	EXPECT_EQ(1, open_count(self, d));		/* still open */
	EXPECT_EQ(0, close_item(self->fd, d));
}

/*
 * Another process of this user opens the same item; closing its space
 * closes its opens.  A process of another user gets an item of its own
 * world for the same disk.
 */
TEST_F(dev, between_processes_and_users)
{
	__s32 d = open_device(self->fd, self->bfd);
	int status, uid;
	pid_t pid;

	ASSERT_LT(0, d);
	for (uid = 0; uid < 2; uid++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			__s32 got;
			int fd;

			if (uid && (setgid(65534) || setuid(65534)))
				_exit(10);
			fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				_exit(11);
			got = open_device(fd, self->bfd);
			if (uid ? got == d || got <= 0 : got != d)
				_exit(12);
			if (!uid && open_count(self, d) != 2)
				_exit(13);
			_exit(0);	/* its space's close closes its open */
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("uid %s", uid ? "65534" : "same");
		EXPECT_EQ(1, open_count(self, d));
	}
	EXPECT_EQ(0, close_item(self->fd, d));
}

MACHIO_TEST_MAIN
