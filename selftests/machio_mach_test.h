/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Mach port helpers the port, message, set, notification, name
 * service and device-reply selftests share: one ioctl each, the
 * kern_return_t (or mach_msg's code) back, or -errno from the ioctl.
 */
#ifndef MACHIO_MACH_TEST_H
#define MACHIO_MACH_TEST_H

#include "machio_test.h"

#define K(x)		MACHIO_KERN_##x
#define MSGT(x)		MACHIO_MSG_TYPE_##x
#define T(x)		MACHIO_PORT_TYPE_##x
#define R(x)		MACHIO_PORT_RIGHT_##x
#define HDR		sizeof(struct machio_msg_header)

static inline int mach_msg(int fd, void *m, __u32 option, __u32 send_size, __u32 rcv_size,
			   __u32 rcv_name, __u32 timeout)
{
	struct machio_msg a = {
		.msg = (__u64)(uintptr_t)m, .option = option, .send_size = send_size,
		.rcv_size = rcv_size, .rcv_name = rcv_name, .timeout = timeout,
	};
	int ret = machio_ioctl(fd, MACHIO_IOC_MSG, &a);

	return ret ? ret : a.kr;
}

/* A new right of @right (with @qos): its name, or 0. */
static inline __u32 allocate_qos(int fd, __u32 right, __u32 qos)
{
	struct machio_port_allocate a = { .right = right, .qos = qos };

	return machio_ioctl(fd, MACHIO_IOC_PORT_ALLOCATE, &a) || a.kr ? 0 : a.name;
}

static inline __u32 allocate(int fd, __u32 right)
{
	return allocate_qos(fd, right, 0);
}

static inline int insert(int fd, __u32 name, __u32 poly, __u32 msgt)
{
	struct machio_port_insert_right a = { .name = name, .poly = poly, .msgt_name = msgt };

	return machio_ioctl(fd, MACHIO_IOC_PORT_INSERT_RIGHT, &a) ?: a.kr;
}

/* A MACHIO_PORT_OP_* query's value, or ~0 for an error. */
static inline __u32 port_info(int fd, __u32 op, __u32 name, __u32 right)
{
	struct machio_port_right a = { .op = op, .name = name, .right = right };

	return machio_ioctl(fd, MACHIO_IOC_PORT_RIGHT, &a) || a.kr ? ~0U : a.value;
}

#define TYPE(fd, n)		port_info(fd, MACHIO_PORT_OP_TYPE, n, 0)
#define REFS(fd, n, r)		port_info(fd, MACHIO_PORT_OP_GET_REFS, n, r)

static inline int destroy(int fd, __u32 name)
{
	struct machio_port_right a = { .op = MACHIO_PORT_OP_DESTROY, .name = name };

	return machio_ioctl(fd, MACHIO_IOC_PORT_RIGHT, &a) ?: a.kr;
}

/* Word @word of a receive right's mach_port_status_t, or ~0 for an error. */
static inline __u32 status(int fd, __u32 name, int word)
{
	struct machio_port_attributes a = {
		.name = name, .flavor = MACHIO_PORT_RECEIVE_STATUS, .count = 10,
	};

	return machio_ioctl(fd, MACHIO_IOC_PORT_ATTRIBUTES, &a) || a.kr ? ~0U : a.info[word];
}

#endif
