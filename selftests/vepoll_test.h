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
#define VP_VALID_BITS	(VP_COND_BITS | VP_MODE_BITS)

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

/* What a wait must report for a watch with @mask on @fd (SPEC §4). */
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

#endif /* VEPOLL_TEST_H */
