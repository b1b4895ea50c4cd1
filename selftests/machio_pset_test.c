// SPDX-License-Identifier: GPL-2.0
/*
 * Port sets: mach_port_move_member and mach_port_get_set_status with
 * every error; a receive from a set takes its members' messages in the
 * order they came, a port joining brings its queue; a member cannot be
 * received from directly; a set destroyed, a member destroyed or moved
 * away; waiting receivers woken.
 */
#include "kselftest_harness.h"
#include "machio_mach_test.h"

#include <pthread.h>

static int move_member(int fd, __u32 member, __u32 after)
{
	struct machio_port_move_member a = { .member = member, .after = after };

	return machio_ioctl(fd, MACHIO_IOC_PORT_MOVE_MEMBER, &a) ?: a.kr;
}

/* The members of @set into @names (room for 8): their number, or -kr / -errno. */
static int members(int fd, __u32 set, __u32 *names)
{
	struct machio_port_set_status a = {
		.name = set, .count = 8, .members = (__u64)(uintptr_t)names,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_PORT_SET_STATUS, &a);

	return ret ?: a.kr ? -a.kr : (int)a.count;
}

/* A message with id @id to @port, made from its receive right. */
static int send_id(int fd, __u32 port, int id)
{
	struct machio_msg_header h = {
		.msgh_bits = MSGT(MAKE_SEND), .msgh_size = HDR, .msgh_remote_port = port,
		.msgh_id = id,
	};

	return mach_msg(fd, &h, MACHIO_SEND_MSG, HDR, 0, 0, 0);
}

FIXTURE(pset) {
	int fd;
	__u32 set, a, b;
};

FIXTURE_SETUP(pset)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->set = allocate(self->fd, R(PORT_SET));
	self->a = allocate(self->fd, R(RECEIVE));
	self->b = allocate(self->fd, R(RECEIVE));
	ASSERT_NE(0, self->set);
	ASSERT_NE(0, self->a);
	ASSERT_NE(0, self->b);
}

FIXTURE_TEARDOWN(pset)
{
	close(self->fd);
}

TEST_F(pset, a_set_receives_its_members_messages_in_the_order_they_came)
{
	struct machio_msg_header h;
	__u32 want_port[3] = { self->a, self->b, self->a };
	__u32 want_seq[3] = { 0, 0, 1 };
	int i;

	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->b, self->set));
	EXPECT_EQ(self->set, status(self->fd, self->a, 0));	/* mps_pset */
	ASSERT_EQ(0, send_id(self->fd, self->a, 1));
	ASSERT_EQ(0, send_id(self->fd, self->b, 2));
	ASSERT_EQ(0, send_id(self->fd, self->a, 3));
	EXPECT_EQ(2, status(self->fd, self->a, 4));		/* mps_msgcount: its own */
	/* A member is not received from directly. */
	EXPECT_EQ(MACHIO_RCV_IN_SET, mach_msg(self->fd, &h, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT, 0,
					      HDR, self->a, 0));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_RCV_MSG, 0, HDR, self->set, 0));
		EXPECT_EQ(i + 1, h.msgh_id);
		EXPECT_EQ(want_port[i], h.msgh_local_port);
		EXPECT_EQ(want_seq[i], h.msgh_seqno);
	}
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &h, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, HDR, self->set, 0));
	EXPECT_EQ(0, status(self->fd, self->a, 4));
	/* Out again: received from directly. */
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, 0));
	EXPECT_EQ(0, status(self->fd, self->a, 0));
	ASSERT_EQ(0, send_id(self->fd, self->a, 4));
	ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_RCV_MSG, 0, HDR, self->a, 0));
	EXPECT_EQ(4, h.msgh_id);
}

TEST_F(pset, a_joining_port_brings_its_queue_at_the_end)
{
	struct machio_msg_header h;
	int want[3] = { 10, 20, 21 };

	ASSERT_EQ(0, send_id(self->fd, self->a, 20));
	ASSERT_EQ(0, send_id(self->fd, self->a, 21));
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->b, self->set));
	ASSERT_EQ(0, send_id(self->fd, self->b, 10));
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_RCV_MSG, 0, HDR, self->set, 0));
		EXPECT_EQ(want[i], h.msgh_id);
	}
}

TEST_F(pset, move_member_and_get_set_status_errors)
{
	__u32 other = allocate(self->fd, R(PORT_SET)), dead = allocate(self->fd, R(DEAD_NAME));
	struct machio_port_move_member mm = { .member = self->a, .after = self->set, .pad = 1 };
	struct machio_port_set_status st = { .name = self->set, .count = 1 };
	__u32 names[8];

	EXPECT_EQ(K(INVALID_NAME), move_member(self->fd, 0x7777701, self->set));
	EXPECT_EQ(K(INVALID_NAME), move_member(self->fd, MACHIO_PORT_NULL, self->set));
	EXPECT_EQ(K(INVALID_RIGHT), move_member(self->fd, other, self->set));
	EXPECT_EQ(K(INVALID_RIGHT), move_member(self->fd, dead, self->set));
	EXPECT_EQ(K(INVALID_RIGHT), move_member(self->fd, mio_host(self->fd), self->set));
	EXPECT_EQ(K(INVALID_NAME), move_member(self->fd, self->a, 0x7777701));
	EXPECT_EQ(K(INVALID_NAME), move_member(self->fd, self->a, MACHIO_PORT_DEAD));
	EXPECT_EQ(K(INVALID_RIGHT), move_member(self->fd, self->a, self->b));
	EXPECT_EQ(K(NOT_IN_SET), move_member(self->fd, self->a, 0));
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_MOVE_MEMBER, &mm));

	/* In one set at most: joining another leaves the first. */
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));	/* already */
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->b, self->set));
	EXPECT_EQ(2, members(self->fd, self->set, names));
	EXPECT_TRUE((names[0] == self->a && names[1] == self->b) ||
		    (names[0] == self->b && names[1] == self->a));
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, other));
	EXPECT_EQ(1, members(self->fd, self->set, names));
	EXPECT_EQ(self->b, names[0]);
	EXPECT_EQ(1, members(self->fd, other, names));
	EXPECT_EQ(self->a, names[0]);
	EXPECT_EQ(other, status(self->fd, self->a, 0));

	/* get_set_status: too little room says how many, writes nothing. */
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	memset(names, 0xff, sizeof(names));
	st.members = (__u64)(uintptr_t)names;
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_SET_STATUS, &st));
	EXPECT_EQ(K(SUCCESS), st.kr);
	EXPECT_EQ(2, st.count);
	EXPECT_EQ(0xffffffff, names[0]);
	EXPECT_EQ(-K(INVALID_RIGHT), members(self->fd, self->a, names));
	EXPECT_EQ(-K(INVALID_NAME), members(self->fd, 0x7777701, names));
	EXPECT_EQ(0, members(self->fd, other, names));
	st.count = 8;
	st.members = 8;
	EXPECT_EQ(-EFAULT, machio_ioctl(self->fd, MACHIO_IOC_PORT_SET_STATUS, &st));
	st.members = (__u64)(uintptr_t)names;
	st.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_SET_STATUS, &st));
}

struct waiter {
	int fd;
	__u32 name;
	int kr;
	int id;
};

static void *receive_one(void *arg)
{
	struct waiter *w = arg;
	struct machio_msg_header h = {};

	w->kr = mach_msg(w->fd, &h, MACHIO_RCV_MSG, 0, HDR, w->name, 0);
	w->id = h.msgh_id;
	return NULL;
}

TEST_F(pset, waiting_receivers_are_woken)
{
	struct waiter w = { .fd = self->fd, .name = self->set, .kr = -1 };
	pthread_t t;

	/* A message to a member wakes the set's receiver. */
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	ASSERT_EQ(0, pthread_create(&t, NULL, receive_one, &w));
	usleep(100 * 1000);
	ASSERT_EQ(0, send_id(self->fd, self->a, 7));
	pthread_join(t, NULL);
	EXPECT_EQ(0, w.kr);
	EXPECT_EQ(7, w.id);

	/* A port joining a set: its own receiver learns it changed. */
	w.name = self->b;
	w.kr = -1;
	ASSERT_EQ(0, pthread_create(&t, NULL, receive_one, &w));
	usleep(100 * 1000);
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->b, self->set));
	pthread_join(t, NULL);
	EXPECT_EQ(MACHIO_RCV_PORT_CHANGED, w.kr);

	/* The set destroyed: its receiver learns it died; members go on alone. */
	w.name = self->set;
	w.kr = -1;
	ASSERT_EQ(0, pthread_create(&t, NULL, receive_one, &w));
	usleep(100 * 1000);
	ASSERT_EQ(K(SUCCESS), destroy(self->fd, self->set));
	pthread_join(t, NULL);
	EXPECT_EQ(MACHIO_RCV_PORT_DIED, w.kr);
	EXPECT_EQ(0, status(self->fd, self->a, 0));
	ASSERT_EQ(0, send_id(self->fd, self->a, 8));
	w.name = self->a;
	receive_one(&w);
	EXPECT_EQ(0, w.kr);
	EXPECT_EQ(8, w.id);
}

TEST_F(pset, a_member_destroyed_or_moved_away_leaves_its_set)
{
	struct {
		struct machio_msg_header h;
		struct machio_msg_body b;
		struct machio_msg_port_descriptor d;
	} c = {};
	struct machio_msg_header h;
	__u32 names[8], carrier = allocate(self->fd, R(RECEIVE));

	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->b, self->set));
	ASSERT_EQ(0, send_id(self->fd, self->a, 1));
	ASSERT_EQ(0, send_id(self->fd, self->b, 2));
	/* a dies with its message; b's is still the set's. */
	ASSERT_EQ(K(SUCCESS), destroy(self->fd, self->a));
	EXPECT_EQ(1, members(self->fd, self->set, names));
	ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_RCV_MSG, 0, HDR, self->set, 0));
	EXPECT_EQ(2, h.msgh_id);

	/* b's receive right moves away in a message: it leaves the set, its queue with it. */
	ASSERT_EQ(0, send_id(self->fd, self->b, 3));
	c.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(MAKE_SEND);
	c.h.msgh_size = sizeof(c);
	c.h.msgh_remote_port = carrier;
	c.b.msgh_descriptor_count = 1;
	c.d.name = self->b;
	c.d.disposition = MSGT(MOVE_RECEIVE);
	ASSERT_EQ(0, mach_msg(self->fd, &c, MACHIO_SEND_MSG, sizeof(c), 0, 0, 0));
	EXPECT_EQ(0, members(self->fd, self->set, names));
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &h, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, HDR, self->set, 0));
	ASSERT_EQ(0, mach_msg(self->fd, &c, MACHIO_RCV_MSG, 0, sizeof(c), carrier, 0));
	EXPECT_EQ(0, status(self->fd, c.d.name, 0));
	ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_RCV_MSG, 0, HDR, c.d.name, 0));
	EXPECT_EQ(3, h.msgh_id);
}

TEST_F(pset, a_message_too_large_for_the_set_receiver)
{
	struct {
		struct machio_msg_header h;
		char body[64];
	} m = {};

	ASSERT_EQ(K(SUCCESS), move_member(self->fd, self->a, self->set));
	m.h.msgh_bits = MSGT(MAKE_SEND);
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = self->a;
	m.h.msgh_id = 9;
	ASSERT_EQ(0, mach_msg(self->fd, &m, MACHIO_SEND_MSG, sizeof(m), 0, 0, 0));
	/* RCV_LARGE: it stays, and the size it needs comes back. */
	EXPECT_EQ(MACHIO_RCV_TOO_LARGE, mach_msg(self->fd, &m, MACHIO_RCV_MSG | MACHIO_RCV_LARGE, 0,
						 HDR, self->set, 0));
	EXPECT_EQ(sizeof(m), m.h.msgh_size);
	ASSERT_EQ(0, mach_msg(self->fd, &m, MACHIO_RCV_MSG, 0, sizeof(m), self->set, 0));
	EXPECT_EQ(9, m.h.msgh_id);
	EXPECT_EQ(self->a, m.h.msgh_local_port);
}

TEST_HARNESS_MAIN
