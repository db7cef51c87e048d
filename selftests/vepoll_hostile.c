// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_hostile - limits and safety (Documentation.rst) under hostile
 * use: the module's lifecycle, what churn leaves behind, limits and
 * privileges, and what is copied back.
 *
 * Lifecycle and leaks
 *   insmod_rmmod_cycles: 100 unload/load cycles (VEPOLL_KO, VEPOLL_PARAMS,
 *	as vp_module_reload() does; SKIP without them), each using an
 *	instance, a watch and a wait, some nested, some left with pending
 *	events when closed
 *   instance_churn, watch_churn: 100,000 instances created and destroyed,
 *	100,000 watches added and removed (LT/ET/ONESHOT, CTL and CTL_BATCH,
 *	targets closed while watched); afterwards the module's slab caches
 *	(vepoll_watch, vepoll_pwq) hold what they held before, and the
 *	registry has room for exactly max_instances again
 *   kmemleak_finds_nothing_of_vepoll: on a kernel with kmemleak, a scan
 *	after the churn reports no object allocated by vepoll (SKIP
 *	otherwise)
 *
 * The slab caches are created with SLAB_ACCOUNT, which does not keep SLUB
 * from merging them: it only limits merging to other accounted caches of
 * the same size. On Debian's kernel (slab_merge on) vepoll_watch (144
 * bytes) usually has its cache to itself while vepoll_pwq (64) is an alias
 * of a cache other subsystems use too (/sys/kernel/slab/vepoll_pwq ->
 * :A-0000064). A cache of our own is checked exactly, after a shrink that
 * flushes the per-CPU slabs; a shared one only within a small tolerance.
 * A KASAN kernel merges nothing.
 *
 * Limits and privileges (vepoll_limits covers a user stopped at
 * max_user_instances with EMFILE, another user, and root; these add)
 *   uid0_without_cap_sys_resource_is_limited: the limit follows the
 *	capability, not the uid; root with it can still create
 *   other_uid_with_cap_sys_resource_is_not_limited
 *   passed_instance_still_counts_for_its_creator: an instance handed to
 *	another process over SCM_RIGHTS is charged to its creator until its
 *	last close
 *   unprivileged_process_cannot_reach_root_instances: CTL, WAIT and
 *	CTL_BATCH on every fd number it has and on root's registry ids fail
 *	with EBADF or EINVAL, /proc/<root>/fdinfo and fd/ and pidfd_getfd()
 *	are closed to it, and root's instance is untouched
 *
 * What is copied back
 *   wait_results_have_zeroed_padding: buffers filled with 0xA5 (and
 *	0xFF), many events, LT/ET/ONESHOT, targets of every kind: each
 *	result has __pad 0 and its own data, nothing past the count is
 *	written
 *   batch_results_past_the_failing_entry_are_untouched: for each
 *	position and cause of failure
 *
 * Counts scale with VEPOLL_HOSTILE_SCALE (default 1; 1/30 by itself on a
 * debug kernel: one with kmemleak or "debug" in its release).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define NOBODY		65534
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define SLAB_DIR	"/sys/kernel/slab/"

/* ---- scale ---------------------------------------------------------------- */

static double cfg_scale = 1.0;
static const char *cfg_scale_why = "default";

static long scaled(long n, long min)
{
	double v = n * cfg_scale;

	return v < min ? min : (long)v;
}

static void print_scale(void)
{
	ksft_print_msg("scale %.3f (%s)\n", cfg_scale, cfg_scale_why);
}

/* ---- small helpers ---------------------------------------------------------- */

static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Capabilities of this process, as 64-bit masks (raw capget/capset). */
static int caps_get(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t perm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = (__u32)eff;
	d[1].effective = (__u32)(eff >> 32);
	d[0].permitted = (__u32)perm;
	d[1].permitted = (__u32)(perm >> 32);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

#define CAP_BIT(c)	(1ULL << (c))

/* Become uid/gid @id with no supplementary groups and no capabilities. */
static int become(uid_t id)
{
	uint64_t eff, perm;

	if (setgroups(0, NULL) || setresgid(id, id, id) ||
	    setresuid(id, id, id))
		return -errno;
	if (caps_get(&eff, &perm))
		return -EIO;
	return eff || perm ? -EPERM : 0;
}

/* Create instances until one fails; returns how many, *err the failure. */
static int create_until_error(int dev, int *fds, int max, int *err)
{
	int n;

	for (n = 0; n < max; n++) {
		fds[n] = vp_create(dev, VEPOLL_CLOEXEC);
		if (fds[n] < 0) {
			*err = fds[n];
			return n;
		}
	}
	*err = 0;
	return n;
}

/* ---- slab caches ---------------------------------------------------------- */

struct slab {
	const char *name;
	bool have;		/* /sys/kernel/slab/NAME exists */
	bool shared;		/* other caches are merged with it */
	char root[128];		/* what the alias points at, if any */
	long before;
};

/* In-use objects of @name, after flushing the per-CPU slabs; or -errno. */
static long slab_objects(const char *name)
{
	char path[256], buf[256];
	int ret;

	snprintf(path, sizeof(path), SLAB_DIR "%s/shrink", name);
	/* Needs root; without it the count includes per-CPU free objects. */
	write_file(path, "1");
	snprintf(path, sizeof(path), SLAB_DIR "%s/objects", name);
	ret = vp_read_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	return strtol(buf, NULL, 10);
}

static void slab_probe(struct slab *s, const char *name)
{
	char path[256], buf[64];
	ssize_t n;

	memset(s, 0, sizeof(*s));
	s->name = name;
	snprintf(path, sizeof(path), SLAB_DIR "%s", name);
	n = readlink(path, s->root, sizeof(s->root) - 1);
	if (n > 0)
		s->root[n] = 0;
	snprintf(path, sizeof(path), SLAB_DIR "%s/aliases", name);
	if (vp_read_file(path, buf, sizeof(buf)) < 0)
		return;
	s->shared = strtol(buf, NULL, 10) > 0;
	s->before = slab_objects(name);
	s->have = s->before >= 0;
	ksft_print_msg("slab %s: %s%s%s, %ld objects in use\n", name,
		       s->shared ? "shared with other caches, alias of " :
		       "a cache of its own",
		       s->shared ? s->root : "",
		       s->shared ? "" : (n > 0 ? " (mergeable)" : ""),
		       s->before);
}

/* Slack for a cache that others allocate from too. */
#define SHARED_SLACK	64

static void slab_check(struct __test_metadata *_metadata, struct slab *s)
{
	long after;

	if (!s->have) {
		ksft_print_msg("slab %s: not in " SLAB_DIR " (no SLUB sysfs): not checked\n",
			       s->name);
		return;
	}
	after = slab_objects(s->name);
	ksft_print_msg("slab %s: %ld objects before, %ld after%s\n", s->name,
		       s->before, after,
		       s->shared ? " (shared cache: checked within 64)" : "");
	/* Exactly as before for a cache of our own. */
	EXPECT_GE(s->before + (s->shared ? SHARED_SLACK : 0), after);
	EXPECT_LE(s->shared ? 0 : s->before, after);
}

/* The cache really counts our objects: @n live watches show up in it. */
static void slab_check_peak(struct __test_metadata *_metadata,
			    struct slab *s, long n)
{
	long now;

	if (!s->have)
		return;
	now = slab_objects(s->name);
	ksft_print_msg("slab %s: %ld objects with %ld watches held\n", s->name,
		       now, n);
	EXPECT_LE(s->before + n, now + (s->shared ? SHARED_SLACK : 0));
}

/*
 * With nothing of ours open, the registry takes exactly max_instances
 * (ENFILE next): no instance leaked a slot. Root is not bound by
 * max_user_instances.
 */
static void registry_check(struct __test_metadata *_metadata, int dev)
{
	long max = vp_param("max_instances");
	int *fds, n, err;

	if (max <= 0 || max > 65536 || geteuid()) {
		ksft_print_msg("registry: not checked (max_instances %ld, euid %d)\n",
			       max, geteuid());
		return;
	}
	ASSERT_EQ(0, vp_want_nofile(max + 64));
	fds = calloc(max + 1, sizeof(*fds));
	ASSERT_TRUE(!!fds);
	n = create_until_error(dev, fds, max + 1, &err);
	ksft_print_msg("registry: %d instances, then %s (max_instances %ld)\n",
		       n, strerror(-err), max);
	EXPECT_EQ(max, n) {
		TH_LOG("instances leaked, or another process holds some");
	}
	EXPECT_EQ(-ENFILE, err);
	vp_close_all(fds, n);
	free(fds);
}

/* ---- lifecycle: insmod / rmmod ------------------------------------------- */

FIXTURE(mod) {
	bool touched;
};

FIXTURE_SETUP(mod)
{
}

FIXTURE_TEARDOWN(mod)
{
	if (self->touched) {
		EXPECT_EQ(0, vp_module_put_back());
		EXPECT_TRUE(vp_module_loaded());
	}
}

/* One use of a fresh module: returns 0 or the step that failed. */
static int use_module(int cycle)
{
	struct vepoll_event ev[4];
	int dev, ep, inner = -1, p[2], n;

	dev = vp_open_dev();
	if (dev < 0)
		return 1;
	ep = vp_create(dev, cycle & 1 ? VEPOLL_CLOEXEC : 0);
	if (ep < 0 || vp_pipe(p))
		return 2;
	if (vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0],
		   cycle % 3 == 1 ? VEPOLLIN | VEPOLLET : VEPOLLIN, cycle))
		return 3;
	if (cycle % 4 == 2) {
		inner = vp_create(dev, 0);
		if (inner < 0 ||
		    vp_ctl(dev, inner, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 7) ||
		    vp_ctl(dev, ep, VEPOLL_CTL_ADD, inner, VEPOLLIN, 8))
			return 4;
	}
	if (vp_write_bytes(p[1], 1) != 1)
		return 5;
	n = vp_wait(dev, ep, ev, 4, 1000);
	if (n < 1 || vp_find(ev, n, cycle) < 0)
		return 6;
	/* Close in varying orders; every third leaves an event pending. */
	if (cycle % 3 == 0)
		vp_write_bytes(p[1], 1);
	if (cycle & 1) {
		close(p[0]);
		close(dev);
		close(ep);
		close(inner);
	} else {
		close(inner);
		close(ep);
		close(dev);
		close(p[0]);
	}
	close(p[1]);
	return 0;
}

TEST_F_TIMEOUT(mod, insmod_rmmod_cycles, 600)
{
	const char *params = getenv("VEPOLL_PARAMS") ?: "";
	long cycles = scaled(100, 5), i;
	int64_t start;
	const char *why;
	int ret;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	print_scale();
	self->touched = true;
	start = vp_now_ms();
	for (i = 0; i < cycles; i++) {
		ret = vp_module_unload();
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %ld: rmmod: %s", i, strerror(-ret));
		}
		ASSERT_FALSE(vp_module_loaded());
		ret = vp_module_load(params);
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %ld: insmod %s %s: %s", i, vp_ko_path(),
			       params, strerror(-ret));
		}
		ret = use_module((int)i);
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %ld: step %d failed", i, ret);
		}
	}
	ksft_print_msg("%ld insmod/rmmod cycles in %.1f s\n", cycles,
		       (vp_now_ms() - start) / 1000.0);
}

/* ---- churn ----------------------------------------------------------------- */

TEST_F_TIMEOUT(mod, instance_churn, 600)
{
	long n = scaled(100000, 1000), i, watched = 0;
	struct slab sw, sp;
	int dev, ep, dup_ep, inner, p[2], efd;
	struct vepoll_event ev[4];
	int64_t start;

	print_scale();
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, vp_pipe(p));
	efd = vp_eventfd(1);
	ASSERT_LE(0, efd);
	slab_probe(&sw, "vepoll_watch");
	slab_probe(&sp, "vepoll_pwq");
	start = vp_now_ms();
	for (i = 0; i < n; i++) {
		ep = vp_create(dev, i & 1 ? VEPOLL_CLOEXEC : 0);
		ASSERT_LE(0, ep) {
			TH_LOG("instance %ld: %s", i, strerror(-ep));
		}
		switch (i % 16) {
		case 0:
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0],
					    VEPOLLIN, i));
			watched++;
			break;
		case 1:
			/* A ready watch, reported, then the instance goes. */
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, efd,
					    VEPOLLIN | VEPOLLET, i));
			ASSERT_EQ(1, vp_wait(dev, ep, ev, 4, 0));
			watched++;
			break;
		case 2:
			/* Nested: the inner one dies with its last holder. */
			inner = vp_create(dev, 0);
			ASSERT_LE(0, inner);
			ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, efd,
					    VEPOLLIN, i));
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, inner,
					    VEPOLLIN, i));
			close(inner);
			watched += 2;
			break;
		case 3:
			dup_ep = dup(ep);
			ASSERT_LE(0, dup_ep);
			ASSERT_EQ(0, vp_ctl(dev, dup_ep, VEPOLL_CTL_ADD, p[1],
					    VEPOLLOUT, i));
			close(dup_ep);
			watched++;
			break;
		default:
			break;
		}
		close(ep);
	}
	ksft_print_msg("%ld instances created and destroyed (%ld watches with them) in %.1f s\n",
		       n, watched, (vp_now_ms() - start) / 1000.0);
	close(p[0]);
	close(p[1]);
	close(efd);
	slab_check(_metadata, &sw);
	slab_check(_metadata, &sp);
	registry_check(_metadata, dev);
	close(dev);
}

#define NR_TARGETS	24
#define BATCH		16
#define NR_HOLD		16

enum tkind { TK_PIPE, TK_EVENTFD, TK_SOCK, TK_TIMERFD, TK_INST, NR_TK };

struct ctarget {
	int fd, other;
	enum tkind kind;
};

static int ctarget_open(struct ctarget *t, int dev, enum tkind kind)
{
	int p[2];

	t->kind = kind;
	t->other = -1;
	switch (kind) {
	case TK_PIPE:
		if (vp_pipe(p))
			return -1;
		t->fd = p[0];
		t->other = p[1];
		return 0;
	case TK_EVENTFD:
		t->fd = vp_eventfd(1);
		break;
	case TK_SOCK:
		if (vp_socketpair(p))
			return -1;
		t->fd = p[0];
		t->other = p[1];
		return 0;
	case TK_TIMERFD:
		t->fd = vp_timerfd(1);
		break;
	default:
		t->fd = vp_create(dev, 0);
		break;
	}
	return t->fd < 0 ? -1 : 0;
}

static void ctarget_close(struct ctarget *t)
{
	close(t->fd);
	if (t->other >= 0)
		close(t->other);
	t->fd = -1;
	t->other = -1;
}

static const __u32 churn_masks[] = {
	VEPOLLIN, VEPOLLIN | VEPOLLET, VEPOLLIN | VEPOLLONESHOT,
	VEPOLLIN | VEPOLLOUT | VEPOLLET | VEPOLLONESHOT, 0,
	VEPOLLOUT | VEPOLLRDHUP,
};

TEST_F_TIMEOUT(mod, watch_churn, 600)
{
	long n = scaled(100000, 1000), added = 0, batches = 0, closed = 0;
	struct vepoll_ctl_args ctls[BATCH];
	struct ctarget t[NR_TARGETS];
	struct vepoll_ctl_batch b;
	struct vepoll_event ev[32];
	struct slab sw, sp;
	__s32 res[BATCH];
	int dev, ep, i, j, k, hold[NR_HOLD];
	int64_t start;

	print_scale();
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	for (i = 0; i < NR_TARGETS; i++)
		ASSERT_EQ(0, ctarget_open(&t[i], dev, (enum tkind)(i % NR_TK)));
	slab_probe(&sw, "vepoll_watch");
	slab_probe(&sp, "vepoll_pwq");
	/* The caches count our objects: hold many watches for a moment. */
	for (j = 0; j < NR_HOLD; j++) {
		hold[j] = vp_create(dev, 0);
		ASSERT_LE(0, hold[j]);
		for (i = 0; i < NR_TARGETS; i++)
			ASSERT_EQ(0, vp_ctl(dev, hold[j], VEPOLL_CTL_ADD,
					    t[i].fd, VEPOLLIN, i));
	}
	slab_check_peak(_metadata, &sw, NR_HOLD * NR_TARGETS);
	slab_check_peak(_metadata, &sp, NR_HOLD * NR_TARGETS);
	vp_close_all(hold, NR_HOLD);
	start = vp_now_ms();
	for (k = 0; added < n; k++) {
		struct ctarget *x = &t[k % NR_TARGETS];
		__u32 mask = churn_masks[k % ARRAY_SIZE(churn_masks)];

		if (k % 64 == 63) {
			/* BATCH ADDs of every target, then BATCH DELs. */
			memset(ctls, 0, sizeof(ctls));
			for (j = 0; j < BATCH; j++) {
				ctls[j].epfd = ep;
				ctls[j].op = VEPOLL_CTL_ADD;
				ctls[j].fd = t[j].fd;
				ctls[j].event.events = churn_masks[j % 6];
				ctls[j].event.data = j;
			}
			b = (struct vepoll_ctl_batch){
				.epfd = ep, .count = BATCH,
				.ctls = vp_ptr(ctls), .results = vp_ptr(res),
			};
			ASSERT_EQ(BATCH, ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b));
			vp_wait(dev, ep, ev, 32, 0);
			for (j = 0; j < BATCH; j++)
				ctls[j].op = VEPOLL_CTL_DEL;
			ASSERT_EQ(BATCH, ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b));
			added += BATCH;
			batches++;
			continue;
		}
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, x->fd, mask, k)) {
			TH_LOG("ADD %d of target %d", k, k % NR_TARGETS);
		}
		added++;
		if (k % 7 == 0)
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_MOD, x->fd,
					    VEPOLLIN | VEPOLLOUT, k));
		if (k % 3 == 0)
			vp_wait(dev, ep, ev, 32, 0);
		if (k % 256 == 5) {
			/* Gone with its file's last close, not by DEL. */
			ctarget_close(x);
			ASSERT_EQ(0, ctarget_open(x, dev, x->kind));
			closed++;
			continue;
		}
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, x->fd, 0, 0)) {
			TH_LOG("DEL %d of target %d", k, k % NR_TARGETS);
		}
		if (k % 4096 == 4000) {
			/* An instance freed with watches in it. */
			for (j = 0; j < NR_TARGETS; j++)
				ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD,
						    t[j].fd, VEPOLLIN, j));
			close(ep);
			ep = vp_create(dev, 0);
			ASSERT_LE(0, ep);
			added += NR_TARGETS;
		}
	}
	ksft_print_msg("%ld watches added and removed (%ld by CTL_BATCH, %ld by close) in %.1f s\n",
		       added, batches * BATCH, closed,
		       (vp_now_ms() - start) / 1000.0);
	for (i = 0; i < NR_TARGETS; i++)
		ctarget_close(&t[i]);
	close(ep);
	slab_check(_metadata, &sw);
	slab_check(_metadata, &sp);
	close(dev);
}

/* ---- kmemleak ------------------------------------------------------------ */

/* Unreferenced objects in the report, and how many name vepoll. */
static int kmemleak_vepoll(const char *report, int *total)
{
	const char *p = report, *next;
	int ours = 0;

	*total = 0;
	while ((p = strstr(p, "unreferenced object"))) {
		next = strstr(p + 1, "unreferenced object");
		(*total)++;
		if (memmem(p, next ? (size_t)(next - p) : strlen(p), "vepoll", 6))
			ours++;
		p += 1;
	}
	return ours;
}

TEST_F_TIMEOUT(mod, kmemleak_finds_nothing_of_vepoll, 600)
{
	static char report[1 << 20];
	int dev, ep, inner, p[2], total, ours, pass;
	long n = scaled(20000, 300), i;
	char *line, *save;
	int lines = 0;

	if (access(KMEMLEAK, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(KMEMLEAK, W_OK))
		SKIP(return, "%s: %s (a kernel without CONFIG_DEBUG_KMEMLEAK)",
		     KMEMLEAK, strerror(errno));
	print_scale();
	/* More churn of every kind, on top of the tests above. */
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	for (i = 0; i < n; i++) {
		ep = vp_create(dev, 0);
		ASSERT_LE(0, ep);
		ASSERT_EQ(0, vp_pipe(p));
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, i));
		if (i % 2) {
			inner = vp_create(dev, 0);
			ASSERT_LE(0, inner);
			ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, p[1],
					    VEPOLLOUT, i));
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, inner,
					    VEPOLLIN, i));
			close(inner);
		}
		/* Watched files closed first or last. */
		if (i % 3) {
			close(p[0]);
			close(p[1]);
			close(ep);
		} else {
			close(ep);
			close(p[0]);
			close(p[1]);
		}
	}
	close(dev);
	/* kmemleak does not report objects younger than 5 s. */
	vp_msleep(5500);
	/* A second scan confirms: an object in transit is not a leak. */
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, write_file(KMEMLEAK, "scan"));
		ASSERT_LE(0, vp_read_file(KMEMLEAK, report, sizeof(report)));
		ours = kmemleak_vepoll(report, &total);
		if (!ours)
			break;
	}
	ksft_print_msg("kmemleak: %d unreferenced objects after %ld more instances, %d vepoll's\n",
		       total, n, ours);
	for (line = strtok_r(report, "\n", &save); line && lines < 200;
	     line = strtok_r(NULL, "\n", &save), lines++)
		ksft_print_msg("kmemleak: %s\n", line);
	if (total && !ours)
		ksft_print_msg("kmemleak: none vepoll's (vm.sh still calls the report a splat)\n");
	EXPECT_EQ(0, ours);
}

/* ---- limits and privileges ------------------------------------------------ */

/*
 * Run @fn in a child; it returns 0 or a failure code, and may send one
 * descriptor back through @sock (SCM_RIGHTS).
 */
static int run_child(int (*fn)(int sock, void *arg), void *arg, int *sock)
{
	int sv[2], status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(sv[0]);
		vp_detach_stdio();
		_exit(fn(sv[1], arg));
	}
	close(sv[1]);
	if (sock) {
		*sock = sv[0];
		return pid;
	}
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'f';
	struct iovec iov = { &c, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { &c, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* One byte each way: the child reports, then waits for the go-ahead. */
static int sync_send(int sock, char c)
{
	return write(sock, &c, 1) == 1 ? 0 : -1;
}

static int sync_recv(int sock)
{
	char c;

	return read(sock, &c, 1) == 1 ? c : -1;
}

struct limit_arg {
	long per_user;
	int mode;
};

enum { LIM_ROOT_NO_CAP, LIM_NOBODY_WITH_CAP };

static int limited_child(int sock, void *varg)
{
	struct limit_arg *a = varg;
	int *fds, dev, n, err;
	uint64_t eff, perm;

	fds = calloc(a->per_user + 2, sizeof(*fds));
	dev = vp_open_dev();
	if (!fds || dev < 0)
		return 10;
	if (a->mode == LIM_ROOT_NO_CAP) {
		/* Still uid 0, without CAP_SYS_RESOURCE. */
		if (caps_get(&eff, &perm) ||
		    caps_set(eff & ~CAP_BIT(CAP_SYS_RESOURCE),
			     perm & ~CAP_BIT(CAP_SYS_RESOURCE)))
			return 11;
		if (getuid() || geteuid())
			return 12;
		/* Other root processes' instances count too: at most this. */
		n = create_until_error(dev, fds, a->per_user + 1, &err);
		if (n > a->per_user)
			return 14;
		if (err != -EMFILE)
			return 15;
	} else {
		/* Another uid that keeps CAP_SYS_RESOURCE, and only it. */
		if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY) ||
		    caps_set(CAP_BIT(CAP_SYS_RESOURCE),
			     CAP_BIT(CAP_SYS_RESOURCE)))
			return 20;
		n = create_until_error(dev, fds, a->per_user + 1, &err);
		if (n != a->per_user + 1)
			return 21;
		/* Without the capability, one more is refused. */
		if (caps_set(0, CAP_BIT(CAP_SYS_RESOURCE)))
			return 22;
		if (vp_create(dev, 0) != -EMFILE)
			return 23;
		if (caps_set(CAP_BIT(CAP_SYS_RESOURCE),
			     CAP_BIT(CAP_SYS_RESOURCE)) ||
		    vp_create(dev, 0) < 0)
			return 24;
	}
	/* Hold them while the parent checks it can still create. */
	if (sync_send(sock, 'h'))
		return 30;
	/* Until the parent closes its end. */
	sync_recv(sock);
	return 0;
}

/*
 * Before a max_user_instances test: *@per_user gets the limit (-1 if the
 * parameters cannot be read). Returns why the test cannot run, or NULL.
 */
static const char *per_user_limit(long *per_user)
{
	long max = vp_param("max_instances");

	*per_user = vp_param("max_user_instances");
	if (geteuid())
		return "not root";
	if (max <= 0 || *per_user <= 0) {
		*per_user = -1;
		return NULL;
	}
	/* The child's instances plus a few of root's must fit. */
	if (*per_user + 4 > max || *per_user > 60000)
		return "max_user_instances too close to max_instances";
	return NULL;
}

TEST(uid0_without_cap_sys_resource_is_limited)
{
	struct limit_arg a = { .mode = LIM_ROOT_NO_CAP };
	const char *why;
	int sock, pid, ep;

	why = per_user_limit(&a.per_user);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_LT(0, a.per_user);
	ASSERT_EQ(0, vp_want_nofile(a.per_user + 64));
	pid = run_child(limited_child, &a, &sock);
	ASSERT_LT(0, pid);
	/* It holds max_user_instances of uid 0; root with the cap goes on. */
	EXPECT_EQ('h', sync_recv(sock));
	ep = vp_create(vp_open_dev(), 0);
	EXPECT_LE(0, ep) {
		TH_LOG("root with CAP_SYS_RESOURCE: %s", strerror(-ep));
	}
	close(sock);
	EXPECT_EQ(0, wait_child(pid));
	vp_close_from(3);
}

TEST(other_uid_with_cap_sys_resource_is_not_limited)
{
	struct limit_arg a = { .mode = LIM_NOBODY_WITH_CAP };
	const char *why;
	int sock, pid;

	why = per_user_limit(&a.per_user);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_LT(0, a.per_user);
	ASSERT_EQ(0, vp_want_nofile(a.per_user + 64));
	pid = run_child(limited_child, &a, &sock);
	ASSERT_LT(0, pid);
	EXPECT_EQ('h', sync_recv(sock));
	close(sock);
	EXPECT_EQ(0, wait_child(pid));
}

static int passing_child(int sock, void *varg)
{
	long per_user = *(long *)varg;
	int *fds, dev, n, err;

	fds = calloc(per_user + 1, sizeof(*fds));
	if (!fds || become(NOBODY))
		return 10;
	dev = vp_open_dev();
	if (dev < 0)
		return 11;
	n = create_until_error(dev, fds, per_user + 1, &err);
	if (n != per_user || err != -EMFILE)
		return 12;
	/* Hand one over and close ours: it lives on, still ours. */
	if (send_fd(sock, fds[0]))
		return 13;
	close(fds[0]);
	if (sync_recv(sock) != 'r')
		return 14;
	if (vp_create(dev, 0) != -EMFILE)
		return 15;
	if (sync_send(sock, 'e'))
		return 16;
	/* The parent closed it: its slot is free again. */
	if (sync_recv(sock) != 'c')
		return 17;
	if (vp_create(dev, 0) < 0)
		return 18;
	if (vp_create(dev, 0) != -EMFILE)
		return 19;
	return 0;
}

TEST(passed_instance_still_counts_for_its_creator)
{
	struct vepoll_event ev[2];
	int sock, pid, fd, dev, p[2];
	const char *why;
	long per_user;

	why = per_user_limit(&per_user);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_LT(0, per_user);
	ASSERT_EQ(0, vp_want_nofile(per_user + 64));
	pid = run_child(passing_child, &per_user, &sock);
	ASSERT_LT(0, pid);
	fd = recv_fd(sock);
	ASSERT_LE(0, fd);
	/* Root can use it like its own. */
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, vp_pipe(p));
	EXPECT_EQ(0, vp_ctl(dev, fd, VEPOLL_CTL_ADD, p[1], VEPOLLOUT, 5));
	EXPECT_EQ(1, vp_wait(dev, fd, ev, 2, 0));
	ASSERT_EQ(0, sync_send(sock, 'r'));
	ASSERT_EQ('e', sync_recv(sock));
	close(fd);
	ASSERT_EQ(0, sync_send(sock, 'c'));
	close(sock);
	EXPECT_EQ(0, wait_child(pid));
	close(p[0]);
	close(p[1]);
	close(dev);
}

struct snoop_arg {
	pid_t root_pid;
	int root_ep;		/* the fd number in root's table */
	unsigned int root_id;	/* its registry id */
};

/* An unprivileged process tries every way it has to reach root's instance. */
static int snoop_child(int sock, void *varg)
{
	struct snoop_arg *a = varg;
	struct vepoll_event ev[4];
	struct vepoll_ctl_args ctl;
	struct vepoll_ctl_batch b;
	char path[128];
	int dev, p[2], fd, pidfd, ret, i;
	long nr[1024 + 8];
	__s32 res[1];
	int n = 0;

	/* Only the socket to the parent survives. */
	for (fd = 0; fd < 1024; fd++)
		if (fd != sock && fd > 2)
			close(fd);
	if (become(NOBODY))
		return 10;
	dev = vp_open_dev();
	if (dev < 0 || vp_pipe(p))
		return 11;
	/* Every fd number it could have, root's numbers and ids among them. */
	for (i = -2; i < 1024; i++)
		nr[n++] = i;
	nr[n++] = a->root_ep;
	nr[n++] = a->root_id;
	nr[n++] = a->root_id + 1;
	nr[n++] = INT_MAX;
	for (i = 0; i < n; i++) {
		fd = (int)nr[i];
		ret = vp_ctl(dev, fd, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1);
		if (ret != -EBADF && ret != -EINVAL && ret != -EPERM)
			return 20;
		ret = vp_ctl(dev, fd, VEPOLL_CTL_DEL, p[0], 0, 0);
		if (ret != -EBADF && ret != -EINVAL && ret != -EPERM)
			return 21;
		ret = vp_wait(dev, fd, ev, 4, 0);
		if (ret != -EBADF && ret != -EINVAL)
			return 22;
		memset(&ctl, 0, sizeof(ctl));
		ctl.epfd = fd;
		ctl.op = VEPOLL_CTL_MOD;
		ctl.fd = p[0];
		b = (struct vepoll_ctl_batch){
			.epfd = fd, .count = 1,
			.ctls = vp_ptr(&ctl), .results = vp_ptr(res),
		};
		ret = vp_ret(ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b));
		if (ret != 0 || (res[0] != -EBADF && res[0] != -EINVAL &&
				 res[0] != -EPERM))
			return 23;
	}
	/* Nor can it get at the fd, or even look at it, through /proc. */
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", a->root_pid,
		 a->root_ep);
	if (open(path, O_RDONLY) >= 0 || errno != EACCES)
		return 30;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", a->root_pid,
		 a->root_ep);
	if (open(path, O_RDWR) >= 0 || errno != EACCES)
		return 31;
	pidfd = (int)syscall(SYS_pidfd_open, a->root_pid, 0);
	if (pidfd >= 0 &&
	    (syscall(SYS_pidfd_getfd, pidfd, a->root_ep, 0) >= 0 ||
	     errno != EPERM))
		return 32;
	return 0;
}

static int fdinfo_of(int fd, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return vp_read_file(path, buf, size);
}

TEST(unprivileged_process_cannot_reach_root_instances)
{
	char before[4096], after[4096], *id;
	struct snoop_arg a;
	struct vepoll_event ev[4];
	int dev, ep, p[2], efd, n;

	if (geteuid())
		SKIP(return, "not root: cannot become another user");
	vp_setup_dev_ep_pipe(_metadata, &dev, &ep, p);
	efd = vp_eventfd(0);
	ASSERT_LE(0, efd);
	/* A level-triggered event, and an edge nobody has taken yet. */
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[1], VEPOLLOUT, 1));
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, efd,
			    VEPOLLIN | VEPOLLET, 2));
	ASSERT_EQ(0, vp_eventfd_add(efd, 1));
	ASSERT_LT(0, fdinfo_of(ep, before, sizeof(before)));
	id = strstr(before, "vepoll-id:");
	ASSERT_TRUE(!!id);
	a.root_pid = getpid();
	a.root_ep = ep;
	a.root_id = strtoul(id + strlen("vepoll-id:"), NULL, 10);
	EXPECT_EQ(0, run_child(snoop_child, &a, NULL));
	/* Untouched: same watches, and both events still there. */
	ASSERT_LT(0, fdinfo_of(ep, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	n = vp_wait(dev, ep, ev, 4, 0);
	EXPECT_EQ(2, n);
	EXPECT_LE(0, vp_find(ev, n, 1));
	EXPECT_LE(0, vp_find(ev, n, 2));
	close(efd);
	vp_close_dev_ep_pipe(dev, ep, p);
}

/* ---- what is copied back -------------------------------------------------- */

#define PAD_TARGETS	150
#define PAD_MASK	(VEPOLLIN | VEPOLLOUT | VEPOLLRDHUP)
#define PAD_MAX		256

static const __u32 pad_modes[] = {
	0, VEPOLLET, VEPOLLONESHOT, VEPOLLET | VEPOLLONESHOT,
};

/* Check a result buffer filled with @fill before the wait returned @n. */
static int check_buffer(struct __test_metadata *_metadata,
			const struct vepoll_event *ev, int n, int max,
			unsigned char fill, bool *seen)
{
	const unsigned char *b = (const unsigned char *)ev;
	int i, bad = 0;
	size_t j;

	for (i = 0; i < n; i++) {
		if (ev[i].__pad || !ev[i].events ||
		    (ev[i].events & ~VP_COND_BITS) ||
		    ev[i].data >= PAD_TARGETS || seen[ev[i].data]) {
			TH_LOG("event %d/%d: events %#x pad %#x data %#llx",
			       i, n, ev[i].events, ev[i].__pad,
			       (unsigned long long)ev[i].data);
			bad++;
			continue;
		}
		seen[ev[i].data] = true;
	}
	for (j = n * sizeof(*ev); j < max * sizeof(*ev); j++)
		if (b[j] != fill) {
			TH_LOG("byte %zu past %d events was written", j, n);
			return bad + 1;
		}
	return bad;
}

TEST(wait_results_have_zeroed_padding)
{
	static const int maxes[] = { 1, 3, 16, 64, PAD_MAX };
	static const unsigned char fills[] = { 0xa5, 0xff };
	struct vepoll_event *ev;
	struct ctarget t[PAD_TARGETS];
	long rounds = scaled(40, 4), r, events = 0;
	int dev, ep, i, n, max, w;
	bool seen[PAD_TARGETS];
	unsigned char fill;

	print_scale();
	ASSERT_EQ(0, vp_want_nofile(4 * PAD_TARGETS + 64));
	ev = calloc(PAD_MAX, sizeof(*ev));
	ASSERT_TRUE(!!ev);
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	for (i = 0; i < PAD_TARGETS; i++) {
		ASSERT_EQ(0, ctarget_open(&t[i], dev, (enum tkind)(i % NR_TK)));
		/* Make every kind ready: the instances hold a ready pipe. */
		if (t[i].kind == TK_INST)
			ASSERT_EQ(0, vp_ctl(dev, t[i].fd, VEPOLL_CTL_ADD,
					    t[i - 4].other, VEPOLLOUT, 0));
		if (t[i].kind == TK_PIPE || t[i].kind == TK_SOCK)
			ASSERT_EQ(1, vp_write_bytes(t[i].other, 1));
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, t[i].fd,
				    PAD_MASK | pad_modes[i % 4], i));
	}
	vp_msleep(5);	/* the timerfds fire */
	for (r = 0; r < rounds; r++) {
		max = maxes[r % ARRAY_SIZE(maxes)];
		fill = fills[(r / ARRAY_SIZE(maxes)) % 2];
		/* Enough waits to go round every ready watch, and more. */
		for (w = 0; w < PAD_TARGETS / max + 2; w++) {
			memset(seen, 0, sizeof(seen));
			memset(ev, fill, PAD_MAX * sizeof(*ev));
			n = vp_wait(dev, ep, ev, max, 0);
			ASSERT_LE(0, n);
			ASSERT_GE(max, n);
			ASSERT_EQ(0, check_buffer(_metadata, ev, n, PAD_MAX,
						  fill, seen));
			for (i = 0; i < n; i++) {
				struct ctarget *x = &t[ev[i].data];

				EXPECT_EQ(vp_expected(x->fd, PAD_MASK),
					  ev[i].events) {
					TH_LOG("watch %llu (kind %d)",
					       (unsigned long long)ev[i].data,
					       x->kind);
				}
			}
			events += n;
		}
		/* Re-arm: MOD the one-shots, new edges for the ET ones. */
		for (i = 0; i < PAD_TARGETS; i++) {
			if (pad_modes[i % 4] & VEPOLLONESHOT)
				ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_MOD,
						    t[i].fd, PAD_MASK |
						    pad_modes[i % 4], i));
			if (t[i].kind == TK_EVENTFD)
				vp_eventfd_add(t[i].fd, 1);
			else if (t[i].kind == TK_PIPE || t[i].kind == TK_SOCK)
				vp_write_bytes(t[i].other, 1);
		}
	}
	ksft_print_msg("%ld events checked in %ld rounds over %d watches\n",
		       events, rounds, PAD_TARGETS);
	EXPECT_LE(rounds * PAD_TARGETS / 4, events);
	for (i = 0; i < PAD_TARGETS; i++)
		ctarget_close(&t[i]);
	close(ep);
	close(dev);
	free(ev);
}

#define NB	8
#define FILL32	((__s32)0xa5a5a5a5)

enum fail_cause {
	FC_EBADF, FC_EEXIST, FC_ENOENT, FC_BAD_OP, FC_EPERM, FC_OTHER_EPFD,
	FC_UNREADABLE, NR_FC
};

static const char *const fc_name[NR_FC] = {
	"EBADF", "EEXIST", "ENOENT", "bad op", "EPERM", "other epfd",
	"unreadable entry",
};

TEST(batch_results_past_the_failing_entry_are_untouched)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vepoll_ctl_args *ctls, copy[NB];
	int dev, ep, other, fd[NB], dir, k, c, i, want, ret;
	struct vepoll_ctl_batch b;
	__s32 res[NB + 4];
	char *map;

	/* The entries end where a PROT_NONE page begins. */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	ctls = (struct vepoll_ctl_args *)(map + page - NB * sizeof(*ctls));
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	other = vp_create(dev, 0);
	ASSERT_LE(0, other);
	dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	for (i = 0; i < NB; i++) {
		fd[i] = vp_eventfd(0);
		ASSERT_LE(0, fd[i]);
	}
	for (c = 0; c < NR_FC; c++) {
		for (k = 0; k < NB; k++) {
			ep = vp_create(dev, 0);
			ASSERT_LE(0, ep);
			memset(ctls, 0, NB * sizeof(*ctls));
			for (i = 0; i < NB; i++) {
				ctls[i].epfd = ep;
				ctls[i].op = VEPOLL_CTL_ADD;
				ctls[i].fd = fd[i];
				ctls[i].event.events = VEPOLLIN;
				ctls[i].event.data = i;
			}
			/* Entry k fails, for cause c. */
			want = 0;
			switch (c) {
			case FC_EBADF:
				ctls[k].fd = 1000;
				want = -EBADF;
				break;
			case FC_EEXIST:
				ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD,
						    fd[k], VEPOLLIN, 0));
				want = -EEXIST;
				break;
			case FC_ENOENT:
				ctls[k].op = VEPOLL_CTL_DEL;
				want = -ENOENT;
				break;
			case FC_BAD_OP:
				ctls[k].op = 0;
				want = -EINVAL;
				break;
			case FC_EPERM:
				ctls[k].fd = dir;
				want = -EPERM;
				break;
			case FC_OTHER_EPFD:
				ctls[k].epfd = other;
				want = -EINVAL;
				break;
			default:
				/* Entry k is the last before the guard. */
				break;
			}
			memcpy(copy, ctls, sizeof(copy));
			for (i = 0; i < NB + 4; i++)
				res[i] = FILL32;
			b = (struct vepoll_ctl_batch){
				.epfd = ep, .count = NB,
				.ctls = vp_ptr(ctls), .results = vp_ptr(res),
			};
			if (c == FC_UNREADABLE) {
				b.ctls = vp_ptr(ctls + NB - k);
				b.count = k + 1;
				want = -EFAULT;
			}
			ret = vp_ret(ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b));
			EXPECT_EQ(k, ret) {
				TH_LOG("%s at entry %d", fc_name[c], k);
			}
			for (i = 0; i < k; i++)
				EXPECT_EQ(0, res[i]);
			EXPECT_EQ(want, res[k]) {
				TH_LOG("%s at entry %d", fc_name[c], k);
			}
			for (i = k + 1; i < NB + 4; i++)
				EXPECT_EQ(FILL32, res[i]) {
					TH_LOG("%s at entry %d: result %d written",
					       fc_name[c], k, i);
				}
			/* The entries themselves are only read. */
			if (c != FC_UNREADABLE)
				EXPECT_EQ(0, memcmp(copy, ctls, sizeof(copy)));
			close(ep);
		}
	}
	/* All applied: every result 0, nothing past count written. */
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	for (i = 0; i < NB; i++) {
		ctls[i] = (struct vepoll_ctl_args){
			.epfd = ep, .op = VEPOLL_CTL_ADD, .fd = fd[i],
			.event = { .events = VEPOLLIN, .data = i },
		};
		res[i] = FILL32;
	}
	for (i = NB; i < NB + 4; i++)
		res[i] = FILL32;
	b = (struct vepoll_ctl_batch){
		.epfd = ep, .count = NB,
		.ctls = vp_ptr(ctls), .results = vp_ptr(res),
	};
	EXPECT_EQ(NB, ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b));
	for (i = 0; i < NB; i++)
		EXPECT_EQ(0, res[i]);
	for (i = NB; i < NB + 4; i++)
		EXPECT_EQ(FILL32, res[i]);
	close(ep);
	for (i = 0; i < NB; i++)
		close(fd[i]);
	close(dir);
	close(other);
	close(dev);
	munmap(map, 2 * page);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	cfg_scale = vp_hostile_scale(&cfg_scale_why);
	return test_harness_run(argc, argv);
}
