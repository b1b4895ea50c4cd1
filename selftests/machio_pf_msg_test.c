// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio message ports and messages (MACHIO_IOC_PF_CREATE_ITEM of
 * MSGPORTNODE and MESSAGENODE, _SEND_MSG, _REPLY_MSG, _GET_MSG,
 * _GET_THIS_MSG, _WAIT_PORT, _FIND_ITEM): Opera's SENT / REPLIED state
 * machine and its errors, priority order on a port, ports found by name
 * and used between processes of one user (and by no other user), the
 * ends of ports, messages and tasks, and IOReqs completed by message.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define BADITEM		MACHIO_PF_BADITEM
#define NODE(t)		((MACHIO_PF_KERNELNODE << 8) | (t))
#define PORT_TYPE	NODE(MACHIO_PF_MSGPORTNODE)
#define MSG_TYPE	NODE(MACHIO_PF_MESSAGENODE)
#define SENT		MACHIO_PF_MESSAGE_SENT
#define REPLIED		MACHIO_PF_MESSAGE_REPLIED
#define SMALL		MACHIO_PF_MESSAGE_SMALL

static __s32 pf_call(int fd, unsigned long cmd, __s32 arg)
{
	struct machio_pf_call a = { .arg = arg };
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

static __s32 item_tags(int fd, unsigned long cmd, __s32 type, const struct machio_pf_tag *tags)
{
	struct machio_pf_create a = { .type = type, .tags = (__u64)(uintptr_t)tags };
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

static __s32 msg_call(int fd, unsigned long cmd, __s32 port, __s32 msg, __s32 code,
		      __u64 data, __s32 size)
{
	struct machio_pf_msg_call a = {
		.port = port, .msg = msg, .code = code, .data = data, .size = size,
	};
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

#define CREATE(fd, type, tags)	item_tags(fd, MACHIO_IOC_PF_CREATE_ITEM, type, tags)
#define FIND(fd, type, tags)	item_tags(fd, MACHIO_IOC_PF_FIND_ITEM, type, tags)
#define DELETE(fd, i)		pf_call(fd, MACHIO_IOC_PF_DELETE_ITEM, i)
#define GET_MSG(fd, p)		pf_call(fd, MACHIO_IOC_PF_GET_MSG, p)
#define GET_THIS(fd, m)		pf_call(fd, MACHIO_IOC_PF_GET_THIS_MSG, m)
#define SEND(fd, p, m, d, s)	msg_call(fd, MACHIO_IOC_PF_SEND_MSG, p, m, 0, d, s)
#define REPLY(fd, m, r, d, s)	msg_call(fd, MACHIO_IOC_PF_REPLY_MSG, 0, m, r, d, s)
#define WAIT_PORT(fd, p, m)	msg_call(fd, MACHIO_IOC_PF_WAIT_PORT, p, m, 0, 0, 0)

/* CreateMsgPort(name, pri, signal), or CreateUniqueMsgPort. */
static __s32 create_port(int fd, const char *name, __u8 pri, __u32 signal, bool unique)
{
	struct machio_pf_tag tags[5] = { { MACHIO_PF_TAG_ITEM_PRI, 0, pri } };
	int n = 1;

	if (name)
		tags[n++] = (struct machio_pf_tag){ MACHIO_PF_TAG_ITEM_NAME, 0,
						    (__u64)(uintptr_t)name };
	if (unique)
		tags[n++] = (struct machio_pf_tag){ MACHIO_PF_TAG_ITEM_UNIQUE_NAME, 0, 0 };
	tags[n++] = (struct machio_pf_tag){ MACHIO_PF_CREATEPORT_TAG_SIGNAL, 0, signal };
	return CREATE(fd, PORT_TYPE, tags);
}

/* CreateMsg / CreateSmallMsg(NULL, pri, mp). */
static __s32 create_msg(int fd, __u8 pri, __s32 mp, bool small)
{
	struct machio_pf_tag tags[] = {
		{ MACHIO_PF_TAG_ITEM_PRI, 0, pri },
		{ MACHIO_PF_CREATEMSG_TAG_REPLYPORT, 0, (__u64)mp },
		{ small ? MACHIO_PF_CREATEMSG_TAG_MSG_IS_SMALL : MACHIO_PF_TAG_NOP, 0, 0 },
		{ 0 },
	};

	return CREATE(fd, MSG_TYPE, tags);
}

static __s32 find_named(int fd, __s32 type, const char *name)
{
	struct machio_pf_tag tags[] = {
		{ MACHIO_PF_TAG_ITEM_NAME, 0, (__u64)(uintptr_t)name }, { 0 },
	};

	return FIND(fd, type, tags);
}

static __s32 sig_call(int fd, unsigned long cmd, __u32 mask)
{
	struct machio_pf_signal a = { .mask = mask };
	int ret = machio_ioctl(fd, cmd, &a);

	return ret ? ret : a.result;
}

static __s32 task_item(int fd)
{
	struct machio_pf_task_info a = {};

	return machio_ioctl(fd, MACHIO_IOC_PF_TASK, &a) ? -1 : a.result;
}

static const void *slot(const void *view, __s32 item)
{
	return (const char *)view + (size_t)(item & (MACHIO_PF_MAX_ITEMS - 1)) * MACHIO_PF_VIEW_SLOT;
}

static const struct machio_pf_msg_view *msg_view(const void *view, __s32 msg)
{
	return slot(view, msg);
}

static const struct machio_pf_port_view *port_view(const void *view, __s32 port)
{
	return slot(view, port);
}

static void in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (!pthread_create(&t, NULL, fn, arg))
		pthread_join(t, NULL);
}

FIXTURE(msg) {
	int fd;
	void *view;
};

FIXTURE_SETUP(msg)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_LT(0, task_item(self->fd));
	self->view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
}

FIXTURE_TEARDOWN(msg)
{
	munmap(self->view, MACHIO_PF_VIEW_SIZE);
	close(self->fd);
}

TEST_F(msg, ports_take_a_signal_of_their_owner)
{
	struct machio_pf_tag data[] = {
		{ MACHIO_PF_CREATEPORT_TAG_USERDATA, 0, 0x1234 }, { 0 },
	};
	__s32 p, q, own;
	int i;

	p = create_port(self->fd, "sig", 3, 0, false);
	ASSERT_LT(0, p);
	EXPECT_EQ(MACHIO_PF_MSGPORTNODE, port_view(self->view, p)->mp.n_Type);
	EXPECT_EQ(3, port_view(self->view, p)->mp.n_Priority);
	EXPECT_EQ(0x100, port_view(self->view, p)->mp_Signal);	/* the first free */
	EXPECT_EQ(MACHIO_PF_MSGPORT_SIGNAL_ALLOCATED, port_view(self->view, p)->mp.n_Flags);
	EXPECT_EQ(sizeof(struct machio_pf_port_view), port_view(self->view, p)->mp.n_Size);
	EXPECT_EQ(task_item(self->fd), port_view(self->view, p)->mp.n_Owner);
	EXPECT_EQ(0, DELETE(self->fd, p));
	/* Its signal went with it. */
	EXPECT_EQ(0x100, sig_call(self->fd, MACHIO_IOC_PF_ALLOC_SIGNAL, 0x100));

	/* A signal of the task's own: kept at the port's end. */
	q = create_port(self->fd, NULL, 0, 0x100, false);
	ASSERT_LT(0, q);
	EXPECT_EQ(0, port_view(self->view, q)->mp.n_Flags);
	EXPECT_EQ(0, DELETE(self->fd, q));
	EXPECT_EQ(0, sig_call(self->fd, MACHIO_IOC_PF_ALLOC_SIGNAL, 0x100));	/* still taken */

	EXPECT_EQ(MACHIO_PF_ILLEGALSIGNAL, create_port(self->fd, NULL, 0, 0x80000000, false));
	EXPECT_EQ(MACHIO_PF_BADPRIV, create_port(self->fd, NULL, 0, MACHIO_PF_SIGF_IODONE, false));
	EXPECT_EQ(MACHIO_PF_ILLEGALSIGNAL, create_port(self->fd, NULL, 0, 0x200, false));
	own = CREATE(self->fd, PORT_TYPE, data);
	ASSERT_LT(0, own);
	EXPECT_EQ(0x1234, port_view(self->view, own)->mp_UserData);
	/* Every signal taken: ER_Kr_NoSigs. */
	for (i = 0; i < 22; i++)
		sig_call(self->fd, MACHIO_IOC_PF_ALLOC_SIGNAL, 0);
	EXPECT_EQ(MACHIO_PF_NOSIGS, create_port(self->fd, NULL, 0, 0, false));
	data[0].tag = 12;
	EXPECT_EQ(MACHIO_PF_BADTAG, CREATE(self->fd, PORT_TYPE, data));
}

TEST_F(msg, send_get_reply_and_back)
{
	__s32 me = task_item(self->fd);
	__s32 server = create_port(self->fd, NULL, 0, 0, false);
	__s32 reply = create_port(self->fd, NULL, 0, 0, false);
	__s32 m = create_msg(self->fd, 20, reply, false);
	const struct machio_pf_msg_view *v = msg_view(self->view, m);
	char data[16] = "hello";

	ASSERT_LT(0, m);
	EXPECT_EQ(MACHIO_PF_MESSAGENODE, v->msg.n_Type);
	EXPECT_EQ(20, v->msg.n_Priority);
	EXPECT_EQ(reply, v->msg_ReplyPort);
	EXPECT_EQ(me, v->msg_MsgPort);			/* its creator holds it */
	EXPECT_EQ(0, v->msg.n_Flags);

	EXPECT_EQ(0, SEND(self->fd, server, m, (__u64)(uintptr_t)data, 16));
	EXPECT_EQ(SENT, v->msg.n_Flags);
	EXPECT_EQ(server, v->msg_MsgPort);
	EXPECT_EQ((__u64)(uintptr_t)data, v->msg_DataPtr);
	EXPECT_EQ(16, v->msg_DataSize);
	/* On a port, it is the port's: its creator no longer holds it. */
	EXPECT_EQ(MACHIO_PF_NOTOWNER, SEND(self->fd, server, m, 0, 0));
	EXPECT_EQ(m, GET_THIS(self->fd, m));
	/* GetThisMsg took it: it is held, so it can go again. */
	EXPECT_EQ(0, v->msg.n_Flags);
	EXPECT_EQ(-1, GET_THIS(self->fd, m));		/* on no port */
	EXPECT_EQ(0, SEND(self->fd, server, m, 0, 0));

	EXPECT_EQ(m, GET_MSG(self->fd, server));
	EXPECT_EQ(0, GET_MSG(self->fd, server));	/* empty */
	EXPECT_EQ(me, v->msg_MsgPort);
	EXPECT_EQ(0, REPLY(self->fd, m, 42, 7, 3));
	EXPECT_EQ(SENT | REPLIED, v->msg.n_Flags);
	EXPECT_EQ(reply, v->msg_MsgPort);
	EXPECT_EQ(42, v->msg_Result);
	EXPECT_EQ(MACHIO_PF_BADPRIV, REPLY(self->fd, m, 1, 0, 0));
	EXPECT_EQ(m, WAIT_PORT(self->fd, reply, 0));
	EXPECT_EQ(0, v->msg.n_Flags);
	/* SendMsg clears msg_Result. */
	EXPECT_EQ(0, SEND(self->fd, server, m, 0, 0));
	EXPECT_EQ(0, v->msg_Result);
	EXPECT_EQ(m, WAIT_PORT(self->fd, server, m));
}

struct peer {
	int fd;
	__s32 port, msg, got, got2, got3;
};

static void *peer_makes_a_port(void *p)
{
	struct peer *a = p;

	a->port = create_port(a->fd, NULL, 0, 0, false);
	return NULL;
}

static void *peer_uses_anothers(void *p)
{
	struct peer *a = p;

	a->got = SEND(a->fd, a->port, a->msg, 0, 0);
	a->got2 = GET_MSG(a->fd, a->port);
	a->got3 = REPLY(a->fd, a->msg, 0, 0, 0);
	return NULL;
}

TEST_F(msg, errors_in_opera_order)
{
	struct machio_pf_tag sized[] = {
		{ MACHIO_PF_CREATEMSG_TAG_REPLYPORT, 0, 0 },
		{ MACHIO_PF_CREATEMSG_TAG_DATA_SIZE, 0, 64 }, { 0 },
	};
	__s32 port = create_port(self->fd, NULL, 0, 0, false);
	__s32 m = create_msg(self->fd, 0, port, false);
	__s32 s = create_msg(self->fd, 0, port, true);
	struct peer other = { .fd = self->fd };
	struct machio_pf_msg_call a = { .port = port, .msg = m };

	ASSERT_LT(0, m);
	ASSERT_LT(0, s);
	EXPECT_EQ(SMALL, msg_view(self->view, s)->msg.n_Flags);
	EXPECT_EQ(MACHIO_PF_REPLYPORTNEEDED, create_msg(self->fd, 0, 0, false));
	EXPECT_EQ(BADITEM, create_msg(self->fd, 0, m, false));		/* not a port */
	/* Another task's port (its thread gone, its task not yet reaped). */
	in_thread(peer_makes_a_port, &other);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, create_msg(self->fd, 0, other.port, false));
	sized[0].arg = port;
	EXPECT_EQ(MACHIO_PF_NOSUPPORT, CREATE(self->fd, MSG_TYPE, sized));	/* buffered */
	sized[1].arg = (__u64)-1;
	EXPECT_EQ(MACHIO_PF_BADTAGVAL, CREATE(self->fd, MSG_TYPE, sized));

	/* SendMsg: BADITEM, then BADPTR for a standard message's data. */
	EXPECT_EQ(BADITEM, SEND(self->fd, m, m, 0, 0));
	EXPECT_EQ(BADITEM, SEND(self->fd, port, port, 0, 0));
	EXPECT_EQ(MACHIO_PF_BADPTR, SEND(self->fd, port, m, 0xffff800000000000ULL, 8));
	EXPECT_EQ(MACHIO_PF_BADPTR, SEND(self->fd, port, m, 0, -1));
	EXPECT_EQ(0, SEND(self->fd, port, s, 0xffff800000000000ULL, -1));	/* two values */
	EXPECT_EQ(s, GET_MSG(self->fd, port));
	EXPECT_EQ(0xffff800000000000ULL, msg_view(self->view, s)->msg_DataPtr);
	EXPECT_EQ(-1, msg_view(self->view, s)->msg_DataSize);

	/* Another task: not the holder, not the port's owner. */
	other.port = port;
	other.msg = m;
	in_thread(peer_uses_anothers, &other);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, other.got);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, other.got2);
	EXPECT_EQ(MACHIO_PF_BADPRIV, other.got3);

	EXPECT_EQ(BADITEM, GET_MSG(self->fd, m));
	EXPECT_EQ(BADITEM, GET_THIS(self->fd, port));
	EXPECT_EQ(BADITEM, WAIT_PORT(self->fd, m, 0));
	EXPECT_EQ(BADITEM, WAIT_PORT(self->fd, port, port));
	a.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_SEND_MSG, &a));
	a.pad = 0;
	a.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_REPLY_MSG, &a));
}

TEST_F(msg, a_port_queues_by_priority_fifo_among_equals)
{
	static const __u8 prio[] = { 10, 200, 50, 200, 10, 0 };
	static const int order[] = { 1, 3, 2, 0, 4, 5 };
	__s32 port = create_port(self->fd, NULL, 0, 0, false);
	__s32 m[6];
	int i;

	for (i = 0; i < 6; i++) {
		m[i] = create_msg(self->fd, prio[i], port, true);
		ASSERT_LT(0, m[i]);
		ASSERT_EQ(0, SEND(self->fd, port, m[i], i, 0));
	}
	for (i = 0; i < 6; i++)
		EXPECT_EQ(m[order[i]], GET_MSG(self->fd, port));
	EXPECT_EQ(0, GET_MSG(self->fd, port));
}

struct waiter {
	int fd;
	__s32 port, msg, got;
	int ready;		/* its port exists */
	double waited;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *wait_on_own_port(void *p)
{
	struct waiter *w = p;
	double t0;

	w->port = create_port(w->fd, NULL, 0, 0, false);
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	t0 = now_ms();
	w->got = WAIT_PORT(w->fd, w->port, w->msg);
	w->waited = now_ms() - t0;
	return NULL;
}

TEST_F(msg, wait_port_sleeps_until_the_message_comes)
{
	__s32 reply = create_port(self->fd, NULL, 0, 0, false);
	__s32 other = create_msg(self->fd, 0, reply, true);
	__s32 m = create_msg(self->fd, 0, reply, true);
	struct waiter w = { .fd = self->fd, .msg = m };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, wait_on_own_port, &w));
	while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(100 * 1000);
	/* Another message first: the waiter waits on for its own. */
	EXPECT_EQ(0, SEND(self->fd, w.port, other, 1, 1));
	usleep(100 * 1000);
	EXPECT_EQ(0, SEND(self->fd, w.port, m, 2, 2));
	pthread_join(t, NULL);
	EXPECT_EQ(m, w.got);
	EXPECT_LE(150, w.waited);
	/* The other one is still queued there. */
	EXPECT_EQ(SENT, msg_view(self->view, other)->msg.n_Flags & (SENT | REPLIED));
	EXPECT_EQ(w.port, msg_view(self->view, other)->msg_MsgPort);
}

TEST_F(msg, deleting_a_message_ends_a_wait_for_it)
{
	__s32 reply = create_port(self->fd, NULL, 0, 0, false);
	__s32 m = create_msg(self->fd, 0, reply, true);
	struct waiter w = { .fd = self->fd, .msg = m };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, wait_on_own_port, &w));
	while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(100 * 1000);
	EXPECT_EQ(0, DELETE(self->fd, m));
	pthread_join(t, NULL);
	EXPECT_EQ(BADITEM, w.got);
}

TEST_F(msg, deleting_a_port_sends_its_messages_back)
{
	__s32 server = create_port(self->fd, NULL, 0, 0, false);
	__s32 reply = create_port(self->fd, NULL, 0, 0, false);
	__s32 sent = create_msg(self->fd, 0, reply, true);
	__s32 replied = create_msg(self->fd, 0, server, true);
	__s32 me = task_item(self->fd);

	ASSERT_EQ(0, SEND(self->fd, server, sent, 1, 2));
	ASSERT_EQ(0, SEND(self->fd, reply, replied, 3, 4));
	ASSERT_EQ(replied, GET_MSG(self->fd, reply));
	ASSERT_EQ(0, REPLY(self->fd, replied, 5, 0, 0));	/* back on server */
	EXPECT_EQ(0, DELETE(self->fd, server));
	/* The sent one: replied with BADITEM. */
	EXPECT_EQ(SENT | REPLIED | SMALL, msg_view(self->view, sent)->msg.n_Flags);
	EXPECT_EQ(BADITEM, msg_view(self->view, sent)->msg_Result);
	EXPECT_EQ(sent, GET_MSG(self->fd, reply));
	/* The replied one: back to its owner, whose reply port is gone. */
	EXPECT_EQ(SMALL, msg_view(self->view, replied)->msg.n_Flags);
	EXPECT_EQ(me, msg_view(self->view, replied)->msg_MsgPort);
	EXPECT_EQ(0, SEND(self->fd, reply, replied, 0, 0));
	EXPECT_EQ(replied, GET_MSG(self->fd, reply));
	EXPECT_EQ(MACHIO_PF_NOREPLYPORT, REPLY(self->fd, replied, 0, 0, 0));
}

TEST_F(msg, unique_names_and_find)
{
	__s32 low = create_port(self->fd, "Svc", 5, 0, false);
	__s32 high = create_port(self->fd, "svc", 9, 0, false);
	__s32 again = create_port(self->fd, "SVC", 9, 0, false);
	__s32 u, m;

	ASSERT_LT(0, low);
	ASSERT_LT(0, again);
	EXPECT_EQ(high, find_named(self->fd, PORT_TYPE, "sVc"));	/* highest, oldest */
	EXPECT_EQ(0, DELETE(self->fd, high));
	EXPECT_EQ(again, find_named(self->fd, PORT_TYPE, "svc"));
	EXPECT_EQ(MACHIO_PF_NOTFOUND, find_named(self->fd, PORT_TYPE, "none"));
	EXPECT_EQ(MACHIO_PF_NOTFOUND, FIND(self->fd, PORT_TYPE, NULL));
	EXPECT_EQ(MACHIO_PF_BADSUBTYPE, find_named(self->fd, MSG_TYPE, "svc"));
	EXPECT_EQ(MACHIO_PF_BADSUBTYPE, find_named(self->fd, NODE(MACHIO_PF_IOREQNODE), "x"));
	EXPECT_EQ(MACHIO_PF_BADTYPE, find_named(self->fd, (3 << 8) | 10, "svc"));

	EXPECT_EQ(MACHIO_PF_UNIQUEITEMEXISTS, create_port(self->fd, "SVC", 0, 0, true));
	u = create_port(self->fd, "only", 0, 0, true);
	ASSERT_LT(0, u);
	EXPECT_EQ(MACHIO_PF_UNIQUEITEMEXISTS, create_port(self->fd, "ONLY", 0, 0, false));
	EXPECT_EQ(MACHIO_PF_BADNAME, create_port(self->fd, NULL, 0, 0, true));
	EXPECT_EQ(0, DELETE(self->fd, u));
	u = create_port(self->fd, "only", 0, 0, false);
	EXPECT_LT(0, u);
	/* Messages are not found, nor made unique (Opera could not find them). */
	m = create_msg(self->fd, 0, u, false);
	EXPECT_LT(0, m);
}

static __s32 item_name(int fd, __s32 item, char *buf, __u32 size)
{
	struct machio_pf_item_name a = { .item = item, .name = (__u64)(uintptr_t)buf, .size = size };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_ITEM_NAME, &a);

	return ret ? ret : a.result;
}

TEST_F(msg, item_names_come_back_from_the_module)
{
	__s32 named = create_port(self->fd, "NamedPort", 0, 0, false);
	__s32 anon = create_port(self->fd, NULL, 0, 0, false);
	struct machio_pf_item_name a = { .item = named, .pad = 1 };
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(9, item_name(self->fd, named, buf, sizeof(buf)));
	EXPECT_STREQ("NamedPort", buf);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(9, item_name(self->fd, named, buf, 4));	/* truncated */
	EXPECT_STREQ("Nam", buf);
	EXPECT_EQ('x', buf[4]);
	EXPECT_EQ(9, item_name(self->fd, named, NULL, 0));	/* just the length */
	EXPECT_EQ(0, item_name(self->fd, anon, buf, sizeof(buf)));
	EXPECT_STREQ("", buf);
	EXPECT_EQ(BADITEM, item_name(self->fd, named + 0x10000, buf, sizeof(buf)));
	EXPECT_EQ(-EFAULT, item_name(self->fd, named, (char *)8, 16));
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PF_ITEM_NAME, &a));
}

/*
 * Between processes of one user: the child finds the parent's port by
 * name, sends it a small message and gets the reply; a process of
 * another user finds nothing and reaches nothing.
 */
TEST_F(msg, processes_of_one_user_talk_others_cannot)
{
	__s32 server = create_port(self->fd, "machio-test-server", 0, 0, false);
	int status;
	__s32 m;
	pid_t pid;

	ASSERT_LT(0, server);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		__s32 port = find_named(fd, PORT_TYPE, "MACHIO-TEST-SERVER");
		__s32 reply = create_port(fd, NULL, 0, 0, false);
		__s32 msg = create_msg(fd, 0, reply, true);
		void *view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, fd, 0);

		if (port != server)
			_exit(10);
		if (SEND(fd, port, msg, 11, 22))
			_exit(11);
		if (WAIT_PORT(fd, reply, msg) != msg)
			_exit(12);
		if (msg_view(view, msg)->msg_Result != 33 || msg_view(view, msg)->msg_DataPtr != 44)
			_exit(13);
		_exit(0);
	}
	m = WAIT_PORT(self->fd, server, 0);
	ASSERT_LT(0, m);
	EXPECT_EQ(11, msg_view(self->view, m)->msg_DataPtr);
	EXPECT_EQ(22, msg_view(self->view, m)->msg_DataSize);
	EXPECT_EQ(0, msg_call(self->fd, MACHIO_IOC_PF_REPLY_MSG, 0, m, 33, 44, 55));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* uid 65534: another world, where the port does not exist. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;
		__s32 reply, msg;

		if (setgid(65534) || setuid(65534))
			_exit(20);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (find_named(fd, PORT_TYPE, "machio-test-server") != MACHIO_PF_NOTFOUND)
			_exit(21);
		reply = create_port(fd, NULL, 0, 0, false);
		msg = create_msg(fd, 0, reply, true);
		if (msg <= 0)
			_exit(22);
		if (SEND(fd, server, msg, 0, 0) != BADITEM)
			_exit(23);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, GET_MSG(self->fd, server));
}

/* A task that ends holding another's message sends it back: KILLED. */
TEST_F(msg, a_message_held_by_an_ending_task_comes_back_killed)
{
	__s32 reply = create_port(self->fd, NULL, 0, 0, false);
	__s32 m = create_msg(self->fd, 0, reply, true);
	int status;
	pid_t pid;

	/* The server: its own port, named; it takes the message and exits. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		__s32 port = create_port(fd, "machio-test-dies", 0, 0, false);

		if (port <= 0)
			_exit(10);
		if (WAIT_PORT(fd, port, 0) <= 0)
			_exit(11);
		_exit(0);	/* without replying */
	}
	for (;;) {
		__s32 port = find_named(self->fd, PORT_TYPE, "machio-test-dies");

		if (port > 0) {
			ASSERT_EQ(0, SEND(self->fd, port, m, 0, 0));
			break;
		}
		usleep(10 * 1000);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(m, WAIT_PORT(self->fd, reply, m));
	EXPECT_EQ(MACHIO_PF_KILLED, msg_view(self->view, m)->msg_Result);
}

/* --- IOReqs completed by message ------------------------------------ */

FIXTURE(iomsg) {
	struct nullb nb;
	int fd, bfd;
	void *view;
	__s32 dev, reply;
	unsigned char *buf;
};

FIXTURE_SETUP(iomsg)
{
	ASSERT_EQ(0, nullb_create(&self->nb, "pim", NULL));
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->bfd = open(self->nb.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->bfd);
	self->view = mmap(NULL, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
	self->dev = pf_call(self->fd, MACHIO_IOC_PF_OPEN_DEVICE, self->bfd);
	ASSERT_LT(0, self->dev);
	self->reply = create_port(self->fd, NULL, 0, 0, false);
	ASSERT_LT(0, self->reply);
	self->buf = aligned_buf(16 * 4096, 4096);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(iomsg)
{
	munmap(self->view, MACHIO_PF_VIEW_SIZE);
	close(self->fd);
	close(self->bfd);
	free(self->buf);
	nullb_destroy(&self->nb);
}

static __s32 create_ioreq(int fd, __s32 dev, __u8 pri, __s32 mp)
{
	struct machio_pf_tag tags[] = {
		{ MACHIO_PF_TAG_ITEM_PRI, 0, pri },
		{ MACHIO_PF_CREATEIOREQ_TAG_DEVICE, 0, (__u64)dev },
		{ MACHIO_PF_CREATEIOREQ_TAG_REPLYPORT, 0, (__u64)mp },
		{ 0 },
	};

	return CREATE(fd, NODE(MACHIO_PF_IOREQNODE), tags);
}

static __s32 send_read(int fd, __s32 ior, void *buf, __u32 user, __u32 flags)
{
	struct machio_pf_ioinfo info = {
		.ioi_Command = MACHIO_PF_CMD_READ, .ioi_User = user,
		.ioi_Recv = { .iob_Buffer = (__u64)(uintptr_t)buf, .iob_Len = 4096 },
	};
	struct machio_pf_io a = { .ioreq = ior, .flags = flags, .info = (__u64)(uintptr_t)&info };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_SEND_IO, &a);

	return ret ? ret : a.result;
}

/* SendIO of CMD_STATUS with IO_QUICK: done at once. */
static __s32 status_quick(int fd, __s32 ior)
{
	struct machio_pf_device_status ds;
	struct machio_pf_ioinfo info = {
		.ioi_Command = MACHIO_PF_CMD_STATUS, .ioi_Flags = MACHIO_PF_IO_QUICK,
		.ioi_Recv = { .iob_Buffer = (__u64)(uintptr_t)&ds, .iob_Len = sizeof(ds) },
	};
	struct machio_pf_io a = { .ioreq = ior, .info = (__u64)(uintptr_t)&info };
	int ret = machio_ioctl(fd, MACHIO_IOC_PF_SEND_IO, &a);

	return ret ? ret : a.result;
}

static const struct machio_pf_ioreq_view *ioreq_view(const void *view, __s32 ior)
{
	return slot(view, ior);
}

TEST_F(iomsg, completion_replies_the_ioreqs_own_message)
{
	__s32 ior = create_ioreq(self->fd, self->dev, 9, self->reply);
	const struct machio_pf_ioreq_view *v = ioreq_view(self->view, ior);
	const struct machio_pf_msg_view *mv;
	__s32 m, sent;

	ASSERT_LT(0, ior);
	m = v->io_MsgItem;
	ASSERT_LT(0, m);
	mv = msg_view(self->view, m);
	EXPECT_EQ(MACHIO_PF_MESSAGENODE, mv->msg.n_Type);
	EXPECT_EQ(SMALL, mv->msg.n_Flags);
	EXPECT_EQ(9, mv->msg.n_Priority);
	EXPECT_EQ(self->reply, mv->msg_ReplyPort);
	EXPECT_EQ(MACHIO_PF_BADPRIV, DELETE(self->fd, m));	/* the IOReq's */

	sent = send_read(self->fd, ior, self->buf, 0x5150, 0);
	ASSERT_LE(0, sent);
	EXPECT_EQ(m, WAIT_PORT(self->fd, self->reply, 0));
	EXPECT_EQ(0, mv->msg_Result);
	EXPECT_EQ(ior, (__s32)mv->msg_DataPtr);
	EXPECT_EQ(0x5150, mv->msg_DataSize);
	EXPECT_EQ(0, pf_call(self->fd, MACHIO_IOC_PF_WAIT_IO, ior));	/* got already */

	/* WaitIO takes the message off the port itself. */
	ASSERT_LE(0, send_read(self->fd, ior, self->buf, 1, 0));
	EXPECT_EQ(0, pf_call(self->fd, MACHIO_IOC_PF_WAIT_IO, ior));
	EXPECT_EQ(0, GET_MSG(self->fd, self->reply));
	EXPECT_EQ(0, mv->msg.n_Flags & (SENT | REPLIED));

	/* A message still on the port: SendIO refuses (Portfolio 2's rule). */
	ASSERT_LE(0, send_read(self->fd, ior, self->buf, 2, 0));
	while (!(mv->msg.n_Flags & REPLIED))
		usleep(1000);
	EXPECT_EQ(MACHIO_PF_MSGSENT, send_read(self->fd, ior, self->buf, 3, 0));
	EXPECT_EQ(m, GET_MSG(self->fd, self->reply));
	/* Quick and done at once (CMD_STATUS): no message. */
	EXPECT_EQ(1, status_quick(self->fd, ior));
	EXPECT_EQ(0, GET_MSG(self->fd, self->reply));

	/* The IOReq's end takes its message. */
	EXPECT_EQ(0, DELETE(self->fd, ior));
	EXPECT_EQ(0, mv->msg.n_Item);
}

TEST_F(iomsg, completions_wait_on_the_port_by_ioreq_priority)
{
	static const __u8 prio[] = { 10, 200, 50, 200 };
	static const int order[] = { 1, 3, 2, 0 };
	__s32 ior[4], m;
	int i, done;

	for (i = 0; i < 4; i++) {
		ior[i] = create_ioreq(self->fd, self->dev, prio[i], self->reply);
		ASSERT_LT(0, ior[i]);
	}
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, send_read(self->fd, ior[i], self->buf + i * 4096, i, 0));
	do {
		for (done = 0, i = 0; i < 4; i++)
			done += !!(ioreq_view(self->view, ior[i])->io_Flags & MACHIO_PF_IO_DONE);
		usleep(1000);
	} while (done < 4);
	/* Completion order was arrival order; the port orders by priority. */
	for (i = 0; i < 4; i++) {
		m = GET_MSG(self->fd, self->reply);
		ASSERT_LT(0, m);
		EXPECT_EQ(ior[order[i]], (__s32)msg_view(self->view, m)->msg_DataPtr);
	}
}

TEST_F(iomsg, create_ioreq_checks_its_reply_port)
{
	struct peer other = { .fd = self->fd };

	EXPECT_EQ(BADITEM, create_ioreq(self->fd, self->dev, 0, self->dev));	/* no port */
	EXPECT_EQ(BADITEM, create_ioreq(self->fd, self->dev, 0, self->reply + 0x10000));
	in_thread(peer_makes_a_port, &other);
	EXPECT_EQ(MACHIO_PF_NOTOWNER, create_ioreq(self->fd, self->dev, 0, other.port));
	EXPECT_EQ(MACHIO_PF_NOTFOUND, find_named(self->fd, NODE(MACHIO_PF_DEVICENODE), "nosuch"));
	EXPECT_EQ(self->dev, find_named(self->fd, NODE(MACHIO_PF_DEVICENODE),
					self->nb.dev + strlen("/dev/")));
}

MACHIO_TEST_MAIN
