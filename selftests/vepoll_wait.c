// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_wait - what VEPOLL_IOC_WAIT reports (checked against
 * what poll(2) says about the same file), level- and edge-triggered and
 * one-shot watches, rotation, timeouts, faults and several waiters.
 *
 * Timing bounds are one-sided or 10x wide: the VM is emulated and slow.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "vepoll_test.h"

#define NEVER_MS	20000	/* "should not have to wait this long" */

FIXTURE(wait) {
	int dev, ep, p[2];
};

FIXTURE_SETUP(wait)
{
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
}

FIXTURE_TEARDOWN(wait)
{
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

/*
 * Add @fd with @mask to @ep, wait once without sleeping and check that
 * exactly one event came back, with the bits poll(2) predicts and @want
 * (or none at all when @want is 0). @line is the caller's, for the log.
 */
static void check_report(struct __test_metadata *_metadata, int dev, int ep,
			 int fd, __u32 mask, __u32 want, int line)
{
	struct vepoll_event ev[2];
	int n;

	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, fd, mask, 0x5eed));
	n = vp_wait(dev, ep, ev, 2, 0);
	EXPECT_EQ(want ? 1 : 0, n) {
		TH_LOG("checked from line %d", line);
	}
	EXPECT_EQ(want, vp_expected(fd, mask)) {
		TH_LOG("poll(2) disagrees with line %d", line);
	}
	if (n == 1) {
		EXPECT_EQ(want, ev[0].events) {
			TH_LOG("checked from line %d", line);
		}
		EXPECT_EQ(0x5eedU, ev[0].data);
	}
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, fd, 0, 0));
}

#define EXPECT_REPORT(fd, mask, want) \
	check_report(_metadata, self->dev, self->ep, fd, mask, want, __LINE__)
#define EXPECT_NO_REPORT(fd, mask) EXPECT_REPORT(fd, mask, 0)

/* ---- reported bits, per file type ---------------------------------------- */

TEST_F(wait, pipe_read_end_reports_exactly_what_is_asked)
{
	EXPECT_NO_REPORT(self->p[0], VEPOLLIN);
	ASSERT_EQ(3, vp_write_bytes(self->p[1], 3));
	EXPECT_REPORT(self->p[0], VEPOLLIN, VEPOLLIN);
	EXPECT_REPORT(self->p[0], VEPOLLRDNORM, VEPOLLRDNORM);
	EXPECT_REPORT(self->p[0], VEPOLLIN | VEPOLLRDNORM,
		      VEPOLLIN | VEPOLLRDNORM);
	EXPECT_REPORT(self->p[0], VP_COND_BITS, VEPOLLIN | VEPOLLRDNORM);
	EXPECT_NO_REPORT(self->p[0], VEPOLLOUT | VEPOLLPRI);
}

TEST_F(wait, pipe_write_end_reports_exactly_what_is_asked)
{
	EXPECT_REPORT(self->p[1], VEPOLLOUT, VEPOLLOUT);
	EXPECT_REPORT(self->p[1], VEPOLLOUT | VEPOLLWRNORM,
		      VEPOLLOUT | VEPOLLWRNORM);
	EXPECT_NO_REPORT(self->p[1], VEPOLLIN);
}

TEST_F(wait, pipe_read_end_reports_hup_after_writer_closed)
{
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	close(self->p[1]);
	self->p[1] = -1;
	/* Data left: IN and HUP; HUP even though not asked for. */
	EXPECT_REPORT(self->p[0], VEPOLLIN, VEPOLLIN | VEPOLLHUP);
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_REPORT(self->p[0], VEPOLLIN, VEPOLLHUP);
}

TEST_F(wait, pipe_write_end_reports_err_after_reader_closed)
{
	close(self->p[0]);
	self->p[0] = -1;
	EXPECT_REPORT(self->p[1], VEPOLLOUT, VEPOLLOUT | VEPOLLERR);
}

/* ERR and HUP are reported with an empty mask (unlike the seed). */
TEST_F(wait, err_and_hup_are_reported_with_empty_mask)
{
	int q[2];

	EXPECT_NO_REPORT(self->p[0], 0);
	close(self->p[1]);
	self->p[1] = -1;
	EXPECT_REPORT(self->p[0], 0, VEPOLLHUP);
	ASSERT_EQ(0, vp_pipe(q));
	close(q[0]);
	EXPECT_REPORT(q[1], 0, VEPOLLERR);
	close(q[1]);
}

TEST_F(wait, socketpair_reports_in_out_and_nothing_more)
{
	int sv[2];

	ASSERT_EQ(0, vp_socketpair(sv));
	EXPECT_REPORT(sv[0], VEPOLLIN | VEPOLLOUT | VEPOLLRDHUP, VEPOLLOUT);
	ASSERT_EQ(1, vp_write_bytes(sv[1], 1));
	EXPECT_REPORT(sv[0], VEPOLLIN | VEPOLLOUT | VEPOLLRDHUP,
		      VEPOLLIN | VEPOLLOUT);
	EXPECT_REPORT(sv[0], VEPOLLIN, VEPOLLIN);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(wait, socketpair_peer_shutdown_reports_rdhup_when_asked)
{
	int sv[2];

	ASSERT_EQ(0, vp_socketpair(sv));
	ASSERT_EQ(0, shutdown(sv[1], SHUT_WR));
	/* End of stream reads as readable; RDHUP only if asked for. */
	EXPECT_REPORT(sv[0], VEPOLLIN | VEPOLLRDHUP, VEPOLLIN | VEPOLLRDHUP);
	EXPECT_REPORT(sv[0], VEPOLLRDHUP, VEPOLLRDHUP);
	EXPECT_REPORT(sv[0], VEPOLLIN, VEPOLLIN);
	EXPECT_NO_REPORT(sv[0], VEPOLLPRI);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(wait, socketpair_peer_close_reports_hup)
{
	int sv[2];

	ASSERT_EQ(0, vp_socketpair(sv));
	close(sv[1]);
	EXPECT_REPORT(sv[0], VEPOLLIN | VEPOLLRDHUP,
		      VEPOLLIN | VEPOLLRDHUP | VEPOLLHUP);
	EXPECT_REPORT(sv[0], 0, VEPOLLHUP);
	close(sv[0]);
}

/* Data the peer never read makes its close a reset: ERR, even unasked. */
TEST_F(wait, socketpair_peer_reset_reports_err)
{
	int sv[2];
	__u32 want;

	ASSERT_EQ(0, vp_socketpair(sv));
	ASSERT_EQ(1, vp_write_bytes(sv[0], 1));
	close(sv[1]);
	want = vp_poll_now(sv[0]) & (VEPOLLERR | VEPOLLHUP);
	ASSERT_EQ(VEPOLLERR | VEPOLLHUP, want) {
		TH_LOG("poll(2) says %#x: no reset to test", vp_poll_now(sv[0]));
	}
	EXPECT_REPORT(sv[0], 0, VEPOLLERR | VEPOLLHUP);
	close(sv[0]);
}

TEST_F(wait, eventfd_reports_in_when_counter_nonzero)
{
	int efd = vp_eventfd(0);

	ASSERT_LE(0, efd);
	EXPECT_REPORT(efd, VEPOLLIN | VEPOLLOUT, VEPOLLOUT);
	EXPECT_NO_REPORT(efd, VEPOLLIN);
	ASSERT_EQ(0, vp_eventfd_add(efd, 5));
	EXPECT_REPORT(efd, VEPOLLIN | VEPOLLOUT, VEPOLLIN | VEPOLLOUT);
	EXPECT_REPORT(efd, VEPOLLIN, VEPOLLIN);
	/* A counter at its maximum is not writable. */
	ASSERT_EQ(0, vp_eventfd_add(efd, 0xfffffffffffffffeULL - 5));
	EXPECT_REPORT(efd, VEPOLLIN | VEPOLLOUT, VEPOLLIN);
	close(efd);
}

TEST_F(wait, timerfd_reports_in_once_expired)
{
	int tfd = vp_timerfd(0);
	struct itimerspec its = { .it_value = { 0, 1 } };

	ASSERT_LE(0, tfd);
	EXPECT_NO_REPORT(tfd, VEPOLLIN);
	ASSERT_EQ(0, timerfd_settime(tfd, 0, &its, NULL));
	vp_msleep(50);
	EXPECT_REPORT(tfd, VEPOLLIN, VEPOLLIN);
	close(tfd);
}

/* ---- level-triggered, edge-triggered, one-shot --------------------------- */

TEST_F(wait, level_triggered_reported_at_every_wait)
{
	struct vepoll_event ev;
	int i;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
		EXPECT_EQ(VEPOLLIN, ev.events);
	}
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

TEST_F(wait, edge_triggered_reported_once_per_edge)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 1));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	/* Still readable, but no new edge. */
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 100));
	/* A new write is a new edge. */
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	/* Reading is not an edge for IN. */
	ASSERT_EQ(2, vp_drain(self->p[0]));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* An edge that comes while a waiter sleeps wakes it. */
TEST_F(wait, edge_triggered_wakes_a_blocked_waiter)
{
	struct vepoll_event ev;
	int64_t t0;
	pid_t pid;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vp_msleep(200);
		_exit(vp_write_bytes(self->p[1], 1) == 1 ? 0 : 1);
	}
	t0 = vp_now_ms();
	EXPECT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, NEVER_MS));
	EXPECT_GT(NEVER_MS / 2, vp_now_ms() - t0);
	waitpid(pid, NULL, 0);
}

TEST_F(wait, oneshot_reported_once_until_mod)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(1U, ev.data);
	/* Disarmed: neither the old readiness nor a new edge is reported. */
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 100));
	/* Still registered. */
	EXPECT_EQ(-EEXIST, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD,
				  self->p[0], VEPOLLIN, 1));
	/* MOD re-arms; the pipe is ready, so the next wait reports it. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 2));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(2U, ev.data);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

TEST_F(wait, oneshot_mod_when_not_ready_reports_on_next_edge)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_drain(self->p[0]));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT, 3));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(3U, ev.data);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* MOD re-arms an ET one-shot and reports at once if ready. */
TEST_F(wait, oneshot_et_mod_rearms_and_reports_if_ready)
{
	const __u32 mask = VEPOLLIN | VEPOLLET | VEPOLLONESHOT;
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    mask, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    mask, 2));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(2U, ev.data);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* MOD of an ET watch while ready reports once more, with the new data. */
TEST_F(wait, et_mod_reports_at_once_if_ready)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLRDNORM | VEPOLLET, 2));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN | VEPOLLRDNORM, ev.events);
	EXPECT_EQ(2U, ev.data);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* MOD to a mask the target does not meet: nothing, even if ready before. */
TEST_F(wait, mod_to_unmet_mask_stops_reports)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLPRI, 2));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	/* ... and from not-asked to asked reports at once. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN, 3));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(3U, ev.data);
}

/* Modes are never reported, whatever else is asked for. */
TEST_F(wait, et_and_oneshot_bits_never_reported)
{
	const __u32 modes[] = {
		VEPOLLET, VEPOLLONESHOT, VEPOLLET | VEPOLLONESHOT,
	};
	struct vepoll_event ev;
	unsigned int i;
	int sv[2];

	ASSERT_EQ(0, vp_socketpair(sv));
	ASSERT_EQ(1, vp_write_bytes(sv[1], 1));
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, sv[0],
				    VP_COND_BITS | modes[i], i));
		ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
		EXPECT_EQ(0U, ev.events & VP_MODE_BITS);
		EXPECT_EQ(vp_expected(sv[0], VP_COND_BITS), ev.events);
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, sv[0],
				    0, 0));
	}
	close(sv[0]);
	close(sv[1]);
}

/* ---- results: data, padding, rotation ------------------------------------ */

TEST_F(wait, data_round_trips_all_64_bits)
{
	const __u64 data[] = {
		0x8000000000000001ULL, 0xfedcba9876543210ULL, ~0ULL, 0,
		0x00000001ffffffffULL,
	};
	struct vepoll_event ev[8];
	int efd[ARRAY_SIZE(data)], n;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(data); i++) {
		efd[i] = vp_eventfd(1);
		ASSERT_LE(0, efd[i]);
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd[i],
				    VEPOLLIN, data[i]));
	}
	n = vp_wait(self->dev, self->ep, ev, 8, 0);
	ASSERT_EQ((int)ARRAY_SIZE(data), n);
	for (i = 0; i < ARRAY_SIZE(data); i++) {
		EXPECT_LE(0, vp_find(ev, n, data[i])) {
			TH_LOG("data %#llx lost", (unsigned long long)data[i]);
		}
	}
	/* MOD swaps the data of one watch. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, efd[0],
			    VEPOLLIN, 0x7fffffff00000000ULL));
	n = vp_wait(self->dev, self->ep, ev, 8, 0);
	ASSERT_EQ((int)ARRAY_SIZE(data), n);
	EXPECT_LE(0, vp_find(ev, n, 0x7fffffff00000000ULL));
	EXPECT_EQ(-1, vp_find(ev, n, data[0]));
	for (i = 0; i < ARRAY_SIZE(data); i++)
		close(efd[i]);
}

/* The pad of each result is zeroed; entries past the count are untouched. */
TEST_F(wait, returned_pad_is_zero_and_rest_of_buffer_untouched)
{
	struct vepoll_event ev[8];
	int efd[3], i, n;

	for (i = 0; i < 3; i++) {
		efd[i] = vp_eventfd(1);
		ASSERT_LE(0, efd[i]);
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd[i],
				    VEPOLLIN | VEPOLLOUT, i));
	}
	memset(ev, 0xff, sizeof(ev));
	n = vp_wait(self->dev, self->ep, ev, 8, 0);
	ASSERT_EQ(3, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0U, ev[i].__pad);
		EXPECT_EQ(VEPOLLIN | VEPOLLOUT, ev[i].events);
	}
	for (i = n; i < 8; i++) {
		EXPECT_EQ(0xffffffff, ev[i].events);
		EXPECT_EQ(0xffffffff, ev[i].__pad);
		EXPECT_EQ(~0ULL, ev[i].data);
	}
	for (i = 0; i < 3; i++)
		close(efd[i]);
}

/* Linux's rotation: 13 ready, read 3 at a time, each 4 times in 52. */
TEST_F(wait, rotation_reports_every_ready_watch_in_turn)
{
	enum { NR = 13, MAX = 3, TOTAL = 52 };
	int efd[NR], seen[NR] = { 0 }, got = 0, i, j, n;
	struct vepoll_event ev[MAX];

	for (i = 0; i < NR; i++) {
		efd[i] = vp_eventfd(1);
		ASSERT_LE(0, efd[i]);
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd[i],
				    VEPOLLIN, 1000 + i));
	}
	while (got < TOTAL) {
		n = vp_wait(self->dev, self->ep, ev, MAX, 0);
		ASSERT_EQ(MAX, n);
		for (i = 0; i < n && got < TOTAL; i++, got++) {
			int k = (int)(ev[i].data - 1000);

			ASSERT_TRUE(k >= 0 && k < NR);
			seen[k]++;
			for (j = 0; j < i; j++) {
				EXPECT_NE(ev[j].data, ev[i].data) {
					TH_LOG("watch %d twice in one result", k);
				}
			}
		}
	}
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(TOTAL / NR, seen[i]) {
			TH_LOG("watch %d seen %d times", i, seen[i]);
		}
	}
	for (i = 0; i < NR; i++)
		close(efd[i]);
}

TEST_F(wait, big_buffer_gets_every_ready_watch_once)
{
	enum { NR = 13 };
	struct vepoll_event ev[64];
	int efd[NR], i, n;

	for (i = 0; i < NR; i++) {
		efd[i] = vp_eventfd(1);
		ASSERT_LE(0, efd[i]);
		ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd[i],
				    VEPOLLIN, i));
	}
	n = vp_wait(self->dev, self->ep, ev, 64, 0);
	ASSERT_EQ(NR, n);
	for (i = 0; i < NR; i++)
		EXPECT_LE(0, vp_find(ev, n, i));
	for (i = 0; i < NR; i++)
		close(efd[i]);
}

/* ---- argument checks ----------------------------------------------------- */

TEST_F(wait, maxevents_zero_is_einval)
{
	struct vepoll_event ev;

	EXPECT_EQ(-EINVAL, vp_wait(self->dev, self->ep, &ev, 0, 0));
}

TEST_F(wait, maxevents_above_int_max_over_16_is_einval)
{
	const __u32 bad[] = {
		INT32_MAX / 16 + 1, INT32_MAX / 8, INT32_MAX, 0x80000000U,
		0xffffffffU,
	};
	struct vepoll_event ev;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vp_wait(self->dev, self->ep, &ev, bad[i], 0)) {
			TH_LOG("maxevents %u", bad[i]);
		}
	}
}

/* The largest legal maxevents, with nothing ready, is not an error. */
TEST_F(wait, maxevents_int_max_over_16_is_accepted)
{
	struct vepoll_event *ev;
	size_t len = 2 * 1024 * 1024;

	/* Reserve no memory: nothing will be written. */
	ev = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_TRUE(ev != MAP_FAILED);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, ev, INT32_MAX / 16, 0));
	munmap(ev, len);
}

TEST_F(wait, nonzero_flags_is_einval)
{
	struct vepoll_event ev;
	struct vepoll_wait_args a = {
		.epfd = self->ep, .maxevents = 1, .events = vp_ptr(&ev),
	};
	const __u32 flags[] = { 1, VEPOLL_CLOEXEC, 0x80000000U };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		a.flags = flags[i];
		EXPECT_EQ(-EINVAL, vp_wait_args(self->dev, &a)) {
			TH_LOG("flags %#x", flags[i]);
		}
	}
}

TEST_F(wait, bad_epfd_is_ebadf_or_einval)
{
	struct vepoll_event ev;
	int closed = dup(0);

	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(-EBADF, vp_wait(self->dev, closed, &ev, 1, 0));
	EXPECT_EQ(-EBADF, vp_wait(self->dev, -1, &ev, 1, 0));
	EXPECT_EQ(-EINVAL, vp_wait(self->dev, self->p[0], &ev, 1, 0));
	EXPECT_EQ(-EINVAL, vp_wait(self->dev, self->dev, &ev, 1, 0));
}

/* ---- timeouts ------------------------------------------------------------ */

TEST_F(wait, timeout_zero_returns_at_once)
{
	struct vepoll_event ev;
	int64_t t0 = vp_now_ms();

	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_GT(1000, vp_now_ms() - t0);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_GT(1000, vp_now_ms() - t0);
}

TEST_F(wait, timeout_expires_no_earlier_than_asked)
{
	struct vepoll_event ev;
	int64_t t0, dt;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	t0 = vp_now_us();
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 200));
	dt = vp_now_us() - t0;
	EXPECT_LE(200000, dt);
	EXPECT_GT(2000000, dt);
	/* A short one, where rounding to a tick would show. */
	t0 = vp_now_us();
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 3));
	dt = vp_now_us() - t0;
	EXPECT_LE(3000, dt);
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

TEST_F(wait, infinite_wait_returns_when_another_thread_makes_ready)
{
	struct writer w = { self->p[1], 300 };
	struct vepoll_event ev;
	pthread_t thr;
	int64_t t0, dt;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 9));
	t0 = vp_now_ms();
	ASSERT_EQ(0, pthread_create(&thr, NULL, writer_fn, &w));
	EXPECT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, -1));
	dt = vp_now_ms() - t0;
	pthread_join(thr, NULL);
	EXPECT_EQ(9U, ev.data);
	EXPECT_LE(w.delay_ms, dt);
	/* Woken by the write, not by the wait_cap_ms cap. */
	EXPECT_GT(vp_param("wait_cap_ms") / 2, dt);
}

TEST_F(wait, finite_wait_returns_early_when_ready)
{
	struct writer w = { self->p[1], 300 };
	struct vepoll_event ev;
	pthread_t thr;
	int64_t t0, dt;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 9));
	t0 = vp_now_ms();
	ASSERT_EQ(0, pthread_create(&thr, NULL, writer_fn, &w));
	EXPECT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, NEVER_MS));
	dt = vp_now_ms() - t0;
	pthread_join(thr, NULL);
	EXPECT_LE(w.delay_ms, dt);
	EXPECT_GT(NEVER_MS / 2, dt);
}

TEST_F(wait, blocked_waiter_wakes_when_timerfd_fires)
{
	struct vepoll_event ev;
	int64_t t0, dt;
	int tfd;

	t0 = vp_now_ms();
	tfd = vp_timerfd(300);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, tfd,
			    VEPOLLIN, 0x71));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, NEVER_MS));
	dt = vp_now_ms() - t0;
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0x71U, ev.data);
	EXPECT_LE(300, dt);
	EXPECT_GT(NEVER_MS / 2, dt);
	close(tfd);
}

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The waiter sleeps on a wait queue: a polling loop would burn CPU. */
TEST_F(wait, blocked_wait_uses_no_cpu)
{
	struct vepoll_event ev;
	int64_t cpu0, cpu;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	cpu0 = thread_cpu_us();
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 2000));
	cpu = thread_cpu_us() - cpu0;
	/* Generous: a tenth of the time asleep, even emulated. */
	EXPECT_GT(200000, cpu) {
		TH_LOG("a 2 s wait used %lld us of CPU", (long long)cpu);
	}
}

TEST_F(wait, default_wait_cap_is_30000_ms)
{
	EXPECT_EQ(vp_param_expected("wait_cap_ms", 30000),
		  vp_param("wait_cap_ms"));
}

/* A module reloaded with wait_cap_ms=500; restored by the teardown. */
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

TEST_F(cap, infinite_wait_ends_after_wait_cap_ms)
{
	const char *why = vp_reload_unsupported();
	struct vepoll_event ev;
	int dev, ep, p[2];
	int64_t t0, dt;

	if (why)
		SKIP(return, "%s", why);
	self->reloaded = true;
	ASSERT_EQ(0, vp_module_reload("wait_cap_ms=500"));
	ASSERT_EQ(500, vp_param("wait_cap_ms"));
	vp_setup_dev_ep_pipe(_metadata, &dev, &ep, p);
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1));
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_wait(dev, ep, &ev, 1, -1));
	dt = vp_now_ms() - t0;
	EXPECT_LE(500, dt);
	EXPECT_GT(5000, dt);
	/* A finite timeout longer than the cap is not capped. */
	t0 = vp_now_ms();
	EXPECT_EQ(0, vp_wait(dev, ep, &ev, 1, 1500));
	EXPECT_LE(1500, vp_now_ms() - t0);
	vp_close_dev_ep_pipe(dev, ep, p);
}

/* ---- faults: nothing is lost --------------------------------------------- */

static void check_efault_keeps_event(struct __test_metadata *_metadata,
				     int dev, int ep, int p[2], __u32 mode)
{
	struct vepoll_event ev;
	void *bad = vp_unmapped();

	ASSERT_TRUE(!!bad);
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0],
			    VEPOLLIN | mode, 0xfa));
	ASSERT_EQ(1, vp_write_bytes(p[1], 1));
	EXPECT_EQ(-EFAULT, vp_wait(dev, ep, bad, 1, 0));
	EXPECT_EQ(-EFAULT, vp_wait(dev, ep, bad, 1, 0));
	ASSERT_EQ(1, vp_wait(dev, ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0xfaU, ev.data);
	/* Delivered now: ET and ONESHOT ones are consumed. */
	EXPECT_EQ(mode ? 0 : 1, vp_wait(dev, ep, &ev, 1, 0));
}

TEST_F(wait, efault_keeps_level_triggered_event)
{
	check_efault_keeps_event(_metadata, self->dev, self->ep, self->p,
				 0);
}

TEST_F(wait, efault_keeps_edge_triggered_event)
{
	check_efault_keeps_event(_metadata, self->dev, self->ep, self->p,
				 VEPOLLET);
}

TEST_F(wait, efault_keeps_oneshot_event)
{
	check_efault_keeps_event(_metadata, self->dev, self->ep, self->p,
				 VEPOLLONESHOT);
}

/*
 * Two ready; the buffer's second entry is on an unmapped page: one is
 * returned, the other stays pending.
 */
static void check_partial_copy(struct __test_metadata *_metadata, int dev,
			       int ep, __u32 mode)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vepoll_event ev[4], *edge;
	int efd[2], i, n;
	char *map;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	ASSERT_EQ(0, munmap(map + page, page));
	edge = (struct vepoll_event *)(map + page) - 1;
	for (i = 0; i < 2; i++) {
		efd[i] = vp_eventfd(1);
		ASSERT_LE(0, efd[i]);
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, efd[i],
				    VEPOLLIN | mode, 10 + i));
	}
	ASSERT_EQ(1, vp_wait(dev, ep, edge, 2, 0));
	EXPECT_EQ(VEPOLLIN, edge->events);
	EXPECT_EQ(0U, edge->__pad);
	ASSERT_TRUE(edge->data == 10 || edge->data == 11);
	n = vp_wait(dev, ep, ev, 4, 0);
	if (mode) {
		/* Only the one not yet delivered. */
		ASSERT_EQ(1, n);
		EXPECT_EQ(21 - edge->data, ev[0].data);
		EXPECT_EQ(0, vp_wait(dev, ep, ev, 4, 0));
	} else {
		ASSERT_EQ(2, n);
		EXPECT_LE(0, vp_find(ev, n, 10));
		EXPECT_LE(0, vp_find(ev, n, 11));
	}
	for (i = 0; i < 2; i++)
		close(efd[i]);
	munmap(map, page);
}

TEST_F(wait, partial_copy_returns_count_and_keeps_rest_level)
{
	check_partial_copy(_metadata, self->dev, self->ep, 0);
}

TEST_F(wait, partial_copy_returns_count_and_keeps_rest_edge)
{
	check_partial_copy(_metadata, self->dev, self->ep, VEPOLLET);
}

TEST_F(wait, partial_copy_returns_count_and_keeps_rest_oneshot)
{
	check_partial_copy(_metadata, self->dev, self->ep, VEPOLLONESHOT);
}

/* ---- several waiters on one instance ------------------------------------- */

struct waiter {
	int dev, ep, timeout_ms, ret;
	struct vepoll_event ev;
	int64_t dt;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = vp_now_ms();

	w->ret = vp_wait(w->dev, w->ep, &w->ev, 1, w->timeout_ms);
	w->dt = vp_now_ms() - t0;
	return NULL;
}

/* @nr threads wait on @ep; then @wfd is written. */
static void run_waiters(int dev, int ep, int wfd, struct waiter *w, int nr,
			int timeout_ms)
{
	pthread_t thr[8];
	int i;

	for (i = 0; i < nr; i++) {
		w[i].dev = dev;
		w[i].ep = ep;
		w[i].timeout_ms = timeout_ms;
		w[i].ret = -1000;
		pthread_create(&thr[i], NULL, waiter_fn, &w[i]);
	}
	/* Let them all block before the target becomes ready. */
	vp_msleep(500);
	vp_write_bytes(wfd, 1);
	for (i = 0; i < nr; i++)
		pthread_join(thr[i], NULL);
}

TEST_F(wait, level_triggered_event_wakes_every_waiter)
{
	struct waiter w[3];
	int i;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x33));
	run_waiters(self->dev, self->ep, self->p[1], w, 3, NEVER_MS);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(1, w[i].ret);
		EXPECT_EQ(VEPOLLIN, w[i].ev.events);
		EXPECT_EQ(0x33U, w[i].ev.data);
		EXPECT_GT(NEVER_MS / 2, w[i].dt);
	}
}

TEST_F(wait, edge_triggered_event_goes_to_exactly_one_waiter)
{
	struct waiter w[3];
	int i, got = 0, timed_out = 0;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET, 0x44));
	run_waiters(self->dev, self->ep, self->p[1], w, 3, 2000);
	for (i = 0; i < 3; i++) {
		if (w[i].ret == 1) {
			got++;
			EXPECT_EQ(0x44U, w[i].ev.data);
		} else if (w[i].ret == 0) {
			timed_out++;
			EXPECT_LE(2000, w[i].dt);
		}
	}
	EXPECT_EQ(1, got);
	EXPECT_EQ(2, timed_out);
}

TEST_HARNESS_MAIN
