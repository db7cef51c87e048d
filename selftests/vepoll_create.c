// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_create - VEPOLL_IOC_CREATE, the instance file and the
 * global limit on live instances.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "vepoll_test.h"

FIXTURE(dev) {
	int dev;
};

FIXTURE_SETUP(dev)
{
	self->dev = vp_assert_open_dev(_metadata);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->dev);
}

TEST_F(dev, create_flags_zero_gives_fd_without_cloexec)
{
	int ep = vp_create(self->dev, 0);

	ASSERT_LE(0, ep);
	EXPECT_EQ(0, fcntl(ep, F_GETFD) & FD_CLOEXEC);
	EXPECT_NE(self->dev, ep);
	close(ep);
}

TEST_F(dev, create_cloexec_sets_fd_cloexec)
{
	int ep = vp_create(self->dev, VEPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	EXPECT_EQ(FD_CLOEXEC, fcntl(ep, F_GETFD) & FD_CLOEXEC);
	close(ep);
}

TEST_F(dev, create_other_flags_einval)
{
	const unsigned long bad[] = {
		1, O_NONBLOCK, O_CLOEXEC | 1, O_CLOEXEC | O_NONBLOCK, O_RDWR,
		0x80000000UL, ~0UL, ~(unsigned long)O_CLOEXEC,
#if __SIZEOF_LONG__ == 8
		/* The ioctl argument is a long: the high half counts too. */
		0x100000000UL, 0x100000000UL | O_CLOEXEC,
#endif
	};
	unsigned int i;
	int next_fd;

	next_fd = dup(0);
	ASSERT_LE(0, next_fd);
	close(next_fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vp_create(self->dev, bad[i])) {
			TH_LOG("flags %#lx", bad[i]);
		}
	}
	/* No descriptor was left behind by the failures. */
	EXPECT_EQ(next_fd, dup(0));
}

TEST_F(dev, instances_get_distinct_fds)
{
	int a = vp_create(self->dev, 0);
	int b = vp_create(self->dev, 0);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_NE(a, b);
	close(a);
	close(b);
}

TEST_F(dev, instance_read_and_write_are_eperm)
{
	char buf[16] = "x";
	int ep = vp_create(self->dev, 0);

	ASSERT_LE(0, ep);
	EXPECT_EQ(-EPERM, vp_ret(read(ep, buf, sizeof(buf))));
	EXPECT_EQ(-EPERM, vp_ret(write(ep, buf, sizeof(buf))));
	EXPECT_EQ(-EPERM, vp_ret(read(ep, buf, 0)));
	close(ep);
}

TEST_F(dev, instance_fd_is_anon_inode_vepoll)
{
	char path[64], link[128];
	ssize_t n;
	int ep = vp_create(self->dev, 0);

	ASSERT_LE(0, ep);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ep);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("anon_inode:[vepoll]", link);
	close(ep);
}

/*
 * Create until the global limit. Root's CAP_SYS_RESOURCE lifts the
 * per-user limit, so the first failure is the global one.
 */
TEST_F(dev, create_beyond_max_instances_is_enfile)
{
	long max = vp_param("max_instances");
	int *fds, n, ret, i;

	ASSERT_LT(0, max);
	if (geteuid())
		SKIP(return, "not root: the per-user limit would come first");
	ASSERT_GE(100000, max);
	ASSERT_EQ(0, vp_want_nofile(max + 64));
	fds = calloc(max + 1, sizeof(*fds));
	ASSERT_TRUE(!!fds);
	for (n = 0; n < max; n++) {
		fds[n] = vp_create(self->dev, 0);
		ASSERT_LE(0, fds[n]) {
			TH_LOG("instance %d of %ld: %s", n + 1, max,
			       strerror(-fds[n]));
		}
	}
	EXPECT_EQ(-ENFILE, vp_create(self->dev, 0));
	EXPECT_EQ(-ENFILE, vp_create(self->dev, VEPOLL_CLOEXEC));
	/* Closing one frees its slot at once. */
	close(fds[0]);
	fds[0] = vp_create(self->dev, 0);
	EXPECT_LE(0, fds[0]);
	EXPECT_EQ(-ENFILE, vp_create(self->dev, 0));
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* All slots are free again. */
	for (n = 0; n < max; n++) {
		ret = vp_create(self->dev, 0);
		ASSERT_LE(0, ret) {
			TH_LOG("after closing all: instance %d: %s", n + 1,
			       strerror(-ret));
		}
		fds[n] = ret;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* Fill the table up to RLIMIT_NOFILE; the instance slot must not leak. */
TEST_F(dev, create_with_full_fd_table_is_emfile)
{
	long max = vp_param("max_instances");
	struct rlimit rl;
	int fd, last = -1, i, ret;

	ASSERT_LT(0, max);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	while ((fd = dup(self->dev)) >= 0)
		last = fd;
	ASSERT_EQ(EMFILE, errno);
	ASSERT_LE(0, last);
	/* More failures than there are slots: a leak would show below. */
	for (i = 0; i < max + 8; i++) {
		ret = vp_create(self->dev, 0);
		ASSERT_EQ(-EMFILE, ret);
	}
	close(last);
	ret = vp_create(self->dev, 0);
	EXPECT_EQ(last, ret);
	EXPECT_EQ(-EMFILE, vp_create(self->dev, VEPOLL_CLOEXEC));
	close(ret);
}

TEST_F(dev, instance_from_one_dev_fd_is_usable_through_another)
{
	int dev2 = vp_open_dev();
	struct vepoll_event ev;
	int ep, p[2];

	ASSERT_LE(0, dev2);
	ep = vp_create(self->dev, 0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, vp_pipe(p));
	ASSERT_EQ(0, vp_ctl(dev2, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 7));
	ASSERT_EQ(1, vp_write_bytes(p[1], 1));
	close(self->dev);
	self->dev = -1;
	ASSERT_EQ(1, vp_wait(dev2, ep, &ev, 1, 0));
	EXPECT_EQ(7U, ev.data);
	close(p[0]);
	close(p[1]);
	close(ep);
	close(dev2);
}

TEST_HARNESS_MAIN
