// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_nest_mt - nested instances with threads:
 *
 *   - a waiter on the outer level and one on the inner level at once, LT
 *     and ET on each level, also with native epoll on either level;
 *   - poll(), select() or epoll_wait() on an instance, then a wait;
 *   - a waiter at the top of a chain mixing vepoll and native epoll;
 *   - ADDs racing to close a cycle or build a chain deeper than 5: never
 *     both succeed.
 *
 * The cycles through native epoll are in vepoll_nest_cycle.c. Time limits
 * are generous (an emulated, loaded machine); nothing asserts a speed.
 */
#define _GNU_SOURCE
#include <sys/select.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"
#include "vepoll_nest.h"

/* How long a thread waits for something that must happen. */
#define MT_LONG_MS	20000

/* Wait until *@flag is at least @val (another thread sets it); 0 or -1. */
static int mt_await(int *flag, int val, unsigned int limit_ms)
{
	int64_t end = vp_now_ms() + limit_ms;

	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < val) {
		if (vp_now_ms() > end)
			return -1;
		vp_msleep(1);
	}
	return 0;
}

static void mt_set(int *flag, int val)
{
	__atomic_store_n(flag, val, __ATOMIC_RELEASE);
}

/* ---- one waiter per level -------------------------------------------------- */

#define LV_ROUNDS	8
#define LV_KICK		0x4b1c4ULL

/*
 * An outer instance O (level 0) watches an inner one I (level 1), which
 * watches a pipe; O also watches a "kick" eventfd. One thread waits on O,
 * another on I; in each round both are asleep before a byte is written.
 */
struct lv_thread {
	int dev, ep, rounds;
	char kind;
	pthread_barrier_t *go, *done;
	int tid, entered, returned;	/* entered, returned: mt_set() */
	int ret[LV_ROUNDS];
	struct vepoll_event ev[LV_ROUNDS][2];
};

static void *lv_thread_fn(void *arg)
{
	struct lv_thread *t = arg;
	int r;

	t->tid = nk_gettid();
	for (r = 0; r < t->rounds; r++) {
		pthread_barrier_wait(t->go);
		mt_set(&t->entered, r + 1);
		t->ret[r] = nk_wait(t->dev, t->kind, t->ep, t->ev[r], 2,
				    MT_LONG_MS);
		mt_set(&t->returned, r + 1);
		pthread_barrier_wait(t->done);
	}
	return NULL;
}

FIXTURE(levels) {
	int dev, kick;
	struct nk_chain n;
};

/* Kinds of the outer and inner level, and the modes of their watches. */
FIXTURE_VARIANT(levels) {
	const char *kinds;
	__u32 modes[2];
};

FIXTURE_VARIANT_ADD(levels, vv_outer_lt_inner_lt) {
	.kinds = "vv", .modes = { 0, 0 },
};

FIXTURE_VARIANT_ADD(levels, vv_outer_lt_inner_et) {
	.kinds = "vv", .modes = { 0, VEPOLLET },
};

FIXTURE_VARIANT_ADD(levels, vv_outer_et_inner_lt) {
	.kinds = "vv", .modes = { VEPOLLET, 0 },
};

FIXTURE_VARIANT_ADD(levels, vv_outer_et_inner_et) {
	.kinds = "vv", .modes = { VEPOLLET, VEPOLLET },
};

FIXTURE_VARIANT_ADD(levels, ve_outer_lt_inner_lt) {
	.kinds = "ve", .modes = { 0, 0 },
};

FIXTURE_VARIANT_ADD(levels, ve_outer_et_inner_et) {
	.kinds = "ve", .modes = { VEPOLLET, VEPOLLET },
};

FIXTURE_VARIANT_ADD(levels, ev_outer_lt_inner_lt) {
	.kinds = "ev", .modes = { 0, 0 },
};

FIXTURE_VARIANT_ADD(levels, ev_outer_et_inner_et) {
	.kinds = "ev", .modes = { VEPOLLET, VEPOLLET },
};

FIXTURE_VARIANT_ADD(levels, ev_outer_et_inner_lt) {
	.kinds = "ev", .modes = { VEPOLLET, 0 },
};

/* The oracle: the same tests hold for native epoll in native epoll. */
FIXTURE_VARIANT_ADD(levels, ee_outer_lt_inner_lt) {
	.kinds = "ee", .modes = { 0, 0 },
};

FIXTURE_VARIANT_ADD(levels, ee_outer_et_inner_lt) {
	.kinds = "ee", .modes = { VEPOLLET, 0 },
};

FIXTURE_VARIANT_ADD(levels, ee_outer_et_inner_et) {
	.kinds = "ee", .modes = { VEPOLLET, VEPOLLET },
};

FIXTURE_SETUP(levels)
{
	self->dev = vp_open_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, nk_chain_build(&self->n, self->dev, variant->kinds,
				    variant->modes));
	self->kick = vp_eventfd(0);
	ASSERT_LE(0, self->kick);
	ASSERT_EQ(0, nk_ctl(self->dev, variant->kinds[0], self->n.ep[0],
			    VEPOLL_CTL_ADD, self->kick, VEPOLLIN, LV_KICK));
}

FIXTURE_TEARDOWN(levels)
{
	close(self->kick);
	nk_chain_destroy(&self->n);
	close(self->dev);
}

/*
 * Both waiters wake for one byte. With the inner watch level-triggered the
 * outer waiter must report the inner instance, every round (under outer ET
 * each round's byte is a new edge). With the inner watch edge-triggered
 * the inner waiter may take the event before the outer one looks at the
 * inner instance, and then the outer one has nothing to report (Linux
 * alike): the outer waiter is released by the kick eventfd, and only
 * what it reports is checked.
 */
TEST_F_TIMEOUT(levels, waiters_on_both_levels, 300)
{
	bool inner_et = variant->modes[1] & VEPOLLET;
	struct lv_thread t[2] = {};
	pthread_barrier_t go, done;
	pthread_t thr[2];
	int i, r, seen = 0;

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 3));
	ASSERT_EQ(0, pthread_barrier_init(&done, NULL, 3));
	for (i = 0; i < 2; i++) {
		t[i].dev = self->dev;
		t[i].kind = variant->kinds[i];
		t[i].ep = self->n.ep[i];
		t[i].rounds = LV_ROUNDS;
		t[i].go = &go;
		t[i].done = &done;
		ASSERT_EQ(0, pthread_create(&thr[i], NULL, lv_thread_fn, &t[i]));
	}
	for (r = 0; r < LV_ROUNDS; r++) {
		pthread_barrier_wait(&go);
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, mt_await(&t[i].entered, r + 1, MT_LONG_MS));
			ASSERT_EQ(0, nk_wait_sleeping(t[i].tid, MT_LONG_MS)) {
				TH_LOG("round %d: %s waiter never slept", r,
				       i ? "inner" : "outer");
			}
		}
		ASSERT_EQ(1, vp_write_bytes(self->n.p[1], 1));
		ASSERT_EQ(0, mt_await(&t[1].returned, r + 1, 2 * MT_LONG_MS));
		if (inner_et)
			ASSERT_EQ(0, vp_eventfd_add(self->kick, 1));
		ASSERT_EQ(0, mt_await(&t[0].returned, r + 1, 2 * MT_LONG_MS));
		pthread_barrier_wait(&done);

		/* The inner waiter: the pipe, once. */
		EXPECT_EQ(1, t[1].ret[r]) {
			TH_LOG("round %d: inner waiter got %d", r, t[1].ret[r]);
		}
		EXPECT_EQ(NK_DATA(1), t[1].ev[r][0].data);
		EXPECT_EQ(VEPOLLIN, t[1].ev[r][0].events);
		/* The outer waiter: the inner instance, and maybe the kick. */
		if (!inner_et) {
			EXPECT_EQ(1, t[0].ret[r]) {
				TH_LOG("round %d: outer waiter got %d", r,
				       t[0].ret[r]);
			}
		}
		EXPECT_LE(inner_et ? 1 : 0, t[0].ret[r]);
		for (i = 0; i < t[0].ret[r] && i < 2; i++) {
			if (t[0].ev[r][i].data == LV_KICK)
				continue;
			EXPECT_EQ(NK_DATA(0), t[0].ev[r][i].data);
			EXPECT_EQ(VEPOLLIN, t[0].ev[r][i].events);
			seen++;
		}
		ASSERT_LE(0, vp_drain(self->n.p[0]));
		ASSERT_LE(0, vp_drain(self->kick));
	}
	for (i = 0; i < 2; i++)
		pthread_join(thr[i], NULL);
	pthread_barrier_destroy(&go);
	pthread_barrier_destroy(&done);
	TH_LOG("%s outer %s, inner %s: the outer waiter saw the inner level in %d of %d rounds",
	       variant->kinds, nk_mode_name(variant->modes[0]),
	       nk_mode_name(variant->modes[1]), seen, LV_ROUNDS);
}

/* ---- poll(), select(), epoll_wait() on an instance, then a wait ----------- */

enum lv_how { BY_POLL, BY_SELECT, BY_EPOLL };

struct poller {
	int fd, ret;
	enum lv_how how;
	int tid, entered;
};

/* Blocks until @p->fd is readable; 1 if it is, 0 on time-out, or -errno. */
static void *poller_fn(void *arg)
{
	struct poller *p = arg;
	struct epoll_event eev = { .events = EPOLLIN };
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	struct timeval tv = { MT_LONG_MS / 1000, 0 };
	fd_set rd;
	int efd = -1;

	p->tid = nk_gettid();
	FD_ZERO(&rd);
	FD_SET(p->fd, &rd);
	if (p->how == BY_EPOLL) {
		efd = epoll_create1(EPOLL_CLOEXEC);
		if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, p->fd, &eev)) {
			p->ret = -errno;
			mt_set(&p->entered, 1);
			return NULL;
		}
	}
	mt_set(&p->entered, 1);
	switch (p->how) {
	case BY_POLL:
		p->ret = vp_ret(poll(&pfd, 1, MT_LONG_MS));
		if (p->ret == 1 && pfd.revents != POLLIN)
			p->ret = -EPROTO;
		break;
	case BY_SELECT:
		p->ret = vp_ret(select(p->fd + 1, &rd, NULL, NULL, &tv));
		if (p->ret == 1 && !FD_ISSET(p->fd, &rd))
			p->ret = -EPROTO;
		break;
	case BY_EPOLL:
		p->ret = vp_ret(epoll_wait(efd, &eev, 1, MT_LONG_MS));
		if (p->ret == 1 && eev.events != EPOLLIN)
			p->ret = -EPROTO;
		close(efd);
		break;
	}
	return NULL;
}

/*
 * A thread blocked in poll(2) (select, epoll_wait) on instance @fd; the
 * main thread writes into the pipe once the thread sleeps. Returns what
 * the poller got.
 */
static int poll_until_written(struct __test_metadata *_metadata, int fd,
			      enum lv_how how, int wfd)
{
	struct poller p = { .fd = fd, .how = how };
	pthread_t thr;

	if (pthread_create(&thr, NULL, poller_fn, &p))
		return -EAGAIN;
	if (mt_await(&p.entered, 1, MT_LONG_MS) ||
	    nk_wait_sleeping(p.tid, MT_LONG_MS))
		TH_LOG("the poller never slept");
	else if (vp_write_bytes(wfd, 1) != 1)
		TH_LOG("write: %s", strerror(errno));
	pthread_join(thr, NULL);
	return p.ret;
}

/*
 * Each way of sleeping on the outer instance wakes for a byte written into
 * the pipe two levels down, and none of them consumes anything: the
 * outer wait then reports the inner instance and the inner wait the pipe,
 * ET and ONESHOT included.
 */
TEST_F_TIMEOUT(levels, poll_outer_then_wait_each_level, 300)
{
	static const enum lv_how hows[] = { BY_POLL, BY_SELECT, BY_EPOLL };
	struct vepoll_event ev[2];
	unsigned int h;

	for (h = 0; h < ARRAY_SIZE(hows); h++) {
		EXPECT_EQ(1, poll_until_written(_metadata, self->n.ep[0],
						hows[h], self->n.p[1])) {
			TH_LOG("sleeping by %s", hows[h] == BY_POLL ? "poll" :
			       hows[h] == BY_SELECT ? "select" : "epoll_wait");
		}
		ASSERT_EQ(1, nk_wait(self->dev, variant->kinds[0],
				     self->n.ep[0], ev, 2, 0));
		EXPECT_EQ(NK_DATA(0), ev[0].data);
		EXPECT_EQ((__u32)(POLLIN | POLLRDNORM), vp_poll_now(self->n.ep[1]));
		ASSERT_EQ(1, nk_wait(self->dev, variant->kinds[1],
				     self->n.ep[1], ev, 2, 0));
		EXPECT_EQ(NK_DATA(1), ev[0].data);
		ASSERT_EQ(1, vp_drain(self->n.p[0]));
		/* Whatever is left is stale: nothing is reported now. */
		EXPECT_EQ(0, nk_wait(self->dev, variant->kinds[0],
				     self->n.ep[0], ev, 2, 0));
		EXPECT_EQ(0, nk_wait(self->dev, variant->kinds[1],
				     self->n.ep[1], ev, 2, 0));
	}
}

/* The same from the inner level: poll it, then the outer one, then wait. */
TEST_F_TIMEOUT(levels, poll_inner_then_outer_then_wait, 300)
{
	struct vepoll_event ev[2];
	struct pollfd pfd = { .events = POLLIN };

	EXPECT_EQ(1, poll_until_written(_metadata, self->n.ep[1], BY_POLL,
					self->n.p[1]));
	/* The outer level may learn of it a moment later. */
	pfd.fd = self->n.ep[0];
	EXPECT_EQ(1, poll(&pfd, 1, MT_LONG_MS));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_EQ(1, nk_wait(self->dev, variant->kinds[1], self->n.ep[1], ev,
			     2, 0));
	EXPECT_EQ(NK_DATA(1), ev[0].data);
	/* Once the inner wait consumed an ET event, the outer has nothing. */
	if (variant->modes[1] & VEPOLLET) {
		EXPECT_EQ(0, nk_wait(self->dev, variant->kinds[0],
				     self->n.ep[0], ev, 2, 0));
	} else {
		EXPECT_EQ(1, nk_wait(self->dev, variant->kinds[0],
				     self->n.ep[0], ev, 2, 0));
		EXPECT_EQ(NK_DATA(0), ev[0].data);
	}
}

/* ---- a waiter at the top of a chain --------------------------------------- */

struct top_waiter {
	int dev, ep, ret;
	char kind;
	struct vepoll_event ev[2];
	int tid, entered;
};

static void *top_waiter_fn(void *arg)
{
	struct top_waiter *w = arg;

	w->tid = nk_gettid();
	mt_set(&w->entered, 1);
	w->ret = nk_wait(w->dev, w->kind, w->ep, w->ev, 2, MT_LONG_MS);
	return NULL;
}

FIXTURE(chain) {
	int dev;
};

FIXTURE_SETUP(chain)
{
	self->dev = vp_open_dev();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(chain)
{
	close(self->dev);
}

/*
 * Every mix of vepoll and native epoll in chains of 2 to 4 levels, LT and
 * ET at each: a waiter asleep on the top wakes when the pipe at the bottom
 * becomes readable, and reports the level below it.
 */
TEST_F_TIMEOUT(chain, top_waiter_of_any_mix_wakes, 600)
{
	static const char * const chains[] = {
		"vv", "ve", "ev", "vev", "eve", "vvv", "evev", "veve", "vvvv",
	};
	__u32 modes[NK_LEVELS_MAX];
	unsigned int c, m, l;

	for (c = 0; c < ARRAY_SIZE(chains); c++) {
		unsigned int levels = strlen(chains[c]);

		for (m = 0; m < 1U << levels; m++) {
			struct top_waiter w = { .dev = self->dev,
						.kind = chains[c][0] };
			struct nk_chain n;
			pthread_t thr;

			for (l = 0; l < levels; l++)
				modes[l] = m & 1U << l ? VEPOLLET : 0;
			ASSERT_EQ(0, nk_chain_build(&n, self->dev, chains[c],
						    modes));
			w.ep = n.ep[0];
			ASSERT_EQ(0, pthread_create(&thr, NULL, top_waiter_fn,
						    &w));
			ASSERT_EQ(0, mt_await(&w.entered, 1, MT_LONG_MS));
			ASSERT_EQ(0, nk_wait_sleeping(w.tid, MT_LONG_MS));
			ASSERT_EQ(1, vp_write_bytes(n.p[1], 1));
			pthread_join(thr, NULL);
			EXPECT_EQ(1, w.ret) {
				TH_LOG("chain %s, ET mask %#x: got %d",
				       chains[c], m, w.ret);
			}
			EXPECT_EQ(NK_DATA(0), w.ev[0].data);
			EXPECT_EQ(VEPOLLIN, w.ev[0].events);
			nk_chain_destroy(&n);
		}
	}
}

/* ---- ADDs racing to close a cycle ----------------------------------------- */

#define RACE_ROUNDS	500
#define RACE_MAX	3

enum race_shape {
	RACE_TWO_CYCLE,		/* A into B | B into A */
	RACE_DUP_CYCLE,		/* A into B | B into dup(A) */
	RACE_THREE_CYCLE,	/* A into B | B into C | C into A */
	RACE_DEPTH,		/* two ADDs, each fine, together 7 deep */
};

struct racer {
	int dev, ep, fd, ret;
	char kind;
	pthread_barrier_t *start, *end;
	bool stop;
};

static void *racer_fn(void *arg)
{
	struct racer *r = arg;

	for (;;) {
		pthread_barrier_wait(r->start);
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			break;
		r->ret = nk_ctl(r->dev, r->kind, r->ep, VEPOLL_CTL_ADD, r->fd,
				VEPOLLIN, 0);
		pthread_barrier_wait(r->end);
	}
	return NULL;
}

FIXTURE(race) {
	int dev;
};

FIXTURE_VARIANT(race) {
	enum race_shape shape;
	char kind;
};

FIXTURE_VARIANT_ADD(race, two_cycle) {
	.shape = RACE_TWO_CYCLE, .kind = 'v',
};

FIXTURE_VARIANT_ADD(race, two_cycle_through_dup) {
	.shape = RACE_DUP_CYCLE, .kind = 'v',
};

FIXTURE_VARIANT_ADD(race, three_cycle) {
	.shape = RACE_THREE_CYCLE, .kind = 'v',
};

FIXTURE_VARIANT_ADD(race, chain_deeper_than_five) {
	.shape = RACE_DEPTH, .kind = 'v',
};

/* The oracle: Linux never lets both succeed either. */
FIXTURE_VARIANT_ADD(race, two_cycle_native_epoll) {
	.shape = RACE_TWO_CYCLE, .kind = 'e',
};

FIXTURE_SETUP(race)
{
	self->dev = vp_open_dev();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(race)
{
	close(self->dev);
}

static void race_set(struct racer *r, int ep, int fd)
{
	r->ep = ep;
	r->fd = fd;
}

/*
 * Set up one round: fds[] are the instances (closed after the round),
 * racers[i] gets its (ep, fd). Returns the number of racers, or -errno.
 */
static int race_prepare(int dev, char kind, enum race_shape shape, int *fds,
			int *nfds, struct racer *racers)
{
	int i, ret;

	*nfds = shape == RACE_DEPTH ? 7 : shape == RACE_THREE_CYCLE ? 3 : 2;
	for (i = 0; i < *nfds; i++) {
		fds[i] = nk_create(dev, kind);
		if (fds[i] < 0) {
			*nfds = i;
			return fds[i];
		}
	}
	switch (shape) {
	case RACE_TWO_CYCLE:
		race_set(&racers[0], fds[0], fds[1]);
		race_set(&racers[1], fds[1], fds[0]);
		return 2;
	case RACE_DUP_CYCLE:
		fds[2] = dup(fds[0]);
		if (fds[2] < 0)
			return -errno;
		*nfds = 3;
		race_set(&racers[0], fds[0], fds[1]);
		race_set(&racers[1], fds[1], fds[2]);
		return 2;
	case RACE_THREE_CYCLE:
		for (i = 0; i < 3; i++)
			race_set(&racers[i], fds[i], fds[(i + 1) % 3]);
		return 3;
	case RACE_DEPTH:
		/* a0 > a1 > a2, b0 > b1, c0 > c1 (fds 0-2, 3-4, 5-6). */
		ret = nk_ctl(dev, kind, fds[0], VEPOLL_CTL_ADD, fds[1], VEPOLLIN, 0) ?:
		      nk_ctl(dev, kind, fds[1], VEPOLL_CTL_ADD, fds[2], VEPOLLIN, 0) ?:
		      nk_ctl(dev, kind, fds[3], VEPOLL_CTL_ADD, fds[4], VEPOLLIN, 0) ?:
		      nk_ctl(dev, kind, fds[5], VEPOLL_CTL_ADD, fds[6], VEPOLLIN, 0);
		if (ret)
			return ret;
		/* a2 > b0 alone: 5 deep; b1 > c0 alone: 4; both: 7. */
		race_set(&racers[0], fds[2], fds[3]);
		race_set(&racers[1], fds[4], fds[5]);
		return 2;
	}
	return -EINVAL;
}

TEST_F_TIMEOUT(race, adds_never_all_succeed, 600)
{
	struct racer racers[RACE_MAX] = {};
	pthread_barrier_t start, end;
	int fds[8], nfds, nracers, round, i, ok, eloop;
	pthread_t thr[RACE_MAX];
	int tally[RACE_MAX + 1] = {};

	/* Every shape uses 2 racers but the three-cycle. */
	nracers = variant->shape == RACE_THREE_CYCLE ? 3 : 2;
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, nracers + 1));
	ASSERT_EQ(0, pthread_barrier_init(&end, NULL, nracers + 1));
	for (i = 0; i < nracers; i++) {
		racers[i].dev = self->dev;
		racers[i].kind = variant->kind;
		racers[i].start = &start;
		racers[i].end = &end;
		ASSERT_EQ(0, pthread_create(&thr[i], NULL, racer_fn,
					    &racers[i]));
	}
	for (round = 0; round < RACE_ROUNDS; round++) {
		ASSERT_EQ(nracers, race_prepare(self->dev, variant->kind,
						variant->shape, fds, &nfds,
						racers));
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&end);
		ok = 0;
		eloop = 0;
		for (i = 0; i < nracers; i++) {
			ok += !racers[i].ret;
			eloop += racers[i].ret == -ELOOP;
		}
		/* Serialised, the last ADD is refused, and only that one. */
		ASSERT_EQ(nracers - 1, ok) {
			for (i = 0; i < nracers; i++)
				TH_LOG("round %d: racer %d got %d", round, i,
				       racers[i].ret);
		}
		ASSERT_EQ(1, eloop);
		for (i = 0; i < nracers; i++)
			tally[i] += !racers[i].ret;
		for (i = 0; i < nfds; i++)
			close(fds[i]);
	}
	for (i = 0; i < nracers; i++)
		__atomic_store_n(&racers[i].stop, true, __ATOMIC_RELEASE);
	pthread_barrier_wait(&start);
	for (i = 0; i < nracers; i++)
		pthread_join(thr[i], NULL);
	pthread_barrier_destroy(&start);
	pthread_barrier_destroy(&end);
	TH_LOG("%d rounds: racer 0 won %d, racer 1 won %d", RACE_ROUNDS,
	       tally[0], tally[1]);
}

TEST_HARNESS_MAIN
