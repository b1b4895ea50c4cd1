// SPDX-License-Identifier: GPL-2.0
/*
 * Complex messages: rights carried in port descriptors.  Send rights
 * arrive under their port's one name, send-once rights under new ones,
 * receive rights move (with the messages queued on them); a send that
 * fails takes nothing; a message that would queue a port's receive right
 * on itself is destroyed; null and dead names pass; the receiver's space
 * without room.
 */
#include "kselftest_harness.h"
#include "machio_mach_test.h"

#include <pthread.h>

#define DESC		sizeof(struct machio_msg_port_descriptor)

struct cmsg {
	struct machio_msg_header h;
	struct machio_msg_body b;
	struct machio_msg_port_descriptor d[4];
	unsigned char tail[32];
};

/* A complex message to @dest (MAKE_SEND) carrying @n rights. */
static __u32 cfill(struct cmsg *m, __u32 dest, __u32 n, const __u32 *names, const __u8 *msgts)
{
	memset(m, 0, sizeof(*m));
	m->h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(MAKE_SEND);
	m->h.msgh_size = HDR + 4 + n * DESC + 8;
	m->h.msgh_remote_port = dest;
	m->h.msgh_id = 77;
	m->b.msgh_descriptor_count = n;
	for (__u32 i = 0; i < n; i++) {
		m->d[i].name = names[i];
		m->d[i].disposition = msgts[i];
		m->d[i].type = MACHIO_MSG_PORT_DESCRIPTOR;
	}
	memcpy((char *)&m->d[n], "trailer", 8);
	return m->h.msgh_size;
}

FIXTURE(desc) {
	int fd;
	__u32 port;	/* where the messages go */
	__u32 other;	/* the rights they carry */
};

FIXTURE_SETUP(desc)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->port = allocate(self->fd, R(RECEIVE));
	self->other = allocate(self->fd, R(RECEIVE));
	ASSERT_NE(0, self->port);
	ASSERT_NE(0, self->other);
}

FIXTURE_TEARDOWN(desc)
{
	close(self->fd);
}

TEST_F(desc, send_rights_arrive_under_the_ports_name_send_once_under_new_ones)
{
	__u32 names[3] = { self->other, self->other, self->other };
	__u8 msgts[3] = { MSGT(MAKE_SEND), MSGT(MAKE_SEND_ONCE), MSGT(MAKE_SEND) };
	struct cmsg m, r;
	__u32 size = cfill(&m, self->port, 3, names, msgts);

	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	memset(&r, 0xee, sizeof(r));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(MACHIO_MSGH_BITS_COMPLEX | (MSGT(MOVE_SEND) << 8), r.h.msgh_bits);
	EXPECT_EQ(size, r.h.msgh_size);
	EXPECT_EQ(3, r.b.msgh_descriptor_count);
	EXPECT_EQ(self->other, r.d[0].name);
	EXPECT_EQ(MSGT(MOVE_SEND), r.d[0].disposition);
	EXPECT_EQ(MACHIO_MSG_PORT_DESCRIPTOR, r.d[0].type);
	EXPECT_EQ(0, r.d[0].pad1);
	EXPECT_EQ(0, r.d[0].pad2);
	EXPECT_NE(self->other, r.d[1].name);
	EXPECT_NE(0, r.d[1].name);
	EXPECT_EQ(MSGT(MOVE_SEND_ONCE), r.d[1].disposition);
	EXPECT_EQ(self->other, r.d[2].name);
	EXPECT_EQ(0, memcmp(&r.d[3], "trailer", 8));
	EXPECT_EQ(T(SEND) | T(RECEIVE), TYPE(self->fd, self->other));
	EXPECT_EQ(2, REFS(self->fd, self->other, R(SEND)));
	EXPECT_EQ(T(SEND_ONCE), TYPE(self->fd, r.d[1].name));

	/* Moved and copied back: the counts follow. */
	names[0] = self->other;
	msgts[0] = MSGT(MOVE_SEND);
	names[1] = r.d[1].name;
	msgts[1] = MSGT(MOVE_SEND_ONCE);
	names[2] = self->other;
	msgts[2] = MSGT(COPY_SEND);
	size = cfill(&m, self->port, 3, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(1, REFS(self->fd, self->other, R(SEND)));
	EXPECT_EQ(~0U, TYPE(self->fd, names[1]));	/* moved away */
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(3, REFS(self->fd, self->other, R(SEND)));
	EXPECT_EQ(T(SEND_ONCE), TYPE(self->fd, r.d[1].name));
}

TEST_F(desc, a_moved_receive_right_takes_its_queue_along)
{
	__u32 names[1] = { self->other };
	__u8 msgts[1] = { MSGT(MOVE_RECEIVE) };
	struct cmsg m, r;
	struct machio_msg_header s = {
		.msgh_bits = MSGT(MAKE_SEND), .msgh_size = HDR, .msgh_remote_port = self->other,
		.msgh_id = 5,
	};
	__u32 size, moved;

	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &s, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &s, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	size = cfill(&m, self->port, 1, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* In transit: the name is gone from here. */
	EXPECT_EQ(~0U, TYPE(self->fd, self->other));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	moved = r.d[0].name;
	EXPECT_EQ(MSGT(MOVE_RECEIVE), r.d[0].disposition);
	EXPECT_EQ(T(RECEIVE), TYPE(self->fd, moved));
	EXPECT_EQ(2, status(self->fd, moved, 4));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &s, MACHIO_RCV_MSG, 0, HDR, moved, 0));
	EXPECT_EQ(5, s.msgh_id);
	EXPECT_EQ(moved, s.msgh_local_port);
}

TEST_F(desc, a_receive_right_arriving_where_its_send_right_is_joins_its_name)
{
	__u32 names[1] = { self->other };
	__u8 msgts[1] = { MSGT(MOVE_RECEIVE) };
	struct cmsg m, r;
	__u32 size;

	ASSERT_EQ(0, insert(self->fd, self->other, self->other, MSGT(MAKE_SEND)));
	size = cfill(&m, self->port, 1, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(T(SEND), TYPE(self->fd, self->other));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(self->other, r.d[0].name);
	EXPECT_EQ(T(SEND) | T(RECEIVE), TYPE(self->fd, self->other));
}

TEST_F(desc, a_failed_send_takes_nothing)
{
	__u32 names[2] = { self->other, 0x7777701 };
	__u8 msgts[2] = { MSGT(MOVE_RECEIVE), MSGT(COPY_SEND) };
	struct cmsg m, r;
	__u32 size;

	/* The second right is not there: the first (and the header's) stay. */
	ASSERT_EQ(0, insert(self->fd, self->port, self->port, MSGT(MAKE_SEND)));
	size = cfill(&m, self->port, 2, names, msgts);
	m.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(MOVE_SEND);
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(T(RECEIVE), TYPE(self->fd, self->other));
	EXPECT_EQ(1, REFS(self->fd, self->port, R(SEND)));

	/* One right taken twice: the second sees the first gone. */
	names[1] = self->other;
	msgts[1] = MSGT(MAKE_SEND);
	size = cfill(&m, self->port, 2, names, msgts);
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	msgts[1] = MSGT(MOVE_RECEIVE);
	size = cfill(&m, self->port, 2, names, msgts);
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* The header's MOVE_SEND takes the only reference a body COPY_SEND needs. */
	names[0] = self->port;
	msgts[0] = MSGT(COPY_SEND);
	size = cfill(&m, self->port, 1, names, msgts);
	m.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(MOVE_SEND);
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(1, REFS(self->fd, self->port, R(SEND)));
	/* In the other order it goes: copied first, then moved. */
	m.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(COPY_SEND);
	msgts[0] = MSGT(MOVE_SEND);
	m.d[0].disposition = MSGT(MOVE_SEND);
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(T(RECEIVE), TYPE(self->fd, self->port));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(self->port, r.d[0].name);
	EXPECT_EQ(1, REFS(self->fd, self->port, R(SEND)));
	/* Nothing else was queued. */
	EXPECT_EQ(0, status(self->fd, self->port, 4));
}

TEST_F(desc, errors_in_the_form)
{
	__u32 names[2] = { self->other, self->other };
	__u8 msgts[2] = { MSGT(MAKE_SEND), MSGT(MAKE_SEND) };
	struct machio_msg_ool_descriptor *ool;
	struct cmsg m;
	__u32 size;

	/* No room for the count, or for the descriptors it counts. */
	size = cfill(&m, self->port, 1, names, msgts);
	EXPECT_EQ(MACHIO_SEND_MSG_TOO_SMALL, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	m.h.msgh_size = HDR + 4 + DESC - 4;
	EXPECT_EQ(MACHIO_SEND_MSG_TOO_SMALL, mach_msg(self->fd, &m, MACHIO_SEND_MSG,
						      HDR + 4 + DESC - 4, 0, 0, 0));
	m.b.msgh_descriptor_count = 0x40000000;
	EXPECT_EQ(MACHIO_SEND_MSG_TOO_SMALL, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* A disposition that is not a port's, a type there is not, memory out of line. */
	size = cfill(&m, self->port, 2, names, msgts);
	m.d[1].disposition = MSGT(MAKE_SEND_ONCE) + 1;
	EXPECT_EQ(MACHIO_SEND_INVALID_TYPE, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	m.d[1].disposition = 0;
	m.d[1].name = 0;
	EXPECT_EQ(MACHIO_SEND_INVALID_TYPE, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	size = cfill(&m, self->port, 2, names, msgts);
	m.d[1].type = 9;
	EXPECT_EQ(MACHIO_SEND_INVALID_TYPE, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	size = cfill(&m, self->port, 2, names, msgts);
	ool = (void *)&m.d[1];
	memset(ool, 0, sizeof(*ool));
	ool->address = (__u64)(uintptr_t)&m;
	ool->size = 8;
	ool->type = MACHIO_MSG_OOL_DESCRIPTOR;
	EXPECT_EQ(MACHIO_SEND_INVALID_TYPE, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* The header's rights are checked first, as OSF does. */
	m.h.msgh_remote_port = 0x7777701;
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* No right went anywhere. */
	EXPECT_EQ(T(RECEIVE), TYPE(self->fd, self->other));
	EXPECT_EQ(0, status(self->fd, self->port, 4));
	EXPECT_EQ(0, status(self->fd, self->other, 4));
}

TEST_F(desc, null_and_dead_names_pass_and_a_complex_message_may_carry_none)
{
	__u32 names[2] = { MACHIO_PORT_NULL, MACHIO_PORT_DEAD };
	__u8 msgts[2] = { MSGT(COPY_SEND), MSGT(MAKE_SEND_ONCE) };
	struct cmsg m, r;
	__u32 size = cfill(&m, self->port, 2, names, msgts);

	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(MACHIO_PORT_NULL, r.d[0].name);
	EXPECT_EQ(MSGT(MOVE_SEND), r.d[0].disposition);
	EXPECT_EQ(MACHIO_PORT_DEAD, r.d[1].name);
	EXPECT_EQ(MSGT(MOVE_SEND_ONCE), r.d[1].disposition);
	size = cfill(&m, self->port, 0, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(0, r.b.msgh_descriptor_count);
	EXPECT_EQ(0, memcmp(&r.d[0], "trailer", 8));
}

TEST_F(desc, a_port_dying_on_the_way_arrives_as_a_dead_name)
{
	__u32 names[1] = { self->other };
	__u8 msgts[1] = { MSGT(MAKE_SEND) };
	struct cmsg m, r;
	__u32 size = cfill(&m, self->port, 1, names, msgts);

	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	ASSERT_EQ(0, destroy(self->fd, self->other));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(MACHIO_PORT_DEAD, r.d[0].name);
}

TEST_F(desc, a_receive_right_sent_to_itself_is_destroyed_with_the_message)
{
	__u32 names[1] = { self->other };
	__u8 msgts[1] = { MSGT(MOVE_RECEIVE) };
	struct cmsg m;
	__u32 size;

	/* Directly: the message goes to the port it carries. */
	ASSERT_EQ(0, insert(self->fd, self->other, self->other, MSGT(MAKE_SEND)));
	size = cfill(&m, self->other, 1, names, msgts);
	m.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(COPY_SEND);
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(T(DEAD_NAME), TYPE(self->fd, self->other));

	/* Through a chain: A's receive right waits on B, B's is sent to A. */
	__u32 a = allocate(self->fd, R(RECEIVE)), b = allocate(self->fd, R(RECEIVE));

	ASSERT_EQ(0, insert(self->fd, a, a, MSGT(MAKE_SEND)));
	ASSERT_EQ(0, insert(self->fd, b, b, MSGT(MAKE_SEND)));
	names[0] = a;
	size = cfill(&m, b, 1, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(T(SEND), TYPE(self->fd, a));
	names[0] = b;
	size = cfill(&m, a, 1, names, msgts);
	m.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(COPY_SEND);
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* Both went: B with the message, A with B's queue. */
	EXPECT_EQ(T(DEAD_NAME), TYPE(self->fd, a));
	EXPECT_EQ(T(DEAD_NAME), TYPE(self->fd, b));
}

/* A long chain of receive rights, each queued on the next, goes with its head. */
TEST_F(desc, a_long_chain_of_receive_rights_goes_with_its_head)
{
	__u32 names[1];
	__u8 msgts[1] = { MSGT(MOVE_RECEIVE) };
	__u32 prev = allocate(self->fd, R(RECEIVE)), next;
	struct cmsg m;
	int i;

	for (i = 0; i < 2000; i++) {
		next = allocate(self->fd, R(RECEIVE));
		ASSERT_NE(0, next);
		names[0] = prev;
		cfill(&m, next, 1, names, msgts);
		ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG,
						       m.h.msgh_size, 0, 0, 0));
		prev = next;
	}
	/* Destroying the last destroys all 2001, one at a time. */
	EXPECT_EQ(0, destroy(self->fd, prev));
}

struct receiver {
	int fd;
	__u32 port;
	int kr;
};

static void *receive_one(void *arg)
{
	struct receiver *rc = arg;
	struct machio_msg_header h;

	rc->kr = mach_msg(rc->fd, &h, MACHIO_RCV_MSG, 0, sizeof(h), rc->port, 0);
	return NULL;
}

TEST_F(desc, a_receiver_waiting_on_a_port_whose_receive_right_moves_learns_it)
{
	__u32 names[1] = { self->other };
	__u8 msgts[1] = { MSGT(MOVE_RECEIVE) };
	struct receiver rc = { .fd = self->fd, .port = self->other, .kr = -1 };
	struct cmsg m;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, receive_one, &rc));
	usleep(100 * 1000);
	cfill(&m, self->port, 1, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0,
					       0));
	pthread_join(t, NULL);
	EXPECT_EQ(MACHIO_RCV_PORT_CHANGED, rc.kr);
}

TEST_F(desc, a_receiver_without_room_for_a_name_gets_the_message_without_the_right)
{
	__u32 names[2] = { self->other, self->other };
	__u8 msgts[2] = { MSGT(MAKE_SEND), MSGT(MAKE_SEND_ONCE) };
	struct machio_port_attributes st = {
		.name = self->other, .flavor = MACHIO_PORT_RECEIVE_STATUS, .count = 10,
	};
	struct machio_query q = {};
	struct cmsg m, r;
	__u32 size, n, dead;

	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_QUERY, &q));
	size = cfill(&m, self->port, 2, names, msgts);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, size, 0, 0, 0));
	/* Fill the space with dead names. */
	for (n = 0; n < q.max_names; n++) {
		dead = allocate(self->fd, R(DEAD_NAME));
		if (!dead)
			break;
	}
	ASSERT_LT(n, q.max_names);
	EXPECT_EQ(MACHIO_RCV_BODY_ERROR | MACHIO_MSG_IPC_SPACE,
		  mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r), self->port, 0));
	EXPECT_EQ(self->other, r.d[0].name);	/* its name was there */
	EXPECT_EQ(MACHIO_PORT_NULL, r.d[1].name);	/* no room for a new one */
	EXPECT_EQ(77, r.h.msgh_id);
	/*
	 * The right that had no room was destroyed: it tells its port (a
	 * send-once notification, made of that right), then it is gone.
	 */
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT, 0,
					       sizeof(r), self->other, 0));
	EXPECT_EQ(MACHIO_NOTIFY_SEND_ONCE, r.h.msgh_id);
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_ATTRIBUTES, &st));
	EXPECT_EQ(0, st.info[5]);
}

TEST_HARNESS_MAIN
