// SPDX-License-Identifier: GPL-2.0
/*
 * mach_msg (MACHIO_IOC_MSG) with simple messages: bytes and header
 * rights go from sender to receiver, FIFO with sequence numbers; an RPC
 * between threads (send and receive in one call); a full queue blocks or
 * times out; timeouts, signals, too-large messages; every error code.
 */
#include "kselftest_harness.h"
#include "machio_mach_test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

struct msg {
	struct machio_msg_header h;
	unsigned char body[256];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static __u32 new_port(int fd)
{
	struct machio_port_allocate a = { .right = MACHIO_PORT_RIGHT_RECEIVE };

	return machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &a) || a.kr ? 0 : a.name;
}

static void fill(struct msg *m, __u32 remote, __u32 local, __u32 bits, __s32 id, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->h.msgh_bits = bits;
	m->h.msgh_size = HDR + len;
	m->h.msgh_remote_port = remote;
	m->h.msgh_local_port = local;
	m->h.msgh_id = id;
	for (size_t i = 0; i < len; i++)
		m->body[i] = (unsigned char)(id * 7 + i);
}

FIXTURE(msg) {
	int fd;
	__u32 port;
};

FIXTURE_SETUP(msg)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->port = new_port(self->fd);
	ASSERT_NE(0, self->port);
}

FIXTURE_TEARDOWN(msg)
{
	close(self->fd);
}

TEST_F(msg, bytes_go_round_in_order_with_sequence_numbers)
{
	struct msg m, r;
	int i;

	for (i = 0; i < 3; i++) {
		fill(&m, self->port, 0, MSGT(MAKE_SEND), 100 + i, 40 + i * 4);
		ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG,
						       m.h.msgh_size, 0, 0, 0));
	}
	for (i = 0; i < 3; i++) {
		memset(&r, 0xee, sizeof(r));
		ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0,
						       sizeof(r), self->port, 0));
		fill(&m, self->port, 0, 0, 100 + i, 40 + i * 4);
		EXPECT_EQ(100 + i, r.h.msgh_id);
		EXPECT_EQ(HDR + 40 + i * 4, r.h.msgh_size);
		EXPECT_EQ(i, r.h.msgh_seqno);
		EXPECT_EQ(self->port, r.h.msgh_local_port);
		EXPECT_EQ(MACHIO_PORT_NULL, r.h.msgh_remote_port);
		EXPECT_EQ(MSGT(MOVE_SEND) << 8, r.h.msgh_bits);	/* local PORT_SEND, no reply */
		EXPECT_EQ(0, memcmp(m.body, r.body, 40 + i * 4));
		EXPECT_EQ(0xee, r.body[40 + i * 4]);		/* nothing past it */
	}
	/* Polling an empty port. */
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, sizeof(r), self->port, 0));
}

TEST_F(msg, the_largest_message_goes_through)
{
	size_t size = MACHIO_MSG_SIZE_MAX;
	unsigned char *m = malloc(size + 64), *r = malloc(size + 64);
	struct machio_msg_header *h = (void *)m;

	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, r);
	fill_pattern(m, size, 3);
	h->msgh_bits = MSGT(MAKE_SEND);
	h->msgh_size = size;
	h->msgh_remote_port = self->port;
	h->msgh_local_port = 0;
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, m, MACHIO_SEND_MSG, size, 0, 0, 0));
	EXPECT_EQ(MACHIO_SEND_TOO_LARGE, mach_msg(self->fd, m, MACHIO_SEND_MSG, size + 4, 0, 0, 0));
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, r, MACHIO_RCV_MSG, 0, size, self->port, 0));
	EXPECT_EQ(0, memcmp(m + HDR, r + HDR, size - HDR));
	free(m);
	free(r);
}

struct server {
	int fd;
	__u32 port;
	int served;
};

/* Answers each request on its port: the body's first word plus one. */
static void *serve(void *p)
{
	struct server *s = p;
	struct msg m;

	for (;;) {
		if (mach_msg(s->fd, &m, MACHIO_RCV_MSG, 0, sizeof(m), s->port, 0))
			return NULL;
		if (m.h.msgh_id == 0)	/* the end */
			return NULL;
		m.body[0]++;
		m.h.msgh_bits = MSGT(MOVE_SEND_ONCE);
		m.h.msgh_local_port = 0;
		m.h.msgh_id += 100;
		if (mach_msg(s->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0, 0))
			return NULL;
		s->served++;
	}
}

/* The end, to @port's server thread @t (its id 0): sent, and the thread gone. */
static int stop_server(int fd, __u32 port, pthread_t t)
{
	struct msg m;
	int kr;

	fill(&m, port, 0, MSGT(COPY_SEND), 0, 0);
	kr = mach_msg(fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0);
	if (!kr)
		pthread_join(t, NULL);
	return kr;
}

/* A server thread answering on @s->port, which gets a send right to itself. */
static int start_server(struct server *s, pthread_t *t)
{
	int kr = insert(s->fd, s->port, s->port, MSGT(MAKE_SEND));

	return kr ?: pthread_create(t, NULL, serve, s);
}

TEST_F(msg, an_rpc_between_threads_sends_and_receives_in_one_call)
{
	struct server s = { .fd = self->fd, .port = self->port };
	__u32 reply = new_port(self->fd);
	struct msg m;
	pthread_t t;
	int i;

	ASSERT_EQ(0, start_server(&s, &t));
	for (i = 1; i <= 50; i++) {
		fill(&m, self->port, reply, MACHIO_MSGH_BITS(MSGT(COPY_SEND), MSGT(MAKE_SEND_ONCE)),
		     i, 8);
		m.body[0] = i;
		ASSERT_EQ(MACHIO_MSG_SUCCESS,
			  mach_msg(self->fd, &m, MACHIO_SEND_MSG | MACHIO_RCV_MSG, m.h.msgh_size,
				   sizeof(m), reply, 0));
		EXPECT_EQ(100 + i, m.h.msgh_id);
		EXPECT_EQ((unsigned char)(i + 1), m.body[0]);
		EXPECT_EQ(reply, m.h.msgh_local_port);
		EXPECT_EQ(MSGT(MOVE_SEND_ONCE) << 8, m.h.msgh_bits);	/* local: PORT_SEND_ONCE */
	}
	ASSERT_EQ(MACHIO_MSG_SUCCESS, stop_server(self->fd, self->port, t));
	EXPECT_EQ(50, s.served);
	/* The send-once rights the server got went with its replies; COPY_SEND kept ours. */
	EXPECT_EQ(1, REFS(self->fd, self->port, MACHIO_PORT_RIGHT_SEND));
}

TEST_F(msg, header_rights_move_copy_and_merge)
{
	__u32 other = new_port(self->fd), so = 0x7101;
	struct msg m, r;

	ASSERT_EQ(K(SUCCESS), insert(self->fd, other, other, MSGT(MAKE_SEND)));
	ASSERT_EQ(K(SUCCESS), insert(self->fd, other, other, MSGT(COPY_SEND)));	/* 2 urefs */
	/* A send right as the reply: it comes back under its port's name here. */
	fill(&m, self->port, other, MACHIO_MSGH_BITS(MSGT(MAKE_SEND), MSGT(MOVE_SEND)), 1, 4);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0, 0));
	EXPECT_EQ(1, REFS(self->fd, other, MACHIO_PORT_RIGHT_SEND));	/* one moved out */
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(other, r.h.msgh_remote_port);
	EXPECT_EQ(MACHIO_MSGH_BITS(MSGT(MOVE_SEND), MSGT(MOVE_SEND)), r.h.msgh_bits);
	EXPECT_EQ(2, REFS(self->fd, other, MACHIO_PORT_RIGHT_SEND));	/* and back */

	/* A send-once destination is used up. */
	ASSERT_EQ(K(SUCCESS), insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	fill(&m, so, 0, MSGT(MOVE_SEND_ONCE), 2, 0);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	EXPECT_EQ(~0U, TYPE(self->fd, so));
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(MSGT(MOVE_SEND_ONCE) << 8, r.h.msgh_bits);

	/* A send-once reply arrives under a new name. */
	fill(&m, self->port, self->port,
	     MACHIO_MSGH_BITS(MSGT(MAKE_SEND), MSGT(MAKE_SEND_ONCE)), 3, 0);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_NE(self->port, r.h.msgh_remote_port);
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND_ONCE, TYPE(self->fd, r.h.msgh_remote_port));
}

TEST_F(msg, a_full_queue_blocks_or_times_out)
{
	struct msg m, r;
	double t0;
	int i;

	fill(&m, self->port, 0, MSGT(MAKE_SEND), 1, 0);
	for (i = 0; i < MACHIO_PORT_QLIMIT_DEFAULT; i++)
		ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG |
						       MACHIO_SEND_TIMEOUT, HDR, 0, 0, 0));
	EXPECT_EQ(MACHIO_SEND_TIMED_OUT, mach_msg(self->fd, &m, MACHIO_SEND_MSG |
						  MACHIO_SEND_TIMEOUT, HDR, 0, 0, 0));
	t0 = now_ms();
	EXPECT_EQ(MACHIO_SEND_TIMED_OUT, mach_msg(self->fd, &m, MACHIO_SEND_MSG |
						  MACHIO_SEND_TIMEOUT, HDR, 0, 0, 100));
	EXPECT_LE(90, now_ms() - t0);
	/* Room made by a receive lets the next one in. */
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG | MACHIO_SEND_TIMEOUT,
					       HDR, 0, 0, 0));
	t0 = now_ms();
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, sizeof(r), new_port(self->fd), 50));
	EXPECT_LE(45, now_ms() - t0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(msg, a_signal_ends_a_wait)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct msg r;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ualarm(50 * 1000, 0);
	EXPECT_EQ(MACHIO_RCV_INTERRUPTED, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_INTERRUPT,
						   0, sizeof(r), self->port, 0));
	signal(SIGALRM, SIG_DFL);
}

/*
 * mach_msg_overwrite's receive buffer (@rcv_msg): the message arrives
 * there, the send buffer untouched; MACH_RCV_LARGE's size goes there too;
 * the last reserved word must be zero.
 */
TEST_F(msg, a_message_is_received_into_its_own_buffer)
{
	struct msg m, sent, r;
	struct machio_msg a = {
		.msg = (__u64)(uintptr_t)&m, .option = MACHIO_SEND_MSG | MACHIO_RCV_MSG,
		.rcv_size = sizeof(r), .rcv_name = self->port, .rcv_msg = (__u64)(uintptr_t)&r,
	};

	fill(&m, self->port, 0, MSGT(MAKE_SEND), 5, 40);
	a.send_size = m.h.msgh_size;
	sent = m;
	memset(&r, 0, sizeof(r));
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));
	EXPECT_EQ(MACHIO_MSG_SUCCESS, a.kr);
	EXPECT_EQ(0, memcmp(&m, &sent, sizeof(m)));
	EXPECT_EQ(5, r.h.msgh_id);
	EXPECT_EQ(HDR + 40, r.h.msgh_size);
	EXPECT_EQ(0, memcmp(r.body, sent.body, 40));
	/* Too large, left queued: the size it needs is written to the receive buffer. */
	a.kr = 0;
	a.option = MACHIO_SEND_MSG | MACHIO_RCV_MSG | MACHIO_RCV_LARGE;
	a.rcv_size = HDR;
	memset(&r, 0, sizeof(r));
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));
	EXPECT_EQ(MACHIO_RCV_TOO_LARGE, a.kr);
	EXPECT_EQ(HDR + 40, r.h.msgh_size);
	EXPECT_EQ(HDR + 40, m.h.msgh_size);
	a.kr = 0;
	a.option = MACHIO_RCV_MSG;
	a.rcv_size = sizeof(r);
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));
	EXPECT_EQ(MACHIO_MSG_SUCCESS, a.kr);
	EXPECT_EQ(0, memcmp(r.body, sent.body, 40));
	/* An unwritable receive buffer: MACH_RCV_INVALID_DATA, the message destroyed. */
	a.kr = 0;
	a.option = MACHIO_SEND_MSG | MACHIO_RCV_MSG;
	a.rcv_msg = 8;
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));
	EXPECT_EQ(MACHIO_RCV_INVALID_DATA, a.kr);
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, sizeof(r), self->port, 0));
	a.kr = 0;
	a.reserved = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));
}

#define MSG_SPIN_US	"/sys/module/machio/parameters/msg_spin_us"

/* 50 RPCs to @port's server thread, each answered with the right bytes: how many were. */
static int rpcs(int fd, __u32 port, __u32 reply)
{
	struct msg m;
	int i;

	for (i = 1; i <= 50; i++) {
		fill(&m, port, reply, MACHIO_MSGH_BITS(MSGT(COPY_SEND), MSGT(MAKE_SEND_ONCE)), i, 8);
		m.body[0] = i;
		if (mach_msg(fd, &m, MACHIO_SEND_MSG | MACHIO_RCV_MSG, m.h.msgh_size, sizeof(m),
			     reply, 0) != MACHIO_MSG_SUCCESS ||
		    m.h.msgh_id != 100 + i || m.body[0] != (unsigned char)(i + 1) ||
		    memcmp(m.body + 1, (unsigned char[]){ i * 7 + 1, i * 7 + 2 }, 2))
			break;
	}
	return i - 1;
}

/*
 * A receiver spins for its message up to msg_spin_us before it sleeps:
 * RPCs go round the same with no spinning, the default and the longest
 * (1000 us); the parameter takes 0..1000.
 */
TEST_F(msg, rpcs_go_round_whatever_receivers_spin)
{
	static const char *const spins[] = { "0", "1000", "200" };
	struct server s = { .fd = self->fd, .port = self->port };
	__u32 reply = new_port(self->fd);
	char old[32];
	pthread_t t;
	size_t i;

	if (getuid())
		SKIP(return, "needs root to set msg_spin_us");
	ASSERT_LT(0, read_text(MSG_SPIN_US, old, sizeof(old)));
	EXPECT_EQ(-EINVAL, write_file(MSG_SPIN_US, "1001"));
	EXPECT_EQ(-EINVAL, write_file(MSG_SPIN_US, "-1"));
	ASSERT_EQ(0, start_server(&s, &t));
	for (i = 0; i < sizeof(spins) / sizeof(spins[0]); i++) {
		EXPECT_EQ(0, write_file(MSG_SPIN_US, spins[i]));
		EXPECT_EQ(50, rpcs(self->fd, self->port, reply)) TH_LOG("msg_spin_us %s", spins[i]);
	}
	ASSERT_EQ(MACHIO_MSG_SUCCESS, stop_server(self->fd, self->port, t));
	EXPECT_EQ(150, s.served);
	EXPECT_EQ(0, write_file(MSG_SPIN_US, old));
}

/*
 * At the longest spin, on a port whose receivers have been woken (so
 * they spin): a signal still ends the wait with MACH_RCV_INTERRUPTED,
 * and a timeout of 0 still only looks.
 */
TEST_F(msg, a_signal_ends_a_spinning_wait)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct server s = { .fd = self->fd, .port = self->port };
	__u32 reply = new_port(self->fd);
	char old[32];
	struct msg m;
	pthread_t t;
	int i;

	if (getuid())
		SKIP(return, "needs root to set msg_spin_us");
	ASSERT_LT(0, read_text(MSG_SPIN_US, old, sizeof(old)));
	ASSERT_EQ(0, write_file(MSG_SPIN_US, "1000"));
	ASSERT_EQ(0, start_server(&s, &t));
	EXPECT_EQ(50, rpcs(self->fd, self->port, reply));	/* the reply port learns its wake */
	ASSERT_EQ(MACHIO_MSG_SUCCESS, stop_server(self->fd, self->port, t));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	for (i = 0; i < 5; i++) {
		/* Again and again, so one comes during the spin or the sleep after it. */
		struct itimerval every = { { 0, 200 + i * 400 }, { 0, 200 + i * 400 } };

		ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
		EXPECT_EQ(MACHIO_RCV_INTERRUPTED,
			  mach_msg(self->fd, &m, MACHIO_RCV_MSG | MACHIO_RCV_INTERRUPT, 0, sizeof(m),
				   reply, 0));
		memset(&every, 0, sizeof(every));
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
		EXPECT_EQ(MACHIO_RCV_TIMED_OUT,
			  mach_msg(self->fd, &m, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT, 0, sizeof(m),
				   reply, 0));
	}
	signal(SIGALRM, SIG_DFL);
	EXPECT_EQ(0, write_file(MSG_SPIN_US, old));
}

TEST_F(msg, too_large_messages)
{
	struct msg m, r;

	fill(&m, self->port, 0, MSGT(MAKE_SEND), 9, 64);
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0, 0));
	/* MACH_RCV_LARGE: left queued, the size needed comes back. */
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(MACHIO_RCV_TOO_LARGE, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_LARGE, 0,
						 HDR + 16, self->port, 0));
	EXPECT_EQ(HDR + 64, r.h.msgh_size);
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, HDR + 64,
					       self->port, 0));
	/* Without it: destroyed. */
	ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0, 0));
	EXPECT_EQ(MACHIO_RCV_TOO_LARGE, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, HDR + 16,
						 self->port, 0));
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, sizeof(r), self->port, 0));
}

struct killer {
	int fd;
	__u32 port;
};

static void *destroy_later(void *p)
{
	struct killer *k = p;
	struct machio_port_right a = { .op = MACHIO_PORT_OP_DESTROY, .name = k->port };

	usleep(100 * 1000);
	machio_ioctl(k->fd, MACHIO_IOC_PORT_RIGHT, &a);
	return NULL;
}

static void *raise_limit_later(void *p)
{
	struct killer *k = p;
	struct machio_port_attributes a = {
		.name = k->port, .flavor = MACHIO_PORT_LIMITS_INFO, .count = 1,
		.flags = MACHIO_PORT_ATTR_SET, .info = { 3 },
	};

	usleep(100 * 1000);
	machio_ioctl(k->fd, MACHIO_IOC_PORT_ATTRIBUTES, &a);
	return NULL;
}

TEST_F(msg, errors)
{
	__u32 set, so = 0x7301;
	struct machio_port_allocate ps = { .right = MACHIO_PORT_RIGHT_PORT_SET };
	struct killer k = { .fd = self->fd, .port = self->port };
	struct machio_msg a = {};
	struct msg m, r;
	pthread_t t;

	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_ALLOCATE, &ps));
	set = ps.name;
	fill(&m, self->port, 0, MSGT(MAKE_SEND), 1, 0);
	EXPECT_EQ(MACHIO_SEND_MSG_TOO_SMALL, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR - 4, 0, 0, 0));
	EXPECT_EQ(MACHIO_SEND_MSG_TOO_SMALL, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR + 2, 0, 0, 0));
	EXPECT_EQ(MACHIO_SEND_INVALID_DATA, mach_msg(self->fd, (void *)8, MACHIO_SEND_MSG, HDR, 0, 0,
						     0));
	m.h.msgh_bits |= MACHIO_MSGH_BITS_COMPLEX;	/* no room for the descriptor count */
	EXPECT_EQ(MACHIO_SEND_MSG_TOO_SMALL, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	m.h.msgh_bits = MSGT(MOVE_RECEIVE);
	EXPECT_EQ(MACHIO_SEND_INVALID_HEADER, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	m.h.msgh_bits = MSGT(MAKE_SEND) | 0x10000;
	EXPECT_EQ(MACHIO_SEND_INVALID_HEADER, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	m.h.msgh_bits = MSGT(COPY_SEND);			/* no send right */
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	m.h.msgh_remote_port = set;
	m.h.msgh_bits = MSGT(MAKE_SEND);
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	m.h.msgh_remote_port = 0x123401;
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	fill(&m, self->port, set, MACHIO_MSGH_BITS(MSGT(MAKE_SEND), MSGT(MAKE_SEND)), 1, 0);
	EXPECT_EQ(MACHIO_SEND_INVALID_REPLY, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	EXPECT_EQ(MACHIO_RCV_INVALID_NAME, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
						    0x123401, 0));
	/* An empty set: nothing to receive (machio_pset_test has the rest). */
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, sizeof(r), set, 0));
	/* Nothing went anywhere. */
	EXPECT_EQ(MACHIO_RCV_TIMED_OUT, mach_msg(self->fd, &r, MACHIO_RCV_MSG | MACHIO_RCV_TIMEOUT,
						 0, sizeof(r), self->port, 0));
	a.msg = (__u64)(uintptr_t)&m;
	a.option = MACHIO_SEND_MSG;
	a.send_size = HDR;
	a.notify = self->port;
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));
	EXPECT_EQ(MACHIO_SEND_INVALID_REPLY, a.kr);
	a.notify = 0;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_MSG, &a));

	/* A send-once right whose port died is a dead destination. */
	ASSERT_EQ(K(SUCCESS), insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	/* The port dies under a waiting receiver: MACH_RCV_PORT_DIED. */
	ASSERT_EQ(0, pthread_create(&t, NULL, destroy_later, &k));
	EXPECT_EQ(MACHIO_RCV_PORT_DIED, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
						 self->port, 0));
	pthread_join(t, NULL);
	fill(&m, so, 0, MSGT(MOVE_SEND_ONCE), 1, 0);
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(self->fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	EXPECT_EQ(MACHIO_PORT_TYPE_DEAD_NAME, TYPE(self->fd, so));
}

static int attributes(int fd, __u32 name, __s32 flavor, __u32 flags, __u32 count, __u32 *info)
{
	struct machio_port_attributes a = {
		.name = name, .flavor = flavor, .count = count, .flags = flags,
	};
	int ret;

	memcpy(a.info, info, sizeof(a.info));
	ret = machio_ioctl(fd, MACHIO_IOC_PORT_ATTRIBUTES, &a);
	if (ret)
		return ret;
	memcpy(info, a.info, sizeof(a.info));
	return a.kr;
}

TEST_F(msg, the_queue_limit_and_status_of_a_port)
{
	__u32 info[10] = {}, so = 0x7501;
	struct msg m, r;
	pthread_t t;
	struct killer k = { .fd = self->fd };

	EXPECT_EQ(K(SUCCESS), attributes(self->fd, self->port, MACHIO_PORT_LIMITS_INFO, 0, 1, info));
	EXPECT_EQ(MACHIO_PORT_QLIMIT_DEFAULT, info[0]);
	/* A limit of one: the second send waits. */
	info[0] = 1;
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, self->port, MACHIO_PORT_LIMITS_INFO,
					 MACHIO_PORT_ATTR_SET, 1, info));
	fill(&m, self->port, 0, MSGT(MAKE_SEND), 1, 8);
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG | MACHIO_SEND_TIMEOUT,
					       m.h.msgh_size, 0, 0, 0));
	EXPECT_EQ(MACHIO_SEND_TIMED_OUT, mach_msg(self->fd, &m, MACHIO_SEND_MSG |
						  MACHIO_SEND_TIMEOUT, m.h.msgh_size, 0, 0, 0));
	/* The status counts it all. */
	EXPECT_EQ(K(SUCCESS), insert(self->fd, so, self->port, MSGT(MAKE_SEND_ONCE)));
	memset(info, 0xff, sizeof(info));
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, self->port, MACHIO_PORT_RECEIVE_STATUS, 0, 10,
					 info));
	EXPECT_EQ(MACHIO_PORT_NULL, info[0]);	/* mps_pset */
	EXPECT_EQ(0, info[1]);			/* mps_seqno */
	EXPECT_EQ(1, info[2]);			/* mps_mscount: the MAKE_SEND */
	EXPECT_EQ(1, info[3]);			/* mps_qlimit */
	EXPECT_EQ(1, info[4]);			/* mps_msgcount */
	EXPECT_EQ(1, info[5]);			/* mps_sorights */
	EXPECT_EQ(1, info[6]);			/* mps_srights: the queued message's */
	EXPECT_EQ(0, info[9]);			/* mps_flags */
	/* Raising the limit lets a waiting sender in. */
	k.port = self->port;
	ASSERT_EQ(0, pthread_create(&t, NULL, raise_limit_later, &k));
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0, 0));
	pthread_join(t, NULL);
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	EXPECT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r),
					       self->port, 0));
	/* Received: their destination rights are used up. */
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, self->port, MACHIO_PORT_RECEIVE_STATUS, 0, 10,
					 info));
	EXPECT_EQ(0, info[6]);			/* mps_srights */
	EXPECT_EQ(2, info[1]);			/* mps_seqno */
	EXPECT_EQ(3, info[3]);
	/* A limit of 0 is OSF's too: nothing gets in. */
	info[0] = 0;
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, self->port, MACHIO_PORT_LIMITS_INFO,
					 MACHIO_PORT_ATTR_SET, 1, info));
	EXPECT_EQ(MACHIO_SEND_TIMED_OUT, mach_msg(self->fd, &m, MACHIO_SEND_MSG |
						  MACHIO_SEND_TIMEOUT, m.h.msgh_size, 0, 0, 0));

	/* Errors, in OSF's order. */
	info[0] = MACHIO_PORT_QLIMIT_MAX + 1;
	EXPECT_EQ(K(INVALID_VALUE), attributes(self->fd, 0x123401, MACHIO_PORT_LIMITS_INFO,
					       MACHIO_PORT_ATTR_SET, 1, info));
	EXPECT_EQ(K(FAILURE), attributes(self->fd, 0x123401, MACHIO_PORT_RECEIVE_STATUS, 0, 9, info));
	EXPECT_EQ(K(INVALID_ARGUMENT), attributes(self->fd, self->port, 9, 0, 10, info));
	EXPECT_EQ(K(INVALID_ARGUMENT), attributes(self->fd, self->port, MACHIO_PORT_RECEIVE_STATUS,
						  MACHIO_PORT_ATTR_SET, 10, info));
	EXPECT_EQ(K(INVALID_NAME), attributes(self->fd, 0x123401, MACHIO_PORT_LIMITS_INFO, 0, 1,
					      info));
	EXPECT_EQ(K(INVALID_RIGHT), attributes(self->fd, so, MACHIO_PORT_LIMITS_INFO, 0, 1, info));
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, self->port, MACHIO_PORT_DNREQUESTS_SIZE, 0, 1,
					 info));
	EXPECT_EQ(0, info[0]);
}

/* Messages still queued when their port dies release the rights they carry. */
/*
 * A realtime port works as any other, with messages that fit its pool's
 * buffers (2 KiB each, rights included); a bigger one is
 * MACH_SEND_TOO_LARGE before any wait.  Its limit moves within
 * MACH_PORT_QLIMIT_MAX, and messages queued past a lowered limit stay.
 */
TEST_F(msg, a_realtime_port_takes_messages_from_its_pool)
{
	struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE, .qos = MACHIO_QOS_RT };
	struct machio_msg_header *big = calloc(1, 4096);
	__u32 info[10] = {}, rt;
	struct msg m, r;
	int i;

	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_ALLOCATE, &pa));
	ASSERT_EQ(K(SUCCESS), pa.kr);
	rt = pa.name;
	for (i = 0; i < 5; i++) {
		fill(&m, rt, 0, MSGT(MAKE_SEND), 300 + i, 256);
		ASSERT_EQ(0, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size, 0, 0, 0));
	}
	/* Full: the sixth times out, as on any port. */
	EXPECT_EQ(MACHIO_SEND_TIMED_OUT, mach_msg(self->fd, &m, MACHIO_SEND_MSG | MACHIO_SEND_TIMEOUT,
						  m.h.msgh_size, 0, 0, 0));
	/* Too big for a buffer: before any wait. */
	ASSERT_NE(NULL, big);
	big->msgh_bits = MSGT(MAKE_SEND);
	big->msgh_size = 4096;
	big->msgh_remote_port = rt;
	EXPECT_EQ(MACHIO_SEND_TOO_LARGE, mach_msg(self->fd, big, MACHIO_SEND_MSG, 4096, 0, 0, 0));
	free(big);
	/* A lower limit: what is queued stays. */
	info[0] = 2;
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, rt, MACHIO_PORT_LIMITS_INFO, MACHIO_PORT_ATTR_SET,
					 1, info));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, mach_msg(self->fd, &r, MACHIO_RCV_MSG, 0, sizeof(r), rt, 0));
		fill(&m, rt, 0, 0, 300 + i, 256);
		EXPECT_EQ(300 + i, r.h.msgh_id);
		EXPECT_EQ(0, memcmp(m.body, r.body, 256));
	}
	/* Up to the maximum: that many fit. */
	info[0] = MACHIO_PORT_QLIMIT_MAX;
	EXPECT_EQ(K(SUCCESS), attributes(self->fd, rt, MACHIO_PORT_LIMITS_INFO, MACHIO_PORT_ATTR_SET,
					 1, info));
	for (i = 0; i < MACHIO_PORT_QLIMIT_MAX; i++) {
		fill(&m, rt, 0, MSGT(MAKE_SEND), i, 64);
		ASSERT_EQ(0, mach_msg(self->fd, &m, MACHIO_SEND_MSG | MACHIO_SEND_TIMEOUT,
				      m.h.msgh_size, 0, 0, 0));
	}
	EXPECT_EQ(MACHIO_SEND_TIMED_OUT, mach_msg(self->fd, &m, MACHIO_SEND_MSG | MACHIO_SEND_TIMEOUT,
						  m.h.msgh_size, 0, 0, 0));
	/* Destroyed with them queued: kmemleak watches the buffers. */
}

#define MAX_MSG_BYTES	"/sys/module/machio/parameters/max_msg_bytes"

/*
 * As uid 65534: the bytes of a space's messages not yet received are
 * bounded (max_msg_bytes): past it a send is MACH_SEND_NO_BUFFER and takes
 * nothing; receiving one makes room again.
 */
TEST(queued_message_bytes_are_bounded_as_nobody)
{
	char old[32];
	int status;
	pid_t pid;

	if (getuid())
		SKIP(return, "needs root to set max_msg_bytes");
	ASSERT_LT(0, read_text(MAX_MSG_BYTES, old, sizeof(old)));
	ASSERT_EQ(-EINVAL, write_file(MAX_MSG_BYTES, "1024"));
	ASSERT_EQ(0, write_file(MAX_MSG_BYTES, "300000"));	/* two 128 KiB messages, not three */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t size = MACHIO_MSG_SIZE_MAX;
		struct machio_msg_header *h = calloc(1, size);
		struct machio_port_allocate pa = { .right = MACHIO_PORT_RIGHT_RECEIVE };
		__u32 info[10] = { MACHIO_PORT_QLIMIT_MAX };
		int fd, i;

		if (!h || setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0 || machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &pa) || pa.kr ||
		    attributes(fd, pa.name, MACHIO_PORT_LIMITS_INFO, MACHIO_PORT_ATTR_SET, 1, info))
			_exit(11);
		h->msgh_bits = MSGT(MAKE_SEND);
		h->msgh_size = size;
		h->msgh_remote_port = pa.name;
		for (i = 0; i < 2; i++)
			if (mach_msg(fd, h, MACHIO_SEND_MSG, size, 0, 0, 0))
				_exit(12);
		if (mach_msg(fd, h, MACHIO_SEND_MSG, size, 0, 0, 0) != MACHIO_SEND_NO_BUFFER)
			_exit(13);
		/* Small ones still fit; a received one makes room. */
		if (mach_msg(fd, h, MACHIO_SEND_MSG, HDR, 0, 0, 0))
			_exit(14);
		if (mach_msg(fd, h, MACHIO_RCV_MSG, 0, size, pa.name, 0))
			_exit(15);
		h->msgh_bits = MSGT(MAKE_SEND);
		h->msgh_size = size;
		h->msgh_remote_port = pa.name;
		h->msgh_local_port = 0;	/* the receive wrote the port's name there */
		if (mach_msg(fd, h, MACHIO_SEND_MSG, size, 0, 0, 0))
			_exit(16);
		close(fd);	/* the queued ones go with the port */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, write_file(MAX_MSG_BYTES, old));
}

TEST_F(msg, a_dying_port_destroys_its_queue)
{
	__u32 reply = new_port(self->fd), so = 0x7401;
	struct machio_port_right d = { .op = MACHIO_PORT_OP_DESTROY, .name = self->port };
	struct msg m;
	int i;

	for (i = 0; i < 3; i++) {
		fill(&m, self->port, reply, MACHIO_MSGH_BITS(MSGT(MAKE_SEND), MSGT(MAKE_SEND_ONCE)),
		     i, 16);
		ASSERT_EQ(MACHIO_MSG_SUCCESS, mach_msg(self->fd, &m, MACHIO_SEND_MSG, m.h.msgh_size,
						       0, 0, 0));
	}
	ASSERT_EQ(K(SUCCESS), insert(self->fd, so, reply, MSGT(MAKE_SEND_ONCE)));
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_RIGHT, &d));
	EXPECT_EQ(K(SUCCESS), d.kr);
	/* The reply port lives on, its send-once rights in the messages gone. */
	EXPECT_EQ(MACHIO_PORT_TYPE_RECEIVE, TYPE(self->fd, reply));
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND_ONCE, TYPE(self->fd, so));
}

MACHIO_TEST_MAIN
