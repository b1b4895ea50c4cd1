/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the machio selftests.  Include after
 * kselftest_harness.h.
 */
#ifndef MACHIO_TEST_H
#define MACHIO_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uapi/linux/machio.h>

#define MACHIO_DEV "/dev/machio"

/* ioctl() that returns -errno instead of -1, for exact-code assertions. */
static inline int machio_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/*
 * A test binary is skipped as a whole (kselftest exit code 4) when the
 * module is not loaded.
 */
#define MACHIO_TEST_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		if (access(MACHIO_DEV, F_OK)) {				\
			ksft_print_header();				\
			ksft_exit_skip(MACHIO_DEV " is absent: is machio.ko loaded?\n"); \
		}							\
		return test_harness_run(argc, argv);			\
	}

#endif /* MACHIO_TEST_H */
