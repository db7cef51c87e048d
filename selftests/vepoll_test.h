/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vepoll_test.h - helpers shared by the vepoll selftests
 *
 * Every wrapper returns what the ioctl returned, or -errno, so a test can
 * write ASSERT_EQ(-EINVAL, vp_ctl(...)). Include it after
 * kselftest_harness.h.
 */
#ifndef VEPOLL_TEST_H
#define VEPOLL_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "vepoll_uapi.h"

#define VP_DEV_PATH	"/dev/vepoll"
#define VP_MODNAME	"vepoll"
#define VP_PARAM_DIR	"/sys/module/vepoll/parameters/"

/* The kernel's sigset_t, not glibc's 128-byte one. */
#define VP_KSIGSET_SIZE	8

#define VP_COND_BITS	(VEPOLLIN | VEPOLLPRI | VEPOLLOUT | VEPOLLERR | \
			 VEPOLLHUP | VEPOLLRDNORM | VEPOLLRDBAND | \
			 VEPOLLWRNORM | VEPOLLWRBAND | VEPOLLMSG | VEPOLLRDHUP)
#define VP_MODE_BITS	(VEPOLLONESHOT | VEPOLLET)
/* Accepted by ADD and MOD alike; VEPOLLEXCLUSIVE has rules of its own. */
#define VP_VALID_BITS	(VP_COND_BITS | VP_MODE_BITS | VEPOLLWAKEUP)
/* Every bit a CTL mask may hold; any other is EINVAL. */
#define VP_KNOWN_BITS	(VP_VALID_BITS | VEPOLLEXCLUSIVE)
/* What may sit beside VEPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define VP_EXCL_OK_BITS	(VEPOLLIN | VEPOLLOUT | VEPOLLERR | VEPOLLHUP | \
			 VEPOLLWAKEUP | VEPOLLET | VEPOLLEXCLUSIVE)

/* Every errno Documentation.rst lets a request answer, as bit 1 << e. */
#define VP_CONTRACT_ERRNOS						\
	((1ULL << EFAULT) | (1ULL << EBADF) | (1ULL << EPERM) |		\
	 (1ULL << EINVAL) | (1ULL << ELOOP) | (1ULL << EEXIST) |	\
	 (1ULL << ENOENT) | (1ULL << ENOSPC) | (1ULL << ENOTTY) |	\
	 (1ULL << EINTR) | (1ULL << ENFILE) | (1ULL << EMFILE) |	\
	 (1ULL << ENOMEM))

/* Every condition poll(2) can report, to learn a file's full readiness. */
#define VP_POLL_ALL	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | \
			 POLLWRNORM | POLLWRBAND | POLLMSG | POLLRDHUP)

static inline __u64 vp_ptr(const void *p)
{
	return (uintptr_t)p;
}

static inline int vp_ret(long ret)
{
	return ret < 0 ? -errno : (int)ret;
}

/* ---- the device and its three requests ---------------------------------- */

static inline int vp_open_dev(void)
{
	return vp_ret(open(VP_DEV_PATH, O_RDWR | O_CLOEXEC));
}

static inline int vp_create(int dev, unsigned long flags)
{
	return vp_ret(ioctl(dev, VEPOLL_IOC_CREATE, flags));
}

/* CTL with a caller-built (or deliberately bad) argument pointer. */
static inline int vp_ctl_args(int dev, const void *args)
{
	return vp_ret(ioctl(dev, VEPOLL_IOC_CTL, args));
}

static inline int vp_ctl(int dev, int epfd, __u32 op, int fd, __u32 events,
			 __u64 data)
{
	struct vepoll_ctl_args a = {
		.epfd = epfd,
		.op = op,
		.fd = fd,
		.event = { .events = events, .data = data },
	};

	return vp_ctl_args(dev, &a);
}

static inline int vp_wait_args(int dev, const void *args)
{
	return vp_ret(ioctl(dev, VEPOLL_IOC_WAIT, args));
}

static inline int vp_pwait(int dev, int epfd, struct vepoll_event *ev,
			   unsigned int maxevents, int timeout_ms,
			   const sigset_t *sigmask)
{
	struct vepoll_wait_args a = {
		.epfd = epfd,
		.timeout_ms = timeout_ms,
		.maxevents = maxevents,
		.events = vp_ptr(ev),
		.sigmask = vp_ptr(sigmask),
		.sigsetsize = sigmask ? VP_KSIGSET_SIZE : 0,
	};

	return vp_wait_args(dev, &a);
}

static inline int vp_wait(int dev, int epfd, struct vepoll_event *ev,
			  unsigned int maxevents, int timeout_ms)
{
	return vp_pwait(dev, epfd, ev, maxevents, timeout_ms, NULL);
}

/* Index of the event carrying @data in ev[0..n), or -1. */
static inline int vp_find(const struct vepoll_event *ev, int n, __u64 data)
{
	int i;

	for (i = 0; i < n; i++)
		if (ev[i].data == data)
			return i;
	return -1;
}

/* ---- time ---------------------------------------------------------------- */

static inline int64_t vp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds, for bounds that must not be rounded in our favour. */
static inline int64_t vp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void vp_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- random numbers (seeded, so that a failing run can be repeated) ----- */

/* splitmix64's mixer: a well-spread 64-bit value from a seed or a counter. */
static inline uint64_t vp_splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* xorshift64*: the next number of the sequence whose state is *@s (not 0). */
static inline uint64_t vp_rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A number in [0, @n), from the high bits of vp_rnd(@s). */
static inline unsigned int vp_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(vp_rnd(s) >> 32) % n;
}

/* ---- targets ------------------------------------------------------------- */

/* Both ends non-blocking, so a test can probe "empty" and "EOF". */
static inline int vp_pipe(int p[2])
{
	return vp_ret(pipe2(p, O_NONBLOCK | O_CLOEXEC));
}

static inline int vp_socketpair(int sv[2])
{
	return vp_ret(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				 SOCK_CLOEXEC, 0, sv));
}

static inline int vp_eventfd(unsigned int initval)
{
	return vp_ret(eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC));
}

static inline int vp_eventfd_add(int efd, uint64_t n)
{
	return vp_ret(write(efd, &n, sizeof(n)) == sizeof(n) ? 0 : -1);
}

/* A one-shot CLOCK_MONOTONIC timer firing after @ms (0: disarmed). */
static inline int vp_timerfd(unsigned int ms)
{
	struct itimerspec its = {
		.it_value = { ms / 1000, (long)(ms % 1000) * 1000000 },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ms && timerfd_settime(fd, 0, &its, NULL)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static inline int vp_write_bytes(int fd, size_t n)
{
	char buf[256];

	memset(buf, 'v', sizeof(buf));
	if (n > sizeof(buf))
		n = sizeof(buf);
	return vp_ret(write(fd, buf, n));
}

/* Read and drop whatever is buffered; returns the byte count or -errno. */
static inline long vp_drain(int fd)
{
	char buf[4096];
	long total = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	if (r < 0 && errno != EAGAIN)
		return -errno;
	return total;
}

/*
 * What poll(2) reports for @fd right now, asking for everything: the
 * file's vfs_poll() mask, the same value vepoll filters.
 */
static inline __u32 vp_poll_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = VP_POLL_ALL };

	if (poll(&pfd, 1, 0) < 0)
		return ~0U;
	return (__u16)pfd.revents;
}

/* What a wait must report for a watch with @mask on @fd. */
static inline __u32 vp_expected(int fd, __u32 mask)
{
	return vp_poll_now(fd) & ((mask & VP_COND_BITS) | VEPOLLERR | VEPOLLHUP);
}

/* An address with nothing mapped behind it. */
static inline void *vp_unmapped(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, page);
	return p;
}

/* Raise RLIMIT_NOFILE's soft limit to at least @n (up to the hard one). */
static inline int vp_want_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	if (rl.rlim_max < n)
		rl.rlim_max = n;	/* works as root, else fails below */
	rl.rlim_cur = n;
	return vp_ret(setrlimit(RLIMIT_NOFILE, &rl));
}

/*
 * Close every descriptor from @low up: a test about to unload the module
 * must not hold a /dev/vepoll or instance fd, even after a failed ASSERT
 * left some open.
 */
static inline void vp_close_from(int low)
{
	int fd;

	if (!syscall(SYS_close_range, low, ~0U, 0))
		return;
	for (fd = low; fd < 65536; fd++)
		close(fd);
}

/* Close fds[0..@n), last first. */
static inline void vp_close_all(const int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

/*
 * Close a pipe, an instance and the device, in that order: what
 * vp_setup_dev_ep_pipe() opened. One already closed may be -1.
 */
static inline void vp_close_dev_ep_pipe(int dev, int ep, const int p[2])
{
	close(p[0]);
	close(p[1]);
	close(ep);
	close(dev);
}

/* ---- processes ----------------------------------------------------------- */

/* The whole file (up to @size - 1 bytes), NUL-terminated; or -errno. */
static inline int vp_read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return (int)len;
}

/*
 * The state letter of thread @tid of process @pid (0: this one), or of
 * the process itself if @tid is 0: R, S, D (stuck in the kernel)...; '?'
 * if /proc cannot tell.
 */
static inline char vp_task_state(pid_t pid, pid_t tid)
{
	char path[96], buf[256], *p;

	if (!pid)
		pid = getpid();
	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (vp_read_file(path, buf, sizeof(buf)) <= 0)
		return '?';
	/* The name may hold spaces and parentheses: the last ')' ends it. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

/*
 * Fork a child that holds what it inherited (but @drop, unless -1) until
 * the parent closes @sync[1], then exits (1 if its read fails). The
 * parent's read end @sync[0] is closed. Returns the child's pid, or
 * -errno, only once the child has closed @drop: from then on the parent
 * may count on the child not holding it (without the wait, whether the
 * child's copy is still open when the parent looks is a race).
 */
static inline pid_t vp_fork_holder(int sync[2], int drop)
{
	int ready[2], err;
	pid_t pid;
	char c;

	if (pipe2(ready, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(ready[0]);
		close(ready[1]);
		return -err;
	}
	if (!pid) {
		close(sync[1]);
		close(ready[0]);
		if (drop >= 0)
			close(drop);
		/* The parent's read of @ready ends (EOF): @drop is closed. */
		close(ready[1]);
		_exit(read(sync[0], &c, 1) < 0);
	}
	close(ready[1]);
	while (read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	close(sync[0]);
	return pid;
}

/*
 * In a child that may get stuck in the kernel: let go of the harness's
 * stdout and stderr, or a task nobody can kill keeps run_tests.sh's pipe
 * open for ever. Children report through shared memory or exit codes.
 */
static inline void vp_detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

/*
 * How much work the hostile tests do, as a factor of their defaults:
 * VEPOLL_HOSTILE_SCALE if set (a number in (0, 1000]), else 1/30 on a
 * debug kernel (KASAN/lockdep/kmemleak: ~30 times slower; one with
 * kmemleak or "debug" in its release), else 1. *@why says which.
 */
static inline double vp_hostile_scale(const char **why)
{
	const char *s = getenv("VEPOLL_HOSTILE_SCALE");
	struct utsname u;
	char *end;
	double v;

	*why = "default";
	if (s && *s) {
		v = strtod(s, &end);
		if (*end || !(v > 0) || v > 1000) {
			fprintf(stderr, "VEPOLL_HOSTILE_SCALE=%s: want a number in (0, 1000]\n",
				s);
			return 1.0;
		}
		*why = "VEPOLL_HOSTILE_SCALE";
		return v;
	}
	if (!access("/sys/kernel/debug/kmemleak", F_OK) ||
	    (!uname(&u) && strstr(u.release, "debug"))) {
		*why = "a debug kernel: kmemleak, or \"debug\" in its release";
		return 1.0 / 30;
	}
	return 1.0;
}

/* ---- module parameters and reloading ------------------------------------- */

/* Value of /sys/module/vepoll/parameters/@name, or -errno. */
static inline long vp_param(const char *name)
{
	char path[256], buf[64];
	long val;
	FILE *f;

	snprintf(path, sizeof(path), VP_PARAM_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	val = strtol(buf, NULL, 10);
	return val;
}

/*
 * The value the loaded module should have for @name: the last NAME=VALUE
 * in VEPOLL_PARAMS (what vm.sh passed to insmod), else @dflt.
 */
static inline long vp_param_expected(const char *name, long dflt)
{
	const char *s = getenv("VEPOLL_PARAMS");
	size_t len = strlen(name);
	long val = dflt;

	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, name, len) && s[len] == '=')
			val = strtol(s + len + 1, NULL, 0);
		s = strchr(s, ' ');
	}
	return val;
}

static inline const char *vp_ko_path(void)
{
	const char *ko = getenv("VEPOLL_KO");

	return ko && *ko ? ko : NULL;
}

/*
 * Why this process cannot reload the module, or NULL if it can. Tests
 * that need a reload SKIP with this reason.
 */
static inline const char *vp_reload_unsupported(void)
{
	if (!vp_ko_path())
		return "VEPOLL_KO is not set: cannot reload the module";
	if (geteuid())
		return "not root: cannot load modules";
	return NULL;
}

/* Whether the module is loaded: /sys/module/vepoll exists. */
static inline bool vp_module_loaded(void)
{
	return access("/sys/module/" VP_MODNAME, F_OK) == 0;
}

static inline int vp_delete_module(void)
{
	return vp_ret(syscall(SYS_delete_module, VP_MODNAME, O_NONBLOCK));
}

/*
 * Unload, tolerating "not loaded". A just-closed file of another process
 * (a test child that was reaped) may still hold a reference for a moment,
 * so EWOULDBLOCK is retried for up to 5 s.
 */
static inline int vp_module_unload(void)
{
	int i, ret = 0;

	for (i = 0; i < 50; i++) {
		ret = vp_delete_module();
		if (ret == -ENOENT)
			return 0;
		if (ret != -EWOULDBLOCK && ret != -EBUSY)
			return ret;
		vp_msleep(100);
	}
	return ret;
}

static inline int vp_module_load(const char *params)
{
	int fd, ret;

	if (!vp_ko_path())
		return -ENOENT;
	fd = open(vp_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = vp_ret(syscall(SYS_finit_module, fd, params, 0));
	close(fd);
	return ret;
}

/*
 * Reload with VEPOLL_PARAMS followed by @extra: the kernel applies
 * parameters in order, so @extra wins over the original values.
 */
static inline int vp_module_reload(const char *extra)
{
	const char *base = getenv("VEPOLL_PARAMS");
	char params[1024];
	int ret;

	snprintf(params, sizeof(params), "%s %s", base ? base : "",
		 extra ? extra : "");
	ret = vp_module_unload();
	if (ret)
		return ret;
	return vp_module_load(params);
}

/* Back to what vm.sh loaded. */
static inline int vp_module_restore(void)
{
	return vp_module_reload("");
}

/*
 * The teardown of a test that reloaded the module: close what it left
 * open (an instance fd holds the module), then back to what vm.sh loaded.
 */
static inline int vp_module_put_back(void)
{
	vp_close_from(3);
	return vp_module_restore();
}

/* ---- fixtures (with kselftest_harness.h) --------------------------------- */

#ifdef __KSELFTEST_HARNESS_H

/* Open the device, or fail the test (or its setup) with a hint. */
static inline int vp_assert_open_dev(struct __test_metadata *_metadata)
{
	int dev = vp_open_dev();

	ASSERT_LE(0, dev) {
		TH_LOG("open %s: %s (is the module loaded?)", VP_DEV_PATH,
		       strerror(-dev));
	}
	return dev;
}

/*
 * What most fixtures set up: the device in *@dev, an instance (flags 0)
 * in *@ep and a non-blocking pipe in @p; or fail.
 */
static inline void vp_setup_dev_ep_pipe(struct __test_metadata *_metadata,
					int *dev, int *ep, int p[2])
{
	*dev = vp_assert_open_dev(_metadata);
	*ep = vp_create(*dev, 0);
	ASSERT_LE(0, *ep);
	ASSERT_EQ(0, vp_pipe(p));
}

#endif /* __KSELFTEST_HARNESS_H */

/* Block (SIG_BLOCK) or unblock (SIG_UNBLOCK) SIGUSR1 in the calling thread. */
static inline int vp_block_usr1(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	return pthread_sigmask(how, &set, NULL);
}

/* Is SIGUSR1 blocked in the calling thread? */
static inline bool vp_usr1_blocked(void)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, SIGUSR1);
}

/* ---- kernel splats and children, for the lifetime races ---------------- */

/* The kernel log from here on: /dev/kmsg at its end, or -1. */
static inline int vp_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Kernel splats, one line each (after the record header). */
struct vp_splats {
	char text[1024];
	size_t len;
	int found;
};

/* Add the splats logged since vp_kmsg_open() (or the last call) to @sp. */
static inline int vp_kmsg_splats(int fd, struct vp_splats *sp)
{
	static const char *const pats[] = {
		"BUG", "list_del corruption", "Oops", "WARNING:",
		"general protection", "Call Trace",
	};
	char rec[1024], *msg;
	size_t i;
	ssize_t n;

	if (fd < 0)
		return sp->found;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;	/* overwritten records: go on */
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		for (i = 0; i < ARRAY_SIZE(pats); i++) {
			if (!strstr(msg, pats[i]))
				continue;
			if (sp->len + strlen(msg) + 4 < sizeof(sp->text))
				sp->len += snprintf(sp->text + sp->len,
						    sizeof(sp->text) - sp->len,
						    "%s%s", sp->found ? " | " : "",
						    msg);
			sp->found++;
			break;
		}
	}
	return sp->found;
}

/* waitpid() for at most @ms; the pid, 0 if it still runs, or -errno. */
static inline pid_t vp_wait_child(pid_t pid, int *status, int ms)
{
	int64_t end = vp_now_ms() + ms;
	pid_t ret;

	while (!(ret = waitpid(pid, status, WNOHANG)) && vp_now_ms() < end)
		vp_msleep(5);
	return ret < 0 ? -errno : ret;
}

#endif /* VEPOLL_TEST_H */
