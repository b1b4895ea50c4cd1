// SPDX-License-Identifier: GPL-2.0
/*
 * The name service and rights between processes: check in, look up,
 * check out with every error; names per user (root sees all, another
 * user sees nothing, not even a hint) and bounded per user as nobody; a
 * name goes with its port; an RPC between two processes found by look-up,
 * a right passed in it; dead names seen by a process whose peer dies or
 * is killed.
 */
#include "kselftest_harness.h"
#include "machio_mach_test.h"

#include <signal.h>
#include <sys/wait.h>

#define NS		MACHIO_NAME_SERVER
#define MAX_NETNAMES	"/sys/module/machio/parameters/max_netnames"

static int netname(int fd, __u32 op, __u32 server, const char *name, __u32 sig, __u32 *port,
		   const char *host)
{
	struct machio_netname a = { .op = op, .server = server, .signature = sig };
	int ret;

	memcpy(a.name, name, strnlen(name, sizeof(a.name)));
	if (host)
		memcpy(a.host, host, strnlen(host, sizeof(a.host)));
	if (op != MACHIO_NETNAME_LOOK_UP)
		a.port = *port;
	ret = machio_ioctl(fd, MACHIO_IOC_NETNAME, &a);
	if (!ret && op == MACHIO_NETNAME_LOOK_UP)
		*port = a.port;
	return ret ?: a.kr;
}

static int check_in(int fd, const char *name, __u32 sig, __u32 port)
{
	return netname(fd, MACHIO_NETNAME_CHECK_IN, NS, name, sig, &port, NULL);
}

static int look_up(int fd, const char *name, __u32 *port)
{
	return netname(fd, MACHIO_NETNAME_LOOK_UP, NS, name, 0, port, "");
}

static int check_out(int fd, const char *name, __u32 sig)
{
	__u32 none = 0;

	return netname(fd, MACHIO_NETNAME_CHECK_OUT, NS, name, sig, &none, NULL);
}

static int open_space(void)
{
	return open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
}

/* A request: a header, a port descriptor, a payload. */
struct request {
	struct machio_msg_header h;
	struct machio_msg_body b;
	struct machio_msg_port_descriptor d;
	unsigned char data[512];
};

struct reply {
	struct machio_msg_header h;
	unsigned char data[512];
};

static void pattern(unsigned char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7);
}

/* A unique name per test run, so that runs and kernels never collide. */
static void unique(char *buf, size_t n, const char *what)
{
	snprintf(buf, n, "machio-test-%s-%d", what, getpid());
}

TEST(check_in_look_up_and_talk_between_two_spaces)
{
	int a = open_space(), b = open_space();
	__u32 p, s, r, found = 0;
	struct machio_msg_header m = {};
	char name[64];

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	unique(name, sizeof(name), "two");
	p = allocate(a, MACHIO_PORT_RIGHT_RECEIVE);
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_in(a, name, 0, p));
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(b, name, &s));
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND, TYPE(b, s));
	/* Looked up again: the same name, one more reference. */
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(b, name, &found));
	EXPECT_EQ(s, found);
	/* The owner's own look-up finds its receive right's name. */
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(a, name, &found));
	EXPECT_EQ(p, found);

	/* b asks, a answers to the send-once right that came with it. */
	r = allocate(b, MACHIO_PORT_RIGHT_RECEIVE);
	m.msgh_bits = MACHIO_MSGH_BITS(MSGT(COPY_SEND), MSGT(MAKE_SEND_ONCE));
	m.msgh_size = HDR;
	m.msgh_remote_port = s;
	m.msgh_local_port = r;
	m.msgh_id = 400;
	ASSERT_EQ(0, mach_msg(b, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(0, mach_msg(a, &m, MACHIO_RCV_MSG, 0, HDR, p, 0));
	EXPECT_EQ(400, m.msgh_id);
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND_ONCE, TYPE(a, m.msgh_remote_port));
	m.msgh_bits = MACHIO_MSGH_BITS(MSGT(MOVE_SEND_ONCE), 0);
	m.msgh_local_port = 0;
	m.msgh_id = 500;
	ASSERT_EQ(0, mach_msg(a, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(0, mach_msg(b, &m, MACHIO_RCV_MSG, 0, HDR, r, 0));
	EXPECT_EQ(500, m.msgh_id);

	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_out(a, name, 0));
	EXPECT_EQ(K(INVALID_NAME), look_up(b, name, &found));
	/* The right b had stays. */
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND, TYPE(b, s));
	close(a);
	close(b);
}

TEST(errors)
{
	int fd = open_space();
	__u32 p, q, dead, send, sig, port, found;
	struct machio_netname a = { .op = MACHIO_NETNAME_LOOK_UP, .server = NS };
	char name[64], longname[MACHIO_NETNAME_MAX];

	ASSERT_LE(0, fd);
	unique(name, sizeof(name), "errors");
	p = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	q = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	sig = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	dead = allocate(fd, MACHIO_PORT_RIGHT_DEAD_NAME);
	ASSERT_EQ(0, insert(fd, sig, sig, MSGT(MAKE_SEND)));
	send = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	ASSERT_EQ(0, insert(fd, send, send, MSGT(MAKE_SEND)));

	/* Not the name service: what MIG's request to it would get. */
	port = p;
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, netname(fd, MACHIO_NETNAME_CHECK_IN, p, name, 0,
						    &port, NULL));
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, netname(fd, MACHIO_NETNAME_LOOK_UP, 0, name, 0,
						    &port, ""));
	/* Rights the caller does not hold. */
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, check_in(fd, name, 0, dead));
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, check_in(fd, name, 0, 0x7777701));
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, check_in(fd, name, dead, p));
	EXPECT_EQ(MACHIO_SEND_INVALID_RIGHT, check_in(fd, name, p, p));	/* no send right */
	EXPECT_EQ(MACHIO_NETNAME_INVALID_PORT, check_in(fd, name, 0, 0));
	EXPECT_EQ(K(INVALID_NAME), look_up(fd, name, &found));	/* none went in */
	port = send;

	/* With a signature: only it replaces or checks the name out. */
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_in(fd, name, sig, p));
	EXPECT_EQ(MACHIO_NETNAME_NOT_YOURS, check_in(fd, name, 0, q));
	EXPECT_EQ(MACHIO_NETNAME_NOT_YOURS, check_out(fd, name, 0));
	EXPECT_EQ(MACHIO_NETNAME_NOT_YOURS, check_out(fd, name, send));
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(fd, name, &found));
	EXPECT_EQ(p, found);
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, netname(fd, MACHIO_NETNAME_REGISTER_SEND_RIGHT, NS, name,
						  sig, &port, NULL));
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(fd, name, &found));
	EXPECT_EQ(send, found);
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_out(fd, name, sig));
	EXPECT_EQ(K(INVALID_NAME), check_out(fd, name, sig));
	EXPECT_EQ(K(INVALID_NAME), look_up(fd, name, &found));

	/* One machine. */
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_in(fd, name, 0, p));
	EXPECT_EQ(MACHIO_NETNAME_NO_SUCH_HOST, netname(fd, MACHIO_NETNAME_LOOK_UP, NS, name, 0,
						       &found, "elsewhere"));
	/* A name of all 80 bytes, no NUL: the 80 bytes are the name. */
	memset(longname, 'x', sizeof(longname));
	a.op = MACHIO_NETNAME_CHECK_IN;
	a.port = q;
	memcpy(a.name, longname, sizeof(a.name));
	ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	EXPECT_EQ(MACHIO_NETNAME_SUCCESS, a.kr);
	a.op = MACHIO_NETNAME_LOOK_UP;
	a.port = 0;
	a.kr = 0;
	ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	EXPECT_EQ(MACHIO_NETNAME_SUCCESS, a.kr);
	EXPECT_EQ(q, a.port);
	/* The ioctl's own form. */
	a.port = 0;
	a.kr = 0;
	a.op = 0;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	a.op = MACHIO_NETNAME_REGISTER_SEND_RIGHT + 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	a.op = MACHIO_NETNAME_LOOK_UP;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	a.pad = 0;
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	a.reserved[1] = 0;
	a.port = 5;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	a.port = 0;
	a.kr = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_NETNAME, &a));
	EXPECT_EQ(-EFAULT, machio_ioctl(fd, MACHIO_IOC_NETNAME, (void *)8));
	/* The name server's name is a send right, and not the caller's to destroy. */
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND, TYPE(fd, NS));
	EXPECT_EQ(K(INVALID_RIGHT), destroy(fd, NS));
	close(fd);
}

TEST(a_name_goes_with_its_port)
{
	int fd = open_space(), other = open_space();
	__u32 p, q, sig, found;
	char name[64];

	ASSERT_LE(0, fd);
	unique(name, sizeof(name), "dies");
	p = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	sig = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	ASSERT_EQ(0, insert(fd, sig, sig, MSGT(MAKE_SEND)));
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_in(fd, name, sig, p));
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(other, name, &found));
	ASSERT_EQ(0, destroy(fd, p));
	/* What other holds is a dead name now; the service forgot the name. */
	EXPECT_EQ(MACHIO_PORT_TYPE_DEAD_NAME, TYPE(other, found));
	EXPECT_EQ(K(INVALID_NAME), look_up(other, name, &found));
	/* So anyone may check it in again, without the old signature. */
	q = allocate(other, MACHIO_PORT_RIGHT_RECEIVE);
	EXPECT_EQ(MACHIO_NETNAME_SUCCESS, check_in(other, name, 0, q));
	EXPECT_EQ(MACHIO_NETNAME_SUCCESS, check_out(other, name, 0));
	close(fd);
	close(other);
}

/* In a forked child: become @uid and open a space of one's own. */
static int become(uid_t uid)
{
	if (setgid(uid) || setuid(uid))
		return -1;
	return open_space();
}

TEST(names_are_per_user_and_root_sees_all)
{
	int ready[2], done[2], status, fd;
	char name[64], c;
	__u32 found;
	pid_t owner, other;

	if (getuid())
		SKIP(return, "needs root to change users");
	unique(name, sizeof(name), "user");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		int mine = become(65534);
		__u32 p = allocate(mine, MACHIO_PORT_RIGHT_RECEIVE);

		if (mine < 0 || !p || check_in(mine, name, 0, p))
			_exit(10);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(11);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));

	/* root finds nobody's name. */
	fd = open_space();
	ASSERT_LE(0, fd);
	EXPECT_EQ(MACHIO_NETNAME_SUCCESS, look_up(fd, name, &found));
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND, TYPE(fd, found));

	/* Another user finds nothing, cannot check it out, and may have its own. */
	other = fork();
	ASSERT_LE(0, other);
	if (!other) {
		int mine = become(65533);
		__u32 q, none;

		if (mine < 0)
			_exit(20);
		if (look_up(mine, name, &none) != K(INVALID_NAME))
			_exit(21);
		if (check_out(mine, name, 0) != K(INVALID_NAME))
			_exit(22);
		q = allocate(mine, MACHIO_PORT_RIGHT_RECEIVE);
		if (check_in(mine, name, 0, q) != MACHIO_NETNAME_SUCCESS)
			_exit(23);
		if (look_up(mine, name, &none) || none != q)
			_exit(24);
		_exit(0);
	}
	ASSERT_EQ(other, waitpid(other, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, write(done[1], "d", 1));
	ASSERT_EQ(owner, waitpid(owner, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The owner's space closed with its process: the name is gone. */
	EXPECT_EQ(MACHIO_PORT_TYPE_DEAD_NAME, TYPE(fd, found));
	EXPECT_EQ(K(INVALID_NAME), look_up(fd, name, &found));
	close(fd);
}

TEST(names_are_bounded_per_user_as_nobody)
{
	char old[32], name[64];
	int status, n;
	pid_t pid;

	if (getuid())
		SKIP(return, "needs root to set max_netnames");
	n = read_text(MAX_NETNAMES, old, sizeof(old));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, write_file(MAX_NETNAMES, "4"));
	EXPECT_EQ(-EINVAL, write_file(MAX_NETNAMES, "0"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = become(65534);
		__u32 p;
		int i;

		if (fd < 0)
			_exit(10);
		p = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
		for (i = 0; i < 4; i++) {
			snprintf(name, sizeof(name), "machio-test-bound-%d-%d", getpid(), i);
			if (check_in(fd, name, 0, p))
				_exit(11);
		}
		snprintf(name, sizeof(name), "machio-test-bound-%d-x", getpid());
		if (check_in(fd, name, 0, p) != K(RESOURCE_SHORTAGE))
			_exit(12);
		snprintf(name, sizeof(name), "machio-test-bound-%d-0", getpid());
		if (check_out(fd, name, 0))
			_exit(13);
		snprintf(name, sizeof(name), "machio-test-bound-%d-x", getpid());
		if (check_in(fd, name, 0, p))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, write_file(MAX_NETNAMES, old));
}

/*
 * The server: check in, then answer one RPC: the reply (to the request's
 * send-once right) carries the payload turned round, and a second message
 * goes to the send right the request carried in its descriptor.
 */
TEST(an_rpc_between_two_processes_found_by_look_up)
{
	int fd = open_space(), status, ready[2];
	unsigned char want[512];
	struct request req;
	struct reply rep;
	char name[64], c;
	__u32 p;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(ready));
	unique(name, sizeof(name), "rpc");
	p = allocate(fd, MACHIO_PORT_RIGHT_RECEIVE);
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, check_in(fd, name, 0, p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int mine = open_space();	/* its own space, not the parent's */
		__u32 s, r, c2;

		if (mine < 0 || read(ready[0], &c, 1) != 1)
			_exit(10);
		if (look_up(mine, name, &s))
			_exit(11);
		r = allocate(mine, MACHIO_PORT_RIGHT_RECEIVE);
		c2 = allocate(mine, MACHIO_PORT_RIGHT_RECEIVE);
		memset(&req, 0, sizeof(req));
		req.h.msgh_bits = MACHIO_MSGH_BITS_COMPLEX |
				  MACHIO_MSGH_BITS(MSGT(COPY_SEND), MSGT(MAKE_SEND_ONCE));
		req.h.msgh_size = sizeof(req);
		req.h.msgh_remote_port = s;
		req.h.msgh_local_port = r;
		req.h.msgh_id = 1000;
		req.b.msgh_descriptor_count = 1;
		req.d.name = c2;
		req.d.disposition = MSGT(MAKE_SEND);
		req.d.type = MACHIO_MSG_PORT_DESCRIPTOR;
		pattern(req.data, sizeof(req.data), 9);
		/* Send and receive the reply in one call. */
		if (mach_msg(mine, &req, MACHIO_SEND_MSG | MACHIO_RCV_MSG, sizeof(req),
			     sizeof(req), r, 0))
			_exit(12);
		memcpy(&rep, &req, sizeof(rep));
		pattern(want, sizeof(want), 9);
		for (size_t i = 0; i < sizeof(want); i++)
			want[i] = (unsigned char)~want[i];
		if (rep.h.msgh_id != 1100 || rep.h.msgh_size != sizeof(rep) ||
		    memcmp(rep.data, want, sizeof(want)))
			_exit(13);
		/* And the message sent with the right it carried. */
		if (mach_msg(mine, &rep, MACHIO_RCV_MSG, 0, sizeof(rep), c2, 0) ||
		    rep.h.msgh_id != 1200)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(1, write(ready[1], "g", 1));
	ASSERT_EQ(0, mach_msg(fd, &req, MACHIO_RCV_MSG, 0, sizeof(req), p, 0));
	EXPECT_EQ(1000, req.h.msgh_id);
	EXPECT_EQ(MACHIO_MSGH_BITS_COMPLEX |
		  MACHIO_MSGH_BITS(MSGT(MOVE_SEND_ONCE), MSGT(MOVE_SEND)), req.h.msgh_bits);
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND, TYPE(fd, req.d.name));
	pattern(want, sizeof(want), 9);
	EXPECT_EQ(0, memcmp(req.data, want, sizeof(want)));
	memset(&rep, 0, sizeof(rep));
	rep.h.msgh_bits = MACHIO_MSGH_BITS(MSGT(MOVE_SEND_ONCE), 0);
	rep.h.msgh_size = sizeof(rep);
	rep.h.msgh_remote_port = req.h.msgh_remote_port;
	rep.h.msgh_id = 1100;
	for (size_t i = 0; i < sizeof(rep.data); i++)
		rep.data[i] = (unsigned char)~req.data[i];
	ASSERT_EQ(0, mach_msg(fd, &rep, MACHIO_SEND_MSG, sizeof(rep), 0, 0, 0));
	rep.h.msgh_bits = MACHIO_MSGH_BITS(MSGT(MOVE_SEND), 0);
	rep.h.msgh_remote_port = req.d.name;
	rep.h.msgh_size = HDR;
	rep.h.msgh_id = 1200;
	ASSERT_EQ(0, mach_msg(fd, &rep, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

/* A process killed while another holds a send right to its port. */
TEST(a_killed_peer_leaves_a_dead_name)
{
	int fd = open_space(), ready[2], status;
	__u32 found;
	char name[64], c;
	struct machio_msg_header m = {};
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(ready));
	unique(name, sizeof(name), "killed");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int mine = open_space();
		__u32 p = allocate(mine, MACHIO_PORT_RIGHT_RECEIVE);

		if (check_in(mine, name, 0, p) || write(ready[1], "r", 1) != 1)
			_exit(10);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(MACHIO_NETNAME_SUCCESS, look_up(fd, name, &found));
	EXPECT_EQ(MACHIO_PORT_TYPE_SEND, TYPE(fd, found));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(MACHIO_PORT_TYPE_DEAD_NAME, TYPE(fd, found));
	m.msgh_bits = MSGT(COPY_SEND);
	m.msgh_size = HDR;
	m.msgh_remote_port = found;
	EXPECT_EQ(MACHIO_SEND_INVALID_DEST, mach_msg(fd, &m, MACHIO_SEND_MSG, HDR, 0, 0, 0));
	close(fd);
}

TEST_HARNESS_MAIN
