// SPDX-License-Identifier: GPL-2.0
/*
 * Notifications: no-senders when the last send right goes (in this space,
 * in another, with a process's exit), at once when asked late; dead-name
 * when the port dies (the dead name gains a reference), port-deleted when
 * the name goes first (also at close); send-once for every send-once
 * right destroyed unused, and none for one used; previous rights
 * returned; a moved receive right's request cancelled; every error.
 */
#include "kselftest_harness.h"
#include "machio_mach_test.h"

#include <sys/wait.h>

#define NS		MACHIO_NOTIFY_NO_SENDERS
#define DN		MACHIO_NOTIFY_DEAD_NAME

static int deallocate(int fd, __u32 name)
{
	struct machio_port_deallocate a = { .name = name };

	return machio_ioctl(fd, MACHIO_IOC_PORT_DEALLOCATE, &a);
}

static int request(int fd, __u32 name, __s32 variant, __u32 sync, __u32 notify, __u32 type,
		   __u32 *previous)
{
	struct machio_port_request_notification a = {
		.name = name, .variant = variant, .sync = sync, .notify = notify,
		.notify_type = type,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_PORT_REQUEST_NOTIFICATION, &a);

	if (!ret && previous)
		*previous = a.previous;
	return ret ?: a.kr;
}

/* The next notification on @port, within 2 s: its id, or a negative mach_msg error. */
static int notification(int fd, __u32 port, struct machio_notification *n)
{
	int kr;

	memset(n, 0xee, sizeof(*n));
	kr = mach_msg(fd, n, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT, 0, sizeof(*n), port, 2000);
	return kr ? -kr : n->not_header.msgh_id;
}

static bool nothing_on(int fd, __u32 port)
{
	struct machio_notification n;

	return mach_msg(fd, &n, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT, 0, sizeof(n), port, 0) ==
	       MACHIO_RCV_TIMED_OUT;
}

/* A send right to @port (a receive right in @from) in the space @to, by message through @via. */
static __u32 give_send_right(int from, __u32 port, int to, __u32 via_in_to)
{
	struct {
		struct machio_msg_header h;
		struct machio_msg_body b;
		struct machio_msg_port_descriptor d;
	} c = {};
	__u32 via;
	char name[64];

	/* @to checks @via_in_to in for a moment; @from looks it up and sends @port. */
	snprintf(name, sizeof(name), "machio-notify-%d-%u", getpid(), via_in_to);
	{
		struct machio_netname ci = {
			.op = MACHIO_NETNAME_CHECK_IN, .server = MACHIO_NAME_SERVER,
			.port = via_in_to,
		};
		struct machio_netname lu = {
			.op = MACHIO_NETNAME_LOOK_UP, .server = MACHIO_NAME_SERVER,
		};
		struct machio_netname co = {
			.op = MACHIO_NETNAME_CHECK_OUT, .server = MACHIO_NAME_SERVER,
		};

		memcpy(ci.name, name, strlen(name));
		memcpy(lu.name, name, strlen(name));
		memcpy(co.name, name, strlen(name));
		if (machio_ioctl(to, MACHIO_IOC_NETNAME, &ci) || ci.kr ||
		    machio_ioctl(from, MACHIO_IOC_NETNAME, &lu) || lu.kr ||
		    machio_ioctl(to, MACHIO_IOC_NETNAME, &co) || co.kr)
			return 0;
		via = lu.port;
	}
	c.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(MOVE_SEND);
	c.h.msgh_size = sizeof(c);
	c.h.msgh_remote_port = via;
	c.b.msgh_descriptor_count = 1;
	c.d.name = port;
	c.d.disposition = MSGT(MAKE_SEND);
	if (mach_msg(from, &c, MACHIO_SEND_MSG, sizeof(c), 0, 0, 0) ||
	    mach_msg(to, &c, MACHIO_RCV_MSG, 0, sizeof(c), via_in_to, 0))
		return 0;
	return c.d.name;
}

FIXTURE(notify) {
	int fd;
	__u32 port;	/* watched */
	__u32 notify;	/* where notifications go */
};

FIXTURE_SETUP(notify)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->port = allocate(self->fd, R(RECEIVE));
	self->notify = allocate(self->fd, R(RECEIVE));
	ASSERT_NE(0, self->port);
	ASSERT_NE(0, self->notify);
}

FIXTURE_TEARDOWN(notify)
{
	close(self->fd);
}

TEST_F(notify, no_senders_when_the_last_send_right_goes)
{
	struct machio_notification n;
	__u32 prev = 1;

	ASSERT_EQ(0, insert(self->fd, self->port, self->port, MSGT(MAKE_SEND)));
	ASSERT_EQ(0, insert(self->fd, self->port, self->port, MSGT(MAKE_SEND)));	/* 2 refs */
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 0, self->notify,
				      MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(MACHIO_PORT_NULL, prev);
	EXPECT_EQ(1, status(self->fd, self->port, 8));		/* mps_nsrequest */
	ASSERT_EQ(0, deallocate(self->fd, self->port));
	EXPECT_TRUE(nothing_on(self->fd, self->notify));	/* one reference left */
	ASSERT_EQ(0, deallocate(self->fd, self->port));
	ASSERT_EQ(NS, notification(self->fd, self->notify, &n));
	EXPECT_EQ(sizeof(n), n.not_header.msgh_size);
	EXPECT_EQ(MACHIO_MSGH_BITS(0, MSGT(MOVE_SEND_ONCE)), n.not_header.msgh_bits);
	EXPECT_EQ(MACHIO_PORT_NULL, n.not_header.msgh_remote_port);
	EXPECT_EQ(self->notify, n.not_header.msgh_local_port);
	EXPECT_EQ(1, n.ndr[4]);
	EXPECT_EQ(0, n.ndr[0]);
	EXPECT_EQ(2, n.not_value);				/* the make-send count */
	EXPECT_EQ(0, status(self->fd, self->port, 8));
	/* It fired once: the next last send right tells nobody. */
	ASSERT_EQ(0, insert(self->fd, self->port, self->port, MSGT(MAKE_SEND)));
	ASSERT_EQ(0, deallocate(self->fd, self->port));
	EXPECT_TRUE(nothing_on(self->fd, self->notify));
}

TEST_F(notify, no_senders_at_once_and_the_previous_right_back)
{
	struct machio_notification n;
	__u32 prev = 0, prev2 = 0;

	/* No send rights and a make-send count of at least sync: at once. */
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 0, self->notify,
				      MSGT(MAKE_SEND_ONCE), &prev));
	ASSERT_EQ(NS, notification(self->fd, self->notify, &n));
	EXPECT_EQ(0, n.not_value);
	/* Not at once with sync past the count; a second request returns the first. */
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 1, self->notify,
				      MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_TRUE(nothing_on(self->fd, self->notify));
	EXPECT_EQ(MACHIO_PORT_NULL, prev);
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 1, self->notify,
				      MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_NE(MACHIO_PORT_NULL, prev);
	EXPECT_EQ(T(SEND_ONCE), TYPE(self->fd, prev));
	/* Cancelled: the registered right back, nothing sent. */
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 0, MACHIO_PORT_NULL, 0, &prev2));
	EXPECT_EQ(T(SEND_ONCE), TYPE(self->fd, prev2));
	EXPECT_EQ(0, status(self->fd, self->port, 8));
	ASSERT_EQ(0, insert(self->fd, self->port, self->port, MSGT(MAKE_SEND)));
	ASSERT_EQ(0, deallocate(self->fd, self->port));
	EXPECT_TRUE(nothing_on(self->fd, self->notify));
	/* A returned right is an ordinary send-once right: destroyed, it tells its port. */
	ASSERT_EQ(0, deallocate(self->fd, prev));
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->notify, &n));
	EXPECT_EQ(HDR, n.not_header.msgh_size);
}

TEST_F(notify, no_senders_when_another_process_holding_the_last_one_exits)
{
	struct machio_notification n;
	int other = open(MACHIO_DEV, O_RDWR | O_CLOEXEC), status_;
	__u32 via, s, prev;
	pid_t pid;

	ASSERT_LE(0, other);
	via = allocate(other, R(RECEIVE));
	s = give_send_right(self->fd, self->port, other, via);
	ASSERT_NE(0, s);
	EXPECT_EQ(T(SEND), TYPE(other, s));
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 0, self->notify,
				      MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_TRUE(nothing_on(self->fd, self->notify));
	/* The only holder of @other is a child that exits. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	close(other);
	ASSERT_EQ(pid, waitpid(pid, &status_, 0));
	ASSERT_EQ(NS, notification(self->fd, self->notify, &n));
	EXPECT_EQ(1, n.not_value);
}

TEST_F(notify, dead_name_when_the_port_dies_with_one_more_reference)
{
	struct machio_notification n;
	int other = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	__u32 via, s, watch, prev;

	ASSERT_LE(0, other);
	via = allocate(other, R(RECEIVE));
	watch = allocate(other, R(RECEIVE));
	s = give_send_right(self->fd, self->port, other, via);
	ASSERT_NE(0, s);
	ASSERT_EQ(K(SUCCESS), request(other, s, DN, 0, watch, MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(0, prev);
	ASSERT_EQ(0, destroy(self->fd, self->port));
	ASSERT_EQ(DN, notification(other, watch, &n));
	EXPECT_EQ(s, n.not_value);
	EXPECT_EQ(watch, n.not_header.msgh_local_port);
	EXPECT_EQ(T(DEAD_NAME), TYPE(other, s));
	EXPECT_EQ(2, REFS(other, s, R(DEAD_NAME)));
	/* A dead name with sync: at once, one more reference again. */
	ASSERT_EQ(K(INVALID_RIGHT), request(other, s, DN, 0, watch, MSGT(MAKE_SEND_ONCE), &prev));
	ASSERT_EQ(K(SUCCESS), request(other, s, DN, 1, watch, MSGT(MAKE_SEND_ONCE), &prev));
	ASSERT_EQ(DN, notification(other, watch, &n));
	EXPECT_EQ(s, n.not_value);
	EXPECT_EQ(3, REFS(other, s, R(DEAD_NAME)));
	close(other);
}

TEST_F(notify, port_deleted_when_the_name_goes_first)
{
	struct machio_notification n;
	int other = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	__u32 via, s, so = 0x6601, prev, to_via;
	struct machio_msg_header h = {};
	struct {
		struct machio_msg_header h;
		struct machio_msg_body b;
		struct machio_msg_port_descriptor d;
	} c = {};

	ASSERT_LE(0, other);
	via = allocate(other, R(RECEIVE));
	s = give_send_right(self->fd, self->port, other, via);
	ASSERT_NE(0, s);
	/* A request on a send right, then the right deallocated. */
	ASSERT_EQ(K(SUCCESS), request(other, s, DN, 0, via, MSGT(MAKE_SEND_ONCE), &prev));
	ASSERT_EQ(0, deallocate(other, s));
	ASSERT_EQ(MACHIO_NOTIFY_PORT_DELETED, notification(other, via, &n));
	EXPECT_EQ(s, n.not_value);
	/* Replaced requests come back; a send-once right's request, used by a message. */
	ASSERT_EQ(0, insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	ASSERT_EQ(K(SUCCESS), request(self->fd, so, DN, 0, self->notify, MSGT(MAKE_SEND_ONCE),
				      &prev));
	ASSERT_EQ(K(SUCCESS), request(self->fd, so, DN, 0, self->notify, MSGT(MAKE_SEND_ONCE),
				      &prev));
	EXPECT_EQ(T(SEND_ONCE), TYPE(self->fd, prev));
	ASSERT_EQ(0, deallocate(self->fd, prev));	/* unused: a send-once notification */
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->notify, &n));
	h.msgh_bits = MSGT(MOVE_SEND_ONCE);
	h.msgh_size = HDR;
	h.msgh_remote_port = so;
	h.msgh_id = 42;
	ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(MACHIO_NOTIFY_PORT_DELETED, notification(self->fd, self->notify, &n));
	EXPECT_EQ(so, n.not_value);
	/* The message that used the send-once right arrives, and no send-once notification. */
	ASSERT_EQ(42, notification(self->fd, self->port, &n));
	EXPECT_TRUE(nothing_on(self->fd, self->port));

	/* At close: the requests of a space's names become port-deleted notifications. */
	s = give_send_right(self->fd, self->port, other, via);
	ASSERT_NE(0, s);
	/* Its notify right: a send-once right to this space's port, given in a message. */
	to_via = give_send_right(other, via, self->fd, self->notify);
	ASSERT_NE(0, to_via);
	c.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(COPY_SEND);
	c.h.msgh_size = sizeof(c);
	c.h.msgh_remote_port = to_via;
	c.b.msgh_descriptor_count = 1;
	c.d.name = self->notify;
	c.d.disposition = MSGT(MAKE_SEND_ONCE);
	ASSERT_EQ(0, mach_msg(self->fd, &c, MACHIO_SEND_MSG, sizeof(c), 0, 0, 0));
	ASSERT_EQ(0, mach_msg(other, &c, MACHIO_RCV_MSG, 0, sizeof(c), via, 0));
	ASSERT_EQ(K(SUCCESS), request(other, s, DN, 0, c.d.name, MSGT(MOVE_SEND_ONCE), &prev));
	EXPECT_EQ(~0U, TYPE(other, c.d.name));	/* moved into the request */
	close(other);
	ASSERT_EQ(MACHIO_NOTIFY_PORT_DELETED, notification(self->fd, self->notify, &n));
	EXPECT_EQ(s, n.not_value);
}

TEST_F(notify, send_once_for_every_send_once_right_destroyed_unused)
{
	struct machio_notification n;
	struct {
		struct machio_msg_header h;
		char body[32];
	} m = {};
	struct machio_port_right mod = {
		.op = MACHIO_PORT_OP_MOD_REFS, .right = R(SEND_ONCE), .delta = -1,
	};
	struct machio_msg_header h = {
		.msgh_bits = MACHIO_MSGH_BITS(MSGT(MOVE_SEND), MSGT(MAKE_SEND_ONCE)),
		.msgh_size = HDR,
	};
	__u32 so = 0x6701, via, s;
	int other;

	/* Deallocated, destroyed, dropped by mod_refs. */
	ASSERT_EQ(0, insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	ASSERT_EQ(0, deallocate(self->fd, so));
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->port, &n));
	EXPECT_EQ(HDR, n.not_header.msgh_size);
	EXPECT_EQ(MACHIO_MSGH_BITS(0, MSGT(MOVE_SEND_ONCE)), n.not_header.msgh_bits);
	ASSERT_EQ(0, insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	ASSERT_EQ(0, destroy(self->fd, so));
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->port, &n));
	ASSERT_EQ(0, insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	mod.name = so;
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_RIGHT, &mod));
	ASSERT_EQ(0, mod.kr);
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->port, &n));
	/* A reply right in a message destroyed as too large. */
	m.h.msgh_bits = MACHIO_MSGH_BITS(MSGT(MAKE_SEND), MSGT(MAKE_SEND_ONCE));
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = self->notify;
	m.h.msgh_local_port = self->port;
	ASSERT_EQ(0, mach_msg(self->fd, &m, MACHIO_SEND_MSG, sizeof(m), 0, 0, 0));
	EXPECT_EQ(MACHIO_RCV_TOO_LARGE, mach_msg(self->fd, &m, MACHIO_RCV_MSG, 0, HDR,
						 self->notify, 0));
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->port, &n));
	/* With its space: a send-once right in a space that closes. */
	other = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	via = allocate(other, R(RECEIVE));
	s = give_send_right(self->fd, self->port, other, via);
	ASSERT_NE(0, s);
	/* @other sends @self->port a message whose reply right is to @via... */
	h.msgh_remote_port = s;
	h.msgh_local_port = via;
	ASSERT_EQ(0, mach_msg(other, &h, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	/* ...received here, the send-once right to @via kept, then @other closes: dead port. */
	ASSERT_EQ(0, mach_msg(self->fd, &h, MACHIO_RCV_MSG, 0, HDR, self->port, 0));
	EXPECT_EQ(T(SEND_ONCE), TYPE(self->fd, h.msgh_remote_port));
	close(other);
	EXPECT_EQ(T(DEAD_NAME), TYPE(self->fd, h.msgh_remote_port));
	EXPECT_TRUE(nothing_on(self->fd, self->port));
}

TEST_F(notify, a_moved_receive_right_cancels_its_no_senders_request)
{
	struct machio_notification n;
	struct {
		struct machio_msg_header h;
		struct machio_msg_body b;
		struct machio_msg_port_descriptor d;
	} c = {};
	__u32 carrier = allocate(self->fd, R(RECEIVE)), prev;

	ASSERT_EQ(0, insert(self->fd, self->port, self->port, MSGT(MAKE_SEND)));
	EXPECT_EQ(1, status(self->fd, self->port, 2));		/* mps_mscount */
	ASSERT_EQ(K(SUCCESS), request(self->fd, self->port, NS, 0, self->notify,
				      MSGT(MAKE_SEND_ONCE), &prev));
	c.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX | MSGT(MAKE_SEND);
	c.h.msgh_size = sizeof(c);
	c.h.msgh_remote_port = carrier;
	c.b.msgh_descriptor_count = 1;
	c.d.name = self->port;
	c.d.disposition = MSGT(MOVE_RECEIVE);
	ASSERT_EQ(0, mach_msg(self->fd, &c, MACHIO_SEND_MSG, sizeof(c), 0, 0, 0));
	ASSERT_EQ(MACHIO_NOTIFY_SEND_ONCE, notification(self->fd, self->notify, &n));
	ASSERT_EQ(0, mach_msg(self->fd, &c, MACHIO_RCV_MSG, 0, sizeof(c), carrier, 0));
	EXPECT_EQ(self->port, c.d.name);	/* joined its send right's name */
	EXPECT_EQ(0, status(self->fd, self->port, 2));	/* the make-send count starts again */
	EXPECT_EQ(0, status(self->fd, self->port, 8));
}

TEST_F(notify, errors)
{
	__u32 set = allocate(self->fd, R(PORT_SET)), dead = allocate(self->fd, R(DEAD_NAME));
	struct machio_port_request_notification a = {
		.name = self->port, .variant = NS, .notify = self->notify,
		.notify_type = MSGT(MAKE_SEND_ONCE), .pad = 1,
	};
	__u32 prev;

	EXPECT_EQ(K(INVALID_VALUE), request(self->fd, self->port, MACHIO_NOTIFY_PORT_DESTROYED, 0,
					    self->notify, MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_VALUE), request(self->fd, self->port, MACHIO_NOTIFY_SEND_ONCE, 0,
					    self->notify, MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_VALUE), request(self->fd, self->port, NS, 0, self->notify,
					    MSGT(MAKE_SEND), &prev));
	EXPECT_EQ(K(INVALID_NAME), request(self->fd, 0x7777701, NS, 0, self->notify,
					   MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_RIGHT), request(self->fd, set, NS, 0, self->notify,
					    MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_RIGHT), request(self->fd, set, DN, 0, self->notify,
					    MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_RIGHT), request(self->fd, dead, DN, 0, self->notify,
					    MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_RIGHT), request(self->fd, mio_host(self->fd), DN, 0, self->notify,
					    MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_CAPABILITY), request(self->fd, self->port, NS, 0, 0x7777701,
						 MSGT(MAKE_SEND_ONCE), &prev));
	EXPECT_EQ(K(INVALID_CAPABILITY), request(self->fd, self->port, NS, 0, self->notify,
						 MSGT(MOVE_SEND_ONCE), &prev));
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_REQUEST_NOTIFICATION, &a));
	a.pad = 0;
	a.previous = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_REQUEST_NOTIFICATION, &a));
	/* Nothing was registered by any of them. */
	EXPECT_EQ(0, status(self->fd, self->port, 8));
}

TEST_HARNESS_MAIN
