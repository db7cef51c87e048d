// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_wait2 - VEPOLL_IOC_WAIT2 (Documentation.rst, "Waiting with a
 * changelist"): epoll_pwait2(2) with a nanosecond timeout and a
 * kevent-style changelist applied before the wait, with the rules of
 * VEPOLL_IOC_CTL and the results of VEPOLL_IOC_CTL_BATCH.
 *
 * Timing bounds are one-sided (never shorter than asked) with generous
 * upper margins: the VM is emulated and slow, so no test asserts speed.
 */
#define _GNU_SOURCE
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define NSEC_PER_MSEC	1000000LL
#define NEVER_MS	20000	/* "should not have to wait this long" */
#define UNTOUCHED	0x7eadbeef	/* a result slot nobody wrote */

static int vp_wait2_args(int dev, const struct vepoll_wait2_args *a)
{
	return vp_ret(ioctl(dev, VEPOLL_IOC_WAIT2, a));
}

/* WAIT2 with the common arguments; the rest of the structure is zero. */
static int vp_wait2(int dev, int epfd, struct vepoll_event *ev,
		    unsigned int maxevents, int64_t timeout_ns,
		    const struct vepoll_ctl_args *changes, unsigned int n,
		    __s32 *results)
{
	struct vepoll_wait2_args a = {
		.epfd = epfd,
		.maxevents = maxevents,
		.nchanges = n,
		.timeout_ns = timeout_ns,
		.events = vp_ptr(ev),
		.changes = vp_ptr(changes),
		.results = vp_ptr(results),
	};

	return vp_wait2_args(dev, &a);
}

static struct vepoll_ctl_args change(int epfd, __u32 op, int fd,
				     __u32 events, __u64 data)
{
	struct vepoll_ctl_args c = {
		.epfd = epfd, .op = op, .fd = fd,
		.event = { .events = events, .data = data },
	};

	return c;
}

static void fill_untouched(__s32 *r, unsigned int n)
{
	while (n--)
		r[n] = UNTOUCHED;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Is @fd watched by @ep? ADD answers EEXIST if so (and is undone if not). */
static bool watched(int dev, int ep, int fd)
{
	int r = vp_ctl(dev, ep, VEPOLL_CTL_ADD, fd, VEPOLLIN, 0);

	if (!r)
		vp_ctl(dev, ep, VEPOLL_CTL_DEL, fd, 0, 0);
	return r == -EEXIST;
}

FIXTURE(w2) {
	int dev, ep, p[2];
};

FIXTURE_SETUP(w2)
{
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
}

FIXTURE_TEARDOWN(w2)
{
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

/* ---- arguments ----------------------------------------------------------- */

TEST_F(w2, no_changes_is_a_wait)
{
	struct vepoll_event ev[2];

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x11));
	EXPECT_EQ(0, vp_wait2(self->dev, self->ep, ev, 2, 0, NULL, 0, NULL));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait2(self->dev, self->ep, ev, 2, 0, NULL, 0, NULL));
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	EXPECT_EQ(0x11U, ev[0].data);
	EXPECT_EQ(0U, ev[0].__pad);
}

/* A call that fails for its own arguments applies none of its changes. */
TEST_F(w2, nonzero_flags_is_einval_and_applies_nothing)
{
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_ADD, self->p[0],
					  VEPOLLIN, 1);
	const __u32 flags[] = { 1, 2, 0x80000000U, ~0U };
	struct vepoll_wait2_args a = {
		.epfd = self->ep, .maxevents = 1, .nchanges = 1,
		.changes = vp_ptr(&c),
	};
	struct vepoll_event ev;
	__s32 r = UNTOUCHED;
	unsigned int i;

	a.events = vp_ptr(&ev);
	a.results = vp_ptr(&r);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		a.flags = flags[i];
		EXPECT_EQ(-EINVAL, vp_wait2_args(self->dev, &a));
	}
	EXPECT_EQ(UNTOUCHED, r);
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[0]));
}

TEST_F(w2, maxevents_errors_as_wait_and_apply_nothing)
{
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_ADD, self->p[0],
					  VEPOLLIN, 1);
	struct vepoll_event ev;
	__s32 r = UNTOUCHED;

	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 0, 0, &c, 1, &r));
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev,
				    INT32_MAX / 16 + 1, 0, &c, 1, &r));
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, ~0U, 0, &c, 1,
				    &r));
	/* The same answers as WAIT's. */
	EXPECT_EQ(-EINVAL, vp_wait(self->dev, self->ep, &ev, 0, 0));
	EXPECT_EQ(-EINVAL, vp_wait(self->dev, self->ep, &ev,
				   INT32_MAX / 16 + 1, 0));
	EXPECT_EQ(UNTOUCHED, r);
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[0]));
}

/*
 * As vepoll_wait's test: from a mapping, whose 2 GiB range stays below
 * the top of user space (from the stack it may not: EFAULT).
 */
TEST_F(w2, maxevents_int_max_over_16_is_accepted)
{
	struct vepoll_event *ev;
	size_t len = 2 * 1024 * 1024;

	/* Reserve no memory: nothing will be written. */
	ev = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_TRUE(ev != MAP_FAILED);
	EXPECT_EQ(0, vp_wait2(self->dev, self->ep, ev, INT32_MAX / 16, 0,
			      NULL, 0, NULL));
	munmap(ev, len);
}

/* Fewer slots than ready watches: maxevents events, the rest later. */
TEST_F(w2, maxevents_bounds_the_events_reported)
{
	struct vepoll_event ev[4];
	int e[3], i;

	for (i = 0; i < 3; i++) {
		e[i] = vp_eventfd(1);
		ASSERT_LE(0, e[i]);
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, e[i],
				    VEPOLLIN | VEPOLLET, i));
	}
	EXPECT_EQ(2, vp_wait2(self->dev, self->ep, ev, 2, 0, NULL, 0, NULL));
	EXPECT_EQ(1, vp_wait2(self->dev, self->ep, ev, 4, 0, NULL, 0, NULL));
	EXPECT_EQ(0, vp_wait2(self->dev, self->ep, ev, 4, 0, NULL, 0, NULL));
	vp_close_all(e, 3);
}

TEST_F(w2, nchanges_above_int_max_is_einval)
{
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_ADD, self->p[0],
					  VEPOLLIN, 1);
	struct vepoll_event ev;

	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 1, 0, &c,
				    0x80000000U, NULL));
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 1, 0, &c, ~0U,
				    NULL));
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[0]));
}

TEST_F(w2, bad_epfd_is_ebadf_or_einval)
{
	struct vepoll_event ev;

	EXPECT_EQ(-EBADF, vp_wait2(self->dev, -1, &ev, 1, 0, NULL, 0, NULL));
	EXPECT_EQ(-EBADF, vp_wait2(self->dev, 100000, &ev, 1, 0, NULL, 0,
				   NULL));
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->p[0], &ev, 1, 0, NULL, 0,
				    NULL));
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->dev, &ev, 1, 0, NULL, 0,
				    NULL));
}

/* ---- the changelist ------------------------------------------------------ */

/* Applied before the wait: the wait reports what the changes added. */
TEST_F(w2, changes_are_applied_before_the_wait)
{
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_ADD, self->p[0],
					  VEPOLLIN, 0x42);
	struct vepoll_event ev[2];
	__s32 r = UNTOUCHED;

	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait2(self->dev, self->ep, ev, 2, 0, &c, 1, &r));
	EXPECT_EQ(0, r);
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	EXPECT_EQ(0x42U, ev[0].data);
	EXPECT_TRUE(watched(self->dev, self->ep, self->p[0]));
}

/* In order: a later change sees what an earlier one did. */
TEST_F(w2, changes_are_applied_in_order)
{
	struct vepoll_ctl_args c[4];
	struct vepoll_event ev[2];
	__s32 r[4];

	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	c[0] = change(self->ep, VEPOLL_CTL_ADD, self->p[0], VEPOLLIN, 1);
	c[1] = change(self->ep, VEPOLL_CTL_MOD, self->p[0], VEPOLLIN, 2);
	c[2] = change(self->ep, VEPOLL_CTL_ADD, self->p[1], VEPOLLOUT, 3);
	c[3] = change(self->ep, VEPOLL_CTL_DEL, self->p[1], 0, 0);
	fill_untouched(r, 4);
	ASSERT_EQ(1, vp_wait2(self->dev, self->ep, ev, 2, 0, c, 4, r));
	EXPECT_EQ(2U, ev[0].data);
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(0, r[1]);
	EXPECT_EQ(0, r[2]);
	EXPECT_EQ(0, r[3]);
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[1]));

	/* The other way round: DEL before the ADD it would undo fails. */
	c[0] = change(self->ep, VEPOLL_CTL_DEL, self->p[1], 0, 0);
	c[1] = change(self->ep, VEPOLL_CTL_ADD, self->p[1], VEPOLLOUT, 3);
	fill_untouched(r, 4);
	EXPECT_EQ(-ENOENT, vp_wait2(self->dev, self->ep, ev, 2, 0, c, 2, r));
	EXPECT_EQ(-ENOENT, r[0]);
	EXPECT_EQ(UNTOUCHED, r[1]);
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[1]));
}

/*
 * A failing change stops the call: later changes are not applied, the
 * call does not wait (a 5 s timeout, a ready watch left pending) and it
 * fails with that change's errno.
 */
TEST_F(w2, failing_change_stops_and_does_not_wait)
{
	struct vepoll_ctl_args c[3];
	struct vepoll_event ev[2];
	int64_t t0, dt;
	__s32 r[3];
	int e;

	e = vp_eventfd(0);
	ASSERT_LE(0, e);
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	c[0] = change(self->ep, VEPOLL_CTL_ADD, self->p[0], VEPOLLIN, 1);
	c[1] = change(self->ep, VEPOLL_CTL_MOD, e, VEPOLLIN, 2);  /* ENOENT */
	c[2] = change(self->ep, VEPOLL_CTL_ADD, e, VEPOLLIN, 3);
	fill_untouched(r, 3);
	t0 = vp_now_ms();
	EXPECT_EQ(-ENOENT, vp_wait2(self->dev, self->ep, ev, 2,
				    5000 * NSEC_PER_MSEC, c, 3, r));
	dt = vp_now_ms() - t0;
	EXPECT_GT(2500, dt);
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(-ENOENT, r[1]);
	EXPECT_EQ(UNTOUCHED, r[2]);
	/* The change before it stays applied, the one after it never was. */
	EXPECT_TRUE(watched(self->dev, self->ep, self->p[0]));
	EXPECT_FALSE(watched(self->dev, self->ep, e));
	/* Nothing was harvested: the ready pipe is still pending. */
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, ev, 2, 0));
	EXPECT_EQ(1U, ev[0].data);
	close(e);
}

/* Each change's epfd must be the call's: EINVAL, even for a closed fd. */
TEST_F(w2, change_with_another_epfd_is_einval)
{
	struct vepoll_ctl_args c[2];
	struct vepoll_event ev;
	const int others[] = { -1, 0, 100000 };
	unsigned int i;
	int ep2;
	__s32 r[2];

	ep2 = vp_create(self->dev, 0);
	ASSERT_LE(0, ep2);
	c[0] = change(self->ep, VEPOLL_CTL_ADD, self->p[0], VEPOLLIN, 1);
	c[1] = change(ep2, VEPOLL_CTL_ADD, self->p[1], VEPOLLOUT, 2);
	fill_untouched(r, 2);
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 1,
				    5000 * NSEC_PER_MSEC, c, 2, r));
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(-EINVAL, r[1]);
	EXPECT_TRUE(watched(self->dev, self->ep, self->p[0]));
	EXPECT_FALSE(watched(self->dev, ep2, self->p[1]));
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[1]));

	for (i = 0; i < ARRAY_SIZE(others); i++) {
		c[0] = change(others[i], VEPOLL_CTL_ADD, self->p[1], VEPOLLOUT,
			      2);
		fill_untouched(r, 1);
		EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 1, 0, c,
					    1, r));
		EXPECT_EQ(-EINVAL, r[0]);
	}
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[1]));
	close(ep2);
}

/* A change fails exactly as the same VEPOLL_IOC_CTL fails. */
TEST_F(w2, change_errors_are_ctls_errors)
{
	struct vepoll_ctl_args cases[7], ctl;
	struct vepoll_event ev;
	unsigned int i;
	int dir, want;
	__s32 r;

	dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 0));
	cases[0] = change(self->ep, VEPOLL_CTL_ADD, -1, VEPOLLIN, 0);
	cases[1] = change(self->ep, VEPOLL_CTL_ADD, dir, VEPOLLIN, 0);
	cases[2] = change(self->ep, VEPOLL_CTL_ADD, self->ep, VEPOLLIN, 0);
	cases[3] = change(self->ep, 9, self->p[0], VEPOLLIN, 0);
	cases[4] = change(self->ep, VEPOLL_CTL_ADD, self->p[0], 1U << 20, 0);
	cases[5] = change(self->ep, VEPOLL_CTL_ADD, self->p[1], VEPOLLOUT, 0);
	cases[6] = change(self->ep, VEPOLL_CTL_DEL, self->p[0], 0, 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ctl = cases[i];
		want = vp_ctl_args(self->dev, &ctl);
		ASSERT_GT(0, want) {
			TH_LOG("case %u: CTL did not fail", i);
		}
		r = UNTOUCHED;
		EXPECT_EQ(want, vp_wait2(self->dev, self->ep, &ev, 1, 0,
					 &cases[i], 1, &r)) {
			TH_LOG("case %u", i);
		}
		EXPECT_EQ(want, r) {
			TH_LOG("case %u", i);
		}
	}
	/* A __pad that is not zero, in the change or in its event. */
	ctl = change(self->ep, VEPOLL_CTL_ADD, self->p[0], VEPOLLIN, 0);
	ctl.__pad = 1;
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 1, 0, &ctl, 1,
				    NULL));
	ctl.__pad = 0;
	ctl.event.__pad = 1;
	EXPECT_EQ(-EINVAL, vp_wait2(self->dev, self->ep, &ev, 1, 0, &ctl, 1,
				    NULL));
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[0]));
	close(dir);
}

/* More changes than one chunk: every result, and a failure past it. */
TEST_F(w2, long_changelist_fills_every_result)
{
	enum { N = 20, FAIL = 13 };
	struct vepoll_ctl_args c[N];
	struct vepoll_event ev[N + 1];
	int e[N], i, n;
	__s32 r[N];

	for (i = 0; i < N; i++) {
		e[i] = vp_eventfd(1);
		ASSERT_LE(0, e[i]);
		c[i] = change(self->ep, VEPOLL_CTL_ADD, e[i], VEPOLLIN, 100 + i);
	}
	fill_untouched(r, N);
	n = vp_wait2(self->dev, self->ep, ev, N + 1, 0, c, N, r);
	ASSERT_EQ(N, n);
	for (i = 0; i < N; i++) {
		EXPECT_EQ(0, r[i]);
		EXPECT_LE(0, vp_find(ev, n, 100 + i));
	}
	/* Now every ADD but the first FAIL is EEXIST: stop at FAIL. */
	for (i = 0; i < FAIL; i++)
		c[i].op = VEPOLL_CTL_MOD;
	fill_untouched(r, N);
	EXPECT_EQ(-EEXIST, vp_wait2(self->dev, self->ep, ev, N + 1, 0, c, N,
				    r));
	for (i = 0; i < FAIL; i++)
		EXPECT_EQ(0, r[i]);
	EXPECT_EQ(-EEXIST, r[FAIL]);
	for (i = FAIL + 1; i < N; i++)
		EXPECT_EQ(UNTOUCHED, r[i]);
	vp_close_all(e, N);
}

/* results may be 0: the changes are applied, nothing is written. */
TEST_F(w2, null_results_reports_nothing)
{
	struct vepoll_ctl_args c[2];
	struct vepoll_event ev;

	c[0] = change(self->ep, VEPOLL_CTL_ADD, self->p[1], VEPOLLOUT, 5);
	c[1] = change(self->ep, VEPOLL_CTL_DEL, self->p[0], 0, 0);
	ASSERT_EQ(1, vp_wait2(self->dev, self->ep, &ev, 1, 0, c, 1, NULL));
	EXPECT_EQ(5U, ev.data);
	EXPECT_EQ(-ENOENT, vp_wait2(self->dev, self->ep, &ev, 1, 0, &c[1], 1,
				    NULL));
}

TEST_F(w2, unreadable_changes_is_efault)
{
	void *bad = vp_unmapped();
	struct vepoll_event ev;
	__s32 r = UNTOUCHED;

	ASSERT_TRUE(!!bad);
	EXPECT_EQ(-EFAULT, vp_wait2(self->dev, self->ep, &ev, 1, 0, bad, 1,
				    &r));
	EXPECT_EQ(-EFAULT, r);
	r = UNTOUCHED;
	EXPECT_EQ(-EFAULT, vp_wait2(self->dev, self->ep, &ev, 1, 0, NULL, 1,
				    &r));
	EXPECT_EQ(-EFAULT, r);
	/* nchanges 0 reads nothing. */
	EXPECT_EQ(0, vp_wait2(self->dev, self->ep, &ev, 1, 0, bad, 0, bad));
}

/* A result that cannot be written: EFAULT, and no wait. */
TEST_F(w2, unwritable_results_is_efault)
{
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_ADD, self->p[0],
					  VEPOLLIN, 1);
	void *bad = vp_unmapped();
	struct vepoll_event ev;
	int64_t t0;

	ASSERT_TRUE(!!bad);
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	t0 = vp_now_ms();
	EXPECT_EQ(-EFAULT, vp_wait2(self->dev, self->ep, &ev, 1,
				    5000 * NSEC_PER_MSEC, &c, 1, bad));
	EXPECT_GT(2500, vp_now_ms() - t0);
	/* As CTL_BATCH: the chunk was applied before its results. */
	EXPECT_TRUE(watched(self->dev, self->ep, self->p[0]));
}

/* The loop the changelist is for: a one-shot watch re-armed by the wait. */
TEST_F(w2, oneshot_rearm_in_the_wait)
{
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_MOD, self->p[0],
					  VEPOLLIN | VEPOLLONESHOT, 7);
	struct vepoll_event ev;
	__s32 r;
	int i;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 7));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait2(self->dev, self->ep, &ev, 1, 0, NULL, 0, NULL));
	EXPECT_EQ(0, vp_wait2(self->dev, self->ep, &ev, 1, 0, NULL, 0, NULL));
	for (i = 0; i < 5; i++) {
		r = UNTOUCHED;
		ASSERT_EQ(1, vp_wait2(self->dev, self->ep, &ev, 1,
				      NEVER_MS * NSEC_PER_MSEC, &c, 1, &r));
		EXPECT_EQ(0, r);
		EXPECT_EQ(VEPOLLIN, ev.events);
		EXPECT_EQ(7U, ev.data);
		EXPECT_EQ(0, vp_wait2(self->dev, self->ep, &ev, 1, 0, NULL, 0,
				      NULL));
	}
}

/* ---- timeouts ------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Time @runs WAIT2s of @timeout_ns on an instance with nothing ready:
 * each returns 0 and lasts at least @timeout_ns; the minimum and median
 * go to the log.
 */
static void check_timeout(struct __test_metadata *_metadata, int dev, int ep,
			  int64_t timeout_ns)
{
	enum { RUNS = 25 };
	struct vepoll_event ev;
	int64_t dt[RUNS], t0;
	int i;

	for (i = 0; i < RUNS; i++) {
		t0 = now_ns();
		EXPECT_EQ(0, vp_wait2(dev, ep, &ev, 1, timeout_ns, NULL, 0,
				      NULL));
		dt[i] = now_ns() - t0;
		EXPECT_LE(timeout_ns, dt[i]) {
			TH_LOG("timeout %lld ns returned after %lld ns",
			       (long long)timeout_ns, (long long)dt[i]);
		}
		/* Generous: emulated, and a busy host. */
		EXPECT_GT(timeout_ns + 2000 * NSEC_PER_MSEC, dt[i]);
	}
	qsort(dt, RUNS, sizeof(dt[0]), cmp_i64);
	TH_LOG("timeout %lld ns: min %lld ns, median %lld ns, max %lld ns (%d runs)",
	       (long long)timeout_ns, (long long)dt[0],
	       (long long)dt[RUNS / 2], (long long)dt[RUNS - 1], RUNS);
}

TEST_F(w2, timeout_100_us_is_never_shorter)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	check_timeout(_metadata, self->dev, self->ep, 100000);
}

TEST_F(w2, timeout_1500_us_is_never_shorter)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	check_timeout(_metadata, self->dev, self->ep, 1500000);
}

TEST_F(w2, timeout_zero_polls)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	check_timeout(_metadata, self->dev, self->ep, 0);
}

/* Sub-millisecond remainders count: 1 ms + 1 ns is not 1 ms. */
TEST_F(w2, timeout_is_not_rounded_down)
{
	const int64_t asked[] = { 1, 999, 1000001, 2500000 };
	struct vepoll_event ev;
	unsigned int i;
	int64_t t0, dt;

	for (i = 0; i < ARRAY_SIZE(asked); i++) {
		t0 = now_ns();
		EXPECT_EQ(0, vp_wait2(self->dev, self->ep, &ev, 1, asked[i],
				      NULL, 0, NULL));
		dt = now_ns() - t0;
		EXPECT_LE(asked[i], dt);
	}
}

struct writer {
	int fd;
	unsigned int delay_ms;
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;

	vp_msleep(w->delay_ms);
	return vp_write_bytes(w->fd, 1) == 1 ? NULL : (void *)1;
}

/* An event ends a wait early, whatever its timeout, the largest too. */
static void check_woken_early(struct __test_metadata *_metadata, int dev,
			      int ep, int wfd, int64_t timeout_ns)
{
	struct writer w = { wfd, 300 };
	struct vepoll_event ev;
	pthread_t thr;
	int64_t t0, dt;

	t0 = vp_now_ms();
	ASSERT_EQ(0, pthread_create(&thr, NULL, writer_fn, &w));
	EXPECT_EQ(1, vp_wait2(dev, ep, &ev, 1, timeout_ns, NULL, 0, NULL));
	dt = vp_now_ms() - t0;
	pthread_join(thr, NULL);
	EXPECT_EQ(9U, ev.data);
	EXPECT_LE(w.delay_ms, dt);
	EXPECT_GT(NEVER_MS / 2, dt);
}

TEST_F(w2, event_ends_a_wait_early)
{
	char c;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 9));
	check_woken_early(_metadata, self->dev, self->ep, self->p[1],
			  NEVER_MS * NSEC_PER_MSEC);
	ASSERT_EQ(1, read(self->p[0], &c, 1));
	/* A deadline past the end of time saturates, it does not wrap. */
	check_woken_early(_metadata, self->dev, self->ep, self->p[1],
			  INT64_MAX);
	ASSERT_EQ(1, read(self->p[0], &c, 1));
	check_woken_early(_metadata, self->dev, self->ep, self->p[1], -1);
	ASSERT_EQ(1, read(self->p[0], &c, 1));
	check_woken_early(_metadata, self->dev, self->ep, self->p[1],
			  INT64_MIN);
}

/* ---- the signal mask ----------------------------------------------------- */

static atomic_int handled;

static void on_usr1(int sig)
{
	atomic_fetch_add(&handled, 1);
}

static int wait2_sigmask(int dev, int ep, struct vepoll_event *ev,
			 int64_t timeout_ns, const struct vepoll_ctl_args *c,
			 unsigned int n, const sigset_t *mask,
			 __u64 sigsetsize)
{
	struct vepoll_wait2_args a = {
		.epfd = ep, .maxevents = 1, .nchanges = n,
		.timeout_ns = timeout_ns, .events = vp_ptr(ev),
		.changes = vp_ptr(c), .sigmask = vp_ptr(mask),
		.sigsetsize = sigsetsize,
	};

	return vp_wait2_args(dev, &a);
}

/*
 * A pending SIGUSR1, blocked: the call's mask unblocks it, so the wait
 * ends with EINTR (after its changes were applied) and the handler runs;
 * the thread's mask is the old one afterwards. A mask that keeps it
 * blocked lets the wait time out.
 */
TEST_F(w2, sigmask_as_epoll_pwait)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct vepoll_ctl_args c = change(self->ep, VEPOLL_CTL_ADD, self->p[0],
					  VEPOLLIN, 1);
	struct vepoll_event ev;
	sigset_t open_mask, usr1_mask;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	atomic_store(&handled, 0);
	ASSERT_EQ(0, vp_block_usr1(SIG_BLOCK));
	ASSERT_EQ(0, raise(SIGUSR1));
	ASSERT_EQ(0, atomic_load(&handled));
	sigemptyset(&open_mask);
	sigemptyset(&usr1_mask);
	sigaddset(&usr1_mask, SIGUSR1);

	/* Bad sizes and addresses: EINVAL, EFAULT, and no change applied. */
	EXPECT_EQ(-EINVAL, wait2_sigmask(self->dev, self->ep, &ev, 0, &c, 1,
					 &open_mask, 16));
	EXPECT_EQ(-EINVAL, wait2_sigmask(self->dev, self->ep, &ev, 0, &c, 1,
					 &open_mask, 4));
	EXPECT_EQ(-EFAULT, wait2_sigmask(self->dev, self->ep, &ev, 0, &c, 1,
					 vp_unmapped(), VP_KSIGSET_SIZE));
	EXPECT_FALSE(watched(self->dev, self->ep, self->p[0]));
	EXPECT_EQ(0, atomic_load(&handled));

	/* Still blocked under the call's mask: a plain timeout. */
	EXPECT_EQ(0, wait2_sigmask(self->dev, self->ep, &ev,
				   10 * NSEC_PER_MSEC, NULL, 0, &usr1_mask,
				   VP_KSIGSET_SIZE));
	EXPECT_EQ(0, atomic_load(&handled));

	/* Unblocked by it: EINTR, the handler ran, the old mask is back. */
	EXPECT_EQ(-EINTR, wait2_sigmask(self->dev, self->ep, &ev,
					NEVER_MS * NSEC_PER_MSEC, &c, 1,
					&open_mask, VP_KSIGSET_SIZE));
	EXPECT_EQ(1, atomic_load(&handled));
	EXPECT_TRUE(vp_usr1_blocked());
	EXPECT_TRUE(watched(self->dev, self->ep, self->p[0]));
	ASSERT_EQ(0, vp_block_usr1(SIG_UNBLOCK));
}

/* ---- the cap on an infinite wait ------------------------------------------ */

/* A module reloaded with a small wait_cap_ms; restored by the teardown. */
FIXTURE(cap) {
	bool reloaded;
};

FIXTURE_SETUP(cap)
{
}

FIXTURE_TEARDOWN(cap)
{
	if (self->reloaded)
		EXPECT_EQ(0, vp_module_put_back());
}

TEST_F(cap, negative_timeout_ends_after_wait_cap_ms)
{
	const int64_t negs[] = { -1, -1000, INT64_MIN };
	const char *why = vp_reload_unsupported();
	struct vepoll_event ev;
	int dev, ep, p[2];
	unsigned int i;
	int64_t t0, dt;

	if (why)
		SKIP(return, "%s", why);
	self->reloaded = true;
	ASSERT_EQ(0, vp_module_reload("wait_cap_ms=500"));
	ASSERT_EQ(500, vp_param("wait_cap_ms"));
	vp_setup_dev_ep_pipe(_metadata, &dev, &ep, p);
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1));
	for (i = 0; i < ARRAY_SIZE(negs); i++) {
		t0 = vp_now_ms();
		EXPECT_EQ(0, vp_wait2(dev, ep, &ev, 1, negs[i], NULL, 0, NULL));
		dt = vp_now_ms() - t0;
		EXPECT_LE(500, dt);
		EXPECT_GT(5000, dt);
	}
	/* A finite timeout longer than the cap is not capped. */
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_wait2(dev, ep, &ev, 1, 1500 * NSEC_PER_MSEC, NULL, 0,
			      NULL));
	EXPECT_LE(1500, vp_now_ms() - t0);
	vp_close_dev_ep_pipe(dev, ep, p);
}

/* wait_cap_ms=0: an infinite wait polls, for WAIT2 as for WAIT. */
TEST_F(cap, zero_cap_makes_infinite_wait_a_poll)
{
	const char *why = vp_reload_unsupported();
	struct vepoll_event ev;
	int dev, ep, p[2];
	int64_t t0;

	if (why)
		SKIP(return, "%s", why);
	self->reloaded = true;
	ASSERT_EQ(0, vp_module_reload("wait_cap_ms=0"));
	ASSERT_EQ(0, vp_param("wait_cap_ms"));
	vp_setup_dev_ep_pipe(_metadata, &dev, &ep, p);
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1));
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_wait(dev, ep, &ev, 1, -1));
	EXPECT_EQ(0, vp_wait2(dev, ep, &ev, 1, -1, NULL, 0, NULL));
	EXPECT_GT(NEVER_MS / 2, vp_now_ms() - t0);
	ASSERT_EQ(1, vp_write_bytes(p[1], 1));
	EXPECT_EQ(1, vp_wait2(dev, ep, &ev, 1, -1, NULL, 0, NULL));
	vp_close_dev_ep_pipe(dev, ep, p);
}

TEST_HARNESS_MAIN
