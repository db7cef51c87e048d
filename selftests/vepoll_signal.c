// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_signal - a signal ends a wait with EINTR and is never
 * restarted; a wait's sigmask replaces the thread's mask for its duration
 * and is restored afterwards, as epoll_pwait(2) does.
 */
#define _GNU_SOURCE
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

/* Lock-free, so the handler may touch it; read with atomic_load(). */
static atomic_int handled;

static void on_usr1(int sig)
{
	atomic_fetch_add(&handled, 1);
}

/* SA_RESTART on purpose: the wait must still end with EINTR. */
static int install_handler(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	atomic_store(&handled, 0);
	return sigaction(SIGUSR1, &sa, NULL);
}

FIXTURE(sig) {
	int dev, ep, p[2];
};

/* The thread that sends the signal, joined by the teardown. */
static pthread_t kicker;
static bool kicking;

FIXTURE_SETUP(sig)
{
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
	/* A watch that never becomes ready, so only a signal or time ends it. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(0, install_handler());
}

FIXTURE_TEARDOWN(sig)
{
	if (kicking)
		pthread_join(kicker, NULL);
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

struct kick {
	pthread_t target;
	unsigned int delay_ms;
};

static struct kick kick_arg;

static void *kick_fn(void *arg)
{
	struct kick *k = arg;

	vp_msleep(k->delay_ms);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

/* SIGUSR1 to the calling thread after @delay_ms, from another thread. */
static int kick_me(unsigned int delay_ms)
{
	kick_arg.target = pthread_self();
	kick_arg.delay_ms = delay_ms;
	kicking = true;
	return pthread_create(&kicker, NULL, kick_fn, &kick_arg);
}

TEST_F(sig, signal_ends_wait_with_eintr_despite_sa_restart)
{
	struct vepoll_event ev;
	int64_t t0, dt;

	ASSERT_EQ(0, kick_me(300));
	t0 = vp_now_ms();
	EXPECT_EQ(-EINTR, vp_wait(self->dev, self->ep, &ev, 1, 10000));
	dt = vp_now_ms() - t0;
	EXPECT_EQ(1, atomic_load(&handled));
	/* Ended by the signal, not restarted until the timeout. */
	EXPECT_GT(5000, dt);
}

TEST_F(sig, signal_ends_infinite_wait_with_eintr)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, kick_me(300));
	EXPECT_EQ(-EINTR, vp_wait(self->dev, self->ep, &ev, 1, -1));
	EXPECT_EQ(1, atomic_load(&handled));
}

/* The sigmask unblocks SIGUSR1 for the wait only. */
TEST_F(sig, sigmask_unblocking_a_signal_lets_it_interrupt)
{
	struct vepoll_event ev;
	sigset_t during;

	ASSERT_EQ(0, vp_block_usr1(SIG_BLOCK));
	sigemptyset(&during);
	ASSERT_EQ(0, kick_me(300));
	EXPECT_EQ(-EINTR, vp_pwait(self->dev, self->ep, &ev, 1, 10000,
				   &during));
	/* The handler ran before the call returned... */
	EXPECT_EQ(1, atomic_load(&handled));
	/* ... and the thread's own mask is back. */
	EXPECT_TRUE(vp_usr1_blocked());
}

/* A signal already pending and blocked is delivered by the wait's mask. */
TEST_F(sig, sigmask_unblocking_a_pending_signal_returns_at_once)
{
	struct vepoll_event ev;
	sigset_t during, pending;
	int64_t t0;

	ASSERT_EQ(0, vp_block_usr1(SIG_BLOCK));
	ASSERT_EQ(0, pthread_kill(pthread_self(), SIGUSR1));
	ASSERT_EQ(0, atomic_load(&handled));
	sigemptyset(&during);
	t0 = vp_now_ms();
	EXPECT_EQ(-EINTR, vp_pwait(self->dev, self->ep, &ev, 1, 10000,
				   &during));
	EXPECT_GT(5000, vp_now_ms() - t0);
	EXPECT_EQ(1, atomic_load(&handled));
	EXPECT_TRUE(vp_usr1_blocked());
	sigpending(&pending);
	EXPECT_FALSE(sigismember(&pending, SIGUSR1));
}

/*
 * The sigmask blocks SIGUSR1 that the thread has unblocked: the wait runs
 * to its timeout, and the signal is delivered only once the thread's mask
 * is back.
 */
TEST_F(sig, sigmask_blocking_a_signal_keeps_the_wait_going)
{
	struct vepoll_event ev;
	sigset_t during;
	int64_t t0, dt;

	ASSERT_EQ(0, vp_block_usr1(SIG_UNBLOCK));
	sigemptyset(&during);
	sigaddset(&during, SIGUSR1);
	ASSERT_EQ(0, kick_me(100));
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_pwait(self->dev, self->ep, &ev, 1, 1000, &during));
	dt = vp_now_ms() - t0;
	EXPECT_LE(1000, dt);
	EXPECT_EQ(1, atomic_load(&handled));
	EXPECT_FALSE(vp_usr1_blocked());
}

/* Blocked by both the thread and the sigmask, it stays pending. */
TEST_F(sig, sigmask_blocked_signal_stays_pending)
{
	struct vepoll_event ev;
	sigset_t during, pending;
	int64_t t0;

	ASSERT_EQ(0, vp_block_usr1(SIG_BLOCK));
	sigemptyset(&during);
	sigaddset(&during, SIGUSR1);
	ASSERT_EQ(0, kick_me(100));
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_pwait(self->dev, self->ep, &ev, 1, 600, &during));
	EXPECT_LE(600, vp_now_ms() - t0);
	EXPECT_EQ(0, atomic_load(&handled));
	sigpending(&pending);
	EXPECT_TRUE(sigismember(&pending, SIGUSR1));
	/* Unblocking it now runs the handler. */
	ASSERT_EQ(0, vp_block_usr1(SIG_UNBLOCK));
	EXPECT_EQ(1, atomic_load(&handled));
}

/* With a sigmask, a ready event is returned and the mask is restored. */
TEST_F(sig, sigmask_restored_after_normal_return)
{
	struct vepoll_event ev;
	sigset_t during;

	ASSERT_EQ(0, vp_block_usr1(SIG_BLOCK));
	sigemptyset(&during);
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ(1, vp_pwait(self->dev, self->ep, &ev, 1, 1000, &during));
	EXPECT_TRUE(vp_usr1_blocked());
	/* With nothing ready and a timeout, too. */
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0, vp_pwait(self->dev, self->ep, &ev, 1, 50, &during));
	EXPECT_TRUE(vp_usr1_blocked());
	EXPECT_EQ(0, atomic_load(&handled));
}

TEST_F(sig, sigsetsize_other_than_8_is_einval)
{
	const __u64 sizes[] = { 0, 4, 7, 16, 128, 1ULL << 32 | 8 };
	struct vepoll_event ev;
	sigset_t during;
	struct vepoll_wait_args a = {
		.epfd = self->ep, .maxevents = 1, .events = vp_ptr(&ev),
		.sigmask = vp_ptr(&during),
	};
	unsigned int i;

	sigemptyset(&during);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		a.sigsetsize = sizes[i];
		EXPECT_EQ(-EINVAL, vp_wait_args(self->dev, &a)) {
			TH_LOG("sigsetsize %llu", (unsigned long long)sizes[i]);
		}
	}
	a.sigsetsize = VP_KSIGSET_SIZE;
	EXPECT_EQ(0, vp_wait_args(self->dev, &a));
}

/* Without a sigmask, sigsetsize is not looked at (as epoll_pwait). */
TEST_F(sig, sigsetsize_ignored_without_sigmask)
{
	struct vepoll_event ev;
	struct vepoll_wait_args a = {
		.epfd = self->ep, .maxevents = 1, .events = vp_ptr(&ev),
		.sigsetsize = 123,
	};

	EXPECT_EQ(0, vp_wait_args(self->dev, &a));
}

TEST_F(sig, unreadable_sigmask_is_efault)
{
	struct vepoll_event ev;
	void *bad = vp_unmapped();
	struct vepoll_wait_args a = {
		.epfd = self->ep, .maxevents = 1, .events = vp_ptr(&ev),
		.sigmask = vp_ptr(bad), .sigsetsize = VP_KSIGSET_SIZE,
	};

	ASSERT_TRUE(!!bad);
	EXPECT_EQ(-EFAULT, vp_wait_args(self->dev, &a));
	/* The thread's mask is untouched by the failed call. */
	EXPECT_FALSE(vp_usr1_blocked());
}

TEST_HARNESS_MAIN
