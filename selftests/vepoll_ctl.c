// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_ctl - VEPOLL_IOC_CTL (Documentation.rst, "Watches"), every errno
 * it can return, and the order in which it checks them (Linux's: EFAULT,
 * EBADF epfd, EBADF fd, EPERM, EINVAL, ELOOP, EEXIST/ENOENT, ENOSPC).
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "vepoll_test.h"

#define BAD_OP		0x7f

FIXTURE(ctl) {
	int dev, ep, p[2];
	int file;	/* a regular file: not pollable */
	int dir;	/* a directory: not pollable */
	int closed;	/* a descriptor number that is not open */
};

FIXTURE_SETUP(ctl)
{
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
	self->file = memfd_create("vepoll-regular", MFD_CLOEXEC);
	ASSERT_LE(0, self->file);
	self->dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dir);
	self->closed = dup(0);
	ASSERT_LE(0, self->closed);
	close(self->closed);
}

FIXTURE_TEARDOWN(ctl)
{
	close(self->dir);
	close(self->file);
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

/* A CTL whose every field the test chooses. */
static int ctl_raw(int dev, int epfd, __u32 op, int fd, __u32 pad,
		   __u32 events, __u32 ev_pad, __u64 data)
{
	struct vepoll_ctl_args a = {
		.epfd = epfd, .op = op, .fd = fd, .__pad = pad,
		.event = { .events = events, .__pad = ev_pad, .data = data },
	};

	return vp_ctl_args(dev, &a);
}

/* ---- success paths ------------------------------------------------------- */

TEST_F(ctl, add_then_wait_reports_the_watch)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x1234));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0x1234U, ev.data);
}

TEST_F(ctl, mod_replaces_mask_and_data)
{
	struct vepoll_event ev;

	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLRDNORM, 2));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN | VEPOLLRDNORM, ev.events);
	EXPECT_EQ(2U, ev.data);
	/* A read end is never writable: with OUT only, nothing to report. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLOUT, 3));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

TEST_F(ctl, del_removes_the_watch)
{
	struct vepoll_event ev;

	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[0],
			    0, 0));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	/* The key is free again. */
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
}

/* Every defined bit is accepted by ADD and by MOD. */
TEST_F(ctl, every_defined_bit_is_accepted)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		__u32 m = 1U << bit;

		if (!(m & VP_VALID_BITS))
			continue;
		EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				    self->p[0], m, bit)) {
			TH_LOG("ADD with %#x", m);
		}
		EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				    self->p[0], m, bit)) {
			TH_LOG("MOD with %#x", m);
		}
		EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				    self->p[0], 0, 0));
	}
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VP_VALID_BITS, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    0, 0));
}

/* DEL ignores event entirely: bits, pad and data may be anything. */
TEST_F(ctl, del_ignores_event)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	EXPECT_EQ(0, ctl_raw(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[0],
			     0, 0xffffffff, 0xffffffff, ~0ULL));
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				  self->p[0], 0, 0));
}

/* The key is (file, fd): a dup is a second, independent watch. */
TEST_F(ctl, dup_of_watched_fd_is_a_different_key)
{
	struct vepoll_event ev[4];
	int d = dup(self->p[0]);
	int n;

	ASSERT_LE(0, d);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 100));
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, d,
			    VEPOLLIN, 200));
	EXPECT_EQ(-EEXIST, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, d,
				  VEPOLLIN, 200));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	n = vp_wait(self->dev, self->ep, ev, 4, 0);
	ASSERT_EQ(2, n);
	EXPECT_LE(0, vp_find(ev, n, 100));
	EXPECT_LE(0, vp_find(ev, n, 200));
	/* Deleting one key leaves the other. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[0],
			    0, 0));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, ev, 4, 0));
	EXPECT_EQ(200U, ev[0].data);
	close(d);
}

TEST_F(ctl, same_target_in_two_instances)
{
	struct vepoll_event ev;
	int ep2 = vp_create(self->dev, 0);

	ASSERT_LE(0, ep2);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, ep2, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 2));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(1U, ev.data);
	ASSERT_EQ(1, vp_wait(self->dev, ep2, &ev, 1, 0));
	EXPECT_EQ(2U, ev.data);
	/* Watch lists are per instance. */
	ASSERT_EQ(0, vp_ctl(self->dev, ep2, VEPOLL_CTL_DEL, self->p[0], 0, 0));
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, ep2, VEPOLL_CTL_DEL, self->p[0],
				  0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[0],
			    0, 0));
	close(ep2);
}

/* ---- each errno on its own ----------------------------------------------- */

TEST_F(ctl, add_of_watched_key_is_eexist)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	EXPECT_EQ(-EEXIST, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->p[0], VEPOLLOUT, 2));
}

TEST_F(ctl, mod_and_del_of_unwatched_key_are_enoent)
{
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				  self->p[0], VEPOLLIN, 1));
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				  self->p[0], 0, 0));
	/* Watching the other end does not make this one watched. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 1));
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				  self->p[0], VEPOLLIN, 1));
}

TEST_F(ctl, epfd_not_open_is_ebadf)
{
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, -1, VEPOLL_CTL_ADD, self->p[0],
				 VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->closed, VEPOLL_CTL_ADD,
				 self->p[0], VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, 1 << 20, VEPOLL_CTL_ADD,
				 self->p[0], VEPOLLIN, 0));
}

TEST_F(ctl, target_not_open_is_ebadf)
{
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, -1,
				 VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				 self->closed, VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				 self->closed, VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				 self->closed, 0, 0));
}

TEST_F(ctl, regular_file_target_is_eperm)
{
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				 self->file, VEPOLLIN, 0));
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				 self->file, VEPOLLIN, 0));
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				 self->file, 0, 0));
}

TEST_F(ctl, directory_target_is_eperm)
{
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				 self->dir, VEPOLLIN, 0));
}

TEST_F(ctl, epfd_not_an_instance_is_einval)
{
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->p[1], VEPOLL_CTL_ADD,
				  self->p[0], VEPOLLIN, 0));
	/* /dev/vepoll itself is not an instance either. */
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->dev, VEPOLL_CTL_ADD,
				  self->p[0], VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->dir, VEPOLL_CTL_ADD,
				  self->p[0], VEPOLLIN, 0));
}

TEST_F(ctl, fd_equal_to_epfd_is_einval)
{
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->ep, VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				  self->ep, VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				  self->ep, 0, 0));
}

TEST_F(ctl, adding_instance_to_itself_through_dup_is_einval)
{
	int d = dup(self->ep);

	ASSERT_LE(0, d);
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, d,
				  VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, d, VEPOLL_CTL_ADD, self->ep,
				  VEPOLLIN, 0));
	close(d);
}

TEST_F(ctl, unknown_event_bits_are_einval)
{
	unsigned int bit;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 0));
	for (bit = 0; bit < 32; bit++) {
		__u32 m = 1U << bit;

		if (m & VP_KNOWN_BITS)
			continue;
		EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
					  self->p[0], VEPOLLIN | m, 0)) {
			TH_LOG("ADD with bit %u", bit);
		}
		EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
					  self->p[1], VEPOLLOUT | m, 0)) {
			TH_LOG("MOD with bit %u", bit);
		}
	}
	/* None of the failed ADDs created a watch. */
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				  self->p[0], 0, 0));
}

TEST_F(ctl, nonzero_pad_in_ctl_args_is_einval)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 0));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_ADD,
				   self->p[0], 1, VEPOLLIN, 0, 0));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_MOD,
				   self->p[1], 0x80000000, VEPOLLOUT, 0, 0));
	/* DEL ignores event, not the argument's own pad. */
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_DEL,
				   self->p[1], 1, 0, 0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[1],
			    0, 0));
}

TEST_F(ctl, nonzero_pad_in_event_is_einval)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 0));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_ADD,
				   self->p[0], 0, VEPOLLIN, 1, 0));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_MOD,
				   self->p[1], 0, VEPOLLOUT, 0xffffffff, 0));
}

TEST_F(ctl, unknown_op_is_einval)
{
	const __u32 ops[] = { 0, 4, 5, BAD_OP, 0x80000001, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, ops[i],
					  self->p[0], VEPOLLIN, 0)) {
			TH_LOG("op %#x", ops[i]);
		}
	}
}

/* ---- the order of the checks --------------------------------------------- */

TEST_F(ctl, order_bad_epfd_before_bad_op)
{
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->closed, BAD_OP, self->p[0],
				 VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, ctl_raw(self->dev, self->closed, VEPOLL_CTL_ADD,
				  self->p[0], 1, 0xffffffff, 1, 0));
}

TEST_F(ctl, order_bad_epfd_before_target_checks)
{
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->closed, VEPOLL_CTL_ADD,
				 self->file, VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->closed, VEPOLL_CTL_ADD,
				 self->closed, VEPOLLIN, 0));
}

/* EBADF for the target comes before "epfd is not an instance". */
TEST_F(ctl, order_bad_target_before_epfd_not_instance)
{
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->p[1], VEPOLL_CTL_ADD,
				 self->closed, VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, vp_ctl(self->dev, self->ep, BAD_OP, self->closed,
				 VEPOLLIN, 0));
	EXPECT_EQ(-EBADF, ctl_raw(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->closed, 1, 0xffffffff, 1, 0));
}

TEST_F(ctl, order_unpollable_target_before_einval)
{
	/* ... before a bad op, */
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->ep, BAD_OP, self->file,
				 VEPOLLIN, 0));
	/* bad bits and pads, */
	EXPECT_EQ(-EPERM, ctl_raw(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->file, 1, 0xffffffff, 1, 0));
	/* an epfd that is not an instance, */
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->p[1], VEPOLL_CTL_ADD,
				 self->file, VEPOLLIN, 0));
	EXPECT_EQ(-EPERM, vp_ctl(self->dev, self->p[1], BAD_OP, self->dir,
				 VEPOLLIN, 0));
}

TEST_F(ctl, order_einval_before_eexist_and_enoent)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	/* ADD of an existing key with bad bits or pad: EINVAL, not EEXIST. */
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->p[0], VEPOLLIN | (1U << 20), 1));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_ADD,
				   self->p[0], 0, VEPOLLIN, 1, 1));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_ADD,
				   self->p[0], 1, VEPOLLIN, 0, 1));
	/* MOD/DEL of a missing key with bad bits/pad/op: EINVAL, not ENOENT. */
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD,
				  self->p[1], VEPOLLOUT | (1U << 28), 1));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_MOD,
				   self->p[1], 0, VEPOLLOUT, 1, 1));
	EXPECT_EQ(-EINVAL, ctl_raw(self->dev, self->ep, VEPOLL_CTL_DEL,
				   self->p[1], 1, 0, 0, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, BAD_OP, self->p[1],
				  VEPOLLOUT, 1));
	/* fd == epfd is EINVAL whatever the op. */
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, BAD_OP, self->ep,
				  VEPOLLIN, 1));
}

/* DEL ignores event: garbage there still gives ENOENT for a missing key. */
TEST_F(ctl, order_del_with_garbage_event_is_enoent)
{
	EXPECT_EQ(-ENOENT, ctl_raw(self->dev, self->ep, VEPOLL_CTL_DEL,
				   self->p[0], 0, 0xffffffff, 0xffffffff,
				   ~0ULL));
	EXPECT_EQ(-ENOENT, ctl_raw(self->dev, self->ep, VEPOLL_CTL_DEL,
				   self->p[0], 0, 1U << 20, 0, 0));
}

/* ---- ENOSPC -------------------------------------------------------------- */

/*
 * Fill @ep with @n watches on dups of one eventfd (each dup is its own
 * key); their fds go in @fds. Returns the number added.
 */
static int fill_watches(int dev, int ep, int efd, int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = dup(efd);
		if (fds[i] < 0)
			return i;
		if (vp_ctl(dev, ep, VEPOLL_CTL_ADD, fds[i], VEPOLLIN, i)) {
			close(fds[i]);
			return i;
		}
	}
	return n;
}

/* Checks with @ep holding max_watches watches, one of them on fds[0]. */
static void check_full(struct __test_metadata *_metadata, int dev, int ep,
		       int efd, int *fds)
{
	int extra = dup(efd);

	ASSERT_LE(0, extra);
	EXPECT_EQ(-ENOSPC, vp_ctl(dev, ep, VEPOLL_CTL_ADD, extra, VEPOLLIN, 0));
	/* Checked before ENOSPC: EINVAL and EEXIST. */
	EXPECT_EQ(-EINVAL, vp_ctl(dev, ep, VEPOLL_CTL_ADD, extra,
				  VEPOLLIN | (1U << 20), 0));
	EXPECT_EQ(-EEXIST, vp_ctl(dev, ep, VEPOLL_CTL_ADD, fds[0],
				  VEPOLLIN, 0));
	/* A full instance still takes MOD and DEL; DEL frees a slot. */
	EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_MOD, fds[0], VEPOLLOUT, 0));
	EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, fds[0], 0, 0));
	EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, extra, VEPOLLIN, 0));
	EXPECT_EQ(-ENOSPC, vp_ctl(dev, ep, VEPOLL_CTL_ADD, fds[0],
				  VEPOLLIN, 0));
	close(extra);
}

TEST_F(ctl, default_max_watches_is_1024_and_enforced)
{
	long max = vp_param("max_watches");
	int efd, *fds, n;

	EXPECT_EQ(vp_param_expected("max_watches", 1024), max);
	ASSERT_LT(0, max);
	ASSERT_GE(65536, max);
	ASSERT_EQ(0, vp_want_nofile(max + 64));
	efd = vp_eventfd(0);
	ASSERT_LE(0, efd);
	fds = calloc(max, sizeof(*fds));
	ASSERT_TRUE(!!fds);
	n = fill_watches(self->dev, self->ep, efd, fds, max);
	ASSERT_EQ(max, n);
	check_full(_metadata, self->dev, self->ep, efd, fds);
	vp_close_all(fds, n);
	close(efd);
	free(fds);
}

/* A module reloaded with max_watches=8; restored by the teardown. */
FIXTURE(small) {
	bool reloaded;
};

FIXTURE_SETUP(small)
{
}

FIXTURE_TEARDOWN(small)
{
	if (self->reloaded)
		EXPECT_EQ(0, vp_module_put_back());
}

TEST_F(small, add_beyond_max_watches_is_enospc)
{
	const char *why = vp_reload_unsupported();
	int dev, ep, ep2, efd, fds[8], fds2[8], n;

	if (why)
		SKIP(return, "%s", why);
	self->reloaded = true;
	ASSERT_EQ(0, vp_module_reload("max_watches=8"));
	ASSERT_EQ(8, vp_param("max_watches"));
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	efd = vp_eventfd(0);
	ASSERT_LE(0, efd);
	n = fill_watches(dev, ep, efd, fds, 8);
	ASSERT_EQ(8, n);
	check_full(_metadata, dev, ep, efd, fds);
	/* The limit is per instance: a second one takes 8 of its own. */
	ep2 = vp_create(dev, 0);
	ASSERT_LE(0, ep2);
	EXPECT_EQ(8, fill_watches(dev, ep2, efd, fds2, 8));
	vp_close_all(fds2, 8);
	close(ep2);
	vp_close_all(fds, n);
	close(efd);
	close(ep);
	close(dev);
}

TEST_HARNESS_MAIN
