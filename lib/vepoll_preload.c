// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvepoll-preload.so: epoll(7) served by /dev/vepoll, for unmodified
 * programs (LD_PRELOAD=libvepoll-preload.so PROGRAM).
 *
 * epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
 * epoll_pwait2 are replaced; everything else (close, dup, fork, poll...)
 * works unchanged because a vepoll instance is a real, pollable file
 * descriptor. struct epoll_event (packed, 12 bytes on x86-64) is converted
 * to and from struct vepoll_event; errno is what Linux's epoll sets. The
 * differences that remain are listed in lib/README.md.
 *
 * Environment:
 *   VEPOLL_PRELOAD_FALLBACK=1  when /dev/vepoll cannot be opened, create
 *                              native epoll instances instead of failing
 *   VEPOLL_PRELOAD_STATS=FILE  at exit, append one line of counters to
 *                              FILE (how many calls vepoll served, and
 *                              how many went to native epoll)
 *   VEPOLL_VERBOSE=0           do not print why the device cannot be
 *                              opened (printed once to stderr by default)
 *   VEPOLL_DEVICE=PATH         the device (default /dev/vepoll)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "vepoll.h"
#include "vepoll_dev.h"

#define SHIM_EXPORT	__attribute__((visibility("default")))

/* epoll's values are vepoll's: events and ops pass through unchanged. */
#define SHIM_SAME(a, b)	_Static_assert((a) == (b), #a " differs from " #b)
SHIM_SAME(EPOLLIN, VEPOLLIN);
SHIM_SAME(EPOLLPRI, VEPOLLPRI);
SHIM_SAME(EPOLLOUT, VEPOLLOUT);
SHIM_SAME(EPOLLERR, VEPOLLERR);
SHIM_SAME(EPOLLHUP, VEPOLLHUP);
SHIM_SAME(EPOLLRDNORM, VEPOLLRDNORM);
SHIM_SAME(EPOLLRDBAND, VEPOLLRDBAND);
SHIM_SAME(EPOLLWRNORM, VEPOLLWRNORM);
SHIM_SAME(EPOLLWRBAND, VEPOLLWRBAND);
SHIM_SAME(EPOLLMSG, VEPOLLMSG);
SHIM_SAME(EPOLLRDHUP, VEPOLLRDHUP);
SHIM_SAME(EPOLLONESHOT, VEPOLLONESHOT);
SHIM_SAME((unsigned int)EPOLLET, VEPOLLET);
SHIM_SAME(EPOLL_CTL_ADD, VEPOLL_CTL_ADD);
SHIM_SAME(EPOLL_CTL_DEL, VEPOLL_CTL_DEL);
SHIM_SAME(EPOLL_CTL_MOD, VEPOLL_CTL_MOD);
SHIM_SAME(EPOLL_CLOEXEC, VEPOLL_CLOEXEC);

SHIM_SAME(EPOLLEXCLUSIVE, VEPOLLEXCLUSIVE);
SHIM_SAME(EPOLLWAKEUP, VEPOLLWAKEUP);

/* What vepoll accepts in a CTL mask; epoll silently keeps anything. */
#define SHIM_CTL_BITS	(VEPOLLIN | VEPOLLPRI | VEPOLLOUT | VEPOLLERR | \
			 VEPOLLHUP | VEPOLLRDNORM | VEPOLLRDBAND | \
			 VEPOLLWRNORM | VEPOLLWRBAND | VEPOLLMSG | \
			 VEPOLLRDHUP | VEPOLLONESHOT | VEPOLLET | \
			 VEPOLLWAKEUP | VEPOLLEXCLUSIVE)
/* EP_MAX_EVENTS of fs/eventpoll.c. */
#define SHIM_MAX_EVENTS	(INT_MAX / (int)sizeof(struct epoll_event))

/* Events converted on the stack; more go through a per-thread buffer. */
#define SHIM_STACK_EVENTS	32
#define SHIM_TLS_EVENTS		65536

/* shim_wait(): go to the libc's own function, the fd is native epoll. */
#define SHIM_NATIVE	(-2)

static struct {
	unsigned long creates, ctls, waits, events;
	unsigned long native_creates, native_ctls, native_waits;
} stats;

#define COUNT(field, n)	__atomic_add_fetch(&stats.field, (n), __ATOMIC_RELAXED)

/* --- native epoll, for fds vepoll did not create ------------------------- */

/*
 * The libc's own function @name, or NULL if it has none (then the raw
 * system call serves, which is not a cancellation point).
 */
static void *libc_fn(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

static void *libc_create1, *libc_ctl, *libc_pwait, *libc_pwait2;

static int native_create1(int flags)
{
	int (*fn)(int flags) = libc_fn(&libc_create1, "epoll_create1");

	COUNT(native_creates, 1);
	return fn ? fn(flags) : syscall(SYS_epoll_create1, flags);
}

static int native_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int (*fn)(int epfd, int op, int fd, struct epoll_event *ev) =
		libc_fn(&libc_ctl, "epoll_ctl");

	COUNT(native_ctls, 1);
	return fn ? fn(epfd, op, fd, ev) :
		    syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

static int native_pwait(int epfd, struct epoll_event *events, int maxevents,
			int timeout, const sigset_t *sigmask)
{
	int (*fn)(int epfd, struct epoll_event *events, int maxevents,
		  int timeout, const sigset_t *sigmask) =
		libc_fn(&libc_pwait, "epoll_pwait");

	COUNT(native_waits, 1);
	if (fn)
		return fn(epfd, events, maxevents, timeout, sigmask);
	return syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout,
		       sigmask, VEPOLL_KSIGSET_SIZE);
}

/* Is @fd a file named anon_inode:[@name] (eventpoll, vepoll)? */
static bool fd_is_anon(int fd, const char *name)
{
	char path[32], target[64], want[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return false;
	target[len] = '\0';
	snprintf(want, sizeof(want), "anon_inode:[%s]", name);
	return !strcmp(target, want);
}

/*
 * A native epoll fd here was inherited, made by a raw syscall, or made
 * in fallback mode. Asked only after vepoll said EINVAL, so the common
 * path pays nothing; errno survives a negative answer.
 */
static bool is_native_epoll(int fd)
{
	int err = errno;
	bool native = fd_is_anon(fd, "eventpoll");

	errno = err;
	return native;
}

/* No device: native epoll serves everything (see shim_create1()). */
static bool no_device(void)
{
	int err = errno;
	bool none = vepoll_dev_fd() < 0;

	errno = err;
	return none;
}

/*
 * Addresses the kernel would refuse outright: NULL and beyond the user
 * half of the address space. Dereferencing them would crash where epoll
 * returns EFAULT; other unmapped addresses are not caught.
 */
static bool bad_user_ptr(const void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p;

	if (!a)
		return true;
#if defined(__x86_64__)
	return a + size < a || a + size > 0x7ffffffff000UL;
#else
	return a + size < a;
#endif
}

/* --- create -------------------------------------------------------------- */

static bool fallback(void)
{
	const char *v = secure_getenv("VEPOLL_PRELOAD_FALLBACK");

	return v && *v && *v != '0';
}

SHIM_EXPORT int epoll_create1(int flags)
{
	int fd;

	if (vepoll_dev_fd() < 0)
		return fallback() ? native_create1(flags) : -1;
	fd = vepoll_create1(flags);
	if (fd >= 0)
		COUNT(creates, 1);
	return fd;
}

SHIM_EXPORT int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return epoll_create1(0);
}

/* --- ctl ----------------------------------------------------------------- */

/*
 * The mask to give vepoll for epoll's @events. EPOLLWAKEUP and
 * EPOLLEXCLUSIVE go through unchanged: vepoll has both, with epoll's
 * rules and errno order. Bits no poll method reports are dropped: epoll
 * stores them silently, vepoll would refuse them. Not beside
 * EPOLLEXCLUSIVE, though: there epoll refuses them too (EINVAL, for any
 * bit but IN, OUT, ERR, HUP, WAKEUP and ET), and so does vepoll, at the
 * same step.
 */
static __u32 ctl_mask(__u32 events)
{
	if (events & EPOLLEXCLUSIVE)
		return events;
	return events & SHIM_CTL_BITS;
}

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct vepoll_ctl_args args = {
		.epfd = epfd,
		.op = (__u32)op,
		.fd = fd,
	};
	int ret;

	if (no_device())
		return native_ctl(epfd, op, fd, event);
	if (op != EPOLL_CTL_DEL) {
		/* epoll copies the event first of all: EFAULT before EBADF. */
		if (bad_user_ptr(event, sizeof(*event))) {
			errno = EFAULT;
			return -1;
		}
		args.event.events = ctl_mask(event->events);
		memcpy(&args.event.data, &event->data, sizeof(args.event.data));
	}
	ret = vepoll_dev_ioctl(VEPOLL_IOC_CTL, (uintptr_t)&args);
	if (ret < 0 && errno == EINVAL && is_native_epoll(epfd))
		return native_ctl(epfd, op, fd, event);
	COUNT(ctls, 1);
	return ret;
}

/* --- wait ---------------------------------------------------------------- */

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static bool tls_key_ok;
static __thread struct vepoll_event *tls_buf;
static __thread int tls_cap;
static __thread bool tls_busy;

static void tls_free(void *buf)
{
	free(buf);
	tls_buf = NULL;
	tls_cap = 0;
}

static void tls_init(void)
{
	tls_key_ok = !pthread_key_create(&tls_key, tls_free);
}

/*
 * A buffer for up to @want events, kept per thread so that a loop waiting
 * for thousands of events allocates once. NULL when in use (a signal
 * handler waiting inside a wait) or out of memory; *@n is its size.
 */
static struct vepoll_event *tls_get(int want, int *n)
{
	struct vepoll_event *buf;

	if (tls_busy)
		return NULL;
	if (want > SHIM_TLS_EVENTS)
		want = SHIM_TLS_EVENTS;
	if (tls_cap < want) {
		pthread_once(&tls_once, tls_init);
		if (!tls_key_ok)
			return NULL;
		buf = realloc(tls_buf, (size_t)want * sizeof(*buf));
		if (!buf)
			return NULL;
		tls_buf = buf;
		tls_cap = want;
		pthread_setspecific(tls_key, buf);
	}
	tls_busy = true;
	*n = want;
	return tls_buf;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * One VEPOLL_IOC_WAIT, or with @w2 a VEPOLL_IOC_WAIT2 whose timeout_ns
 * is @timeout_ns and the rest @args's: a cancellation point as epoll_wait
 * is in glibc. Asynchronous cancellation is on while the thread sleeps in
 * the kernel, as glibc itself did it before 2.34.
 */
static int wait_ioctl(const struct vepoll_wait_args *args, bool w2,
		      long long timeout_ns)
{
	struct vepoll_wait2_args args2 = {
		.epfd = args->epfd,
		.maxevents = args->maxevents,
		.timeout_ns = timeout_ns,
		.events = args->events,
		.sigmask = args->sigmask,
		.sigsetsize = args->sigsetsize,
	};
	int oldtype, ret, err;

	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &oldtype);
	ret = w2 ? vepoll_dev_ioctl(VEPOLL_IOC_WAIT2, (uintptr_t)&args2) :
		   vepoll_dev_ioctl(VEPOLL_IOC_WAIT, (uintptr_t)args);
	err = errno;
	pthread_setcanceltype(oldtype, NULL);
	errno = err;
	return ret;
}

/*
 * epoll_pwait() with the timeout in ms (< 0: forever), or with @ns,
 * epoll_pwait2() with it in ns, which goes to VEPOLL_IOC_WAIT2 as it is.
 * vepoll ends a negative-timeout wait after wait_cap_ms with 0 events:
 * epoll never does, so we wait again. A timeout in ns is never capped.
 */
static int shim_wait(int epfd, struct epoll_event *events, int maxevents,
		     long long timeout, bool ns, const sigset_t *sigmask)
{
	struct vepoll_event stack[SHIM_STACK_EVENTS];
	struct vepoll_wait_args args = {
		.epfd = epfd,
		.sigmask = (uintptr_t)sigmask,
		.sigsetsize = sigmask ? VEPOLL_KSIGSET_SIZE : 0,
	};
	struct vepoll_event *buf = stack;
	long long deadline = 0;
	bool tls = false;
	int n, i, ret;

	if (no_device())
		return SHIM_NATIVE;
	if (maxevents <= 0 || maxevents > SHIM_MAX_EVENTS) {
		/* vepoll's EINVAL, after its signal mask checks, as in epoll. */
		return wait_ioctl(&args, ns, timeout);
	}
	n = maxevents;
	if (bad_user_ptr(events, (size_t)maxevents * sizeof(*events))) {
		uintptr_t addr = (uintptr_t)events;

		/* vepoll fails to write there: EFAULT, and nothing is lost. */
		buf = (struct vepoll_event *)addr;
		if (n > INT_MAX / (int)sizeof(*buf))
			n = INT_MAX / sizeof(*buf);
	} else if (n > SHIM_STACK_EVENTS) {
		buf = tls_get(n, &n);
		tls = !!buf;
		if (!buf) {
			buf = stack;
			n = SHIM_STACK_EVENTS;
		}
	}
	if (!ns && timeout > INT_MAX)
		deadline = now_ms() + timeout;
	args.events = (uintptr_t)buf;
	args.maxevents = n;

	for (;;) {
		if (ns) {
			ret = wait_ioctl(&args, true, timeout);
			if (ret || timeout >= 0)
				break;
			continue;
		}
		args.timeout_ms = timeout < 0 ? -1 :
				  timeout > INT_MAX ? INT_MAX : (int)timeout;
		ret = wait_ioctl(&args, false, 0);
		if (ret || (timeout >= 0 && timeout <= INT_MAX))
			break;
		if (timeout > INT_MAX) {
			timeout = deadline - now_ms();
			if (timeout <= 0)
				break;
		}
	}

	if (ret < 0) {
		if (errno == EINVAL && is_native_epoll(epfd))
			ret = SHIM_NATIVE;
	} else if ((void *)buf != (void *)events) {
		for (i = 0; i < ret; i++) {
			events[i].events = buf[i].events;
			memcpy(&events[i].data, &buf[i].data,
			       sizeof(events[i].data));
		}
	}
	if (tls)
		tls_busy = false;
	if (ret >= 0) {
		COUNT(waits, 1);
		COUNT(events, ret);
	}
	return ret;
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *events,
			    int maxevents, int timeout, const sigset_t *sigmask)
{
	int ret = shim_wait(epfd, events, maxevents, timeout, false, sigmask);

	if (ret == SHIM_NATIVE)
		return native_pwait(epfd, events, maxevents, timeout, sigmask);
	return ret;
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *events,
			   int maxevents, int timeout)
{
	return epoll_pwait(epfd, events, maxevents, timeout, NULL);
}

/* glibc 2.35 added epoll_pwait2(); Debian 12 has 2.36. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
SHIM_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events,
			     int maxevents, const struct timespec *timeout,
			     const sigset_t *sigmask)
{
	int (*fn)(int epfd, struct epoll_event *events, int maxevents,
		  const struct timespec *timeout, const sigset_t *sigmask);
	__s64 ns;
	int ret;

	/* epoll checks the timeout before anything else. */
	if (timeout && bad_user_ptr(timeout, sizeof(*timeout))) {
		errno = EFAULT;
		return -1;
	}
	/* To the nanosecond: VEPOLL_IOC_WAIT2 takes it as it is. */
	if (!vepoll_timespec_ns(timeout, &ns)) {
		errno = EINVAL;
		return -1;
	}
	ret = shim_wait(epfd, events, maxevents, ns, true, sigmask);
	if (ret != SHIM_NATIVE)
		return ret;
	fn = libc_fn(&libc_pwait2, "epoll_pwait2");
	COUNT(native_waits, 1);
	if (fn)
		return fn(epfd, events, maxevents, timeout, sigmask);
	return syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout,
		       sigmask, VEPOLL_KSIGSET_SIZE);
}
#endif

/* --- counters ------------------------------------------------------------ */

/* A forked child counts its own calls, not its parent's. */
static void stats_reset(void)
{
	memset(&stats, 0, sizeof(stats));
}

__attribute__((constructor)) static void shim_init(void)
{
	pthread_atfork(NULL, NULL, stats_reset);
}

__attribute__((destructor)) static void shim_fini(void)
{
	const char *path = secure_getenv("VEPOLL_PRELOAD_STATS");
	char line[512];
	int fd, len;

	if (!path || !*path ||
	    !(stats.creates | stats.ctls | stats.waits | stats.native_creates |
	      stats.native_ctls | stats.native_waits))
		return;
	len = snprintf(line, sizeof(line),
		       "pid %d creates %lu ctls %lu waits %lu events %lu native_creates %lu native_ctls %lu native_waits %lu prog %s\n",
		       (int)getpid(), stats.creates, stats.ctls, stats.waits,
		       stats.events, stats.native_creates, stats.native_ctls,
		       stats.native_waits, program_invocation_short_name);
	if (len >= (int)sizeof(line))
		len = sizeof(line) - 1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	/* One write: concurrent processes append whole lines. */
	if (write(fd, line, len) < 0)
		len = 0;
	close(fd);
}
