// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_nest - SPEC §2-§3: an instance fd is pollable (POLLIN | POLLRDNORM
 * while a wait would report something), so it can sit in another instance
 * or in epoll; loops and chains deeper than 5 instances are ELOOP.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define MAX_CHAIN	5

FIXTURE(nest) {
	int dev, ep, p[2];
};

FIXTURE_SETUP(nest)
{
	self->dev = vp_open_dev();
	ASSERT_LE(0, self->dev) {
		TH_LOG("open %s: %s (is the module loaded?)", VP_DEV_PATH,
		       strerror(-self->dev));
	}
	self->ep = vp_create(self->dev, 0);
	ASSERT_LE(0, self->ep);
	ASSERT_EQ(0, vp_pipe(self->p));
}

FIXTURE_TEARDOWN(nest)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->ep);
	close(self->dev);
}

static int make_instances(int dev, int *eps, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		eps[i] = vp_create(dev, 0);
		if (eps[i] < 0)
			return eps[i];
	}
	return 0;
}

static void close_instances(int *eps, int n)
{
	while (n--)
		close(eps[n]);
}

/* ---- poll(2) on an instance fd ------------------------------------------ */

TEST_F(nest, poll_on_idle_instance_reports_nothing)
{
	EXPECT_EQ(0U, vp_poll_now(self->ep));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
}

TEST_F(nest, poll_on_instance_with_ready_watch_is_in_rdnorm)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	/* Asked for everything, it reports exactly these two. */
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
	/* Level-triggered: polling does not consume it. */
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
}

/* Only what a wait would report counts: not a masked-out condition. */
TEST_F(nest, poll_on_instance_ignores_conditions_outside_the_mask)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLPRI, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
}

TEST_F(nest, poll_on_instance_after_oneshot_report_is_quiet_until_mod)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 1));
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
}

TEST_F(nest, poll_on_instance_after_et_report_is_quiet_until_next_edge)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
}

struct delayed_write {
	int fd;
	unsigned int delay_ms;
};

static void *delayed_write_fn(void *arg)
{
	struct delayed_write *dw = arg;

	vp_msleep(dw->delay_ms);
	if (vp_write_bytes(dw->fd, 1) != 1)
		return (void *)1;
	return NULL;
}

/* poll(2) sleeping on an instance is woken by the watched target. */
TEST_F(nest, poll_on_instance_wakes_when_watch_becomes_ready)
{
	struct delayed_write dw = { self->p[1], 200 };
	struct pollfd pfd = { .fd = self->ep, .events = POLLIN };
	pthread_t thr;
	int64_t t0, dt;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	t0 = vp_now_ms();
	ASSERT_EQ(0, pthread_create(&thr, NULL, delayed_write_fn, &dw));
	EXPECT_EQ(1, poll(&pfd, 1, 20000));
	dt = vp_now_ms() - t0;
	pthread_join(thr, NULL);
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_LE(dw.delay_ms, dt);
	EXPECT_GT(10000, dt);
}

/* ---- instances in instances, and in epoll -------------------------------- */

TEST_F(nest, inner_instance_is_reported_by_outer)
{
	struct vepoll_event ev[2];
	int outer = vp_create(self->dev, 0);

	ASSERT_LE(0, outer);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, outer, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN | VEPOLLOUT | VEPOLLRDNORM, 0xabcdef0123456789ULL));
	EXPECT_EQ(0, vp_wait(self->dev, outer, ev, 2, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, outer, ev, 2, 0));
	EXPECT_EQ(VEPOLLIN | VEPOLLRDNORM, ev[0].events);
	EXPECT_EQ(0xabcdef0123456789ULL, ev[0].data);
	/* The inner one's event is still there for its own wait. */
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, ev, 2, 0));
	EXPECT_EQ(1U, ev[0].data);
	close(outer);
}

struct waiter {
	int dev, ep, timeout_ms, ret;
	struct vepoll_event ev;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->ret = vp_wait(w->dev, w->ep, &w->ev, 1, w->timeout_ms);
	return NULL;
}

TEST_F(nest, outer_waiter_wakes_on_inner_target)
{
	struct waiter w = { .dev = self->dev, .timeout_ms = 20000 };
	pthread_t thr;
	int64_t t0, dt;

	w.ep = vp_create(self->dev, 0);
	ASSERT_LE(0, w.ep);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, w.ep, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN, 2));
	t0 = vp_now_ms();
	ASSERT_EQ(0, pthread_create(&thr, NULL, waiter_fn, &w));
	vp_msleep(200);
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	pthread_join(thr, NULL);
	dt = vp_now_ms() - t0;
	EXPECT_EQ(1, w.ret);
	EXPECT_EQ(VEPOLLIN, w.ev.events);
	EXPECT_EQ(2U, w.ev.data);
	EXPECT_GT(10000, dt);
	close(w.ep);
}

TEST_F(nest, instance_inside_native_epoll)
{
	struct epoll_event eev = { .events = EPOLLIN, .data.u64 = 77 };
	int efd = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, self->ep, &eev));
	memset(&eev, 0, sizeof(eev));
	EXPECT_EQ(0, epoll_wait(efd, &eev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, epoll_wait(efd, &eev, 1, 10000));
	EXPECT_EQ((__u32)EPOLLIN, eev.events);
	EXPECT_EQ(77U, eev.data.u64);
	close(efd);
}

TEST_F(nest, native_epoll_inside_instance)
{
	struct epoll_event eev = { .events = EPOLLIN };
	struct vepoll_event ev;
	int efd = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, self->p[0], &eev));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd,
			    VEPOLLIN, 5));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 10000));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(5U, ev.data);
	close(efd);
}

/* The inner instance's only fd closed: its watch leaves the outer one. */
TEST_F(nest, closed_inner_instance_leaves_outer)
{
	struct vepoll_event ev;
	int outer = vp_create(self->dev, 0);

	ASSERT_LE(0, outer);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, outer, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN, 2));
	close(self->ep);
	self->ep = -1;
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ(0, vp_wait(self->dev, outer, &ev, 1, 0));
	close(outer);
}

/* ---- ELOOP ---------------------------------------------------------------- */

TEST_F(nest, two_instance_cycle_is_eloop)
{
	int b = vp_create(self->dev, 0);

	ASSERT_LE(0, b);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, b,
			    VEPOLLIN, 0));
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, self->ep,
				 VEPOLLIN, 0));
	/* The refused ADD left nothing behind. */
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, b, VEPOLL_CTL_DEL, self->ep,
				  0, 0));
	/* Breaking the cycle makes the ADD legal. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, b, 0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN, 0));
	close(b);
}

TEST_F(nest, three_instance_cycle_is_eloop)
{
	int e[3];

	ASSERT_EQ(0, make_instances(self->dev, e, 3));
	ASSERT_EQ(0, vp_ctl(self->dev, e[0], VEPOLL_CTL_ADD, e[1], VEPOLLIN, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, e[1], VEPOLL_CTL_ADD, e[2], VEPOLLIN, 0));
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[2], VEPOLL_CTL_ADD, e[0],
				 VEPOLLIN, 0));
	/* Through a dup of e[0] too: the loop is about files, not numbers. */
	{
		int d = dup(e[0]);

		ASSERT_LE(0, d);
		EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[2], VEPOLL_CTL_ADD, d,
					 VEPOLLIN, 0));
		close(d);
	}
	close_instances(e, 3);
}

/* EINVAL (bad bits) is checked before ELOOP. */
TEST_F(nest, order_einval_before_eloop)
{
	int b = vp_create(self->dev, 0);

	ASSERT_LE(0, b);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, b,
			    VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, self->ep,
				  VEPOLLIN | (1U << 20), 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, b, 0x7f, self->ep, VEPOLLIN, 0));
	close(b);
}

/* A chain e0 > e1 > ... built from the top: 5 instances deep is fine. */
TEST_F(nest, chain_of_six_built_top_down_is_eloop)
{
	int e[MAX_CHAIN + 1], i;

	ASSERT_EQ(0, make_instances(self->dev, e, MAX_CHAIN + 1));
	for (i = 0; i < MAX_CHAIN - 1; i++) {
		ASSERT_EQ(0, vp_ctl(self->dev, e[i], VEPOLL_CTL_ADD, e[i + 1],
				    VEPOLLIN, i)) {
			TH_LOG("link %d > %d", i, i + 1);
		}
	}
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[MAX_CHAIN - 1], VEPOLL_CTL_ADD,
				 e[MAX_CHAIN], VEPOLLIN, 0));
	/* A non-instance target at the bottom is not an extra level. */
	EXPECT_EQ(0, vp_ctl(self->dev, e[MAX_CHAIN - 1], VEPOLL_CTL_ADD,
			    self->p[0], VEPOLLIN, 0));
	close_instances(e, MAX_CHAIN + 1);
}

/* The same chain built from the bottom: the check must look upwards too. */
TEST_F(nest, chain_of_six_built_bottom_up_is_eloop)
{
	int e[MAX_CHAIN + 1], i;

	ASSERT_EQ(0, make_instances(self->dev, e, MAX_CHAIN + 1));
	for (i = MAX_CHAIN; i > 1; i--) {
		ASSERT_EQ(0, vp_ctl(self->dev, e[i - 1], VEPOLL_CTL_ADD, e[i],
				    VEPOLLIN, i)) {
			TH_LOG("link %d > %d", i - 1, i);
		}
	}
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[0], VEPOLL_CTL_ADD, e[1],
				 VEPOLLIN, 0));
	close_instances(e, MAX_CHAIN + 1);
}

/* Joining two chains of 3 makes 6: refused; chains of 3 and 2 make 5. */
TEST_F(nest, joining_two_chains_counts_both_depths)
{
	int a[3], b[3], i;

	ASSERT_EQ(0, make_instances(self->dev, a, 3));
	ASSERT_EQ(0, make_instances(self->dev, b, 3));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vp_ctl(self->dev, a[i], VEPOLL_CTL_ADD, a[i + 1],
				    VEPOLLIN, 0));
		ASSERT_EQ(0, vp_ctl(self->dev, b[i], VEPOLL_CTL_ADD, b[i + 1],
				    VEPOLLIN, 0));
	}
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, a[2], VEPOLL_CTL_ADD, b[0],
				 VEPOLLIN, 0));
	/* b[0] > b[1] only: 3 + 2 = 5 deep. */
	ASSERT_EQ(0, vp_ctl(self->dev, b[1], VEPOLL_CTL_DEL, b[2], 0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, a[2], VEPOLL_CTL_ADD, b[0],
			    VEPOLLIN, 0));
	close_instances(a, 3);
	close_instances(b, 3);
}

/* Events travel up a chain of the maximum depth. */
TEST_F(nest, event_reaches_the_top_of_a_five_deep_chain)
{
	struct vepoll_event ev;
	int e[MAX_CHAIN], i;

	ASSERT_EQ(0, make_instances(self->dev, e, MAX_CHAIN));
	for (i = 0; i < MAX_CHAIN - 1; i++) {
		ASSERT_EQ(0, vp_ctl(self->dev, e[i], VEPOLL_CTL_ADD, e[i + 1],
				    VEPOLLIN, i));
	}
	ASSERT_EQ(0, vp_ctl(self->dev, e[MAX_CHAIN - 1], VEPOLL_CTL_ADD,
			    self->p[0], VEPOLLIN, 99));
	EXPECT_EQ(0, vp_wait(self->dev, e[0], &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, e[0], &ev, 1, 10000));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0U, ev.data);
	close_instances(e, MAX_CHAIN);
}

TEST_HARNESS_MAIN
