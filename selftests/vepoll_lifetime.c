// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_lifetime - the confirmed failures of issue #10, one scenario each
 * (Documentation.rst, "Closed targets" and "Waiting"):
 *
 *   dmabuf_polled_after_last_close   a target is never polled once its
 *                                    last reference is gone
 *   lost_wakeup_poll_scan,           no wakeup is lost while an instance
 *   lost_wakeup_outer_scan           is scanned by a poll or by an outer
 *                                    instance
 *   harvest_never_answers_empty      a harvest in progress counts as
 *                                    events available
 *   close_path_does_not_sleep        (plain TEST) closing a watched file
 *                                    does not wait for a wait stuck in a
 *                                    page fault
 *   unrelated_close_costs_one_lookup (plain TEST) closing a file nobody
 *                                    watches costs vepoll one lookup;
 *                                    stats_count_* checks the other
 *                                    counters of the same debugfs file
 *   cycle.*                          an instance and a native epoll
 *                                    watching each other do not spin
 *   fifo_named_eventpoll_is_a_fifo   a FIFO is a FIFO, whatever its name
 *   pty_master_*, fanotify_event_*   FMODE_NONOTIFY targets are accepted
 *                                    and leave within 100 ms of their
 *                                    last close
 *
 * Tests of fixture "set" run twice: on Linux's own epoll first, as the
 * reference (variant native_epoll), then on vepoll. The racing ones run
 * for VEPOLL_STRESS_SECONDS (default 8) s each, the lost-wakeup ones
 * twice that, or until the first failure. A module with the bug of
 * dmabuf_polled_after_last_close may crash the guest: it runs last.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#if __has_include("drm/drm.h") && __has_include("drm/drm_mode.h")
#include <drm/drm.h>
#include <drm/drm_mode.h>
#else
/* The few DRM requests used here, as <drm/drm.h> defines them. */
struct drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct drm_gem_close {
	__u32 handle;
	__u32 pad;
};

struct drm_prime_handle {
	__u32 handle;
	__u32 flags;
	__s32 fd;
};

struct drm_mode_create_dumb {
	__u32 height;
	__u32 width;
	__u32 bpp;
	__u32 flags;
	__u32 handle;
	__u32 pitch;
	__u64 size;
};

#define DRM_IOCTL_BASE			'd'
#define DRM_IOCTL_VERSION		_IOWR(DRM_IOCTL_BASE, 0x00, struct drm_version)
#define DRM_IOCTL_GEM_CLOSE		_IOW(DRM_IOCTL_BASE, 0x09, struct drm_gem_close)
#define DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR(DRM_IOCTL_BASE, 0x2d, struct drm_prime_handle)
#define DRM_IOCTL_MODE_CREATE_DUMB	_IOWR(DRM_IOCTL_BASE, 0xB2, struct drm_mode_create_dumb)
#define DRM_CLOEXEC			O_CLOEXEC
#define DRM_RDWR			O_RDWR
#endif

#include "kselftest_harness.h"
#include "vepoll_test.h"

/* Run time of each racing test, s: VEPOLL_STRESS_SECONDS. */
static int cfg_seconds = 8;

/* What a test that stalls may take before it counts as stuck, ms. */
#define PROMPT_MS	2000

/* ---- one event set: a vepoll instance, or a native epoll ---------------- */

struct set {
	bool native;
	int dev;	/* /dev/vepoll, for an instance */
	int fd;		/* the instance, or the epoll */
};

static int set_open(struct set *s, int dev, bool native)
{
	s->native = native;
	s->dev = dev;
	s->fd = native ? vp_ret(epoll_create1(EPOLL_CLOEXEC)) :
			 vp_create(dev, VEPOLL_CLOEXEC);
	return s->fd < 0 ? s->fd : 0;
}

static int set_add(const struct set *s, int fd, __u32 events, __u64 data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (!s->native)
		return vp_ctl(s->dev, s->fd, VEPOLL_CTL_ADD, fd, events, data);
	return vp_ret(epoll_ctl(s->fd, EPOLL_CTL_ADD, fd, &ev));
}

#define SET_MAX_EVENTS	64

/* A wait on either kind, its results in vepoll's layout. */
static int set_wait(const struct set *s, struct vepoll_event *ev, int max,
		    int timeout_ms)
{
	struct epoll_event nev[SET_MAX_EVENTS];
	int i, n;

	if (!s->native)
		return vp_wait(s->dev, s->fd, ev, max, timeout_ms);
	n = vp_ret(epoll_wait(s->fd, nev, max < SET_MAX_EVENTS ? max :
			      SET_MAX_EVENTS, timeout_ms));
	for (i = 0; i < n; i++) {
		ev[i].events = nev[i].events;
		ev[i].__pad = 0;
		ev[i].data = nev[i].data.u64;
	}
	return n;
}

/* ---- small helpers -------------------------------------------------------- */

/* Whether /proc/self/fdinfo/@epfd lists a watch added with fd @tfd. */
static int fdinfo_lists(int epfd, int tfd)
{
	char path[64], buf[16384], *line;
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	ret = vp_read_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (sscanf(line, "tfd: %d", &fd) == 1 && fd == tfd)
			return 1;
	}
	return 0;
}

/* Wait up to @ms for *@flag to become true; whether it did. */
static bool wait_flag(int *flag, int ms)
{
	int64_t end = vp_now_ms() + ms;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (vp_now_ms() >= end)
			return false;
		vp_msleep(1);
	}
	return true;
}

static void *shared_page(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- 4. the close path sleeps behind a faulting wait ---------------------- */

struct uf_waiter {
	int dev, ep;
	struct vepoll_event *events;
	int done;
	int ret;
};

static void *uf_wait(void *arg)
{
	struct uf_waiter *w = arg;

	w->ret = vp_wait(w->dev, w->ep, w->events, 1, 0);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct uf_closer {
	int fd;
	int done;
	int64_t ms;
};

static void *uf_close(void *arg)
{
	struct uf_closer *c = arg;
	int64_t t0 = vp_now_ms();

	close(c->fd);
	c->ms = vp_now_ms() - t0;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * In a child: do @what ("create": an instance of its own; "inotify": close
 * an inotify fd that has a mark), telling @wfd "ready" (0) just before and
 * the time it took afterwards. Returns how long the parent saw it take, ms
 * (PROMPT_MS + 1 if it had not finished by then), or -errno.
 */
static int64_t uf_child(const char *what, pid_t *pidp)
{
	int64_t t0, ms = -1;
	struct pollfd pfd;
	int p[2], fd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		vp_detach_stdio();
		close(p[0]);
		if (!strcmp(what, "create")) {
			fd = vp_open_dev();
			ms = 0;
			write(p[1], &ms, sizeof(ms));
			t0 = vp_now_ms();
			ms = vp_create(fd, 0) >= 0 ? vp_now_ms() - t0 : -1;
		} else {
			fd = inotify_init1(IN_CLOEXEC);
			inotify_add_watch(fd, "/tmp", IN_CREATE);
			ms = 0;
			write(p[1], &ms, sizeof(ms));
			t0 = vp_now_ms();
			ms = close(fd) ? -1 : vp_now_ms() - t0;
		}
		write(p[1], &ms, sizeof(ms));
		_exit(0);
	}
	close(p[1]);
	*pidp = pid;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (read(p[0], &ms, sizeof(ms)) != sizeof(ms)) {
		close(p[0]);
		return -EIO;
	}
	t0 = vp_now_ms();
	if (poll(&pfd, 1, PROMPT_MS) != 1 ||
	    read(p[0], &ms, sizeof(ms)) != sizeof(ms))
		ms = PROMPT_MS + 1;
	else if (ms >= 0)
		ms = vp_now_ms() - t0;
	close(p[0]);
	return ms;
}

/*
 * A wait whose copy of the events faults on a userfaultfd page stays in
 * the kernel until the fault is resolved. Meanwhile: the last close of a
 * watched pipe, a CREATE in another process, the close of an inotify fd
 * in another process must each return promptly. Then the fault is
 * resolved and the wait returns.
 */
TEST(close_path_does_not_sleep)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {};
	struct uffdio_copy copy = {};
	struct uf_closer closer = {};
	struct uf_waiter w = {};
	int64_t create_ms, inotify_ms;
	pid_t create_pid = -1, inotify_pid = -1;
	struct uffd_msg msg;
	struct pollfd pfd;
	pthread_t wth, cth;
	long pagesz = sysconf(_SC_PAGESIZE);
	int p[2], uffd, status;
	bool faulted;
	void *page, *zero;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	page = mmap(NULL, pagesz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	zero = mmap(NULL, pagesz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(zero != MAP_FAILED);
	reg.range.start = (uintptr_t)page;
	reg.range.len = pagesz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	w.dev = vp_assert_open_dev(_metadata);
	w.ep = vp_create(w.dev, 0);
	ASSERT_LE(0, w.ep);
	ASSERT_EQ(0, vp_pipe(p));
	ASSERT_EQ(0, vp_ctl(w.dev, w.ep, VEPOLL_CTL_ADD, p[1], VEPOLLOUT, 42));
	w.events = page;
	ASSERT_EQ(0, pthread_create(&wth, NULL, uf_wait, &w));

	/* The wait is in its copy once its fault is reported. */
	pfd.fd = uffd;
	pfd.events = POLLIN;
	faulted = poll(&pfd, 1, 5000) == 1 &&
		  read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
		  msg.event == UFFD_EVENT_PAGEFAULT;
	EXPECT_TRUE(faulted) {
		TH_LOG("the wait never faulted on its event buffer (done %d, ret %d)",
		       w.done, w.ret);
	}

	if (faulted) {
		closer.fd = p[1];
		p[1] = -1;
		ASSERT_EQ(0, pthread_create(&cth, NULL, uf_close, &closer));
		EXPECT_TRUE(wait_flag(&closer.done, PROMPT_MS)) {
			TH_LOG("the last close of a watched pipe waits for the faulting wait");
		}
		create_ms = uf_child("create", &create_pid);
		EXPECT_TRUE(create_ms >= 0 && create_ms <= PROMPT_MS) {
			TH_LOG("another process's CREATE: %lld ms (limit %d)",
			       (long long)create_ms, PROMPT_MS);
		}
		inotify_ms = uf_child("inotify", &inotify_pid);
		EXPECT_TRUE(inotify_ms >= 0 && inotify_ms <= PROMPT_MS) {
			TH_LOG("another process's close of an inotify fd: %lld ms (limit %d)",
			       (long long)inotify_ms, PROMPT_MS);
		}
		ksft_print_msg("while the wait faulted: pipe close %s, CREATE %lld ms, "
			       "inotify close %lld ms (%lld: not done)\n",
			       __atomic_load_n(&closer.done, __ATOMIC_ACQUIRE) ?
			       "done" : "not done",
			       (long long)create_ms, (long long)inotify_ms,
			       (long long)PROMPT_MS + 1);
	}

	/* Resolve the fault: the wait, and whatever waited for it, go on. */
	copy.dst = (uintptr_t)page;
	copy.src = (uintptr_t)zero;
	copy.len = pagesz;
	if (faulted)
		EXPECT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	EXPECT_TRUE(wait_flag(&w.done, 10000));
	if (w.done) {
		pthread_join(wth, NULL);
		EXPECT_TRUE(w.ret == 0 || w.ret == 1) {
			TH_LOG("the wait returned %d", w.ret);
		}
		if (w.ret == 1) {
			EXPECT_EQ(42U, w.events[0].data);
			EXPECT_EQ(VEPOLLOUT, w.events[0].events);
		}
	}
	if (faulted) {
		EXPECT_TRUE(wait_flag(&closer.done, 10000));
		if (closer.done)
			pthread_join(cth, NULL);
		ksft_print_msg("pipe close took %lld ms\n", (long long)closer.ms);
	}
	if (create_pid > 0)
		EXPECT_EQ(create_pid, vp_wait_child(create_pid, &status, 10000));
	if (inotify_pid > 0)
		EXPECT_EQ(inotify_pid, vp_wait_child(inotify_pid, &status, 10000));
	close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	close(w.ep);
	close(w.dev);
	close(uffd);
}

/* ---- 5. an unrelated close costs one lookup -------------------------------- */

#define VP_STATS	"/sys/kernel/debug/vepoll/stats"

/* One counter of vepoll/stats in debugfs, or -errno. */
static long vp_stat(const char *name)
{
	char buf[1024], *line;
	size_t len = strlen(name);
	int ret = vp_read_file(VP_STATS, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, name, len) && line[len] == ' ')
			return atol(line + len + 1);
	}
	return -ENOENT;
}

/* @n closes of fresh eventfds, timerfds and epoll fds; ns per close. */
static double close_unrelated(int n)
{
	int64_t t0 = vp_now_us();
	int i, fd;

	for (i = 0; i < n; i++) {
		switch (i % 3) {
		case 0:
			fd = eventfd(0, 0);
			break;
		case 1:
			fd = timerfd_create(CLOCK_MONOTONIC, 0);
			break;
		default:
			fd = epoll_create1(0);
			break;
		}
		if (fd < 0)
			return -1;
		close(fd);
	}
	return (vp_now_us() - t0) * 1000.0 / n;
}

/*
 * eventfd, timerfd, epoll and vepoll's own files share one anonymous inode
 * and superblock. One watched eventfd must not make the closes of other
 * processes' anonymous files do more than a lookup each: they are counted
 * as lookups, and none of them finds a target.
 */
TEST(unrelated_close_costs_one_lookup)
{
	const int n = 5000;
	struct vepoll_event ev;
	long lookups, kills;
	double ns_before, ns_watched;
	int dev, ep, efd, status;
	pid_t pid;

	if (access(VP_STATS, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	dev = vp_assert_open_dev(_metadata);
	ns_before = close_unrelated(n);
	ASSERT_LT(0, ns_before);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	efd = vp_eventfd(0);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, efd, VEPOLLIN, 1));

	lookups = vp_stat("close_lookups");
	kills = vp_stat("close_kills");
	ASSERT_LE(0, lookups) TH_LOG("%s: %s", VP_STATS, strerror(-lookups));
	ASSERT_LE(0, kills);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(close_unrelated(n) > 0 ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_EQ(kills, vp_stat("close_kills"));
	EXPECT_LE(lookups + n, vp_stat("close_lookups"));

	ns_watched = close_unrelated(n);
	TH_LOG("unrelated close: %.0f ns before the watch, %.0f ns with it",
	       ns_before, ns_watched);
	close(efd);
	EXPECT_EQ(kills + 1, vp_stat("close_kills"));
	EXPECT_EQ(0, vp_wait(dev, ep, &ev, 1, 0));
	close(ep);
	close(dev);
}

/* The registry's lines of vepoll/stats follow the instances and watches. */
TEST(stats_count_instances_watches_and_users)
{
	long inst, watches, mine;
	char key[32];
	int dev, ep, p[2];

	if (access(VP_STATS, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	dev = vp_assert_open_dev(_metadata);
	snprintf(key, sizeof(key), "user %u instances", geteuid());
	inst = vp_stat("instances");
	watches = vp_stat("watches");
	mine = vp_stat(key);
	ASSERT_LE(0, inst) TH_LOG("%s: %s", VP_STATS, strerror(-inst));
	ASSERT_LE(0, watches);
	if (mine == -ENOENT)
		mine = 0;
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, vp_pipe(p));
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[1], VEPOLLOUT, 2));
	EXPECT_EQ(inst + 1, vp_stat("instances"));
	EXPECT_EQ(watches + 2, vp_stat("watches"));
	EXPECT_EQ(mine + 1, vp_stat(key));
	EXPECT_LT(0, vp_stat("max_instances"));
	close(ep);
	EXPECT_EQ(inst, vp_stat("instances"));
	EXPECT_EQ(watches, vp_stat("watches"));
	vp_close_all(p, 2);
	close(dev);
}

/* ---- 6. an instance and a native epoll watching each other ---------------- */

#define CY_TAG_V	1
#define CY_TAG_E	2
#define CY_TAG_PIPE	3
#define CY_EMPTY_MAX	10
#define CY_MS		3000

FIXTURE(cycle) {
	int dev, v, e, p[2];
};

FIXTURE_VARIANT(cycle) {
	bool pipe_in_epoll;	/* else in the instance */
};

FIXTURE_VARIANT_ADD(cycle, pipe_in_instance) {
	.pipe_in_epoll = false,
};

FIXTURE_VARIANT_ADD(cycle, pipe_in_epoll) {
	.pipe_in_epoll = true,
};

FIXTURE_SETUP(cycle)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CY_TAG_V };

	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->v, self->p);
	self->e = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->e);
	ASSERT_EQ(0, vp_ctl(self->dev, self->v, VEPOLL_CTL_ADD, self->e,
			    VEPOLLIN, CY_TAG_E));
	ASSERT_EQ(0, epoll_ctl(self->e, EPOLL_CTL_ADD, self->v, &ev));
	if (variant->pipe_in_epoll) {
		ev.data.u64 = CY_TAG_PIPE;
		ASSERT_EQ(0, epoll_ctl(self->e, EPOLL_CTL_ADD, self->p[0],
				       &ev));
	} else {
		ASSERT_EQ(0, vp_ctl(self->dev, self->v, VEPOLL_CTL_ADD,
				    self->p[0], VEPOLLIN, CY_TAG_PIPE));
	}
}

FIXTURE_TEARDOWN(cycle)
{
	close(self->e);
	vp_close_dev_ep_pipe(self->dev, self->v, self->p);
}

/* Did @n events of @ev hold the pipe's? Drains it if so. */
static bool cycle_consume(const struct vepoll_event *ev, int n, int pipe_rd)
{
	if (vp_find(ev, n, CY_TAG_PIPE) < 0)
		return false;
	vp_drain(pipe_rd);
	return true;
}

/*
 * A plain event loop on the epoll: when it says the instance is readable,
 * wait on the instance with timeout 0. Once the one real event (a byte in
 * the pipe) is consumed, the loop must go to sleep after a handful of
 * empty rounds: epoll_wait with a timeout returns 0.
 */
TEST_F(cycle, loop_sleeps_once_events_are_consumed)
{
	struct epoll_event eev[8];
	struct vepoll_event vev[8];
	long real = 0, empty = 0, rounds = 0;
	int64_t deadline;
	bool slept = false, got;
	int i, n, m;

	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	deadline = vp_now_ms() + CY_MS;
	while (vp_now_ms() < deadline) {
		n = epoll_wait(self->e, eev, 8, 200);
		ASSERT_LE(0, n);
		if (!n) {
			slept = true;
			break;
		}
		rounds++;
		got = false;
		for (i = 0; i < n; i++) {
			if (eev[i].data.u64 == CY_TAG_PIPE) {
				vp_drain(self->p[0]);
				got = true;
			}
			if (eev[i].data.u64 != CY_TAG_V)
				continue;
			m = vp_wait(self->dev, self->v, vev, 8, 0);
			ASSERT_LE(0, m);
			got |= cycle_consume(vev, m, self->p[0]);
		}
		if (got)
			real++;
		else
			empty++;
	}
	ksft_print_msg("%ld rounds: %ld with the real event, %ld empty; %s\n",
		       rounds, real, empty,
		       slept ? "then slept" : "never slept");
	EXPECT_EQ(1, real);
	EXPECT_GE(CY_EMPTY_MAX, empty) {
		TH_LOG("%ld empty rounds in %d ms: the cycle busy-loops",
		       empty, CY_MS);
	}
	EXPECT_TRUE(slept);
}

FIXTURE(set) {
	int dev;
	struct set s;
};

FIXTURE_VARIANT(set) {
	bool native;
};

/* The reference first: a wedged vepoll test must not spoil it. */
FIXTURE_VARIANT_ADD(set, native_epoll) {
	.native = true,
};

FIXTURE_VARIANT_ADD(set, vepoll) {
	.native = false,
};

FIXTURE_SETUP(set)
{
	self->dev = vp_assert_open_dev(_metadata);
	ASSERT_EQ(0, set_open(&self->s, self->dev, variant->native));
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(set)
{
	close(self->s.fd);
	close(self->dev);
}

/* ---- 2. lost wakeups while an instance is scanned ------------------------ */

#define LW_WATCHES	32
#define LW_ALL		((1ULL << LW_WATCHES) - 1)
#define LW_RECHECK_MS	1000
/* Under TCG, vepoll lost a few wakeups per 50,000 writes: twice as long. */
#define LW_SECONDS	(2 * cfg_seconds)

struct lw_scanner {
	const struct set *inner;	/* polled, or ... */
	const struct set *outer;	/* ... waited on, watching inner */
	int stop;
	long scans;
};

/* Scan the inner set over and over: poll() its fd, or wait on an outer. */
static void *lw_scan(void *arg)
{
	struct lw_scanner *sc = arg;
	struct pollfd pfd = { .fd = sc->inner->fd, .events = POLLIN };
	struct vepoll_event ev;

	while (!__atomic_load_n(&sc->stop, __ATOMIC_RELAXED)) {
		if (sc->outer)
			set_wait(sc->outer, &ev, 1, 0);
		else
			poll(&pfd, 1, 0);
		sc->scans++;
	}
	return NULL;
}

/*
 * 32 level-triggered watches on one pipe (32 dups of its read end). Each
 * round writes one byte, then every watch must be reported within 1 s,
 * then the pipe is drained; meanwhile another thread scans the set.
 */
static void lost_wakeup(struct __test_metadata *_metadata, const struct set *s,
			const struct set *outer)
{
	struct lw_scanner sc = { .inner = s, .outer = outer };
	struct vepoll_event ev[LW_WATCHES];
	int p[2], dups[LW_WATCHES], i, n;
	uint64_t seen = LW_ALL;
	int64_t deadline, end;
	long round = 0;
	pthread_t th;

	ASSERT_EQ(0, vp_pipe(p));
	for (i = 0; i < LW_WATCHES; i++) {
		dups[i] = dup(p[0]);
		ASSERT_LE(0, dups[i]);
		ASSERT_EQ(0, set_add(s, dups[i], VEPOLLIN, i));
	}
	if (outer)
		ASSERT_EQ(0, set_add(outer, s->fd, VEPOLLIN, 100));
	ASSERT_EQ(0, pthread_create(&th, NULL, lw_scan, &sc));

	deadline = vp_now_ms() + LW_SECONDS * 1000LL;
	while (seen == LW_ALL && vp_now_ms() < deadline) {
		round++;
		if (vp_write_bytes(p[1], 1) != 1)
			break;
		seen = 0;
		end = vp_now_ms() + LW_RECHECK_MS;
		while (seen != LW_ALL && vp_now_ms() < end) {
			n = set_wait(s, ev, LW_WATCHES, end - vp_now_ms());
			for (i = 0; i < n; i++)
				seen |= 1ULL << ev[i].data;
		}
		if (seen == LW_ALL)
			vp_drain(p[0]);
	}
	__atomic_store_n(&sc.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ksft_print_msg("%ld writes, %ld scans by the other thread\n", round,
		       sc.scans);
	EXPECT_EQ(LW_ALL, seen) {
		TH_LOG("write %ld: watches %#llx not reported within %d ms, "
		       "though the pipe is readable (poll: %#x)",
		       round, (unsigned long long)(LW_ALL & ~seen),
		       LW_RECHECK_MS, vp_poll_now(p[0]));
	}
	vp_close_all(dups, LW_WATCHES);
	close(p[0]);
	close(p[1]);
}

/* The scanner polls the set's own fd (poll(2) of an instance). */
TEST_F(set, lost_wakeup_poll_scan)
{
	lost_wakeup(_metadata, &self->s, NULL);
}

/* The scanner waits, timeout 0, on an outer set that watches this one. */
TEST_F(set, lost_wakeup_outer_scan)
{
	struct set outer;

	ASSERT_EQ(0, set_open(&outer, self->dev, variant->native));
	lost_wakeup(_metadata, &self->s, &outer);
	close(outer.fd);
}

/* ---- 3. a harvest in progress answers "nothing ready" -------------------- */

#define HV_THREADS	4

/*
 * Linux's epoll has a window of its own: ep_events_available() reads
 * rdllist and ovflist without ep->lock, and can fall between the two
 * stores of ep_start_scan(). On the reference, a 0 is reported, not
 * failed.
 */
struct hv_shared {
	const struct set *s;
	int64_t deadline;
	int stop;	/* vepoll: at the first empty answer */
	long waits, empties, errors;
	int error;
};

static void *hv_run(void *arg)
{
	struct hv_shared *h = arg;
	struct vepoll_event ev;
	long waits = 0;
	int n;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		if (!(++waits & 255) && vp_now_ms() >= h->deadline)
			break;
		n = set_wait(h->s, &ev, 1, 0);
		if (n == 1)
			continue;
		if (n == 0) {
			__atomic_add_fetch(&h->empties, 1, __ATOMIC_RELAXED);
			if (!h->s->native)
				__atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&h->errors, 1, __ATOMIC_RELAXED);
			h->error = n;
		}
	}
	__atomic_add_fetch(&h->waits, waits, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * An eventfd with a count is always ready: timeout-0 waits (maxevents 1)
 * from several threads at once never answer 0.
 */
TEST_F(set, harvest_never_answers_empty)
{
	struct hv_shared h = { .s = &self->s };
	pthread_t th[HV_THREADS];
	int efd = vp_eventfd(1), i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, set_add(&self->s, efd, VEPOLLIN, 1));
	h.deadline = vp_now_ms() + cfg_seconds * 1000LL;
	for (i = 0; i < HV_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, hv_run, &h));
	for (i = 0; i < HV_THREADS; i++)
		pthread_join(th[i], NULL);
	ksft_print_msg("%ld timeout-0 waits in %d threads, %ld answered 0\n",
		       h.waits, HV_THREADS, h.empties);
	EXPECT_EQ(0, h.errors) {
		TH_LOG("a wait failed: %s", strerror(-h.error));
	}
	close(efd);
	if (variant->native && h.empties)
		SKIP(return, "reference only: Linux's epoll answered 0 %ld times in %ld waits",
		     h.empties, h.waits);
	EXPECT_EQ(0, h.empties) {
		TH_LOG("a wait answered 0 while another thread was "
		       "reporting an always-ready level-triggered watch");
	}
}

/* ---- 7. a FIFO named [eventpoll] ------------------------------------------ */

/* The instance fd is readable exactly while the FIFO is. */
TEST_F(set, fifo_named_eventpoll_is_a_fifo)
{
	char dir[] = "/tmp/vepoll_lifetime.XXXXXX", path[64];
	struct vepoll_event ev;
	int fd, round;

	ASSERT_TRUE(!!mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/[eventpoll]", dir);
	ASSERT_EQ(0, mkfifo(path, 0600));
	/* O_RDWR: a FIFO end that needs no peer to open. */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_add(&self->s, fd, VEPOLLIN, 1));
	for (round = 0; round < 3; round++) {
		EXPECT_EQ(0U, vp_poll_now(self->s.fd) & POLLIN) {
			TH_LOG("round %d: empty FIFO, yet poll() of the set reports POLLIN",
			       round);
		}
		EXPECT_EQ(0, set_wait(&self->s, &ev, 1, 0));
		ASSERT_EQ(1, vp_write_bytes(fd, 1));
		ASSERT_EQ(1, set_wait(&self->s, &ev, 1, 1000));
		EXPECT_EQ(1U, ev.data);
		EXPECT_EQ(VEPOLLIN, ev.events);
		EXPECT_NE(0U, vp_poll_now(self->s.fd) & POLLIN);
		ASSERT_EQ(1, vp_drain(fd));
	}
	EXPECT_EQ(0U, vp_poll_now(self->s.fd) & POLLIN) {
		TH_LOG("drained FIFO, yet poll() of the set reports POLLIN");
	}
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* ---- 8. FMODE_NONOTIFY targets --------------------------------------------- */

#define TAG_WAKE	0x1000U
#define TAG_TARGET	0x2000U
/* The last close's watch must be gone within 100 ms; TCG is slow. */
#define NONOTIFY_MS	1000

struct sleeper {
	const struct set *s;
	pthread_t th;
	pid_t tid;
	int ret;
	struct vepoll_event ev[4];
};

static void *sleeper_run(void *arg)
{
	struct sleeper *sl = arg;

	__atomic_store_n(&sl->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	sl->ret = set_wait(sl->s, sl->ev, 4, 20000);
	return NULL;
}

/*
 * Start a thread that sleeps in a long wait on @s (which also watches an
 * eventfd, tag TAG_WAKE); return once it sleeps, or after 2 s.
 */
static int sleeper_start(struct sleeper *sl, const struct set *s)
{
	int i, err;
	pid_t tid;

	sl->s = s;
	sl->tid = 0;
	sl->ret = -1;
	err = pthread_create(&sl->th, NULL, sleeper_run, sl);
	if (err)
		return -err;
	for (i = 0; i < 200; i++) {
		vp_msleep(10);
		tid = __atomic_load_n(&sl->tid, __ATOMIC_ACQUIRE);
		if (tid && vp_task_state(0, tid) == 'S')
			break;
	}
	/* In the wait by now, not only about to enter it. */
	vp_msleep(50);
	return 0;
}

/* Wake the sleeper through @wake; whether it reported the target. */
static bool sleeper_stop(struct sleeper *sl, int wake)
{
	int i;

	vp_eventfd_add(wake, 1);
	pthread_join(sl->th, NULL);
	for (i = 0; i < sl->ret; i++)
		if (sl->ev[i].data == TAG_TARGET)
			return true;
	return false;
}

/*
 * A pty master (opened FMODE_NONOTIFY by ptmx) is accepted and reported;
 * its last close, while a wait sleeps and nothing else is called, lets
 * the master's release run within NONOTIFY_MS: the slave is hung up, and
 * fdinfo no longer lists the watch.
 */
TEST_F(set, pty_master_leaves_after_last_close)
{
	struct pollfd pfd = { .events = 0 };
	struct vepoll_event ev[4];
	int master, slave, wake, n, ret;
	struct sleeper sl;
	char name[64], c;
	int64_t t0, hup_ms;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		SKIP(return, "no pty master: %s", strerror(errno));
	ASSERT_EQ(0, grantpt(master));
	ASSERT_EQ(0, unlockpt(master));
	ASSERT_EQ(0, ptsname_r(master, name, sizeof(name)));
	slave = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, slave);
	ASSERT_EQ(0, fcntl(master, F_SETFL, O_NONBLOCK));
	wake = vp_eventfd(0);
	ASSERT_LE(0, wake);
	ASSERT_EQ(0, set_add(&self->s, wake, VEPOLLIN, TAG_WAKE));

	ret = set_add(&self->s, master, VEPOLLIN, TAG_TARGET);
	ASSERT_EQ(0, ret) {
		TH_LOG("ADD of a pty master (FMODE_NONOTIFY): %s; epoll accepts it",
		       strerror(-ret));
	}
	EXPECT_EQ(0, set_wait(&self->s, ev, 4, 0));
	ASSERT_EQ(1, write(slave, "x", 1));
	n = set_wait(&self->s, ev, 4, 1000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(TAG_TARGET, ev[0].data);
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	ASSERT_EQ(1, read(master, &c, 1));
	EXPECT_EQ(1, fdinfo_lists(self->s.fd, master));

	ASSERT_EQ(0, sleeper_start(&sl, &self->s));
	t0 = vp_now_ms();
	close(master);
	/* POLLHUP needs no request: events 0 waits for the hang-up alone. */
	pfd.fd = slave;
	EXPECT_EQ(1, poll(&pfd, 1, NONOTIFY_MS + 100));
	hup_ms = vp_now_ms() - t0;
	EXPECT_NE(0, pfd.revents & POLLHUP) {
		TH_LOG("the slave is not hung up %lld ms after the master's "
		       "last close: the master was not released",
		       (long long)hup_ms);
	}
	EXPECT_GE(NONOTIFY_MS, hup_ms);
	EXPECT_EQ(0, fdinfo_lists(self->s.fd, master)) {
		TH_LOG("fdinfo still lists the watch of the closed master");
	}
	EXPECT_FALSE(sleeper_stop(&sl, wake)) {
		TH_LOG("the sleeping wait reported the closed master");
	}
	ksft_print_msg("slave hung up %lld ms after the master's last close\n",
		       (long long)hup_ms);
	close(slave);
	close(wake);
}

/*
 * The fd of the first event read from @fan (the others' are closed), or
 * -errno.
 */
static int fan_event_fd(int fan)
{
	char buf[4096] __attribute__((aligned(8)));
	struct fanotify_event_metadata *md;
	struct pollfd pfd = { .fd = fan, .events = POLLIN };
	int fd = -ENOENT;
	ssize_t len;

	if (poll(&pfd, 1, 1000) != 1)
		return -ETIMEDOUT;
	len = read(fan, buf, sizeof(buf));
	if (len < 0)
		return -errno;
	for (md = (void *)buf; FAN_EVENT_OK(md, len);
	     md = FAN_EVENT_NEXT(md, len)) {
		if (md->fd < 0)
			continue;
		if (fd < 0)
			fd = md->fd;
		else
			close(md->fd);
	}
	return fd;
}

/*
 * The file a fanotify event carries is opened FMODE_NONOTIFY. fanotify
 * reports regular files and directories only, so the target is a regular
 * file that can be polled: /proc/self/mounts, always readable, so watched
 * edge-triggered. It is accepted and reported; after its last close,
 * while a wait sleeps and nothing else is called, its watch is gone
 * within NONOTIFY_MS.
 */
TEST_F(set, fanotify_event_fd_leaves_after_last_close)
{
	static const char path[] = "/proc/self/mounts";
	struct vepoll_event ev[4];
	int fan, own, nfd, wake, n, ret;
	struct sleeper sl;

	fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
			    O_RDONLY | O_CLOEXEC);
	if (fan < 0)
		SKIP(return, "fanotify_init: %s", strerror(errno));
	if (fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, path))
		SKIP(return, "fanotify_mark(%s): %s", path, strerror(errno));
	own = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, own);
	nfd = fan_event_fd(fan);
	ASSERT_LE(0, nfd) {
		TH_LOG("no fanotify event for the open of %s: %s", path,
		       strerror(-nfd));
	}
	close(fan);
	close(own);
	wake = vp_eventfd(0);
	ASSERT_LE(0, wake);
	ASSERT_EQ(0, set_add(&self->s, wake, VEPOLLIN, TAG_WAKE));

	ret = set_add(&self->s, nfd, VEPOLLIN | VEPOLLET, TAG_TARGET);
	ASSERT_EQ(0, ret) {
		TH_LOG("ADD of a fanotify event fd (FMODE_NONOTIFY): %s; epoll accepts it",
		       strerror(-ret));
	}
	n = set_wait(&self->s, ev, 4, 1000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(TAG_TARGET, ev[0].data);
	EXPECT_NE(0U, ev[0].events & VEPOLLIN);
	EXPECT_EQ(0, set_wait(&self->s, ev, 4, 0));
	EXPECT_EQ(1, fdinfo_lists(self->s.fd, nfd));

	ASSERT_EQ(0, sleeper_start(&sl, &self->s));
	close(nfd);
	vp_msleep(NONOTIFY_MS);
	EXPECT_EQ(0, fdinfo_lists(self->s.fd, nfd)) {
		TH_LOG("fdinfo still lists the watch of the event fd %d ms after its last close",
		       NONOTIFY_MS);
	}
	EXPECT_FALSE(sleeper_stop(&sl, wake)) {
		TH_LOG("the sleeping wait reported the closed event fd");
	}
	close(wake);
}

/* ---- 1. a dma-buf polled after its last reference is gone ----------------- */

/* An open vgem card (modprobe'd if need be), or -1 with *@why set. */
static int vgem_open(char *why, size_t size)
{
	char path[32], name[16];
	int attempt, i, fd, status = -1;
	pid_t pid;

	for (attempt = 0; attempt < 2; attempt++) {
		for (i = 0; i < 16; i++) {
			struct drm_version v = {
				.name_len = sizeof(name) - 1,
				.name = name,
			};

			snprintf(path, sizeof(path), "/dev/dri/card%d", i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			memset(name, 0, sizeof(name));
			if (!ioctl(fd, DRM_IOCTL_VERSION, &v) &&
			    !strcmp(name, "vgem"))
				return fd;
			close(fd);
		}
		if (attempt)
			break;
		pid = fork();
		if (!pid) {
			vp_detach_stdio();
			execlp("modprobe", "modprobe", "-q", "vgem", NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, &status, 0);
	}
	snprintf(why, size, "no vgem DRM device (modprobe vgem: %s %d): CONFIG_DRM_VGEM needed",
		 WIFEXITED(status) ? "exit" : "status", WIFEXITED(status) ?
		 WEXITSTATUS(status) : status);
	return -1;
}

/* A new dma-buf (one 64x64 dumb buffer) whose fd is its only reference. */
static int vgem_dmabuf(int card)
{
	struct drm_mode_create_dumb dumb = {
		.height = 64, .width = 64, .bpp = 32,
	};
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gclose = {};
	int err;

	if (ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		return -errno;
	prime.handle = dumb.handle;
	err = ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ? -errno : 0;
	/* The handle would keep a reference on the dma-buf. */
	gclose.handle = dumb.handle;
	ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
	return err ? err : prime.fd;
}

struct db_report {
	int done;
	int harvest_stop;
	long rounds, harvests, reported;
	int err;
	char what[64];
};

struct db_harvester {
	const struct set *s;
	struct db_report *r;
};

static void *db_harvest(void *arg)
{
	struct db_harvester *h = arg;
	struct vepoll_event ev[4];
	int n;

	while (!__atomic_load_n(&h->r->harvest_stop, __ATOMIC_RELAXED)) {
		n = set_wait(h->s, ev, 4, 0);
		__atomic_add_fetch(&h->r->harvests, 1, __ATOMIC_RELAXED);
		if (n > 0)
			h->r->reported += n;
	}
	return NULL;
}

/* The worker process: ADD a fresh dma-buf, let it be harvested, close it. */
static void db_work(const struct set *s, int card, struct db_report *r)
{
	struct db_harvester h = { .s = s, .r = r };
	int64_t deadline = vp_now_ms() + cfg_seconds * 1000LL;
	long seen;
	pthread_t th;
	int fd;

	vp_detach_stdio();
	if (pthread_create(&th, NULL, db_harvest, &h)) {
		snprintf(r->what, sizeof(r->what), "pthread_create");
		_exit(1);
	}
	while (vp_now_ms() < deadline) {
		fd = vgem_dmabuf(card);
		if (fd < 0) {
			r->err = fd;
			snprintf(r->what, sizeof(r->what), "dma-buf export");
			break;
		}
		r->err = set_add(s, fd, VEPOLLIN | VEPOLLOUT, r->rounds);
		if (r->err) {
			snprintf(r->what, sizeof(r->what), "ADD of a dma-buf");
			close(fd);
			break;
		}
		/* Until a harvest or two have polled it. */
		seen = __atomic_load_n(&r->harvests, __ATOMIC_RELAXED);
		while (__atomic_load_n(&r->harvests, __ATOMIC_RELAXED) <
		       seen + 2 && vp_now_ms() < deadline)
			;
		close(fd);
		r->rounds++;
	}
	__atomic_store_n(&r->harvest_stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/*
 * A dma-buf's poll takes and drops a file reference (get_file()/fput()).
 * One thread harvests over and over while another adds a dma-buf and
 * closes its only fd: were the closed file ever polled, the poll would
 * take its count from 0 to 1 and back, releasing the file twice (list_del
 * corruption in dma_buf_file_release). Runs in a child process, which
 * such a release may leave stuck.
 */
TEST_F(set, dmabuf_polled_after_last_close)
{
	int64_t deadline, splat_ms = 0;
	struct vp_splats sp = {};
	struct db_report *r;
	int card, kmsg, status;
	pid_t pid, got;
	char why[128];

	card = vgem_open(why, sizeof(why));
	if (card < 0)
		SKIP(return, "%s", why);
	r = shared_page(sizeof(*r));
	ASSERT_TRUE(!!r);
	kmsg = vp_kmsg_open();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		db_work(&self->s, card, r);
	close(card);

	/* A splat may leave the worker stuck: give it 2 s more, no more. */
	deadline = vp_now_ms() + cfg_seconds * 1000 + 20000;
	while (!(got = vp_wait_child(pid, &status, 100)) &&
	       vp_now_ms() < deadline) {
		if (!splat_ms && vp_kmsg_splats(kmsg, &sp))
			splat_ms = vp_now_ms();
		if (splat_ms && vp_now_ms() > splat_ms + 2000)
			break;
	}
	vp_kmsg_splats(kmsg, &sp);
	ksft_print_msg("%ld dma-bufs closed while %ld harvests ran (%ld events)\n",
		       r->rounds, r->harvests, r->reported);
	EXPECT_EQ(0, sp.found) {
		TH_LOG("kernel: %s", sp.text);
	}
	EXPECT_EQ(pid, got) {
		TH_LOG("worker stuck in state %c after %ld rounds",
		       vp_task_state(pid, 0), r->rounds);
	}
	if (got == pid) {
		EXPECT_TRUE(WIFEXITED(status) && r->done) {
			TH_LOG("worker died (status %#x) after %ld rounds",
			       status, r->rounds);
		}
	}
	EXPECT_EQ(0, r->err) {
		TH_LOG("%s: %s", r->what, strerror(-r->err));
	}
	EXPECT_LT(0, r->rounds);
	if (kmsg >= 0)
		close(kmsg);
}

int main(int argc, char **argv)
{
	const char *s = getenv("VEPOLL_STRESS_SECONDS");
	char *end;
	long v;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (s && *s) {
		v = strtol(s, &end, 0);
		if (*end || v < 1 || v > 3600)
			fprintf(stderr, "VEPOLL_STRESS_SECONDS=%s: want 1..3600; using %d\n",
				s, cfg_seconds);
		else
			cfg_seconds = v;
	}
	/* The harness kills a test after .timeout s: scale the racing ones. */
	_set_lost_wakeup_poll_scan_object.timeout = LW_SECONDS + 30;
	_set_lost_wakeup_outer_scan_object.timeout = LW_SECONDS + 30;
	_set_harvest_never_answers_empty_object.timeout = cfg_seconds + 30;
	_set_dmabuf_polled_after_last_close_object.timeout = cfg_seconds + 60;
	ksft_print_msg("racing tests run %d s each (VEPOLL_STRESS_SECONDS)\n",
		       cfg_seconds);
	return test_harness_run(argc, argv);
}
