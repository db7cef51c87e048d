// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_nest_cycle - cycles through native epoll.
 *
 * vepoll refuses a cycle of instances (ELOOP), and Linux refuses a cycle
 * of epoll instances, but neither can see a cycle that goes through both:
 * instance A watches epoll E and E watches A (epoll_ctl(E, ADD, A)). Such
 * a cycle, alone or hammered by threads that wait on both, poll them,
 * write a target and change the watches, must neither deadlock nor recurse
 * without end, and must keep reporting what is ready.
 *
 * Every test runs its threads in a child process under a watchdog
 * (nk_run_watchdog()): a deadlock fails the test and prints the stuck
 * threads' kernel stacks instead of hanging the suite. A task stuck in D
 * state cannot be killed and keeps the module busy, so this program runs
 * after vepoll_limits, which reloads the module.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"
#include "vepoll_nest.h"

/* How long a call waits for something that must happen. */
#define CYC_LONG_MS	20000

static void *cyc_map_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#define CYC_THREADS_MAX	8
#define CYC_RUN_MS	3000
/* The child gets this long, beyond its run, before it counts as hung. */
#define CYC_GRACE_S	60

enum cyc_role {
	CYC_VWAIT,	/* loops VEPOLL_IOC_WAIT on an instance */
	CYC_EWAIT,	/* loops epoll_wait() on a native epoll */
	CYC_POLL,	/* loops poll() on an instance and a native epoll */
	CYC_WRITE,	/* writes the eventfd */
	CYC_CTL,	/* MODs, DELs and re-ADDs the watches of the cycle */
};

struct cyc_thread {
	enum cyc_role role;
	int fd;			/* what it waits on, polls or writes */
	long iters, events;
	int err;		/* first unexpected -errno */
};

/* Shared between the test and the child that runs the threads. */
struct cyc_shared {
	int dev, nthreads;
	int a, b, e, e2, efd, p[2], q[2];
	__u32 mode;		/* VEPOLLET or 0, on every watch */
	bool ready_pipe, long_cycle;
	bool stop;			/* __atomic */
	struct cyc_thread t[CYC_THREADS_MAX];
};

static struct cyc_shared *cyc;

static void cyc_err(struct cyc_thread *t, int err)
{
	if (!t->err)
		t->err = err;
}

static void *cyc_thread_fn(void *arg)
{
	struct cyc_thread *t = arg;
	struct epoll_event eev[4];
	struct vepoll_event ev[4];
	struct pollfd pfd[2];
	__u32 et;
	int n;

	while (!__atomic_load_n(&cyc->stop, __ATOMIC_ACQUIRE)) {
		t->iters++;
		switch (t->role) {
		case CYC_VWAIT:
			n = vp_wait(cyc->dev, t->fd, ev, 4, 100);
			if (n < 0)
				cyc_err(t, n);
			else
				t->events += n;
			break;
		case CYC_EWAIT:
			n = vp_ret(epoll_wait(t->fd, eev, 4, 100));
			if (n < 0)
				cyc_err(t, n);
			else
				t->events += n;
			break;
		case CYC_POLL:
			pfd[0].fd = cyc->a;
			pfd[1].fd = cyc->e;
			pfd[0].events = POLLIN;
			pfd[1].events = POLLIN;
			n = vp_ret(poll(pfd, 2, 100));
			if (n < 0)
				cyc_err(t, n);
			else
				t->events += n;
			break;
		case CYC_WRITE:
			n = vp_eventfd_add(cyc->efd, 1);
			if (n)
				cyc_err(t, n);
			else
				t->events++;
			if (!(t->iters % 16))
				vp_msleep(1);
			break;
		case CYC_CTL:
			et = t->iters & 1 ? VEPOLLET : 0;
			n = vp_ctl(cyc->dev, cyc->a, VEPOLL_CTL_MOD, cyc->e,
				   VEPOLLIN | et, 3);
			if (!n)
				n = nk_ctl(cyc->dev, 'e', cyc->e,
					   VEPOLL_CTL_MOD, cyc->a,
					   VEPOLLIN | et, 4);
			if (!n && !(t->iters % 8))
				n = vp_ctl(cyc->dev, cyc->a, VEPOLL_CTL_DEL,
					   cyc->e, 0, 0) ?:
				    vp_ctl(cyc->dev, cyc->a, VEPOLL_CTL_ADD,
					   cyc->e, VEPOLLIN, 3);
			if (!n && !(t->iters % 8))
				n = nk_ctl(cyc->dev, 'e', cyc->e,
					   VEPOLL_CTL_DEL, cyc->a, 0, 0) ?:
				    nk_ctl(cyc->dev, 'e', cyc->e,
					   VEPOLL_CTL_ADD, cyc->a, VEPOLLIN, 4);
			if (n)
				cyc_err(t, n);
			else
				t->events++;
			sched_yield();
			break;
		}
	}
	return NULL;
}

/* Placeholders for the fds only the child knows. */
#define CYC_A	(-1)
#define CYC_E	(-2)
#define CYC_EFD	(-3)
#define CYC_B	(-4)
#define CYC_E2	(-5)

static int cyc_fd(int which)
{
	switch (which) {
	case CYC_A:
		return cyc->a;
	case CYC_E:
		return cyc->e;
	case CYC_EFD:
		return cyc->efd;
	case CYC_B:
		return cyc->b;
	case CYC_E2:
		return cyc->e2;
	}
	return which;
}

/*
 * The child: build the cycle, run the threads for CYC_RUN_MS, stop them.
 * Returns 0, or 1 + the step that failed.
 */
static int cyc_child(void *arg)
{
	pthread_t thr[CYC_THREADS_MAX];
	__u32 m = cyc->mode;
	int i;

	cyc->dev = vp_open_dev();
	cyc->a = vp_create(cyc->dev, 0);
	cyc->e = epoll_create1(EPOLL_CLOEXEC);
	cyc->efd = vp_eventfd(0);
	if (cyc->dev < 0 || cyc->a < 0 || cyc->e < 0 || cyc->efd < 0 ||
	    vp_pipe(cyc->p) || vp_pipe(cyc->q))
		return 1;
	/* A watches E and the eventfd, E watches A. */
	if (vp_ctl(cyc->dev, cyc->a, VEPOLL_CTL_ADD, cyc->e, VEPOLLIN | m, 3) ||
	    vp_ctl(cyc->dev, cyc->a, VEPOLL_CTL_ADD, cyc->efd, VEPOLLIN | m, 2) ||
	    nk_ctl(cyc->dev, 'e', cyc->e, VEPOLL_CTL_ADD, cyc->a, VEPOLLIN | m, 4))
		return 2;
	if (cyc->ready_pipe) {
		if (vp_write_bytes(cyc->p[1], 1) != 1 ||
		    vp_ctl(cyc->dev, cyc->a, VEPOLL_CTL_ADD, cyc->p[0],
			   VEPOLLIN | m, 1))
			return 3;
	}
	if (cyc->long_cycle) {
		/* ... and E watches B, B watches E2, E2 watches A. */
		cyc->b = vp_create(cyc->dev, 0);
		cyc->e2 = epoll_create1(EPOLL_CLOEXEC);
		if (cyc->b < 0 || cyc->e2 < 0 ||
		    nk_ctl(cyc->dev, 'e', cyc->e, VEPOLL_CTL_ADD, cyc->b,
			   VEPOLLIN | m, 5) ||
		    vp_ctl(cyc->dev, cyc->b, VEPOLL_CTL_ADD, cyc->e2,
			   VEPOLLIN | m, 6) ||
		    nk_ctl(cyc->dev, 'e', cyc->e2, VEPOLL_CTL_ADD, cyc->a,
			   VEPOLLIN | m, 7) ||
		    vp_write_bytes(cyc->q[1], 1) != 1 ||
		    vp_ctl(cyc->dev, cyc->b, VEPOLL_CTL_ADD, cyc->q[0],
			   VEPOLLIN | m, 8))
			return 4;
	}
	for (i = 0; i < cyc->nthreads; i++) {
		struct cyc_thread *t = &cyc->t[i];

		t->fd = cyc_fd(t->fd);
		if (pthread_create(&thr[i], NULL, cyc_thread_fn, t))
			return 5;
	}
	vp_msleep(CYC_RUN_MS);
	__atomic_store_n(&cyc->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < cyc->nthreads; i++)
		pthread_join(thr[i], NULL);
	return 0;
}

FIXTURE(cycle) {
	struct cyc_shared *shared;
};

FIXTURE_VARIANT(cycle) {
	__u32 mode;
	bool ready_pipe, long_cycle;
	int nthreads;
	struct { enum cyc_role role; int fd; } t[CYC_THREADS_MAX];
};

/* The case that used to leave both waiters in D state. */
FIXTURE_VARIANT_ADD(cycle, ready_pipe_waiters_and_writer) {
	.ready_pipe = true, .nthreads = 3,
	.t = { { CYC_VWAIT, CYC_A }, { CYC_EWAIT, CYC_E },
	       { CYC_WRITE, CYC_EFD } },
};

/* Edge-triggered everywhere and nothing ready for long: waiters sleep. */
FIXTURE_VARIANT_ADD(cycle, edge_triggered_sleeping_waiters) {
	.mode = VEPOLLET, .nthreads = 5,
	.t = { { CYC_VWAIT, CYC_A }, { CYC_VWAIT, CYC_A },
	       { CYC_EWAIT, CYC_E }, { CYC_EWAIT, CYC_E },
	       { CYC_WRITE, CYC_EFD } },
};

/* Pollers of both and a thread changing the cycle's watches meanwhile. */
FIXTURE_VARIANT_ADD(cycle, pollers_and_ctl_churn) {
	.ready_pipe = true, .nthreads = 5,
	.t = { { CYC_VWAIT, CYC_A }, { CYC_EWAIT, CYC_E },
	       { CYC_WRITE, CYC_EFD }, { CYC_POLL, CYC_A },
	       { CYC_CTL, CYC_A } },
};

/* A > E > B > E2 > A: two instances, two epolls, waiters on each. */
FIXTURE_VARIANT_ADD(cycle, long_cycle_two_instances_two_epolls) {
	.ready_pipe = true, .long_cycle = true, .nthreads = 5,
	.t = { { CYC_VWAIT, CYC_A }, { CYC_VWAIT, CYC_B },
	       { CYC_EWAIT, CYC_E }, { CYC_EWAIT, CYC_E2 },
	       { CYC_WRITE, CYC_EFD } },
};

FIXTURE_SETUP(cycle)
{
	int i;

	self->shared = cyc_map_shared(sizeof(*self->shared));
	ASSERT_TRUE(!!self->shared);
	memset(self->shared, 0, sizeof(*self->shared));
	self->shared->mode = variant->mode;
	self->shared->ready_pipe = variant->ready_pipe;
	self->shared->long_cycle = variant->long_cycle;
	self->shared->nthreads = variant->nthreads;
	self->shared->b = -1;
	self->shared->e2 = -1;
	for (i = 0; i < variant->nthreads; i++) {
		self->shared->t[i].role = variant->t[i].role;
		self->shared->t[i].fd = variant->t[i].fd;
	}
	cyc = self->shared;
}

FIXTURE_TEARDOWN(cycle)
{
	munmap(self->shared, sizeof(*self->shared));
}

static const char * const cyc_role_names[] = {
	[CYC_VWAIT] = "VEPOLL_IOC_WAIT", [CYC_EWAIT] = "epoll_wait",
	[CYC_POLL] = "poll", [CYC_WRITE] = "eventfd write",
	[CYC_CTL] = "CTL churn",
};

TEST_F_TIMEOUT(cycle, threads_finish, CYC_RUN_MS / 1000 + CYC_GRACE_S + 30)
{
	int i, ret;

	ret = nk_run_watchdog(cyc_child, NULL, CYC_RUN_MS / 1000 + CYC_GRACE_S);
	ASSERT_NE(-ETIMEDOUT, ret) {
		TH_LOG("deadlock: the threads did not finish (stacks above)");
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("setting up the cycle failed at step %d", ret);
	}
	for (i = 0; i < self->shared->nthreads; i++) {
		struct cyc_thread *t = &self->shared->t[i];

		TH_LOG("%-16s %8ld calls, %8ld events", cyc_role_names[t->role],
		       t->iters, t->events);
		EXPECT_EQ(0, t->err) {
			TH_LOG("%s: %s", cyc_role_names[t->role],
			       strerror(-t->err));
		}
		EXPECT_LT(0, t->iters);
	}
	/* Something was reported to the waiters of the cycle. */
	for (i = 0; i < self->shared->nthreads; i++)
		if (self->shared->t[i].role == CYC_VWAIT ||
		    self->shared->t[i].role == CYC_EWAIT)
			EXPECT_LT(0, self->shared->t[i].events);
}

/* What the single-threaded cycle saw at the step that failed. */
struct cyc_diag {
	int step, value, err;
	long ms;
};

static int cyc_fail(struct cyc_diag *d, int step, int value, int64_t t0)
{
	d->step = step;
	d->value = value;
	d->err = value < 0 ? errno : 0;
	d->ms = (long)(vp_now_ms() - t0);
	return step;
}

/*
 * The cycle A > E > A, one thread: every call returns, and readiness stays
 * right, before, during and after a byte in a pipe A watches.
 */
static int cyc_single_child(void *arg)
{
	struct epoll_event eev = { .events = EPOLLIN, .data.u64 = 1 };
	struct cyc_diag *d = arg;
	struct vepoll_event ev[3];
	int dev, a, e, p[2], i, n;
	int64_t t0 = vp_now_ms();

	dev = vp_open_dev();
	a = vp_create(dev, 0);
	e = epoll_create1(EPOLL_CLOEXEC);
	if (dev < 0 || a < 0 || e < 0 || vp_pipe(p))
		return cyc_fail(d, 1, -1, t0);
	if (vp_ctl(dev, a, VEPOLL_CTL_ADD, e, VEPOLLIN, 2) ||
	    epoll_ctl(e, EPOLL_CTL_ADD, a, &eev))
		return cyc_fail(d, 2, -1, t0);
	/* Nothing ready anywhere: the cycle reports nothing. */
	n = vp_wait(dev, a, ev, 3, 0);
	if (n)
		return cyc_fail(d, 3, n, t0);
	n = epoll_wait(e, &eev, 1, 0);
	if (n)
		return cyc_fail(d, 4, n, t0);
	if (vp_poll_now(a) || vp_poll_now(e))
		return cyc_fail(d, 5, (int)vp_poll_now(a), t0);
	if (vp_ctl(dev, a, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 3) ||
	    vp_write_bytes(p[1], 1) != 1)
		return cyc_fail(d, 6, -1, t0);
	for (i = 0; i < 20; i++) {
		t0 = vp_now_ms();
		n = vp_wait(dev, a, ev, 3, CYC_LONG_MS);
		if (n < 1 || vp_find(ev, n, 3) < 0)
			return cyc_fail(d, 7, n, t0);
		t0 = vp_now_ms();
		n = epoll_wait(e, &eev, 1, CYC_LONG_MS);
		if (n != 1)
			return cyc_fail(d, 8, n, t0);
		if (vp_poll_now(a) != (POLLIN | POLLRDNORM))
			return cyc_fail(d, 9, (int)vp_poll_now(a), t0);
	}
	/* The pipe drained, the cycle goes quiet again: nothing is left
	 * to report, though a wait may still find stale entries to drop.
	 */
	if (vp_drain(p[0]) != 1)
		return cyc_fail(d, 10, -1, t0);
	for (i = 0; i < 20; i++) {
		n = vp_wait(dev, a, ev, 3, 0);
		if (n < 0 || vp_find(ev, n, 3) >= 0)
			return cyc_fail(d, 11, n, t0);
		n = epoll_wait(e, &eev, 1, 0);
		if (n < 0)
			return cyc_fail(d, 12, n, t0);
		vp_msleep(5);
	}
	/*
	 * A vepoll wait must come back empty. The epoll side may not: when
	 * a native epoll polls an instance, the instance cannot ask a native
	 * epoll it watches without risking that epoll's mutex, so a queued
	 * epoll target counts as ready (Documentation.rst, Locking).
	 */
	n = vp_wait(dev, a, ev, 3, 0);
	if (n)
		return cyc_fail(d, 13, n, t0);
	return 0;
}

FIXTURE(cycle1) {
};

FIXTURE_SETUP(cycle1)
{
}

FIXTURE_TEARDOWN(cycle1)
{
}

/* The harness's own time-out must not fire before the watchdog's. */
TEST_F_TIMEOUT(cycle1, single_thread_cycle_through_native_epoll,
	       CYC_GRACE_S + 30)
{
	struct cyc_diag *d = cyc_map_shared(sizeof(*d));
	int ret;

	ASSERT_TRUE(!!d);
	ret = nk_run_watchdog(cyc_single_child, d, CYC_GRACE_S);
	ASSERT_NE(-ETIMEDOUT, ret) {
		TH_LOG("deadlock: a single thread hung in the cycle (stack above)");
	}
	EXPECT_EQ(0, ret) {
		TH_LOG("failed at step %d (see cyc_single_child()): got %d (%s) after %ld ms",
		       d->step, d->value, d->err ? strerror(d->err) : "-",
		       d->ms);
	}
	munmap(d, sizeof(*d));
}

TEST_HARNESS_MAIN
