// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_exclusive - VEPOLLEXCLUSIVE and VEPOLLWAKEUP (Documentation.rst,
 * "Exclusive and wakeup watches").
 *
 * The rules: each CTL is issued on an instance and, in the same state, on
 * a native epoll, and both must give the same result, so the errno order
 * checked is Linux's own. The effect: N instances (or N epolls), each
 * with one thread blocked in a wait and an exclusive watch on one
 * listening TCP socket on loopback; one connect() must wake as many of
 * them as it wakes epolls (one). The wakeup sources: they appear in
 * /sys/kernel/debug/wakeup_sources, are active while an event is pending,
 * and go away with the watch.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define NR_WAITERS	4
/* Long enough for a woken waiter to report under TCG, short for the rest. */
#define HERD_WAIT_MS	1500
#define WS_PATH		"/sys/kernel/debug/wakeup_sources"

/* ---- the rules, on vepoll and on epoll side by side ---------------------- */

FIXTURE(rules) {
	int dev, ep, nep;	/* the device, an instance, a native epoll */
	int p[2], q[2];
	int reg;		/* a regular file: EPERM */
};

FIXTURE_SETUP(rules)
{
	char path[] = "/tmp/vepoll_exclusive.XXXXXX";

	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
	ASSERT_EQ(0, vp_pipe(self->q));
	self->nep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->nep);
	self->reg = mkstemp(path);
	ASSERT_LE(0, self->reg);
	unlink(path);
}

FIXTURE_TEARDOWN(rules)
{
	close(self->reg);
	close(self->nep);
	close(self->q[0]);
	close(self->q[1]);
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

static int ep_ctl(int nep, int op, int fd, __u32 events)
{
	struct epoll_event ev = { .events = events };

	return vp_ret(epoll_ctl(nep, op, fd, &ev));
}

/*
 * The same CTL on the instance and on the native epoll: both must answer
 * @want. @vfd and @nfd are the targets (they differ when the target is
 * the set itself or another set).
 */
static void both(struct __test_metadata *_metadata, int dev, int ep, int nep,
		 int want, int op, int vfd, int nfd, __u32 events)
{
	EXPECT_EQ(want, vp_ctl(dev, ep, op, vfd, events, 0)) {
		TH_LOG("vepoll: op %d fd %d events %#x", op, vfd, events);
	}
	EXPECT_EQ(want, ep_ctl(nep, op, nfd, events)) {
		TH_LOG("epoll: op %d fd %d events %#x", op, nfd, events);
	}
}

#define BOTH(...)	both(_metadata, self->dev, self->ep, self->nep, __VA_ARGS__)

/* ADD with it, and any of IN, OUT, ERR, HUP, WAKEUP, ET beside it. */
TEST_F(rules, add_with_the_allowed_bits)
{
	static const __u32 ok[] = { 0, VEPOLLIN, VEPOLLOUT, VEPOLLERR,
				    VEPOLLHUP, VEPOLLWAKEUP, VEPOLLET,
				    VEPOLLIN | VEPOLLOUT | VEPOLLERR |
				    VEPOLLHUP | VEPOLLWAKEUP | VEPOLLET };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		BOTH(0, VEPOLL_CTL_ADD, self->p[0], self->p[0],
		     VEPOLLEXCLUSIVE | ok[i]);
		BOTH(0, VEPOLL_CTL_DEL, self->p[0], self->p[0], 0);
	}
}

/* Any other bit beside it: EINVAL, for vepoll's and epoll's bits alike. */
TEST_F(rules, add_with_another_bit_is_einval)
{
	static const __u32 bad[] = { VEPOLLPRI, VEPOLLRDNORM, VEPOLLRDBAND,
				     VEPOLLWRNORM, VEPOLLWRBAND, VEPOLLMSG,
				     VEPOLLRDHUP, VEPOLLONESHOT };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		BOTH(-EINVAL, VEPOLL_CTL_ADD, self->p[0], self->p[0],
		     VEPOLLEXCLUSIVE | VEPOLLIN | bad[i]);
	/* Nothing was added. */
	BOTH(-ENOENT, VEPOLL_CTL_DEL, self->p[0], self->p[0], 0);
}

/* MOD asking for it: EINVAL, before the key is even looked up. */
TEST_F(rules, mod_with_it_is_einval)
{
	BOTH(0, VEPOLL_CTL_ADD, self->p[0], self->p[0], VEPOLLIN);
	BOTH(-EINVAL, VEPOLL_CTL_MOD, self->p[0], self->p[0],
	     VEPOLLIN | VEPOLLEXCLUSIVE);
	/* A key not watched: EINVAL, not ENOENT. */
	BOTH(-EINVAL, VEPOLL_CTL_MOD, self->q[0], self->q[0],
	     VEPOLLIN | VEPOLLEXCLUSIVE);
}

/* MOD of a watch added with it: EINVAL, once the watch is found. */
TEST_F(rules, mod_of_an_exclusive_watch_is_einval)
{
	BOTH(0, VEPOLL_CTL_ADD, self->p[0], self->p[0],
	     VEPOLLIN | VEPOLLEXCLUSIVE);
	BOTH(-EINVAL, VEPOLL_CTL_MOD, self->p[0], self->p[0], VEPOLLIN);
	BOTH(-EINVAL, VEPOLL_CTL_MOD, self->p[0], self->p[0], VEPOLLOUT);
	/* Not found: ENOENT. */
	BOTH(-ENOENT, VEPOLL_CTL_MOD, self->q[0], self->q[0], VEPOLLIN);
	/* DEL works, and the key is free again. */
	BOTH(0, VEPOLL_CTL_DEL, self->p[0], self->p[0], 0);
	BOTH(0, VEPOLL_CTL_ADD, self->p[0], self->p[0], VEPOLLIN);
	BOTH(0, VEPOLL_CTL_MOD, self->p[0], self->p[0], VEPOLLOUT);
}

/* An instance or a native epoll as the target: EINVAL. */
TEST_F(rules, instance_and_epoll_targets_are_einval)
{
	int inner = vp_create(self->dev, 0);
	int ninner = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, inner);
	ASSERT_LE(0, ninner);
	BOTH(-EINVAL, VEPOLL_CTL_ADD, inner, ninner,
	     VEPOLLIN | VEPOLLEXCLUSIVE);
	/* A native epoll inside an instance is refused too. */
	EXPECT_EQ(-EINVAL, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, ninner,
				  VEPOLLIN | VEPOLLEXCLUSIVE, 0));
	/* To epoll, an instance is a file like any other. */
	EXPECT_EQ(0, ep_ctl(self->nep, EPOLL_CTL_ADD, inner,
			    VEPOLLIN | VEPOLLEXCLUSIVE));
	EXPECT_EQ(0, ep_ctl(self->nep, EPOLL_CTL_DEL, inner, 0));
	/* Without the bit, both are fine. */
	BOTH(0, VEPOLL_CTL_ADD, inner, ninner, VEPOLLIN);
	close(ninner);
	close(inner);
}

/* EBADF and EPERM come first, as in epoll_ctl(). */
TEST_F(rules, order_ebadf_eperm_first)
{
	BOTH(-EBADF, VEPOLL_CTL_ADD, 1000, 1000,
	     VEPOLLIN | VEPOLLPRI | VEPOLLEXCLUSIVE);
	BOTH(-EBADF, VEPOLL_CTL_MOD, 1000, 1000, VEPOLLIN | VEPOLLEXCLUSIVE);
	BOTH(-EPERM, VEPOLL_CTL_ADD, self->reg, self->reg,
	     VEPOLLIN | VEPOLLPRI | VEPOLLEXCLUSIVE);
	BOTH(-EPERM, VEPOLL_CTL_MOD, self->reg, self->reg,
	     VEPOLLIN | VEPOLLEXCLUSIVE);
}

/* EINVAL comes before EEXIST and ELOOP. */
TEST_F(rules, order_einval_before_eexist_and_eloop)
{
	int inner = vp_create(self->dev, 0);
	int ninner = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, inner);
	ASSERT_LE(0, ninner);
	BOTH(0, VEPOLL_CTL_ADD, self->p[0], self->p[0], VEPOLLIN);
	BOTH(-EINVAL, VEPOLL_CTL_ADD, self->p[0], self->p[0],
	     VEPOLLIN | VEPOLLPRI | VEPOLLEXCLUSIVE);
	/* inner watches the set: adding inner to the set would be ELOOP. */
	ASSERT_EQ(0, vp_ctl(self->dev, inner, VEPOLL_CTL_ADD, self->ep,
			    VEPOLLIN, 0));
	ASSERT_EQ(0, ep_ctl(ninner, EPOLL_CTL_ADD, self->nep, VEPOLLIN));
	BOTH(-EINVAL, VEPOLL_CTL_ADD, inner, ninner,
	     VEPOLLIN | VEPOLLEXCLUSIVE);
	BOTH(-ELOOP, VEPOLL_CTL_ADD, inner, ninner, VEPOLLIN);
	close(ninner);
	close(inner);
}

/* It is never reported; the watch reports its conditions. */
TEST_F(rules, never_reported)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLEXCLUSIVE, 7));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(7ULL, ev.data);
}

/* The watch line of fdinfo shows the mask with the bit. */
TEST_F(rules, fdinfo_shows_the_bit)
{
	char path[64], buf[4096], want[96];

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLEXCLUSIVE, 0));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", self->ep);
	ASSERT_LT(0, vp_read_file(path, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "tfd: %8d events: %8x ", self->p[0],
		 VEPOLLIN | VEPOLLEXCLUSIVE);
	EXPECT_TRUE(!!strstr(buf, want)) {
		TH_LOG("no \"%s\" in:\n%s", want, buf);
	}
}

/* ---- the effect: one connection, one woken waiter ------------------------ */

struct waiter {
	int dev;		/* -1: @fd is a native epoll */
	int fd;
	pthread_t th;
	pid_t tid;		/* set by the thread, read atomically */
	int ret;		/* read after pthread_join() */
};

static void *waiter_run(void *arg)
{
	struct waiter *w = arg;
	struct vepoll_event vev;
	struct epoll_event ev;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (w->dev < 0)
		w->ret = vp_ret(epoll_wait(w->fd, &ev, 1, HERD_WAIT_MS));
	else
		w->ret = vp_wait(w->dev, w->fd, &vev, 1, HERD_WAIT_MS);
	return NULL;
}

/* A listening TCP socket on 127.0.0.1; its port in *@port. */
static int listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(s, 16) || getsockname(s, (struct sockaddr *)addr, &len)) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

static bool asleep(struct waiter *w)
{
	pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);

	return tid && vp_task_state(0, tid) == 'S';
}

/* Every waiter's thread asleep (state S), within 10 s. */
static bool all_asleep(struct waiter *w, const bool *wait, int n)
{
	int i, tries;

	for (tries = 0; tries < 1000; tries++) {
		for (i = 0; i < n; i++)
			if (wait[i] && !asleep(&w[i]))
				break;
		if (i == n)
			return true;
		vp_msleep(10);
	}
	return false;
}

/*
 * N sets (instances, or epolls when @native) watching one listening
 * socket, set i with mask[i], one waiter each unless !wait[i]; one
 * connect(). Returns how many waiters got an event; a set whose waiter
 * is absent gets "woken" when a wait of 0 on it reports the event.
 */
static int herd(struct __test_metadata *_metadata, bool native,
		const __u32 *mask, const bool *wait, int n, int *queued)
{
	struct waiter w[NR_WAITERS] = {};
	struct vepoll_event vev;
	struct epoll_event ev;
	struct sockaddr_in addr;
	int dev = -1, s, c, i, woken = 0;

	s = listener(&addr);
	if (s < 0)
		return s;
	if (!native) {
		dev = vp_open_dev();
		if (dev < 0)
			return dev;
	}
	for (i = 0; i < n; i++) {
		w[i].dev = dev;
		w[i].fd = native ? epoll_create1(EPOLL_CLOEXEC) :
				   vp_create(dev, 0);
		if (w[i].fd < 0)
			return -errno;
		if (native ? ep_ctl(w[i].fd, EPOLL_CTL_ADD, s, mask[i]) :
			     vp_ctl(dev, w[i].fd, VEPOLL_CTL_ADD, s, mask[i], i))
			return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (wait[i] && pthread_create(&w[i].th, NULL, waiter_run, &w[i]))
			return -EAGAIN;
	if (!all_asleep(w, wait, n))
		return -ETIMEDOUT;

	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c < 0)
		return -errno;
	if (connect(c, (struct sockaddr *)&addr, sizeof(addr)) &&
	    errno != EINPROGRESS)
		return -errno;

	/*
	 * The waiters first: once one has the event, the handshake is done
	 * and the wakeup has passed every set, so a set without a waiter is
	 * looked at only then (under a slow kernel the connect() returns
	 * well before the listener wakes).
	 */
	for (i = 0; i < n; i++)
		if (wait[i]) {
			pthread_join(w[i].th, NULL);
			woken += w[i].ret > 0;
		}
	*queued = 0;
	for (i = 0; i < n; i++)
		if (!wait[i])
			*queued += (native ?
				    epoll_wait(w[i].fd, &ev, 1, 0) :
				    vp_wait(dev, w[i].fd, &vev, 1, 0)) > 0;
	for (i = 0; i < n; i++)
		close(w[i].fd);
	close(c);
	close(s);
	if (dev >= 0)
		close(dev);
	return woken;
}

/* The same scenario on vepoll and epoll: the same number woken. */
static void herd_both(struct __test_metadata *_metadata, const __u32 *mask,
		      const bool *wait, int want, int want_queued)
{
	int vq, nq, v, n;

	n = herd(_metadata, true, mask, wait, NR_WAITERS, &nq);
	v = herd(_metadata, false, mask, wait, NR_WAITERS, &vq);
	TH_LOG("one connect(): epoll woke %d waiters (%d more sets queued), vepoll %d (%d)",
	       n, nq, v, vq);
	ASSERT_LE(0, n);
	ASSERT_LE(0, v);
	EXPECT_EQ(want, n);
	EXPECT_EQ(want_queued, nq);
	EXPECT_EQ(n, v);
	EXPECT_EQ(nq, vq);
}

/* Every set watches exclusively: one waiter of N is woken. */
TEST(one_connect_wakes_one_of_n)
{
	static const __u32 m = VEPOLLIN | VEPOLLEXCLUSIVE;
	const __u32 mask[NR_WAITERS] = { m, m, m, m };
	const bool wait[NR_WAITERS] = { true, true, true, true };

	herd_both(_metadata, mask, wait, 1, 0);
}

/* Without the bit, every waiter is woken: what the test above avoids. */
TEST(without_it_all_are_woken)
{
	const __u32 mask[NR_WAITERS] = { VEPOLLIN, VEPOLLIN, VEPOLLIN,
					 VEPOLLIN };
	const bool wait[NR_WAITERS] = { true, true, true, true };

	herd_both(_metadata, mask, wait, NR_WAITERS, 0);
}

/* Mixed: every non-exclusive watcher is woken, and one exclusive one. */
TEST(mixed_wakes_the_plain_ones_and_one_exclusive)
{
	static const __u32 m = VEPOLLIN | VEPOLLEXCLUSIVE;
	const __u32 mask[NR_WAITERS] = { m, VEPOLLIN, m, m };
	const bool wait[NR_WAITERS] = { true, true, true, true };

	herd_both(_metadata, mask, wait, 2, 0);
}

/*
 * A set with no waiter takes the event but did not wake anyone, so the
 * wakeup goes on to the next exclusive set, whose waiter is woken.
 */
TEST(a_set_without_waiter_passes_the_wakeup_on)
{
	static const __u32 m = VEPOLLIN | VEPOLLEXCLUSIVE;
	const __u32 mask[NR_WAITERS] = { m, m, m, m };
	const bool wait[NR_WAITERS] = { false, true, true, true };

	herd_both(_metadata, mask, wait, 1, 1);
}

/* A set that does not want the event passes the wakeup on too. */
TEST(a_set_not_interested_passes_the_wakeup_on)
{
	static const __u32 m = VEPOLLIN | VEPOLLEXCLUSIVE;
	const __u32 mask[NR_WAITERS] = { VEPOLLOUT | VEPOLLEXCLUSIVE, m, m, m };
	const bool wait[NR_WAITERS] = { true, true, true, true };

	herd_both(_metadata, mask, wait, 1, 0);
}

/* ---- VEPOLLWAKEUP: a wakeup source per watch ----------------------------- */

struct ws_state {
	bool found;
	unsigned long active_count;
	long long active_since;		/* ms; > 0 only while active */
};

/* The line of wakeup source @name, or !found. */
static int ws_lookup(const char *name, struct ws_state *st)
{
	char line[512], n[128];
	FILE *f = fopen(WS_PATH, "re");

	memset(st, 0, sizeof(*st));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long ac, ec, wc, xc;
		long long since;

		if (sscanf(line, "%127s %lu %lu %lu %lu %lld", n, &ac, &ec, &wc,
			   &xc, &since) != 6 || strcmp(n, name))
			continue;
		st->found = true;
		st->active_count = ac;
		st->active_since = since;
		break;
	}
	fclose(f);
	return 0;
}

/* Registry id of instance @ep, from its fdinfo; -1 if unreadable. */
static long vp_instance_id(int ep)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	if (vp_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "vepoll-id:");
	return p ? strtol(p + strlen("vepoll-id:"), NULL, 10) : -1;
}

/* The mask fdinfo shows for the watch on @fd; ~0 if none. */
static __u32 vp_fdinfo_events(int ep, int fd)
{
	char path[64], buf[4096], key[32], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	if (vp_read_file(path, buf, sizeof(buf)) <= 0)
		return ~0U;
	snprintf(key, sizeof(key), "tfd: %8d events: ", fd);
	p = strstr(buf, key);
	return p ? (__u32)strtoul(p + strlen(key), NULL, 16) : ~0U;
}

FIXTURE(wakeup) {
	const char *why;	/* set: every test skips, saying why */
	int dev, ep, p[2];
	char name[48];		/* the watch's source: vepoll<id>:<fd> */
	char ep_name[32];	/* the instance's: vepoll<id> */
};

FIXTURE_SETUP(wakeup)
{
	long id;

	if (access(WS_PATH, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	/*
	 * The tests skip, not the setup: 6.1's kselftest_harness.h runs a
	 * test whose setup skipped.
	 */
	if (access(WS_PATH, R_OK))
		self->why = "no " WS_PATH " (no CONFIG_PM_SLEEP, or no debugfs)";
	else if (geteuid())
		self->why = "not root: no CAP_BLOCK_SUSPEND";
	if (self->why)
		return;
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
	id = vp_instance_id(self->ep);
	ASSERT_LT(0, id);
	snprintf(self->name, sizeof(self->name), "vepoll%ld:%d", id,
		 self->p[0]);
	snprintf(self->ep_name, sizeof(self->ep_name), "vepoll%ld", id);
}

FIXTURE_TEARDOWN(wakeup)
{
	if (self->dev > 0)
		vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

static void ws_get(struct __test_metadata *_metadata, const char *name,
		   struct ws_state *st)
{
	ASSERT_EQ(0, ws_lookup(name, st));
}

/* Active: it has been held for a while (active_since counts in ms). */
static bool ws_active(struct __test_metadata *_metadata, const char *name)
{
	struct ws_state st;

	vp_msleep(20);
	ws_get(_metadata, name, &st);
	return st.found && st.active_since > 0;
}

/* ADD makes the source, named after the instance and the fd. */
TEST_F(wakeup, add_registers_a_named_source)
{
	struct ws_state st;

	if (self->why)
		SKIP(return, "%s", self->why);

	ws_get(_metadata, self->name, &st);
	ASSERT_FALSE(st.found);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	ws_get(_metadata, self->name, &st);
	EXPECT_TRUE(st.found) {
		TH_LOG("no wakeup source %s", self->name);
	}
	EXPECT_EQ(0UL, st.active_count);
	ws_get(_metadata, self->ep_name, &st);
	EXPECT_TRUE(st.found);
	EXPECT_EQ(VEPOLLIN | VEPOLLWAKEUP,
		  vp_fdinfo_events(self->ep, self->p[0]));
}

/* ET: active from the event until the wait that reports it. */
TEST_F(wakeup, active_while_pending_et)
{
	struct vepoll_event ev;
	struct ws_state st;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLET | VEPOLLWAKEUP, 0));
	EXPECT_FALSE(ws_active(_metadata, self->name));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_TRUE(ws_active(_metadata, self->name));
	ws_get(_metadata, self->name, &st);
	EXPECT_EQ(1UL, st.active_count);
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	/* Neither bit is reported. */
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_FALSE(ws_active(_metadata, self->name));
	/* The instance's own source was only held during the wait. */
	EXPECT_FALSE(ws_active(_metadata, self->ep_name));
}

/* LT: still queued after a report, so still active until drained. */
TEST_F(wakeup, level_triggered_stays_active_until_drained)
{
	struct vepoll_event ev;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_TRUE(ws_active(_metadata, self->name));
	ASSERT_EQ(1, vp_drain(self->p[0]));
	ASSERT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_FALSE(ws_active(_metadata, self->name));
}

/* ONESHOT: released by the report that disarms it. */
TEST_F(wakeup, oneshot_released_when_disarmed)
{
	struct vepoll_event ev;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT | VEPOLLWAKEUP, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_TRUE(ws_active(_metadata, self->name));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_FALSE(ws_active(_metadata, self->name));
	/* MOD re-arms it, and the pending event holds the source again. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLONESHOT | VEPOLLWAKEUP, 0));
	EXPECT_TRUE(ws_active(_metadata, self->name));
}

/* DEL unregisters the source, pending event or not. */
TEST_F(wakeup, del_unregisters)
{
	struct ws_state st;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_TRUE(ws_active(_metadata, self->name));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[0],
			    0, 0));
	ws_get(_metadata, self->name, &st);
	EXPECT_FALSE(st.found);
}

/* MOD without the bit unregisters it; MOD with it registers it again. */
TEST_F(wakeup, mod_without_the_bit_unregisters)
{
	struct ws_state st;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN, 0));
	ws_get(_metadata, self->name, &st);
	EXPECT_FALSE(st.found);
	EXPECT_EQ(VEPOLLIN, vp_fdinfo_events(self->ep, self->p[0]));
	/* Still queued: the new source is held at once. */
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	EXPECT_TRUE(ws_active(_metadata, self->name));
}

/*
 * Closing the watched file releases the source at once (the close path
 * cannot sleep to unregister it); the next CTL or wait unregisters it.
 */
TEST_F(wakeup, close_of_the_target_releases_then_unregisters)
{
	struct ws_state st;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	EXPECT_TRUE(ws_active(_metadata, self->name));
	close(self->p[0]);
	self->p[0] = -1;
	EXPECT_FALSE(ws_active(_metadata, self->name));
	/* Any holder of the instance's mutex reaps: here a failing CTL. */
	ASSERT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL,
				  self->p[1], 0, 0));
	ws_get(_metadata, self->name, &st);
	EXPECT_FALSE(st.found);
}

/* Closing the instance unregisters every source it had. */
TEST_F(wakeup, close_of_the_instance_unregisters)
{
	struct ws_state st;

	if (self->why)
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLWAKEUP, 0));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	close(self->ep);
	self->ep = -1;
	ws_get(_metadata, self->name, &st);
	EXPECT_FALSE(st.found);
	ws_get(_metadata, self->ep_name, &st);
	EXPECT_FALSE(st.found);
}

/* Without CAP_BLOCK_SUSPEND the bit is dropped without an error. */
TEST_F(wakeup, dropped_without_cap_block_suspend)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	struct ws_state st;
	int status;
	pid_t pid;

	if (self->why)
		SKIP(return, "%s", self->why);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (syscall(SYS_capget, &hdr, data))
			_exit(10);
		data[CAP_TO_INDEX(CAP_BLOCK_SUSPEND)].effective &=
			~CAP_TO_MASK(CAP_BLOCK_SUSPEND);
		if (syscall(SYS_capset, &hdr, data))
			_exit(11);
		if (vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			   VEPOLLIN | VEPOLLWAKEUP, 0))
			_exit(12);
		if (vp_fdinfo_events(self->ep, self->p[0]) != VEPOLLIN)
			_exit(13);
		/* MOD drops it the same way. */
		if (vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, self->p[0],
			   VEPOLLOUT | VEPOLLWAKEUP, 0) ||
		    vp_fdinfo_events(self->ep, self->p[0]) != VEPOLLOUT)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ws_get(_metadata, self->name, &st);
	EXPECT_FALSE(st.found);
}

TEST_HARNESS_MAIN
