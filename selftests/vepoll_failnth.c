// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_failnth - every allocation a request makes fails, one at a time,
 * as syzkaller's fault injection makes it fail.
 *
 * For n = 1, 2, ... the test writes n to /proc/thread-self/fail-nth, makes
 * one request, and reads fail-nth back: 0 means the n-th fault point the
 * request reached was made to fail (failslab, fail_page_alloc), a positive
 * value that the request reached fewer than n points and ran untouched,
 * which ends the walk (Documentation/fault-injection/fault-injection.rst;
 * the test writes 0 afterwards so that nothing left armed fails later).
 * Each call must succeed or fail with ENOMEM, never another errno, and a
 * failed call must leave nothing half-made behind:
 *
 *  - CREATE: no registry slot is lost (root creates exactly max_instances
 *    afterwards);
 *  - ADD of each kind of target (pipe, socket, eventfd, timerfd, signalfd,
 *    an instance, a native epoll, a pty master from /dev/ptmx), alone on
 *    its file and joining another instance's watch on it: a DEL of the fd
 *    then says ENOENT, the target made ready reports nothing, a fresh ADD
 *    works and reports it, the other instance's watch still reports; for
 *    an instance target the nesting graph kept no edge (the reverse ADD
 *    is no ELOOP). And the first ADD on each kind of superblock (pipefs,
 *    sockfs, anon-inode), which also makes vepoll's fsnotify mark there,
 *    each step in a freshly loaded module;
 *  - MOD, DEL, CTL_BATCH (entries of every kind across two chunks: the
 *    entries before the failed one applied, it and those after not),
 *    WAIT2 with a changelist (an ADD of every kind, the same rule),
 *    WAIT (events ready, nested targets, a timed sleep, a signal mask):
 *    a failed call changed nothing, and the instance then works.
 *
 * Before walking it clears ignore-gfp-wait of failslab and fail_page_alloc
 * (so that sleeping allocations, GFP_KERNEL ones, can fail too), sets
 * fail_page_alloc's min-order to 0, and verbose to 0 on both (a stack dump
 * per fault would read as a kernel splat); fail-nth ignores probability,
 * interval, times and task-filter, and task-filter is set so that no other
 * task is ever failed (VEPOLL_FAILNTH_VERBOSE=2 asks for the stack of
 * each fault in dmesg instead, which a splat check takes for a splat).
 * The old values are put back afterwards. Without
 * /proc/thread-self/fail-nth (a kernel without CONFIG_FAULT_INJECTION, as
 * Debian's) the whole program is skipped.
 *
 * Leaks are left to the kmemleak scan that follows the tests on the debug
 * kernel; use-after-free and lock misuse on the error paths to KASAN and
 * lockdep.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <termios.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"
/* Far more fault points than any request has: a walk this long is stuck. */
#define WALK_MAX	5000
#define WALK_TIMEOUT	900

/* ---- fault injection ----------------------------------------------------- */

struct knob {
	const char *path;
	const char *value;
	char saved[32];
	bool changed;
};

static struct knob knobs[] = {
	{ .path = DEBUGFS "/failslab/ignore-gfp-wait", .value = "N" },
	{ .path = DEBUGFS "/failslab/verbose", .value = "0" },
	{ .path = DEBUGFS "/failslab/task-filter", .value = "Y" },
	{ .path = DEBUGFS "/fail_page_alloc/ignore-gfp-wait", .value = "N" },
	{ .path = DEBUGFS "/fail_page_alloc/min-order", .value = "0" },
	{ .path = DEBUGFS "/fail_page_alloc/verbose", .value = "0" },
	{ .path = DEBUGFS "/fail_page_alloc/task-filter", .value = "Y" },
};

static int knob_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

/* Returns NULL, or why fault injection cannot be set up. */
static const char *faults_setup(void)
{
	/* To see in dmesg which allocation each fault hit (not in CI). */
	const char *verbose = getenv("VEPOLL_FAILNTH_VERBOSE");
	static char why[256];
	unsigned int i;
	int err;

	if (access(DEBUGFS "/failslab", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		struct knob *k = &knobs[i];
		char *nl;

		err = vp_read_file(k->path, k->saved, sizeof(k->saved));
		if (err < 0) {
			snprintf(why, sizeof(why), "%s: %s", k->path,
				 strerror(-err));
			return why;
		}
		nl = strchr(k->saved, '\n');
		if (nl)
			*nl = '\0';
		err = knob_write(k->path, strstr(k->path, "/verbose") && verbose ?
					  verbose : k->value);
		if (err) {
			snprintf(why, sizeof(why), "writing %s: %s", k->path,
				 strerror(-err));
			return why;
		}
		k->changed = true;
	}
	return NULL;
}

static void faults_restore(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knobs[i].changed)
			knob_write(knobs[i].path, knobs[i].saved);
}

/*
 * Arm the n-th fault point of this thread. Nothing between this and the
 * request allocates: the write's own work is done when fail-nth is set.
 */
static void fault_arm(int fnfd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(fnfd, buf, len, 0) != len)
		abort();
}

/* Whether the armed fault was injected; disarms what is left. */
static bool fault_disarm(int fnfd)
{
	char buf[16];
	ssize_t len;

	len = pread(fnfd, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		abort();
	buf[len] = '\0';
	if (pwrite(fnfd, "0", 1, 0) != 1)
		abort();
	return atoi(buf) == 0;
}

/* ---- targets ------------------------------------------------------------- */

enum kind {
	K_PIPE, K_SOCKET, K_EVENTFD, K_TIMERFD, K_SIGNALFD, K_INSTANCE,
	K_EPOLL, K_PTY, NR_KINDS,
};

static const char *const kind_names[NR_KINDS] = {
	"pipe", "socket", "eventfd", "timerfd", "signalfd", "instance",
	"epoll", "pty master",
};

/*
 * A file to watch; @aux is what makes it ready (its other end). An
 * instance target watches a pipe, @aux2, so that making it leaves the
 * anon-inode superblock without a mark until the test's own ADD.
 */
struct target {
	enum kind kind;
	int fd;
	int aux;
	int aux2;
};

static int target_make(int dev, enum kind kind, struct target *t)
{
	struct epoll_event eev = { .events = EPOLLIN };
	int p[2], err = 0;
	sigset_t set;

	t->kind = kind;
	t->fd = -1;
	t->aux = -1;
	t->aux2 = -1;
	switch (kind) {
	case K_PIPE:
		err = vp_pipe(p);
		t->fd = p[0];
		t->aux = p[1];
		break;
	case K_SOCKET:
		err = vp_socketpair(p);
		t->fd = p[0];
		t->aux = p[1];
		break;
	case K_EVENTFD:
		t->fd = vp_eventfd(0);
		break;
	case K_TIMERFD:
		t->fd = vp_timerfd(0);
		break;
	case K_SIGNALFD:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		if (sigprocmask(SIG_BLOCK, &set, NULL))
			return -errno;
		t->fd = vp_ret(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
		break;
	case K_INSTANCE:
		t->fd = vp_create(dev, VEPOLL_CLOEXEC);
		err = vp_pipe(p);
		if (err)
			break;
		t->aux = p[1];
		t->aux2 = p[0];
		if (t->fd >= 0)
			err = vp_ctl(dev, t->fd, VEPOLL_CTL_ADD, t->aux2,
				     VEPOLLIN, 1);
		break;
	case K_EPOLL:
		t->fd = vp_ret(epoll_create1(EPOLL_CLOEXEC));
		t->aux = vp_eventfd(0);
		if (t->fd >= 0 && t->aux >= 0)
			err = vp_ret(epoll_ctl(t->fd, EPOLL_CTL_ADD, t->aux,
					       &eev));
		break;
	case K_PTY: {
		struct termios tio;

		t->fd = vp_ret(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK |
					    O_CLOEXEC));
		if (t->fd < 0)
			break;
		if (grantpt(t->fd) || unlockpt(t->fd))
			return -errno;
		t->aux = vp_ret(open(ptsname(t->fd),
				     O_RDWR | O_NOCTTY | O_NONBLOCK |
				     O_CLOEXEC));
		/* Raw: what the slave writes reaches the master as is. */
		if (t->aux >= 0 && !tcgetattr(t->aux, &tio)) {
			cfmakeraw(&tio);
			tcsetattr(t->aux, TCSANOW, &tio);
		}
		break;
	}
	default:
		return -EINVAL;
	}
	if (err)
		return err;
	if (t->fd < 0)
		return t->fd;
	return t->aux < -1 ? t->aux : 0;
}

static void target_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->aux >= 0)
		close(t->aux);
	if (t->aux2 >= 0)
		close(t->aux2);
	t->fd = -1;
	t->aux = -1;
	t->aux2 = -1;
}

/* Wait until @fd polls readable (a pty and a timer get there late). */
static bool readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* Make the target readable. */
static bool target_poke(struct target *t)
{
	struct itimerspec its = { .it_value = { 0, 1000 } };
	char c = 'x';

	switch (t->kind) {
	case K_PIPE:
	case K_SOCKET:
	case K_PTY:
	case K_INSTANCE:
		if (write(t->aux, &c, 1) != 1)
			return false;
		break;
	case K_EVENTFD:
		if (vp_eventfd_add(t->fd, 1))
			return false;
		break;
	case K_TIMERFD:
		if (timerfd_settime(t->fd, 0, &its, NULL))
			return false;
		break;
	case K_SIGNALFD:
		if (kill(getpid(), SIGUSR1))
			return false;
		break;
	case K_EPOLL:
		if (vp_eventfd_add(t->aux, 1))
			return false;
		break;
	default:
		return false;
	}
	return readable_within(t->fd, 2000);
}

/* Make it not readable again. */
static void target_drain(struct target *t)
{
	struct signalfd_siginfo si;
	uint64_t v;

	switch (t->kind) {
	case K_PIPE:
	case K_SOCKET:
	case K_PTY:
		vp_drain(t->fd);
		break;
	case K_EVENTFD:
	case K_TIMERFD:
		if (read(t->fd, &v, sizeof(v)) < 0)
			v = 0;
		break;
	case K_SIGNALFD:
		while (read(t->fd, &si, sizeof(si)) == sizeof(si))
			;
		break;
	case K_INSTANCE:
		vp_drain(t->aux2);
		break;
	case K_EPOLL:
		if (read(t->aux, &v, sizeof(v)) < 0)
			v = 0;
		break;
	default:
		break;
	}
}

/* ---- the fixture ----------------------------------------------------------- */

FIXTURE(fn) {
	const char *skip;
	int fnfd;
	int dev;
	int ep;
	struct target t[NR_KINDS];
};

FIXTURE_VARIANT(fn) {
	bool reload;
};

/* The module reloaded: no fsnotify mark yet on any superblock. */
FIXTURE_VARIANT_ADD(fn, fresh_module) {
	.reload = true,
};

FIXTURE_SETUP(fn)
{
	const char *why;
	int i;

	for (i = 0; i < NR_KINDS; i++) {
		self->t[i].fd = -1;
		self->t[i].aux = -1;
		self->t[i].aux2 = -1;
	}
	self->fnfd = -1;
	self->dev = -1;
	self->ep = -1;
	if (variant->reload) {
		why = vp_reload_unsupported();
		if (why)
			ksft_print_msg("module not reloaded (%s): "
				       "fsnotify marks may exist already\n",
				       why);
		else
			ASSERT_EQ(0, vp_module_restore());
	}
	why = faults_setup();
	if (why) {
		TH_LOG("fault injection: %s", why);
		ASSERT_TRUE(false);
	}
	/* No page fault, and so no page allocation, inside a request. */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE)) {
		TH_LOG("mlockall: %s", strerror(errno));
	}
	self->fnfd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fnfd);
	self->dev = vp_assert_open_dev(_metadata);
	self->ep = vp_create(self->dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep);
}

/*
 * (struct _test_data_fn is FIXTURE_DATA(fn), which checkpatch cannot
 * parse as a type.)
 *
 * Make the targets a test uses, only those: what making one watches
 * would put a mark on a superblock before the walk of another.
 */
static void need(struct __test_metadata *_metadata, struct _test_data_fn *self,
		 enum kind kind)
{
	int err;

	if (self->t[kind].fd >= 0)
		return;
	err = target_make(self->dev, kind, &self->t[kind]);
	if (err) {
		TH_LOG("making a %s: %s", kind_names[kind], strerror(-err));
		ASSERT_TRUE(false);
	}
}

static void need_all(struct __test_metadata *_metadata, struct _test_data_fn *self)
{
	int k;

	for (k = 0; k < NR_KINDS; k++)
		need(_metadata, self, k);
}

FIXTURE_TEARDOWN(fn)
{
	int i;

	if (self->fnfd >= 0)
		pwrite(self->fnfd, "0", 1, 0);
	faults_restore();
	for (i = 0; i < NR_KINDS; i++)
		target_close(&self->t[i]);
}

/* ---- the walk ---------------------------------------------------------------- */

struct walk {
	const char *what;
	int n;		/* fault points walked, the last run untouched */
	int enomem;	/* calls that failed with ENOMEM */
	int survived;	/* calls that had a fault and still succeeded */
};

/*
 * One step: @ret is what the request returned with fault @n armed, and
 * *@injected whether the fault was injected. Returns whether to go on.
 */
static bool walk_step(struct __test_metadata *_metadata, struct walk *w,
		      int ret, bool injected)
{
	if (ret < 0) {
		EXPECT_EQ(-ENOMEM, ret) {
			TH_LOG("%s, fault %d: %s (only ENOMEM is allowed)",
			       w->what, w->n, strerror(-ret));
		}
		EXPECT_TRUE(injected) {
			TH_LOG("%s failed with no fault injected: %s",
			       w->what, strerror(-ret));
		}
		w->enomem++;
	} else if (injected) {
		w->survived++;
	}
	return injected && w->n < WALK_MAX && _metadata->passed;
}

static void walk_done(struct __test_metadata *_metadata, struct walk *w)
{
	EXPECT_GT(WALK_MAX, w->n) {
		TH_LOG("%s: still faulting after %d fault points", w->what,
		       w->n);
	}
	ksft_print_msg("%s: %d fault points, %d ENOMEM, %d survived\n",
		       w->what, w->n - 1, w->enomem, w->survived);
}

/*
 * WALK(call) statement: for each fault point of @call, in a test with a
 * struct walk w, an int ret and the fixture's self. The statement runs
 * after each call that had a fault injected, to check what it left and
 * set things up again; the loop ends after the first call that ran
 * untouched, whose result ret keeps. Nothing but the request runs between arming the
 * fault and reading whether it was injected.
 */
#define WALK(call)							\
	for (w.n = 1;							\
	     fault_arm(self->fnfd, w.n), ret = (call),			\
	     walk_step(_metadata, &w, ret, fault_disarm(self->fnfd));	\
	     w.n++)

static struct vepoll_event evbuf[64];

/* The instance reports exactly the watch of @data on @t, made ready. */
static void expect_reports(struct __test_metadata *_metadata, int dev, int ep,
			   struct target *t, __u64 data, const char *what)
{
	int n;

	ASSERT_TRUE(target_poke(t)) {
		TH_LOG("%s: the %s did not become readable", what,
		       kind_names[t->kind]);
	}
	n = vp_wait(dev, ep, evbuf, ARRAY_SIZE(evbuf), 1000);
	EXPECT_EQ(1, n) {
		TH_LOG("%s: wait: %d", what, n);
	}
	if (n == 1)
		EXPECT_EQ(data, evbuf[0].data);
	target_drain(t);
	/* A level-triggered watch of a drained target: quiet again. */
	EXPECT_EQ(0, vp_wait(dev, ep, evbuf, ARRAY_SIZE(evbuf), 0));
}

/* The instance has no watch on @t: DEL says so and readiness is unseen. */
static void expect_unwatched(struct __test_metadata *_metadata, int dev,
			     int ep, struct target *t, const char *what)
{
	EXPECT_EQ(-ENOENT, vp_ctl(dev, ep, VEPOLL_CTL_DEL, t->fd, 0, 0)) {
		TH_LOG("%s: a half-made watch on the %s", what,
		       kind_names[t->kind]);
	}
	ASSERT_TRUE(target_poke(t));
	EXPECT_EQ(0, vp_wait(dev, ep, evbuf, ARRAY_SIZE(evbuf), 0)) {
		TH_LOG("%s: a failed ADD reports the %s", what,
		       kind_names[t->kind]);
	}
	target_drain(t);
}

/* After a walk: the instance still adds, reports and deletes. */
static void expect_usable(struct __test_metadata *_metadata, int dev, int ep,
			  struct target *t)
{
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, t->fd, VEPOLLIN, 77));
	expect_reports(_metadata, dev, ep, t, 77, "afterwards");
	EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, t->fd, 0, 0));
}

/* ---- CREATE ------------------------------------------------------------------ */

TEST_F_TIMEOUT(fn, create, WALK_TIMEOUT)
{
	struct walk w = { .what = "CREATE" };
	long max = vp_param("max_instances");
	int *fds, ret, n, err;

	need(_metadata, self, K_EVENTFD);
	need(_metadata, self, K_PIPE);
	WALK(vp_create(self->dev, VEPOLL_CLOEXEC)) {
		if (ret >= 0) {
			/* A whole instance, though a fault hit on the way. */
			EXPECT_EQ(0, vp_ctl(self->dev, ret, VEPOLL_CTL_ADD,
					    self->t[K_EVENTFD].fd, VEPOLLIN,
					    1));
			close(ret);
		}
	}
	walk_done(_metadata, &w);
	close(ret);

	/* No slot lost on the way: exactly max_instances, with ours. */
	if (max <= 0 || max > 65536 || geteuid()) {
		ksft_print_msg("registry not checked (max_instances %ld)\n",
			       max);
		return;
	}
	ASSERT_EQ(0, vp_want_nofile(max + 64));
	fds = calloc(max, sizeof(*fds));
	ASSERT_TRUE(!!fds);
	/* The fixture holds one: its instance. */
	for (n = 0; n < max - 1; n++) {
		fds[n] = vp_create(self->dev, VEPOLL_CLOEXEC);
		if (fds[n] < 0)
			break;
	}
	err = n < max - 1 ? fds[n] : vp_create(self->dev, VEPOLL_CLOEXEC);
	EXPECT_EQ(max - 1, n) {
		TH_LOG("registry slots lost: %ld", max - 1 - n);
	}
	EXPECT_EQ(-ENFILE, err);
	vp_close_all(fds, n);
	free(fds);
	expect_usable(_metadata, self->dev, self->ep, &self->t[K_PIPE]);
}

/* ---- ADD --------------------------------------------------------------------- */

/*
 * Walk ADD of @t into the fixture's instance; with @other, another
 * instance watches the same file meanwhile, so the ADD joins its record.
 */
static void walk_add(struct __test_metadata *_metadata,
		     struct _test_data_fn *self, struct target *t, int other)
{
	char what[64];
	struct walk w = { .what = what };
	int dev = self->dev, ep = self->ep, ret;

	snprintf(what, sizeof(what), "ADD %s%s", kind_names[t->kind],
		 other >= 0 ? " (file watched already)" : "");
	if (other >= 0)
		ASSERT_EQ(0, vp_ctl(dev, other, VEPOLL_CTL_ADD, t->fd,
				    VEPOLLIN, 2));
	WALK(vp_ctl(dev, ep, VEPOLL_CTL_ADD, t->fd, VEPOLLIN, 1)) {
		if (ret < 0) {
			expect_unwatched(_metadata, dev, ep, t, what);
			if (t->kind == K_INSTANCE) {
				/* No edge ep -> t left: t may watch ep. */
				EXPECT_EQ(0, vp_ctl(dev, t->fd,
						    VEPOLL_CTL_ADD, ep,
						    VEPOLLIN, 3)) {
					TH_LOG("%s: a half-made nesting edge",
					       what);
				}
				EXPECT_EQ(0, vp_ctl(dev, t->fd,
						    VEPOLL_CTL_DEL, ep, 0,
						    0));
			}
			/* A fresh ADD works where the failed one did not. */
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, t->fd,
					    VEPOLLIN, 1));
		}
		expect_reports(_metadata, dev, ep, t, 1, what);
		if (other >= 0) {
			/* The other watch on the file is untouched. */
			ASSERT_TRUE(target_poke(t));
			EXPECT_EQ(1, vp_wait(dev, other, evbuf,
					     ARRAY_SIZE(evbuf), 1000)) {
				TH_LOG("%s: the other watch lost", what);
			}
			target_drain(t);
		}
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, t->fd, 0, 0));
	}
	walk_done(_metadata, &w);
	/* The untouched run added it. */
	EXPECT_EQ(0, ret);
	expect_reports(_metadata, dev, ep, t, 1, what);
	EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, t->fd, 0, 0));
	if (other >= 0)
		EXPECT_EQ(0, vp_ctl(dev, other, VEPOLL_CTL_DEL, t->fd, 0, 0));
	expect_usable(_metadata, dev, ep, t);
}

/* Both walks for one kind of target, in a fresh module. */
static void add_tests(struct __test_metadata *_metadata,
		      struct _test_data_fn *self, enum kind kind)
{
	int other;

	need(_metadata, self, kind);
	other = vp_create(self->dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, other);
	walk_add(_metadata, self, &self->t[kind], -1);
	walk_add(_metadata, self, &self->t[kind], other);
	close(other);
}

TEST_F_TIMEOUT(fn, add_pipe, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_PIPE);
}

TEST_F_TIMEOUT(fn, add_socket, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_SOCKET);
}

TEST_F_TIMEOUT(fn, add_eventfd, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_EVENTFD);
}

TEST_F_TIMEOUT(fn, add_timerfd, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_TIMERFD);
}

TEST_F_TIMEOUT(fn, add_signalfd, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_SIGNALFD);
}

TEST_F_TIMEOUT(fn, add_instance, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_INSTANCE);
}

TEST_F_TIMEOUT(fn, add_epoll, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_EPOLL);
}

TEST_F_TIMEOUT(fn, add_pty_master, WALK_TIMEOUT)
{
	add_tests(_metadata, self, K_PTY);
}

/*
 * The first watch on a superblock also makes vepoll's fsnotify mark on
 * it, which then stays until the module goes: every step of this walk
 * starts from a freshly loaded module, so that each reaches the mark.
 */
static void walk_first_on_sb(struct __test_metadata *_metadata,
			     struct _test_data_fn *self, enum kind kind)
{
	struct target *t = &self->t[kind];
	char what[64];
	struct walk w = { .what = what };
	bool injected;
	int ret;

	snprintf(what, sizeof(what), "ADD %s, first on its superblock",
		 kind_names[kind]);
	for (w.n = 1;; w.n++) {
		target_close(t);
		close(self->ep);
		close(self->dev);
		ASSERT_EQ(0, vp_module_restore());
		self->dev = vp_assert_open_dev(_metadata);
		self->ep = vp_create(self->dev, VEPOLL_CLOEXEC);
		ASSERT_LE(0, self->ep);
		need(_metadata, self, kind);

		fault_arm(self->fnfd, w.n);
		ret = vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, t->fd,
			     VEPOLLIN, 1);
		injected = fault_disarm(self->fnfd);

		if (ret < 0) {
			expect_unwatched(_metadata, self->dev, self->ep, t,
					 what);
			ASSERT_EQ(0, vp_ctl(self->dev, self->ep,
					    VEPOLL_CTL_ADD, t->fd, VEPOLLIN,
					    1));
		}
		expect_reports(_metadata, self->dev, self->ep, t, 1, what);
		if (!walk_step(_metadata, &w, ret, injected))
			break;
	}
	walk_done(_metadata, &w);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, t->fd, 0, 0));
	expect_usable(_metadata, self->dev, self->ep, t);
}

/* pipefs, sockfs and the anon-inode superblock (eventfd and the like). */
TEST_F_TIMEOUT(fn, add_first_on_superblock, WALK_TIMEOUT)
{
	const char *why = vp_reload_unsupported();

	if (why)
		SKIP(return, "%s", why);
	walk_first_on_sb(_metadata, self, K_PIPE);
	walk_first_on_sb(_metadata, self, K_SOCKET);
	walk_first_on_sb(_metadata, self, K_EVENTFD);
}

/* ---- MOD and DEL ------------------------------------------------------------- */

TEST_F_TIMEOUT(fn, mod_and_del, WALK_TIMEOUT)
{
	int dev = self->dev, ep = self->ep, ret, k;
	char what[64];

	need_all(_metadata, self);
	for (k = 0; k < NR_KINDS; k++) {
		struct target *t = &self->t[k];
		struct walk w = { .what = what };

		snprintf(what, sizeof(what), "MOD %s", kind_names[k]);
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, t->fd,
				    VEPOLLOUT, 1));
		WALK(vp_ctl(dev, ep, VEPOLL_CTL_MOD, t->fd, VEPOLLIN, 5)) {
			/* A failed MOD changed nothing: MOD works now. */
			if (ret < 0)
				ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_MOD,
						    t->fd, VEPOLLIN, 5));
			expect_reports(_metadata, dev, ep, t, 5, what);
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_MOD, t->fd,
					    VEPOLLOUT, 1));
		}
		walk_done(_metadata, &w);
		expect_reports(_metadata, dev, ep, t, 5, what);

		snprintf(what, sizeof(what), "DEL %s", kind_names[k]);
		w = (struct walk){ .what = what };
		WALK(vp_ctl(dev, ep, VEPOLL_CTL_DEL, t->fd, 0, 0)) {
			if (ret < 0) {
				/* Still there, whole: it reports. */
				expect_reports(_metadata, dev, ep, t, 5,
					       what);
				ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL,
						    t->fd, 0, 0));
			}
			expect_unwatched(_metadata, dev, ep, t, what);
			ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, t->fd,
					    VEPOLLIN, 5));
		}
		walk_done(_metadata, &w);
		expect_unwatched(_metadata, dev, ep, t, what);
		expect_usable(_metadata, dev, ep, t);
	}
}

/* ---- CTL_BATCH ----------------------------------------------------------------- */

#define BATCH_LEN	12

TEST_F_TIMEOUT(fn, ctl_batch, WALK_TIMEOUT)
{
	static struct vepoll_ctl_args ctls[BATCH_LEN];
	static __s32 results[BATCH_LEN];
	struct vepoll_ctl_batch b = {
		.epfd = self->ep, .count = BATCH_LEN,
		.ctls = vp_ptr(ctls), .results = vp_ptr(results),
	};
	struct walk w = { .what = "CTL_BATCH" };
	int dev = self->dev, ep = self->ep, ret, i, k;
	bool watched[NR_KINDS];

	need_all(_metadata, self);

	/*
	 * ADD every kind (two chunks), then MOD one, DEL one, ADD it again,
	 * and DEL another: every op, every target kind.
	 */
	for (k = 0; k < NR_KINDS; k++)
		ctls[k] = (struct vepoll_ctl_args){
			.epfd = ep, .op = VEPOLL_CTL_ADD, .fd = self->t[k].fd,
			.event = { .events = VEPOLLIN, .data = 100 + k },
		};
	ctls[8] = (struct vepoll_ctl_args){
		.epfd = ep, .op = VEPOLL_CTL_MOD, .fd = self->t[K_PIPE].fd,
		.event = { .events = VEPOLLIN | VEPOLLET, .data = 100 },
	};
	ctls[9] = (struct vepoll_ctl_args){
		.epfd = ep, .op = VEPOLL_CTL_DEL, .fd = self->t[K_SOCKET].fd,
	};
	ctls[10] = ctls[K_SOCKET];
	ctls[11] = (struct vepoll_ctl_args){
		.epfd = ep, .op = VEPOLL_CTL_DEL, .fd = self->t[K_PTY].fd,
	};

	WALK(vp_ret(ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b))) {
		EXPECT_LE(0, ret);
		if (ret < 0)
			ret = 0;
		if (ret < BATCH_LEN) {
			/* A failed entry, not a failed call. */
			w.survived--;
			w.enomem++;
		}
		if (ret < BATCH_LEN)
			EXPECT_EQ(-ENOMEM, results[ret]) {
				TH_LOG("entry %d of %d: %s", ret, BATCH_LEN,
				       strerror(-results[ret]));
			}
		/* What entries [0, ret) leave watched. */
		memset(watched, 0, sizeof(watched));
		for (i = 0; i < ret; i++)
			for (k = 0; k < NR_KINDS; k++)
				if (ctls[i].fd == self->t[k].fd)
					watched[k] = ctls[i].op !=
						     VEPOLL_CTL_DEL;
		/* Exactly those: DEL finds each, and nothing else. */
		for (k = 0; k < NR_KINDS; k++) {
			if (!watched[k]) {
				expect_unwatched(_metadata, dev, ep,
						 &self->t[k], "CTL_BATCH");
				continue;
			}
			EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL,
					    self->t[k].fd, 0, 0)) {
				TH_LOG("fault %d: %s of entry %d lost", w.n,
				       kind_names[k], ret);
			}
		}
	}
	walk_done(_metadata, &w);
	EXPECT_EQ(BATCH_LEN, ret);
	/* Watched now: all but the pty master. */
	for (k = 0; k < NR_KINDS; k++)
		EXPECT_EQ(k == K_PTY ? -ENOENT : 0,
			  vp_ctl(dev, ep, VEPOLL_CTL_DEL, self->t[k].fd, 0, 0));
	expect_usable(_metadata, dev, ep, &self->t[K_PIPE]);
}

/* ---- WAIT ---------------------------------------------------------------------- */

TEST_F_TIMEOUT(fn, wait, WALK_TIMEOUT)
{
	int dev = self->dev, ep = self->ep, ret, k;
	struct walk w = { .what = "WAIT, every kind ready" };
	sigset_t mask;

	need_all(_metadata, self);
	for (k = 0; k < NR_KINDS; k++) {
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, self->t[k].fd,
				    VEPOLLIN, 100 + k));
		ASSERT_TRUE(target_poke(&self->t[k]));
	}
	memset(evbuf, 0, sizeof(evbuf));
	WALK(vp_wait(dev, ep, evbuf, ARRAY_SIZE(evbuf), 0)) {
		/* Nothing lost: every one is reported. */
		if (ret < 0)
			ret = vp_wait(dev, ep, evbuf, ARRAY_SIZE(evbuf), 0);
		EXPECT_EQ(NR_KINDS, ret);
	}
	walk_done(_metadata, &w);
	EXPECT_EQ(NR_KINDS, ret);

	/* A timed sleep with nothing ready, and a signal mask. */
	for (k = 0; k < NR_KINDS; k++)
		target_drain(&self->t[k]);
	sigemptyset(&mask);
	w = (struct walk){ .what = "WAIT, 20 ms sleep with a signal mask" };
	WALK(vp_pwait(dev, ep, evbuf, ARRAY_SIZE(evbuf), 20, &mask)) {
		if (ret >= 0)
			EXPECT_EQ(0, ret);
	}
	walk_done(_metadata, &w);
	EXPECT_EQ(0, ret);
	for (k = 0; k < NR_KINDS; k++)
		EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, self->t[k].fd,
				    0, 0));
	expect_usable(_metadata, dev, ep, &self->t[K_PIPE]);
}

/* ---- WAIT2 with a changelist ------------------------------------------------------ */

TEST_F_TIMEOUT(fn, wait2_changes, WALK_TIMEOUT)
{
	static struct vepoll_ctl_args ctls[NR_KINDS];
	static __s32 results[NR_KINDS];
	struct vepoll_wait2_args a = {
		.epfd = self->ep, .maxevents = ARRAY_SIZE(evbuf),
		.nchanges = NR_KINDS, .events = vp_ptr(evbuf),
		.changes = vp_ptr(ctls), .results = vp_ptr(results),
	};
	struct walk w = { .what = "WAIT2, an ADD of every kind" };
	int dev = self->dev, ep = self->ep, ret, applied, k;

	need_all(_metadata, self);
	for (k = 0; k < NR_KINDS; k++) {
		ctls[k] = (struct vepoll_ctl_args){
			.epfd = ep, .op = VEPOLL_CTL_ADD, .fd = self->t[k].fd,
			.event = { .events = VEPOLLIN, .data = 100 + k },
		};
		ASSERT_TRUE(target_poke(&self->t[k]));
	}
	for (k = 0; k < NR_KINDS; k++)
		results[k] = INT32_MAX;
	WALK(vp_ret(ioctl(dev, VEPOLL_IOC_WAIT2, &a))) {
		/* The changes applied are the leading zero results. */
		for (applied = 0; applied < NR_KINDS; applied++)
			if (results[applied])
				break;
		if (ret >= 0) {
			EXPECT_EQ(NR_KINDS, applied);
			EXPECT_EQ(NR_KINDS, ret);
		} else if (applied < NR_KINDS) {
			EXPECT_EQ(-ENOMEM, results[applied]);
		}
		for (k = 0; k < NR_KINDS; k++) {
			if (k >= applied) {
				expect_unwatched(_metadata, dev, ep,
						 &self->t[k], w.what);
				ASSERT_TRUE(target_poke(&self->t[k]));
				continue;
			}
			EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL,
					    self->t[k].fd, 0, 0)) {
				TH_LOG("fault %d: the ADD of the %s lost",
				       w.n, kind_names[k]);
			}
		}
		for (k = 0; k < NR_KINDS; k++)
			results[k] = INT32_MAX;
	}
	walk_done(_metadata, &w);
	EXPECT_EQ(NR_KINDS, ret);
	for (k = 0; k < NR_KINDS; k++) {
		EXPECT_EQ(0, results[k]);
		EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_DEL, self->t[k].fd,
				    0, 0));
		target_drain(&self->t[k]);
	}
	expect_usable(_metadata, dev, ep, &self->t[K_PIPE]);
}

int main(int argc, char **argv)
{
	if (access(FAIL_NTH, F_OK)) {
		ksft_print_header();
		ksft_set_plan(1);
		ksft_test_result_skip("vepoll_failnth: no %s: "
				      "a kernel without CONFIG_FAULT_INJECTION\n",
				      FAIL_NTH);
		ksft_print_cnts();
		return KSFT_SKIP;
	}
	/* Each test runs in a child that ends with _exit(): no lost lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
