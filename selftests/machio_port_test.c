// SPDX-License-Identifier: GPL-2.0
/*
 * Mach port rights (MACHIO_IOC_PORT_*): mach_port_allocate_full and the
 * allocators it stands for, mach_port_destroy, _mod_refs, _get_refs,
 * _type, _insert_right, _names and _deallocate, with OSF's rules and
 * codes: one name per port per space, user references to their limits,
 * send-once rights under names of their own, and rights that turn into
 * dead names when their port's receive right goes.
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <sys/wait.h>

#define K(x)		MACHIO_KERN_##x
#define R(x)		MACHIO_PORT_RIGHT_##x
#define T(x)		MACHIO_PORT_TYPE_##x
#define MSGT(x)		MACHIO_MSG_TYPE_##x
#define MAX_NAMES	"/sys/module/machio/parameters/max_names"

/* mach_port_allocate_full: its kern_return_t; *name in (with MACHIO_QOS_NAME) and out. */
static int allocate_full(int fd, __u32 right, __u32 qos, __u64 subsystem, __u32 *name)
{
	struct machio_port_allocate a = {
		.right = right, .qos = qos, .name = *name, .subsystem = subsystem,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &a);

	if (ret)
		return ret;
	*name = a.name;
	return a.kr;
}

static __u32 allocate(int fd, __u32 right)
{
	__u32 name = 0;

	return allocate_full(fd, right, 0, 0, &name) ? 0 : name;
}

static int port_op(int fd, __u32 op, __u32 name, __u32 right, __s32 delta, __u32 *value)
{
	struct machio_port_right a = { .op = op, .name = name, .right = right, .delta = delta };
	int ret = machio_ioctl(fd, MACHIO_IOC_PORT_RIGHT, &a);

	if (ret)
		return ret;
	if (value)
		*value = a.value;
	return a.kr;
}

#define DESTROY(fd, n)		port_op(fd, MACHIO_PORT_OP_DESTROY, n, 0, 0, NULL)
#define MOD_REFS(fd, n, r, d)	port_op(fd, MACHIO_PORT_OP_MOD_REFS, n, r, d, NULL)

static __u32 refs(int fd, __u32 name, __u32 right)
{
	__u32 v = ~0U;

	return port_op(fd, MACHIO_PORT_OP_GET_REFS, name, right, 0, &v) ? ~0U : v;
}

/* mach_port_type, or ~0 for an error. */
static __u32 type(int fd, __u32 name)
{
	__u32 v = ~0U;

	return port_op(fd, MACHIO_PORT_OP_TYPE, name, 0, 0, &v) ? ~0U : v;
}

static int insert(int fd, __u32 name, __u32 poly, __u32 msgt)
{
	struct machio_port_insert_right a = { .name = name, .poly = poly, .msgt_name = msgt };
	int ret = machio_ioctl(fd, MACHIO_IOC_PORT_INSERT_RIGHT, &a);

	return ret ? ret : a.kr;
}

/* MACHIO_IOC_PORT_DEALLOCATE's errno (the library maps it to KERN_*). */
static int deallocate(int fd, __u32 name)
{
	return mio_deallocate(fd, name);
}

FIXTURE(port) {
	int fd;
};

FIXTURE_SETUP(port)
{
	self->fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(port)
{
	close(self->fd);
}

TEST_F(port, allocate_makes_each_kind_of_right)
{
	__u32 rcv = allocate(self->fd, R(RECEIVE));
	__u32 set = allocate(self->fd, R(PORT_SET));
	__u32 dead = allocate(self->fd, R(DEAD_NAME));

	ASSERT_NE(0, rcv);
	EXPECT_EQ(T(RECEIVE), type(self->fd, rcv));
	EXPECT_EQ(1, refs(self->fd, rcv, R(RECEIVE)));
	EXPECT_EQ(0, refs(self->fd, rcv, R(SEND)));	/* no send right yet */
	EXPECT_EQ(T(PORT_SET), type(self->fd, set));
	EXPECT_EQ(1, refs(self->fd, set, R(PORT_SET)));
	EXPECT_EQ(T(DEAD_NAME), type(self->fd, dead));
	EXPECT_EQ(1, refs(self->fd, dead, R(DEAD_NAME)));
	/* Kernel objects' names are send rights to them. */
	EXPECT_EQ(T(SEND), type(self->fd, mio_host(self->fd)));

	EXPECT_EQ(K(SUCCESS), DESTROY(self->fd, rcv));
	EXPECT_EQ(K(INVALID_NAME), DESTROY(self->fd, rcv));
	EXPECT_EQ(~0U, type(self->fd, rcv));
	EXPECT_EQ(K(SUCCESS), DESTROY(self->fd, set));
	EXPECT_EQ(K(SUCCESS), DESTROY(self->fd, dead));
	EXPECT_EQ(K(INVALID_RIGHT), DESTROY(self->fd, mio_host(self->fd)));
	EXPECT_EQ(T(SEND), type(self->fd, mio_host(self->fd)));
}

TEST_F(port, allocate_full_checks_in_osf_order)
{
	struct machio_port_allocate a = { .right = R(RECEIVE) };
	__u32 name;

	name = 0;
	EXPECT_EQ(K(INVALID_VALUE), allocate_full(self->fd, 7, 0, 0, &name));
	name = MACHIO_PORT_NULL;
	EXPECT_EQ(K(INVALID_VALUE), allocate_full(self->fd, R(RECEIVE), MACHIO_QOS_NAME, 0, &name));
	name = MACHIO_PORT_DEAD;
	EXPECT_EQ(K(INVALID_VALUE), allocate_full(self->fd, 7, MACHIO_QOS_NAME, 0, &name));
	name = 0;
	EXPECT_EQ(K(INVALID_VALUE), allocate_full(self->fd, R(PORT_SET), 0, 0x1000, &name));
	EXPECT_EQ(K(INVALID_ARGUMENT), allocate_full(self->fd, R(RECEIVE), 0, 0x1000, &name));
	EXPECT_EQ(K(INVALID_VALUE), allocate_full(self->fd, R(DEAD_NAME), MACHIO_QOS_RT, 0, &name));
	EXPECT_EQ(K(SUCCESS), allocate_full(self->fd, R(RECEIVE), MACHIO_QOS_RT, 0, &name));
	EXPECT_EQ(T(RECEIVE), type(self->fd, name));

	/* Chosen names. */
	name = 0x5007;
	EXPECT_EQ(K(SUCCESS), allocate_full(self->fd, R(RECEIVE), MACHIO_QOS_NAME, 0, &name));
	EXPECT_EQ(0x5007, name);
	EXPECT_EQ(K(NAME_EXISTS), allocate_full(self->fd, R(PORT_SET), MACHIO_QOS_NAME, 0, &name));
	name = 0x6042;
	EXPECT_EQ(K(SUCCESS), allocate_full(self->fd, R(DEAD_NAME), MACHIO_QOS_NAME, 0, &name));
	EXPECT_EQ(0x6042, name);			/* honoured (OSF ignored it) */
	EXPECT_EQ(T(DEAD_NAME), type(self->fd, 0x6042));
	name = 0x42;				/* index 0: no slot */
	EXPECT_EQ(K(INVALID_VALUE), allocate_full(self->fd, R(RECEIVE), MACHIO_QOS_NAME, 0, &name));
	name = 0x7fffff01;			/* beyond the largest table */
	EXPECT_EQ(K(NO_SPACE), allocate_full(self->fd, R(RECEIVE), MACHIO_QOS_NAME, 0, &name));
	/* The slots skipped to reach 0x50 and 0x60 are free: names made later use them. */
	name = allocate(self->fd, R(RECEIVE));
	EXPECT_GT(0x6000, name);
	EXPECT_NE(0x50, name >> 8);

	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_ALLOCATE, &a));
	a.reserved[1] = 0;
	a.kr = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_ALLOCATE, &a));
}

TEST_F(port, send_rights_share_the_receive_name_and_count_urefs)
{
	__u32 p = allocate(self->fd, R(RECEIVE));
	__u32 other = allocate(self->fd, R(DEAD_NAME));

	EXPECT_EQ(K(SUCCESS), insert(self->fd, p, p, MSGT(MAKE_SEND)));
	EXPECT_EQ(T(RECEIVE) | T(SEND), type(self->fd, p));
	EXPECT_EQ(1, refs(self->fd, p, R(SEND)));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, p, p, MSGT(COPY_SEND)));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, p, p, MSGT(MOVE_SEND)));	/* no change */
	EXPECT_EQ(2, refs(self->fd, p, R(SEND)));
	/* One name per port: a send right elsewhere is KERN_RIGHT_EXISTS. */
	EXPECT_EQ(K(RIGHT_EXISTS), insert(self->fd, 0x9901, p, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(RIGHT_EXISTS), insert(self->fd, other, p, MSGT(COPY_SEND)));

	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(SEND), 65532));
	EXPECT_EQ(65534, refs(self->fd, p, R(SEND)));
	EXPECT_EQ(K(UREFS_OVERFLOW), MOD_REFS(self->fd, p, R(SEND), 1));
	EXPECT_EQ(K(UREFS_OVERFLOW), insert(self->fd, p, p, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(INVALID_VALUE), MOD_REFS(self->fd, p, R(SEND), -65535));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(SEND), 0));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(SEND), -65533));
	EXPECT_EQ(0, deallocate(self->fd, p));		/* the last user reference */
	EXPECT_EQ(T(RECEIVE), type(self->fd, p));
	/* The receive right alone is not deallocated: KERN_INVALID_RIGHT. */
	EXPECT_EQ(-EBUSY, deallocate(self->fd, p));
	EXPECT_EQ(K(INVALID_RIGHT), MOD_REFS(self->fd, p, R(SEND), -1));
	EXPECT_EQ(K(INVALID_VALUE), MOD_REFS(self->fd, p, R(RECEIVE), 1));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(RECEIVE), 0));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(RECEIVE), -1));
	EXPECT_EQ(~0U, type(self->fd, p));		/* the name is free */
}

TEST_F(port, send_once_rights_have_names_of_their_own)
{
	__u32 p = allocate(self->fd, R(RECEIVE));
	__u32 so = 0x8801, moved = 0x8901;

	EXPECT_EQ(K(NAME_EXISTS), insert(self->fd, p, p, MSGT(MAKE_SEND_ONCE)));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, so, p, MSGT(MAKE_SEND_ONCE)));
	EXPECT_EQ(T(SEND_ONCE), type(self->fd, so));
	EXPECT_EQ(1, refs(self->fd, so, R(SEND_ONCE)));
	EXPECT_EQ(K(INVALID_VALUE), MOD_REFS(self->fd, so, R(SEND_ONCE), 1));
	EXPECT_EQ(K(NAME_EXISTS), insert(self->fd, p, so, MSGT(MOVE_SEND_ONCE)));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, moved, so, MSGT(MOVE_SEND_ONCE)));
	EXPECT_EQ(~0U, type(self->fd, so));
	EXPECT_EQ(T(SEND_ONCE), type(self->fd, moved));
	EXPECT_EQ(0, deallocate(self->fd, moved));
	EXPECT_EQ(~0U, type(self->fd, moved));

	/* Another one, released by mod_refs. */
	EXPECT_EQ(K(SUCCESS), insert(self->fd, so, p, MSGT(MAKE_SEND_ONCE)));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, so, R(SEND_ONCE), -1));
	EXPECT_EQ(~0U, type(self->fd, so));
}

TEST_F(port, rights_turn_into_dead_names_when_the_receive_right_goes)
{
	__u32 p = allocate(self->fd, R(RECEIVE));
	__u32 so = 0x7701, q;

	EXPECT_EQ(K(SUCCESS), insert(self->fd, p, p, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(SEND), 2));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, so, p, MSGT(MAKE_SEND_ONCE)));
	/* The receive right goes: its send right (same name) is a dead name, urefs kept. */
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, p, R(RECEIVE), -1));
	EXPECT_EQ(T(DEAD_NAME), type(self->fd, p));
	EXPECT_EQ(3, refs(self->fd, p, R(DEAD_NAME)));
	EXPECT_EQ(0, refs(self->fd, p, R(SEND)));
	/* The send-once right elsewhere, when next looked at: one reference. */
	EXPECT_EQ(T(DEAD_NAME), type(self->fd, so));
	EXPECT_EQ(1, refs(self->fd, so, R(DEAD_NAME)));
	EXPECT_EQ(K(INVALID_RIGHT), MOD_REFS(self->fd, so, R(SEND_ONCE), -1));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, so, R(DEAD_NAME), 65534));
	EXPECT_EQ(K(UREFS_OVERFLOW), MOD_REFS(self->fd, so, R(DEAD_NAME), 1));
	EXPECT_EQ(K(INVALID_VALUE), MOD_REFS(self->fd, so, R(DEAD_NAME), -65536));
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, so, R(DEAD_NAME), -65535));
	EXPECT_EQ(~0U, type(self->fd, so));
	EXPECT_EQ(K(INVALID_CAPABILITY), insert(self->fd, p, p, MSGT(COPY_SEND)));
	EXPECT_EQ(0, deallocate(self->fd, p));
	EXPECT_EQ(0, deallocate(self->fd, p));
	EXPECT_EQ(0, deallocate(self->fd, p));
	EXPECT_EQ(-EINVAL, deallocate(self->fd, p));	/* KERN_INVALID_NAME */

	/* mach_port_destroy of a send-receive name takes it all. */
	q = allocate(self->fd, R(RECEIVE));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, q, q, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, so, q, MSGT(MAKE_SEND_ONCE)));
	EXPECT_EQ(K(SUCCESS), DESTROY(self->fd, q));
	EXPECT_EQ(~0U, type(self->fd, q));
	EXPECT_EQ(T(DEAD_NAME), type(self->fd, so));
}

TEST_F(port, insert_right_checks_its_arguments)
{
	__u32 p = allocate(self->fd, R(RECEIVE));
	__u32 set = allocate(self->fd, R(PORT_SET));
	__u32 so = 0x6601, q;

	EXPECT_EQ(K(INVALID_VALUE), insert(self->fd, MACHIO_PORT_NULL, p, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(INVALID_VALUE), insert(self->fd, MACHIO_PORT_DEAD, p, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(INVALID_VALUE), insert(self->fd, p, p, 15));
	EXPECT_EQ(K(INVALID_VALUE), insert(self->fd, p, p, 22));
	EXPECT_EQ(K(INVALID_NAME), insert(self->fd, p, 0x123401, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(INVALID_RIGHT), insert(self->fd, p, p, MSGT(COPY_SEND)));	/* no send */
	EXPECT_EQ(K(INVALID_RIGHT), insert(self->fd, set, set, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(INVALID_RIGHT), insert(self->fd, 0x5501, mio_host(self->fd), MSGT(COPY_SEND)));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, so, p, MSGT(MAKE_SEND_ONCE)));
	EXPECT_EQ(K(INVALID_RIGHT), insert(self->fd, 0x6701, so, MSGT(MAKE_SEND_ONCE)));
	EXPECT_EQ(K(NAME_EXISTS), insert(self->fd, set, p, MSGT(MAKE_SEND_ONCE)));

	/* A receive right alone may take another name; with a send right, not. */
	q = 0x4401;
	EXPECT_EQ(K(SUCCESS), insert(self->fd, q, p, MSGT(MOVE_RECEIVE)));
	EXPECT_EQ(~0U, type(self->fd, p));
	EXPECT_EQ(T(RECEIVE), type(self->fd, q));
	EXPECT_EQ(T(SEND_ONCE), type(self->fd, so));	/* still to the same port */
	EXPECT_EQ(K(SUCCESS), insert(self->fd, q, q, MSGT(MAKE_SEND)));
	EXPECT_EQ(K(RIGHT_EXISTS), insert(self->fd, 0x4501, q, MSGT(MOVE_RECEIVE)));
	EXPECT_EQ(T(SEND) | T(RECEIVE), type(self->fd, q));
	EXPECT_EQ(K(SUCCESS), insert(self->fd, q, q, MSGT(MOVE_RECEIVE)));	/* in place */
}

TEST_F(port, mod_refs_get_refs_and_type_errors)
{
	__u32 set = allocate(self->fd, R(PORT_SET));
	struct machio_port_right a = { .op = 99 };

	EXPECT_EQ(K(INVALID_VALUE), MOD_REFS(self->fd, 0x123401, 5, 0));	/* right first */
	EXPECT_EQ(K(INVALID_NAME), MOD_REFS(self->fd, 0x123401, R(SEND), 0));
	EXPECT_EQ(K(INVALID_VALUE), port_op(self->fd, MACHIO_PORT_OP_GET_REFS, set, 5, 0, NULL));
	EXPECT_EQ(K(INVALID_NAME), port_op(self->fd, MACHIO_PORT_OP_GET_REFS, 0x123401, 0, 0,
					   NULL));
	EXPECT_EQ(K(INVALID_NAME), port_op(self->fd, MACHIO_PORT_OP_TYPE, MACHIO_PORT_NULL, 0, 0,
					   NULL));
	EXPECT_EQ(K(INVALID_RIGHT), MOD_REFS(self->fd, set, R(RECEIVE), -1));
	EXPECT_EQ(K(INVALID_VALUE), MOD_REFS(self->fd, set, R(PORT_SET), -2));
	EXPECT_EQ(-EBUSY, deallocate(self->fd, set));	/* KERN_INVALID_RIGHT */
	EXPECT_EQ(K(SUCCESS), MOD_REFS(self->fd, set, R(PORT_SET), -1));
	EXPECT_EQ(~0U, type(self->fd, set));
	EXPECT_EQ(K(INVALID_RIGHT), MOD_REFS(self->fd, mio_host(self->fd), R(SEND), 1));
	EXPECT_EQ(1, refs(self->fd, mio_host(self->fd), R(SEND)));
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_RIGHT, &a));
	a.op = MACHIO_PORT_OP_TYPE;
	a.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_RIGHT, &a));
}

static int extract(int fd, __u32 name, __u32 msgt, __u32 *poly, __u32 *poly_type)
{
	struct machio_port_extract_right a = { .name = name, .msgt_name = msgt };
	int ret = machio_ioctl(fd, MACHIO_IOC_PORT_EXTRACT_RIGHT, &a);

	*poly = a.poly;
	*poly_type = a.poly_type;
	return ret ?: a.kr;
}

TEST_F(port, extract_right_gives_the_right_back_as_a_reply_would)
{
	__u32 p = allocate(self->fd, R(RECEIVE)), q = allocate(self->fd, R(RECEIVE));
	__u32 dead = allocate(self->fd, R(DEAD_NAME)), set = allocate(self->fd, R(PORT_SET));
	struct machio_port_extract_right bad = { .name = p, .msgt_name = MSGT(MAKE_SEND), .pad = 1 };
	__u32 poly, ptype, so = 0x6a01;

	/* A send right made from the receive right: under the port's name. */
	ASSERT_EQ(K(SUCCESS), extract(self->fd, p, MSGT(MAKE_SEND), &poly, &ptype));
	EXPECT_EQ(p, poly);
	EXPECT_EQ(MSGT(MOVE_SEND), ptype);
	EXPECT_EQ(T(SEND) | T(RECEIVE), type(self->fd, p));
	EXPECT_EQ(1, refs(self->fd, p, R(SEND)));
	/* Copied: one more reference under the same name. */
	ASSERT_EQ(K(SUCCESS), extract(self->fd, p, MSGT(COPY_SEND), &poly, &ptype));
	EXPECT_EQ(p, poly);
	EXPECT_EQ(2, refs(self->fd, p, R(SEND)));
	/* A send-once right: a new name. */
	ASSERT_EQ(K(SUCCESS), extract(self->fd, p, MSGT(MAKE_SEND_ONCE), &poly, &ptype));
	EXPECT_NE(p, poly);
	EXPECT_EQ(MSGT(MOVE_SEND_ONCE), ptype);
	EXPECT_EQ(T(SEND_ONCE), type(self->fd, poly));
	/* Moved: the old name goes, a new one comes. */
	ASSERT_EQ(0, insert(self->fd, so, p, MSGT(MAKE_SEND_ONCE)));
	ASSERT_EQ(K(SUCCESS), extract(self->fd, so, MSGT(MOVE_SEND_ONCE), &poly, &ptype));
	EXPECT_NE(so, poly);
	EXPECT_EQ(~0U, type(self->fd, so));
	/* A receive right alone moves to a new name. */
	ASSERT_EQ(K(SUCCESS), extract(self->fd, q, MSGT(MOVE_RECEIVE), &poly, &ptype));
	EXPECT_EQ(MSGT(MOVE_RECEIVE), ptype);
	EXPECT_NE(q, poly);
	EXPECT_EQ(~0U, type(self->fd, q));
	EXPECT_EQ(T(RECEIVE), type(self->fd, poly));
	/* A dead name: MACH_PORT_DEAD; a move takes its reference. */
	ASSERT_EQ(K(SUCCESS), extract(self->fd, dead, MSGT(COPY_SEND), &poly, &ptype));
	EXPECT_EQ(MACHIO_PORT_DEAD, poly);
	EXPECT_EQ(T(DEAD_NAME), type(self->fd, dead));
	ASSERT_EQ(K(SUCCESS), extract(self->fd, dead, MSGT(MOVE_SEND), &poly, &ptype));
	EXPECT_EQ(MACHIO_PORT_DEAD, poly);
	EXPECT_EQ(~0U, type(self->fd, dead));
	/* Errors, in order. */
	EXPECT_EQ(K(INVALID_VALUE), extract(self->fd, p, 15, &poly, &ptype));
	EXPECT_EQ(K(INVALID_VALUE), extract(self->fd, 0x7777701, 22, &poly, &ptype));
	EXPECT_EQ(K(INVALID_NAME), extract(self->fd, 0x7777701, MSGT(MAKE_SEND), &poly, &ptype));
	EXPECT_EQ(K(INVALID_RIGHT), extract(self->fd, set, MSGT(MAKE_SEND), &poly, &ptype));
	EXPECT_EQ(K(INVALID_RIGHT), extract(self->fd, mio_host(self->fd), MSGT(COPY_SEND), &poly,
					    &ptype));
	EXPECT_EQ(-EINVAL, machio_ioctl(self->fd, MACHIO_IOC_PORT_EXTRACT_RIGHT, &bad));
}

TEST_F(port, names_lists_every_name_with_its_type)
{
	__u32 p = allocate(self->fd, R(RECEIVE));
	__u32 d = allocate(self->fd, R(DEAD_NAME));
	__u32 names[16], types[16];
	struct machio_port_names a = {
		.names = (__u64)(uintptr_t)names, .types = (__u64)(uintptr_t)types, .count = 16,
	};
	int i, seen = 0;

	ASSERT_EQ(K(SUCCESS), insert(self->fd, p, p, MSGT(MAKE_SEND)));
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_NAMES, &a));
	EXPECT_EQ(K(SUCCESS), a.kr);
	EXPECT_EQ(5, a.count);				/* host, task, name server, p, d */
	for (i = 0; i < (int)a.count; i++) {
		if (names[i] == p)
			seen += types[i] == (T(SEND) | T(RECEIVE));
		if (names[i] == d)
			seen += types[i] == T(DEAD_NAME);
		if (names[i] == mio_host(self->fd) || names[i] == MACHIO_NAME_SERVER)
			seen += types[i] == T(SEND);
	}
	EXPECT_EQ(4, seen);

	/* Too little room: the count, nothing written. */
	memset(names, 0xff, sizeof(names));
	a.count = 2;
	ASSERT_EQ(0, machio_ioctl(self->fd, MACHIO_IOC_PORT_NAMES, &a));
	EXPECT_EQ(5, a.count);
	EXPECT_EQ(0xffffffff, names[0]);
	a.count = 16;
	a.names = 8;
	EXPECT_EQ(-EFAULT, machio_ioctl(self->fd, MACHIO_IOC_PORT_NAMES, &a));
}

/*
 * As uid 65534: names are bounded (max_names), ports included, and every
 * right a closed space held goes with it (kmemleak watches).
 */
TEST(ports_are_bounded_as_nobody)
{
	char old[32];
	int status;
	pid_t pid;

	ASSERT_LT(0, read_text(MAX_NAMES, old, sizeof(old)));
	ASSERT_EQ(0, write_file(MAX_NAMES, "8"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd, i, kr = 0;
		__u32 name = 0, so = 0x401;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		/* host, task and the name server take three of the eight. */
		for (i = 0; i < 5; i++)
			if (allocate_full(fd, R(RECEIVE), 0, 0, &name))
				_exit(11);
		if (insert(fd, name, name, MSGT(MAKE_SEND)))	/* same name: no new one */
			_exit(12);
		kr = allocate_full(fd, R(RECEIVE), 0, 0, &name);
		if (kr != K(NO_SPACE))
			_exit(13);
		if (insert(fd, so, name, MSGT(MAKE_SEND_ONCE)) != K(NO_SPACE))
			_exit(14);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	write_file(MAX_NAMES, old);
	EXPECT_EQ(0, WEXITSTATUS(status));
}

MACHIO_TEST_MAIN
