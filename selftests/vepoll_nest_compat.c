// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_nest_compat - one ABI for 32-bit and 64-bit programs.
 *
 * The suite is built twice, as 64-bit and as 32-bit (i386) programs, and
 * both run against the same 64-bit kernel; the 32-bit ones reach vepoll
 * through compat_ioctl. This program pins the layout of every ABI
 * structure and the value of every request to fixed numbers, so that both
 * builds are checked against the same ones, and checks what a 32-bit
 * program could get wrong: 64-bit data and user addresses carried in
 * __u64 fields, through nested instances too.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"
#include "vepoll_nest.h"

#define BITS	((int)sizeof(void *) * 8)

/* The numbers Documentation.rst ("The ABI") gives, whatever the build. */
_Static_assert(sizeof(struct vepoll_event) == 16, "vepoll_event");
_Static_assert(sizeof(struct vepoll_ctl_args) == 32, "vepoll_ctl_args");
_Static_assert(sizeof(struct vepoll_wait_args) == 40, "vepoll_wait_args");
_Static_assert(sizeof(struct vepoll_ctl_batch) == 32, "vepoll_ctl_batch");

TEST(build_under_test)
{
	TH_LOG("%d-bit program: long %zu, pointer %zu, __u64 aligned to %zu",
	       BITS, sizeof(long), sizeof(void *), __alignof__(__u64));
	EXPECT_TRUE(BITS == 32 || BITS == 64);
}

TEST(every_abi_structure_has_fixed_offsets_and_sizes)
{
	EXPECT_EQ(16, (int)sizeof(struct vepoll_event));
	EXPECT_EQ(0, (int)offsetof(struct vepoll_event, events));
	EXPECT_EQ(4, (int)offsetof(struct vepoll_event, __pad));
	EXPECT_EQ(8, (int)offsetof(struct vepoll_event, data));

	EXPECT_EQ(32, (int)sizeof(struct vepoll_ctl_args));
	EXPECT_EQ(0, (int)offsetof(struct vepoll_ctl_args, epfd));
	EXPECT_EQ(4, (int)offsetof(struct vepoll_ctl_args, op));
	EXPECT_EQ(8, (int)offsetof(struct vepoll_ctl_args, fd));
	EXPECT_EQ(12, (int)offsetof(struct vepoll_ctl_args, __pad));
	EXPECT_EQ(16, (int)offsetof(struct vepoll_ctl_args, event));
	EXPECT_EQ(16, (int)offsetof(struct vepoll_ctl_args, event.events));
	EXPECT_EQ(20, (int)offsetof(struct vepoll_ctl_args, event.__pad));
	EXPECT_EQ(24, (int)offsetof(struct vepoll_ctl_args, event.data));

	EXPECT_EQ(40, (int)sizeof(struct vepoll_wait_args));
	EXPECT_EQ(0, (int)offsetof(struct vepoll_wait_args, epfd));
	EXPECT_EQ(4, (int)offsetof(struct vepoll_wait_args, timeout_ms));
	EXPECT_EQ(8, (int)offsetof(struct vepoll_wait_args, maxevents));
	EXPECT_EQ(12, (int)offsetof(struct vepoll_wait_args, flags));
	EXPECT_EQ(16, (int)offsetof(struct vepoll_wait_args, events));
	EXPECT_EQ(24, (int)offsetof(struct vepoll_wait_args, sigmask));
	EXPECT_EQ(32, (int)offsetof(struct vepoll_wait_args, sigsetsize));

	EXPECT_EQ(32, (int)sizeof(struct vepoll_ctl_batch));
	EXPECT_EQ(0, (int)offsetof(struct vepoll_ctl_batch, epfd));
	EXPECT_EQ(4, (int)offsetof(struct vepoll_ctl_batch, count));
	EXPECT_EQ(8, (int)offsetof(struct vepoll_ctl_batch, flags));
	EXPECT_EQ(12, (int)offsetof(struct vepoll_ctl_batch, __pad));
	EXPECT_EQ(16, (int)offsetof(struct vepoll_ctl_batch, ctls));
	EXPECT_EQ(24, (int)offsetof(struct vepoll_ctl_batch, results));

	/* An array of events has no gaps, whatever __u64's alignment. */
	EXPECT_EQ(48, (int)sizeof(struct vepoll_event[3]));
	EXPECT_EQ(96, (int)sizeof(struct vepoll_ctl_args[3]));
}

/* _IO/_IOW encode the size, so equal sizes mean equal request numbers. */
TEST(request_numbers_are_fixed)
{
	EXPECT_EQ(0x0000b801U, (unsigned int)VEPOLL_IOC_CREATE);
	EXPECT_EQ(0x4020b802U, (unsigned int)VEPOLL_IOC_CTL);
	EXPECT_EQ(0x4028b803U, (unsigned int)VEPOLL_IOC_WAIT);
	EXPECT_EQ(0x4020b804U, (unsigned int)VEPOLL_IOC_CTL_BATCH);
}

FIXTURE(compat) {
	int dev, inner, outer, p[2];
};

FIXTURE_SETUP(compat)
{
	self->dev = vp_assert_open_dev(_metadata);
	self->inner = vp_create(self->dev, 0);
	self->outer = vp_create(self->dev, 0);
	ASSERT_LE(0, self->inner);
	ASSERT_LE(0, self->outer);
	ASSERT_EQ(0, vp_pipe(self->p));
}

FIXTURE_TEARDOWN(compat)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->outer);
	close(self->inner);
	close(self->dev);
}

/* Every bit of data survives CTL and WAIT, on both levels of a nest. */
TEST_F(compat, data_keeps_all_64_bits_through_a_nest)
{
	const __u64 inner_data = 0x8000000000000001ULL;
	const __u64 outer_data = 0xfedcba9876543210ULL;
	struct vepoll_event ev[2];

	ASSERT_EQ(0, vp_ctl(self->dev, self->inner, VEPOLL_CTL_ADD,
			    self->p[0], VEPOLLIN | VEPOLLET, inner_data));
	ASSERT_EQ(0, vp_ctl(self->dev, self->outer, VEPOLL_CTL_ADD,
			    self->inner, VEPOLLIN | VEPOLLET, outer_data));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	memset(ev, 0xa5, sizeof(ev));
	ASSERT_EQ(1, vp_wait(self->dev, self->outer, ev, 2, 10000));
	EXPECT_EQ(outer_data, ev[0].data);
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	EXPECT_EQ(0U, ev[0].__pad);
	/* The slot after the last event is not written. */
	EXPECT_EQ(0xa5a5a5a5U, ev[1].events);
	memset(ev, 0xa5, sizeof(ev));
	ASSERT_EQ(1, vp_wait(self->dev, self->inner, ev, 2, 0));
	EXPECT_EQ(inner_data, ev[0].data);
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	EXPECT_EQ(0U, ev[0].__pad);
	/* The mode bits went through intact too: both levels are ET now. */
	EXPECT_EQ(0, vp_wait(self->dev, self->inner, ev, 2, 0));
	EXPECT_EQ(0, vp_wait(self->dev, self->outer, ev, 2, 0));
}

/* The top bit of events (VEPOLLET) is not sign-extended or lost. */
TEST_F(compat, et_bit_of_a_wide_mask_is_kept)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->outer, VEPOLL_CTL_ADD, self->p[1],
			    VP_VALID_BITS & ~VEPOLLONESHOT, 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->outer, &ev, 1, 0));
	EXPECT_EQ(VEPOLLOUT | VEPOLLWRNORM, ev.events);
	/* Edge-triggered: reported once. */
	EXPECT_EQ(0, vp_wait(self->dev, self->outer, &ev, 1, 0));
}

/*
 * A 32-bit program's user addresses are zero-extended into __u64 fields:
 * anything above 4 GiB is not its memory, and must fail with EFAULT, not
 * be truncated to the address below it. (In a 64-bit program the same
 * addresses are unmapped and fail alike.)
 */
TEST_F(compat, address_with_upper_half_set_is_efault)
{
	const __u64 high = 1ULL << 32;
	struct vepoll_ctl_args ctl = {
		.epfd = self->outer, .op = VEPOLL_CTL_ADD, .fd = self->p[1],
		.event = { .events = VEPOLLOUT, .data = 1 },
	};
	struct vepoll_event ev = { .events = 0xdead };
	struct vepoll_wait_args wa = {
		.epfd = self->outer, .timeout_ms = 0, .maxevents = 1,
	};
	struct vepoll_ctl_batch batch = {
		.epfd = self->outer, .count = 1,
	};
	sigset_t mask;
	__s32 result = 1;

	if (BITS != 32)
		SKIP(return, "a 64-bit program: its addresses use all 64 bits");
	sigemptyset(&mask);
	ASSERT_EQ(0, vp_ctl_args(self->dev, &ctl));

	/* The event buffer above 4 GiB: nothing is written below it. */
	wa.events = high | vp_ptr(&ev);
	EXPECT_EQ(-EFAULT, vp_wait_args(self->dev, &wa));
	EXPECT_EQ(0xdeadU, ev.events);
	/* And the event was not lost: the right address gets it. */
	wa.events = vp_ptr(&ev);
	EXPECT_EQ(1, vp_wait_args(self->dev, &wa));
	EXPECT_EQ(VEPOLLOUT, ev.events);

	/* The signal mask above 4 GiB. */
	wa.sigmask = high | vp_ptr(&mask);
	wa.sigsetsize = VP_KSIGSET_SIZE;
	EXPECT_EQ(-EFAULT, vp_wait_args(self->dev, &wa));

	/*
	 * The batch's array above 4 GiB: its entry cannot be read, which
	 * the batch reports in the entry's result. Its results above 4 GiB:
	 * EFAULT, and nothing is written below. A MOD, so that whether it
	 * was applied before its result could not be written does not matter.
	 */
	ctl.op = VEPOLL_CTL_MOD;
	batch.ctls = high | vp_ptr(&ctl);
	batch.results = vp_ptr(&result);
	EXPECT_EQ(0, vp_ret(ioctl(self->dev, VEPOLL_IOC_CTL_BATCH, &batch)));
	EXPECT_EQ(-EFAULT, result);
	result = 99;
	batch.ctls = vp_ptr(&ctl);
	batch.results = high | vp_ptr(&result);
	EXPECT_EQ(-EFAULT, vp_ret(ioctl(self->dev, VEPOLL_IOC_CTL_BATCH,
					&batch)));
	EXPECT_EQ(99, result);
	/* Well addressed, the same batch goes through. */
	batch.results = vp_ptr(&result);
	EXPECT_EQ(1, vp_ret(ioctl(self->dev, VEPOLL_IOC_CTL_BATCH, &batch)));
	EXPECT_EQ(0, result);
}

/* A batch of ADDs of instances, from either build: ELOOP in the results. */
TEST_F(compat, batch_reports_eloop_of_a_nested_add)
{
	struct vepoll_ctl_args ctls[2] = {
		{ .epfd = self->outer, .op = VEPOLL_CTL_ADD, .fd = self->inner,
		  .event = { .events = VEPOLLIN, .data = 1 } },
		{ .epfd = self->outer, .op = VEPOLL_CTL_ADD, .fd = self->outer,
		  .event = { .events = VEPOLLIN, .data = 2 } },
	};
	__s32 results[2] = { 99, 99 };
	struct vepoll_ctl_batch batch = {
		.epfd = self->outer, .count = 2,
		.ctls = vp_ptr(ctls), .results = vp_ptr(results),
	};

	/* The second entry adds the instance to itself: EINVAL. */
	EXPECT_EQ(1, vp_ret(ioctl(self->dev, VEPOLL_IOC_CTL_BATCH, &batch)));
	EXPECT_EQ(0, results[0]);
	EXPECT_EQ(-EINVAL, results[1]);
	/* inner into outer is there: outer into inner closes a loop. */
	ctls[0].epfd = self->inner;
	ctls[0].fd = self->outer;
	batch.epfd = self->inner;
	batch.count = 1;
	results[0] = 99;
	EXPECT_EQ(0, vp_ret(ioctl(self->dev, VEPOLL_IOC_CTL_BATCH, &batch)));
	EXPECT_EQ(-ELOOP, results[0]);
}

TEST_HARNESS_MAIN
