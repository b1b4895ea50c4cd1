// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/machio skeleton: open, ABI query, rejection of unknown ioctls
 * and of non-zero reserved fields, and module lifetime (rmmod refused while
 * the device is open, clean reload, and repeated load/unload, which the VM
 * runner checks for leaks with kmemleak on the debug kernel).
 */
#include "kselftest_harness.h"
#include "machio_test.h"

#include <sys/stat.h>
#include <sys/syscall.h>

/* Module load/unload tests need root and the path of machio.ko. */
#define REQUIRE_MODULE_CONTROL(ko)					\
	do {								\
		ko = getenv("MACHIO_KO");				\
		if (!ko || geteuid() != 0)				\
			SKIP(return, "needs root and MACHIO_KO");	\
	} while (0)

TEST(open_close)
{
	int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST(device_is_world_usable)
{
	struct stat st;

	ASSERT_EQ(0, stat(MACHIO_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 0777);
}

TEST(query_reports_abi)
{
	struct machio_query q = {};
	int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	EXPECT_EQ(MACHIO_ABI_VERSION, q.abi_version);
	EXPECT_EQ(MACHIO_IO_INBAND_MAX, q.io_inband_max);
	EXPECT_NE(MACHIO_PORT_NULL, q.host_name);
	EXPECT_NE(MACHIO_PORT_DEAD, q.host_name);
	EXPECT_NE(MACHIO_PORT_NULL, q.task_name);
	EXPECT_NE(q.host_name, q.task_name);
	EXPECT_LE(3, q.max_names);
	EXPECT_EQ(MACHIO_NAME_SERVER, q.name_server);
	EXPECT_TRUE(q.features & MACHIO_FEAT_NETNAME);
	/* A fresh space: its bounds, and nothing in use. */
	EXPECT_TRUE(q.features & MACHIO_FEAT_LIMITS);
	EXPECT_EQ(65536, q.max_requests);
	EXPECT_EQ(16384, q.max_pinned_pages);
	EXPECT_EQ(0, q.nr_requests);
	EXPECT_EQ(0, q.nr_pinned_pages);
	close(fd);
}

/* The bounds are module parameters, each with its range. */
TEST(limit_parameters_are_range_checked)
{
	static const char *const params[] = {
		"max_requests", "max_pinned_pages", "max_pinned_total",
	};
	char path[96], old[32] = {};
	unsigned int i;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "/sys/module/machio/parameters/%s", params[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_LT(0, read(fd, old, sizeof(old) - 1));
		close(fd);
		EXPECT_EQ(-EINVAL, write_file(path, "0"));
		EXPECT_EQ(-EINVAL, write_file(path, "1048577"));
		EXPECT_EQ(0, write_file(path, "1048576"));
		EXPECT_EQ(0, write_file(path, old));
	}
}

TEST(unknown_ioctl_is_enotty)
{
	char buf[64] = {};
	int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, machio_ioctl(fd, _IO(MACHIO_IOC_MAGIC, 0x7f), NULL));
	EXPECT_EQ(-ENOTTY, machio_ioctl(fd, _IOWR('x', 0x00, struct machio_query), buf));
	/* Right number, wrong size: not the same command. */
	EXPECT_EQ(-ENOTTY, machio_ioctl(fd, _IOWR(MACHIO_IOC_MAGIC, 0x00, __u64), buf));
	close(fd);
}

TEST(nonzero_reserved_is_einval)
{
	struct machio_query q = {};
	int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	q.pad2 = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	/* The bounds and usage are output only. */
	memset(&q, 0, sizeof(q));
	q.nr_pooled = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	memset(&q, 0, sizeof(q));
	q.nr_ring_slots = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	memset(&q, 0, sizeof(q));
	q.nr_pinned_pages = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	memset(&q, 0, sizeof(q));
	q.max_requests = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	memset(&q, 0, sizeof(q));
	q.name_server = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	memset(&q, 0, sizeof(q));
	q.abi_version = 1;
	EXPECT_EQ(-EINVAL, machio_ioctl(fd, MACHIO_IOC_QUERY, &q));
	close(fd);
}

TEST(query_bad_address_is_efault)
{
	int fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, machio_ioctl(fd, MACHIO_IOC_QUERY, (void *)16));
	close(fd);
}

TEST(rmmod_refused_while_open)
{
	const char *ko;
	int fd;

	REQUIRE_MODULE_CONTROL(ko);
	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, delete_machio());
	EXPECT_EQ(0, access(MACHIO_DEV, F_OK));
	close(fd);
}

TEST(rmmod_after_close_and_reload)
{
	const char *ko;
	int fd;

	REQUIRE_MODULE_CONTROL(ko);
	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, delete_machio());
	EXPECT_NE(0, access(MACHIO_DEV, F_OK));
	ASSERT_EQ(0, load_machio(ko));
	fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST(load_unload_50_times)
{
	const char *ko;
	int i, fd;

	REQUIRE_MODULE_CONTROL(ko);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, delete_machio()) TH_LOG("unload %d", i);
		ASSERT_EQ(0, load_machio(ko)) TH_LOG("load %d", i);
		/* Exercise open/release in every incarnation. */
		fd = open(MACHIO_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		close(fd);
	}
}

MACHIO_TEST_MAIN
