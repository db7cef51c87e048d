// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_nest - an instance fd is pollable (POLLIN | POLLRDNORM while a
 * wait would report something), so it can sit in another instance or in
 * epoll; loops and chains deeper than 5 instances are ELOOP.
 *
 * Where the contract is silent, nested instances behave as nested native
 * epoll instances do: the two-level and three-level tests run the same
 * steps on both and compare (vepoll_nest.h). The tests with threads are
 * in vepoll_nest_mt.c, the cycles through native epoll in
 * vepoll_nest_cycle.c.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"
#include "vepoll_nest.h"

#define MAX_CHAIN	5

FIXTURE(nest) {
	int dev, ep, p[2];
};

FIXTURE_SETUP(nest)
{
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
}

FIXTURE_TEARDOWN(nest)
{
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
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
	vp_close_all(e, 3);
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
	vp_close_all(e, MAX_CHAIN + 1);
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
	vp_close_all(e, MAX_CHAIN + 1);
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
	vp_close_all(a, 3);
	vp_close_all(b, 3);
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
	vp_close_all(e, MAX_CHAIN);
}

/* ---- poll, select and epoll on an instance fd ---------------------------- */

TEST_F(nest, select_on_instance_reports_readable_only)
{
	struct timeval tv = { 0, 0 };
	fd_set rd, wr, ex;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	FD_SET(self->ep, &rd);
	FD_SET(self->ep, &wr);
	FD_SET(self->ep, &ex);
	EXPECT_EQ(0, select(self->ep + 1, &rd, &wr, &ex, &tv));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	FD_SET(self->ep, &rd);
	FD_SET(self->ep, &wr);
	FD_SET(self->ep, &ex);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	EXPECT_EQ(1, select(self->ep + 1, &rd, &wr, &ex, &tv));
	EXPECT_TRUE(FD_ISSET(self->ep, &rd));
	EXPECT_FALSE(FD_ISSET(self->ep, &wr));
	EXPECT_FALSE(FD_ISSET(self->ep, &ex));
}

/* A hang-up is reported by a wait even with an empty mask: so by poll too. */
TEST_F(nest, poll_on_instance_counts_hangup_of_a_watch_with_empty_mask)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    0, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
	close(self->p[1]);
	self->p[1] = -1;
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
}

/* A target ready before the ADD makes the instance readable at once. */
TEST_F(nest, poll_on_instance_sees_a_target_ready_before_the_add)
{
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 1));
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
}

/* Readiness that went away without a wait is not reported by a poll. */
TEST_F(nest, poll_on_instance_after_target_drained_without_a_wait)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0U, vp_poll_now(self->ep));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->ep));
}

/* A native epoll holding the instance follows it, level-triggered. */
TEST_F(nest, native_epoll_on_instance_follows_its_readiness)
{
	struct epoll_event eev = { .events = EPOLLIN, .data.u64 = 7 };
	int efd = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, self->ep, &eev));
	EXPECT_EQ(0, epoll_wait(efd, &eev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, epoll_wait(efd, &eev, 1, 10000));
	EXPECT_EQ((__u32)EPOLLIN, eev.events);
	EXPECT_EQ(1, epoll_wait(efd, &eev, 1, 0));
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0, epoll_wait(efd, &eev, 1, 0));
	close(efd);
}

/* ---- the same steps on nested vepoll and on nested epoll ----------------- */

/*
 * A nest is a chain of 2 or 3 instances: level 0 (the outermost) watches
 * level 1, which watches level 2 or the read end of a pipe. Each level is
 * a vepoll instance ('v') or a native epoll instance ('e'), and its one
 * watch has a mode (LT, ET, ONESHOT) and data NK_DATA(level)
 * (nk_chain_build()).
 *
 * A script is a string of steps (blanks are ignored):
 *	w	write a byte into the pipe	r	drain the pipe
 *	a b c	wait on level 0, 1, 2 (timeout 0)
 *	A B C	poll(2) level 0, 1, 2 (timeout 0)
 *	0 1 2	MOD the watch of level 0, 1, 2 (same mask: re-arms it)
 *
 * The script runs first on a nest of native epoll instances, the oracle,
 * then on the nest under test, and both must observe the same thing at
 * every step. A vepoll instance wakes its pollers from an irq_work, a
 * moment after the wakeup that caused it, so where the oracle saw an event
 * the step under test waits up to NS_SETTLE_MS for it.
 */
#define NS_STEPS_MAX	40
#define NS_SETTLE_MS	3000

/*
 * One step. A wait is summed up as count << 24 | level of the first
 * event's data << 16 | its events; a poll as its revents; an action as 0.
 * An error is -errno.
 */
static int nest_step(struct nk_chain *n, char op, int timeout_ms)
{
	struct vepoll_event ev[4];
	struct pollfd pfd;
	int lv, ret;

	switch (op) {
	case 'w':
		return vp_write_bytes(n->p[1], 1) == 1 ? 0 : -EIO;
	case 'r':
		return vp_drain(n->p[0]) < 0 ? -EIO : 0;
	case 'a': case 'b': case 'c':
		lv = op - 'a';
		if (lv >= n->levels)
			return -EINVAL;
		memset(ev, 0, sizeof(ev));
		ret = nk_wait(n->dev, n->kinds[lv], n->ep[lv], ev, 4,
			      timeout_ms);
		if (ret <= 0)
			return ret;
		return ret << 24 | (int)((ev[0].data - NK_DATA(0)) & 0xff) << 16 |
		       (int)(ev[0].events & 0xffff);
	case 'A': case 'B': case 'C':
		lv = op - 'A';
		if (lv >= n->levels)
			return -EINVAL;
		pfd.fd = n->ep[lv];
		pfd.events = VP_POLL_ALL;
		pfd.revents = 0;
		ret = vp_ret(poll(&pfd, 1, timeout_ms));
		return ret < 0 ? ret : (__u16)pfd.revents;
	case '0': case '1': case '2':
		lv = op - '0';
		if (lv >= n->levels)
			return -EINVAL;
		return nk_ctl(n->dev, n->kinds[lv], n->ep[lv], VEPOLL_CTL_MOD,
			      nk_chain_target(n, lv),
			      VEPOLLIN | n->modes[lv], NK_DATA(lv));
	}
	return -EINVAL;
}

/*
 * Run @script on the chain of @kinds and @modes; res[i] gets step i's
 * result. Where @guide[i] is not 0 the step may wait NS_SETTLE_MS.
 * Returns the number of steps, or -errno if the chain cannot be built.
 */
static int nest_run(int dev, const char *kinds, const __u32 *modes,
		    const char *script, const int *guide, int *res)
{
	struct nk_chain n;
	int i = 0, ret;

	ret = nk_chain_build(&n, dev, kinds, modes);
	if (!ret) {
		for (; *script && i < NS_STEPS_MAX; script++) {
			if (*script == ' ')
				continue;
			res[i] = nest_step(&n, *script,
					   guide && guide[i] ? NS_SETTLE_MS : 0);
			i++;
		}
	}
	nk_chain_destroy(&n);
	return ret ? ret : i;
}

static void nest_log_run(struct __test_metadata *_metadata, const char *what,
			 const int *res, int steps)
{
	char line[NS_STEPS_MAX * 12], *s = line;
	int i;

	for (i = 0; i < steps; i++)
		s += sprintf(s, " %x", res[i]);
	TH_LOG("  %-22s%s", what, line);
}

static void nest_log_modes(struct __test_metadata *_metadata, const char *kinds,
			   const __u32 *modes, const char *script)
{
	int i;

	for (i = 0; kinds[i]; i++)
		TH_LOG("  level %d: %s, its watch %s", i, nk_name(kinds[i]),
		       nk_mode_name(modes[i]));
	TH_LOG("  script: \"%s\"", script);
}

/*
 * The one way vepoll may differ from epoll in a chain (Documentation.rst,
 * "Nesting"): a poll of a vepoll instance from outside vepoll (poll(2),
 * or a native epoll asking it) counts a queued native epoll target as
 * ready without asking it, so it may answer POLLIN where epoll answers 0,
 * until a wait on the instance finds the target drained. Can step @op see
 * that, in a chain of @kinds? Only for an answer of 0 in the oracle.
 */
static bool nest_may_be_spurious(const char *kinds, char op)
{
	bool foreign = op >= 'A' && op <= 'C';
	int j = foreign ? op - 'A' : op - 'a';

	if (op < 'A' || op > 'c' || (op > 'C' && op < 'a'))
		return false;
	for (; kinds[j]; j++) {
		if (kinds[j] == 'v' && foreign && strchr(&kinds[j + 1], 'e'))
			return true;
		if (kinds[j] == 'e')
			foreign = true;
	}
	return false;
}

/* The @i-th step of @script (blanks do not count). */
static char nest_op(const char *script, int i)
{
	for (; *script; script++)
		if (*script != ' ' && !i--)
			return *script;
	return '\0';
}

/*
 * Hold the chain of @kinds to an all-epoll chain of the same modes under
 * @script. Returns true when they agree at every step.
 */
static bool nest_compare(struct __test_metadata *_metadata, int dev,
			 const char *kinds, const __u32 *modes,
			 const char *script)
{
	int want[NS_STEPS_MAX], got[NS_STEPS_MAX];
	char oracle[NK_LEVELS_MAX + 1];
	int i, nw, ng;

	memset(oracle, 'e', sizeof(oracle));
	oracle[strlen(kinds)] = '\0';
	nw = nest_run(dev, oracle, modes, script, NULL, want);
	ng = nest_run(dev, kinds, modes, script, want, got);
	EXPECT_LT(0, nw);
	EXPECT_EQ(nw, ng);
	if (nw <= 0 || nw != ng)
		return false;
	for (i = 0; i < nw; i++)
		if (want[i] != got[i] &&
		    !(!want[i] && nest_may_be_spurious(kinds,
						       nest_op(script, i))))
			break;
	if (i == nw)
		return true;
	EXPECT_EQ(want[i], got[i]) {
		TH_LOG("%s differs from %s at step %d:", kinds, oracle, i);
		nest_log_modes(_metadata, kinds, modes, script);
		nest_log_run(_metadata, "native epoll (oracle):", want, nw);
		nest_log_run(_metadata, kinds, got, ng);
		TH_LOG("  (wait: count<<24 | level<<16 | events; poll: revents)");
	}
	return false;
}

/* Every mix of kinds for a chain of 2 and of 3 levels. */
static const char * const nest_kinds2[] = { "vv", "ve", "ev" };
static const char * const nest_kinds3[] = { "vvv", "vev", "eve", "vve", "evv" };

FIXTURE(two_levels) {
	int dev;
};

/* The modes of the outer (level 0) and inner (level 1) watches. */
FIXTURE_VARIANT(two_levels) {
	__u32 modes[2];
};

FIXTURE_VARIANT_ADD(two_levels, outer_lt_inner_lt) {
	.modes = { 0, 0 },
};

FIXTURE_VARIANT_ADD(two_levels, outer_lt_inner_et) {
	.modes = { 0, VEPOLLET },
};

FIXTURE_VARIANT_ADD(two_levels, outer_lt_inner_oneshot) {
	.modes = { 0, VEPOLLONESHOT },
};

FIXTURE_VARIANT_ADD(two_levels, outer_et_inner_lt) {
	.modes = { VEPOLLET, 0 },
};

FIXTURE_VARIANT_ADD(two_levels, outer_et_inner_et) {
	.modes = { VEPOLLET, VEPOLLET },
};

FIXTURE_VARIANT_ADD(two_levels, outer_et_inner_oneshot) {
	.modes = { VEPOLLET, VEPOLLONESHOT },
};

FIXTURE_VARIANT_ADD(two_levels, outer_oneshot_inner_lt) {
	.modes = { VEPOLLONESHOT, 0 },
};

FIXTURE_VARIANT_ADD(two_levels, outer_oneshot_inner_et) {
	.modes = { VEPOLLONESHOT, VEPOLLET },
};

FIXTURE_VARIANT_ADD(two_levels, outer_oneshot_inner_oneshot) {
	.modes = { VEPOLLONESHOT, VEPOLLONESHOT },
};

FIXTURE_SETUP(two_levels)
{
	self->dev = vp_open_dev();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(two_levels)
{
	close(self->dev);
}

static void two_levels_check(struct __test_metadata *_metadata, int dev,
			     const __u32 *modes, const char *script)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nest_kinds2); i++)
		nest_compare(_metadata, dev, nest_kinds2[i], modes, script);
}

TEST_F(two_levels, write_then_outer_then_inner)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w A a a B b b a A");
}

TEST_F(two_levels, write_then_inner_then_outer)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w b b a a B A");
}

TEST_F(two_levels, polls_consume_nothing)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w B B A A B a b b a");
}

/* Each wakeup of the inner target is a new edge for the outer level. */
TEST_F(two_levels, second_write_before_the_inner_wait)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w a a w a a b b a");
}

TEST_F(two_levels, second_write_after_the_inner_wait)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w a b w a b a b");
}

TEST_F(two_levels, drained_target_is_not_reported)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w r A B a b w r a b w a r b a");
}

TEST_F(two_levels, mod_rearms_each_level)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w a a 0 a a b b 1 b b a 0 a 1 a b");
}

TEST_F(two_levels, many_writes_few_waits)
{
	two_levels_check(_metadata, self->dev, variant->modes,
			 "w w w a w b w a a b b r a b w w a b");
}

/* Three levels: LT and ET on each, every mix of kinds. */
TEST_F_TIMEOUT(nest, three_levels_all_modes_and_kinds, 300)
{
	static const char * const scripts[] = {
		"w a a b b c c a b",
		"w C B A a b c w a b c a",
		"w a a w a a c c b a w c b a",
	};
	unsigned int m, k, s, failed = 0;
	__u32 modes[3];

	/* Past a few differences, the rest is noise: stop there. */
	for (m = 0; m < 8 && failed < 4; m++) {
		modes[0] = m & 4 ? VEPOLLET : 0;
		modes[1] = m & 2 ? VEPOLLET : 0;
		modes[2] = m & 1 ? VEPOLLET : 0;
		for (k = 0; k < ARRAY_SIZE(nest_kinds3); k++)
			for (s = 0; s < ARRAY_SIZE(scripts); s++)
				if (!nest_compare(_metadata, self->dev,
						  nest_kinds3[k], modes,
						  scripts[s])) {
					failed++;
					break;
				}
	}
}

/*
 * The same expectations, written down: ET on the outer level consumes the
 * outer edge only, and looking at the inner instance (poll, or an outer
 * wait that polls it) consumes none of its ET events. Checked on native
 * epoll too, which proves the expectations are Linux's.
 */
static const char * const nest_kinds_all2[] = { "ee", "vv", "ve", "ev" };

/* @expect: per step, '.' for an action, else the count a wait reports or
 * 1/0 for a poll that finds the level readable or not.
 */
static void nest_expect(struct __test_metadata *_metadata, int dev,
			const __u32 *modes, const char *script,
			const char *expect)
{
	int guide[NS_STEPS_MAX], got[NS_STEPS_MAX];
	unsigned int k;
	int i, n = 0;

	for (i = 0; expect[i]; i++)
		if (expect[i] != ' ')
			guide[n++] = expect[i] != '.' && expect[i] != '0';
	for (k = 0; k < ARRAY_SIZE(nest_kinds_all2); k++) {
		const char *kinds = nest_kinds_all2[k];
		int steps = nest_run(dev, kinds, modes, script, guide, got);

		ASSERT_EQ(n, steps);
		for (i = 0; i < n; i++) {
			int want = 0, j, s;

			for (j = 0, s = -1; expect[j]; j++)
				if (expect[j] != ' ' && ++s == i)
					break;
			if (expect[j] != '.')
				want = expect[j] - '0';
			if ((got[i] >= 0x1000000 ? got[i] >> 24 : !!got[i]) !=
			    want && !(!want && nest_may_be_spurious(kinds,
						nest_op(script, i))))
				break;
		}
		EXPECT_EQ(n, i) {
			TH_LOG("%s: step %d differs from \"%s\"", kinds, i,
			       expect);
			nest_log_modes(_metadata, kinds, modes, script);
			nest_log_run(_metadata, kinds, got, steps);
		}
	}
}

TEST_F(nest, outer_et_consumes_only_the_outer_edge)
{
	const __u32 lt_inner[2] = { VEPOLLET, 0 };
	const __u32 et_inner[2] = { VEPOLLET, VEPOLLET };

	/* Outer reported once; the inner instance still has its event. */
	nest_expect(_metadata, self->dev, lt_inner, "w a a A B b b",
		    ". 1 0 0 1 1 1");
	nest_expect(_metadata, self->dev, et_inner, "w a a A B b b B a",
		    ". 1 0 0 1 1 0 0 0");
}

TEST_F(nest, polling_inner_does_not_consume_its_et_event)
{
	const __u32 lt_outer[2] = { 0, VEPOLLET };
	const __u32 os_inner[2] = { 0, VEPOLLONESHOT };

	nest_expect(_metadata, self->dev, lt_outer, "w B B A A a a b B A a b",
		    ". 1 1 1 1 1 1 1 0 0 0 0");
	nest_expect(_metadata, self->dev, os_inner, "w B A a a b B A a b 1 B a b",
		    ". 1 1 1 1 1 0 0 0 0 . 1 1 1");
}

/* ---- more loops and chains ------------------------------------------------ */

TEST_F(nest, self_add_is_einval_also_inside_a_nest)
{
	int b = vp_create(self->dev, 0), d;

	ASSERT_LE(0, b);
	ASSERT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->ep, VEPOLLIN, 0));
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, b,
				  VEPOLLIN, 0));
	d = dup(b);
	ASSERT_LE(0, d);
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, d,
				  VEPOLLIN, 0));
	/* Through the dup, b into self->ep closes a loop: ELOOP. */
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, d,
				 VEPOLLIN, 0));
	close(d);
	close(b);
}

/* Cycles of 4 and 5 instances: each within the depth limit, still ELOOP. */
TEST_F(nest, longer_cycles_are_eloop)
{
	int e[5], len, i;

	for (len = 4; len <= 5; len++) {
		ASSERT_EQ(0, make_instances(self->dev, e, len));
		for (i = 0; i < len - 1; i++)
			ASSERT_EQ(0, vp_ctl(self->dev, e[i], VEPOLL_CTL_ADD,
					    e[i + 1], VEPOLLIN, i));
		EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[len - 1],
					 VEPOLL_CTL_ADD, e[0], VEPOLLIN, 0)) {
			TH_LOG("cycle of %d", len);
		}
		/* Closing through the middle, to an inner node: ELOOP too. */
		EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[len - 1],
					 VEPOLL_CTL_ADD, e[1], VEPOLLIN, 0));
		/* A shortcut down the chain is no cycle. */
		EXPECT_EQ(0, vp_ctl(self->dev, e[0], VEPOLL_CTL_ADD,
				    e[len - 1], VEPOLLIN, 0));
		vp_close_all(e, len);
	}
}

/* A DAG that is not a chain: shared children are fine, depth is the longest. */
TEST_F(nest, diamond_is_allowed_and_depth_is_the_longest_path)
{
	int e[6];

	/* e0 > e1 > e3, e0 > e2 > e3: a diamond, 3 deep. */
	ASSERT_EQ(0, make_instances(self->dev, e, 6));
	ASSERT_EQ(0, vp_ctl(self->dev, e[0], VEPOLL_CTL_ADD, e[1], VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, e[0], VEPOLL_CTL_ADD, e[2], VEPOLLIN, 2));
	ASSERT_EQ(0, vp_ctl(self->dev, e[1], VEPOLL_CTL_ADD, e[3], VEPOLLIN, 3));
	ASSERT_EQ(0, vp_ctl(self->dev, e[2], VEPOLL_CTL_ADD, e[3], VEPOLLIN, 3));
	/* e2 > e4 > e5 makes e0 > e2 > e4 > e5 4 deep; e3 > e4 makes 5. */
	ASSERT_EQ(0, vp_ctl(self->dev, e[4], VEPOLL_CTL_ADD, e[5], VEPOLLIN, 5));
	ASSERT_EQ(0, vp_ctl(self->dev, e[2], VEPOLL_CTL_ADD, e[4], VEPOLLIN, 4));
	ASSERT_EQ(0, vp_ctl(self->dev, e[3], VEPOLL_CTL_ADD, e[4], VEPOLLIN, 4));
	/* Anything above e0 or below e5 is now a sixth level. */
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, e[0],
				 VEPOLLIN, 0));
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[5], VEPOLL_CTL_ADD, self->ep,
				 VEPOLLIN, 0));
	/* But not above e1: its longest path down is e1 > e3 > e4 > e5. */
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, e[1],
			    VEPOLLIN, 0));
	/* Dropping e3 > e4 shortens every path through e3. */
	ASSERT_EQ(0, vp_ctl(self->dev, e[3], VEPOLL_CTL_DEL, e[4], 0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, e[5], VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0));
	vp_close_all(e, 6);
}

/* An instance watched through two fds: two watches, one nesting level. */
TEST_F(nest, instance_watched_through_two_fds)
{
	struct vepoll_event ev[2];
	int b = vp_create(self->dev, 0), d;

	ASSERT_LE(0, b);
	d = dup(self->ep);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN, 10));
	ASSERT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, d, VEPOLLIN, 11));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(2, vp_wait(self->dev, b, ev, 2, 0));
	EXPECT_LE(0, vp_find(ev, 2, 10));
	EXPECT_LE(0, vp_find(ev, 2, 11));
	/* Either watch closes the loop b > self->ep > b. */
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, b,
				 VEPOLLIN, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_DEL, self->ep, 0, 0));
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, b,
				 VEPOLLIN, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_DEL, d, 0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, b,
			    VEPOLLIN, 0));
	close(d);
	close(b);
}

/* Closing an instance in the middle of a chain splits the chain. */
TEST_F(nest, closing_a_middle_instance_shortens_the_chain)
{
	int e[MAX_CHAIN], i, x;

	ASSERT_EQ(0, make_instances(self->dev, e, MAX_CHAIN));
	for (i = 0; i < MAX_CHAIN - 1; i++)
		ASSERT_EQ(0, vp_ctl(self->dev, e[i], VEPOLL_CTL_ADD, e[i + 1],
				    VEPOLLIN, i));
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, e[0],
				 VEPOLLIN, 0));
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, e[MAX_CHAIN - 1], VEPOLL_CTL_ADD,
				 e[0], VEPOLLIN, 0));
	close(e[2]);
	x = vp_create(self->dev, 0);
	ASSERT_LE(0, x);
	/* Left: e0 > e1 and e3 > e4. self->ep > e0 > e1 is 3 deep. */
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, e[0],
			    VEPOLLIN, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, e[MAX_CHAIN - 1], VEPOLL_CTL_ADD,
			    self->ep, VEPOLLIN, 0));
	/* e3 > e4 > self->ep > e0 > e1 is 5 deep: nothing more above e3. */
	EXPECT_EQ(-ELOOP, vp_ctl(self->dev, x, VEPOLL_CTL_ADD, e[3],
				 VEPOLLIN, 0));
	close(x);
	close(e[0]);
	close(e[1]);
	close(e[3]);
	close(e[4]);
}

/*
 * Random ADDs, DELs and closes on 6 instances, applied to vepoll instances
 * and to native epoll instances alike, and to a model of the rules
 * (Documentation.rst, "Watches"): self is EINVAL, then a cycle or a chain
 * of more than 5 is ELOOP, then EEXIST / ENOENT. All three must agree on
 * every result.
 */
#define G_NODES		6
#define G_OPS		1500

struct graph_model {
	bool edge[G_NODES][G_NODES];	/* edge[i][j]: i watches j */
};

static bool g_reaches(const struct graph_model *m, int from, int to)
{
	int k;

	if (from == to)
		return true;
	for (k = 0; k < G_NODES; k++)
		if (m->edge[from][k] && g_reaches(m, k, to))
			return true;
	return false;
}

/* Longest chain of instances from @x down (@down) or up, counting @x. */
static int g_chain(const struct graph_model *m, int x, bool down)
{
	int k, best = 0, d;

	for (k = 0; k < G_NODES; k++) {
		if (!(down ? m->edge[x][k] : m->edge[k][x]))
			continue;
		d = g_chain(m, k, down);
		if (d > best)
			best = d;
	}
	return best + 1;
}

static int g_model_add(struct graph_model *m, int i, int j)
{
	if (i == j)
		return -EINVAL;
	if (g_reaches(m, j, i) ||
	    g_chain(m, i, false) + g_chain(m, j, true) > NK_MAX_CHAIN)
		return -ELOOP;
	if (m->edge[i][j])
		return -EEXIST;
	m->edge[i][j] = true;
	return 0;
}

static void g_log_edges(struct __test_metadata *_metadata,
			const struct graph_model *m)
{
	char line[G_NODES * G_NODES * 8], *s = line;
	int i, j;

	*s = '\0';
	for (i = 0; i < G_NODES; i++)
		for (j = 0; j < G_NODES; j++)
			if (m->edge[i][j])
				s += sprintf(s, " %d>%d", i, j);
	TH_LOG("edges before it:%s", line);
}

TEST_F_TIMEOUT(nest, random_graphs_match_native_epoll_and_the_model, 300)
{
	static const char kinds[2] = { 'v', 'e' };
	int fds[2][G_NODES], res[2], want, op, k, n, i, j;
	unsigned int start, seed;
	struct graph_model m;

	for (start = 1; start <= 3; start++) {
		seed = start;
		memset(&m, 0, sizeof(m));
		for (k = 0; k < 2; k++)
			for (n = 0; n < G_NODES; n++) {
				fds[k][n] = nk_create(self->dev, kinds[k]);
				ASSERT_LE(0, fds[k][n]);
			}
		for (op = 0; op < G_OPS; op++) {
			int r = rand_r(&seed) % 100;
			struct graph_model before = m;

			i = rand_r(&seed) % G_NODES;
			j = rand_r(&seed) % G_NODES;
			if (r < 55) {
				want = g_model_add(&m, i, j);
				for (k = 0; k < 2; k++)
					res[k] = nk_ctl(self->dev, kinds[k],
							fds[k][i],
							VEPOLL_CTL_ADD,
							fds[k][j], VEPOLLIN, j);
			} else if (r < 90) {
				want = i == j ? -EINVAL :
				       m.edge[i][j] ? 0 : -ENOENT;
				m.edge[i][j] = false;
				for (k = 0; k < 2; k++)
					res[k] = nk_ctl(self->dev, kinds[k],
							fds[k][i],
							VEPOLL_CTL_DEL,
							fds[k][j], 0, 0);
			} else {
				/* Close i: every watch on it and of it goes. */
				want = 0;
				for (n = 0; n < G_NODES; n++) {
					m.edge[i][n] = false;
					m.edge[n][i] = false;
				}
				for (k = 0; k < 2; k++) {
					close(fds[k][i]);
					fds[k][i] = nk_create(self->dev,
							      kinds[k]);
					res[k] = fds[k][i] < 0 ? fds[k][i] : 0;
				}
			}
			if (res[0] == want && res[1] == want)
				continue;
			EXPECT_EQ(want, res[0]);
			EXPECT_EQ(want, res[1]);
			TH_LOG("seed %u op %d: %s %d > %d: model %d, vepoll %d, epoll %d",
			       start, op, r < 55 ? "ADD" : r < 90 ? "DEL" :
			       "close", i, j, want, res[0], res[1]);
			g_log_edges(_metadata, &before);
			break;
		}
		for (k = 0; k < 2; k++)
			vp_close_all(fds[k], G_NODES);
		if (op < G_OPS)
			break;
	}
}

/* ---- vepoll and native epoll in one chain --------------------------------- */

/* A in E in B: vepoll > epoll > vepoll, readiness end to end. */
TEST_F(nest, vepoll_in_epoll_in_vepoll_delivers_end_to_end)
{
	struct epoll_event eev = { .events = EPOLLIN, .data.u64 = 2 };
	struct vepoll_event ev;
	int e = epoll_create1(EPOLL_CLOEXEC), b = vp_create(self->dev, 0);

	ASSERT_LE(0, e);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, epoll_ctl(e, EPOLL_CTL_ADD, self->ep, &eev));
	ASSERT_EQ(0, vp_ctl(self->dev, b, VEPOLL_CTL_ADD, e, VEPOLLIN, 3));
	EXPECT_EQ(0, vp_wait(self->dev, b, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, b, &ev, 1, 10000));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(3U, ev.data);
	ASSERT_EQ(1, epoll_wait(e, &eev, 1, 0));
	EXPECT_EQ(2U, eev.data.u64);
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(1U, ev.data);
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0, vp_wait(self->dev, b, &ev, 1, 0));
	close(b);
	close(e);
}

/* E in A in F: epoll > vepoll > epoll, readiness end to end. */
TEST_F(nest, epoll_in_vepoll_in_epoll_delivers_end_to_end)
{
	struct epoll_event eev = { .events = EPOLLIN, .data.u64 = 1 };
	struct vepoll_event ev;
	int e = epoll_create1(EPOLL_CLOEXEC), f = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, e);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, epoll_ctl(e, EPOLL_CTL_ADD, self->p[0], &eev));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, e,
			    VEPOLLIN, 2));
	eev.data.u64 = 3;
	ASSERT_EQ(0, epoll_ctl(f, EPOLL_CTL_ADD, self->ep, &eev));
	EXPECT_EQ(0, epoll_wait(f, &eev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, epoll_wait(f, &eev, 1, 10000));
	EXPECT_EQ((__u32)EPOLLIN, eev.events);
	EXPECT_EQ(3U, eev.data.u64);
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(2U, ev.data);
	ASSERT_EQ(1, epoll_wait(e, &eev, 1, 0));
	EXPECT_EQ(1U, eev.data.u64);
	ASSERT_EQ(1, vp_drain(self->p[0]));
	/*
	 * f asks the instance from outside vepoll, which counts the queued
	 * e as ready without asking it (nest_may_be_spurious()); a wait on
	 * the instance finds e drained, and then f is told the truth.
	 */
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0, epoll_wait(f, &eev, 1, 0));
	close(f);
	close(e);
}

TEST_HARNESS_MAIN
