// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvepoll-preload.so: an ordinary epoll program, run with the shim in
 * LD_PRELOAD, must get epoll's results and errno from vepoll. TAP output.
 *
 *   LD_PRELOAD=.../libvepoll-preload.so test_preload
 *   ... test_preload cap MS   an infinite wait outlives wait_cap_ms=MS
 *
 * The other arguments are the roles it re-executes itself in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"
#include "tap.h"

static const char *self = "/proc/self/exe";

static bool fd_is(int fd, const char *name)
{
	char path[64], target[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return false;
	target[len] = '\0';
	return !strcmp(target, name);
}

#define VEPOLL_FILE	"anon_inode:[vepoll]"
#define EPOLL_FILE	"anon_inode:[eventpoll]"

/* An epoll instance made behind the shim's back. */
static int native_epoll(void)
{
	return syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
}

static void xpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		perror("pipe2");
		exit(1);
	}
}

static void xwrite(int fd)
{
	if (write(fd, "x", 1) != 1) {
		perror("write");
		exit(1);
	}
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void close2(int p[2])
{
	close(p[0]);
	close(p[1]);
}

static void test_create(void)
{
	char path[64], line[256];
	bool id = false;
	FILE *f;
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	tap_ok(fd_is(ep, VEPOLL_FILE) && fcntl(ep, F_GETFD) == FD_CLOEXEC,
	       "epoll_create1(EPOLL_CLOEXEC): a vepoll instance, close-on-exec");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		id |= !strncmp(line, "vepoll-id:", 10);
	if (f)
		fclose(f);
	tap_ok(id, "its fdinfo shows a vepoll-id");
	close(ep);
	ep = epoll_create(1);
	tap_ok(fd_is(ep, VEPOLL_FILE) && fcntl(ep, F_GETFD) == 0,
	       "epoll_create(1): a vepoll instance");
	close(ep);
	TAP_ERR(epoll_create(0), EINVAL, "epoll_create(0)");
	TAP_ERR(epoll_create(-1), EINVAL, "epoll_create(-1)");
	TAP_ERR(epoll_create1(1), EINVAL, "epoll_create1(1)");
}

static void test_ctl_errors(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
	int ep = epoll_create1(EPOLL_CLOEXEC), nep = native_epoll();
	int ep2 = epoll_create1(EPOLL_CLOEXEC);
	int p[2], q[2], reg;

	xpipe(p);
	xpipe(q);
	reg = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	TAP_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0, "ADD");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST, "ADD twice");
	TAP_RET(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0, "MOD");
	TAP_RET(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), 0,
		"DEL with a NULL event");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT,
		"DEL, not watched");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT,
		"MOD, not watched");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], NULL), EFAULT,
		"ADD with a NULL event");
	TAP_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, p[0], NULL), EFAULT,
		"ADD with a NULL event on epfd -1: EFAULT comes first");
	TAP_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, p[0], &ev), EBADF, "epfd -1");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 1000, &ev), EBADF,
		"fd not open");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM,
		"regular file");
	TAP_ERR(epoll_ctl(q[0], EPOLL_CTL_ADD, p[0], &ev), EINVAL,
		"a pipe as epfd");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL,
		"the instance in itself");
	TAP_ERR(epoll_ctl(ep, 7, p[0], &ev), EINVAL, "op 7");

	/* Bits epoll accepts and vepoll does not know: accepted. */
	ev.events = EPOLLIN | EPOLLWAKEUP | 0x20 | (1U << 20);
	TAP_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0,
		"ADD with EPOLLWAKEUP, POLLNVAL and an unknown bit");
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);

	/* EPOLLEXCLUSIVE: passed to vepoll, which has epoll's rules. */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	TAP_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0,
		"ADD IN|EXCLUSIVE");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL,
		"MOD with EXCLUSIVE");
	ev.events = EPOLLIN;
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL,
		"MOD of a watch added with EXCLUSIVE");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | (1U << 20);
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev), EINVAL,
		"ADD EXCLUSIVE with an unknown bit");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, 1000, &ev), EBADF,
		"MOD with EXCLUSIVE of an fd not open: EBADF first");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM,
		"ADD EXCLUSIVE of a regular file: EPERM first");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev), EINVAL,
		"ADD EXCLUSIVE of a vepoll instance");
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, nep, &ev), EINVAL,
		"ADD EXCLUSIVE of a native epoll instance");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev), EINVAL,
		"ADD EXCLUSIVE|ONESHOT");
	ev.events = EPOLLPRI | EPOLLEXCLUSIVE;
	TAP_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev), EINVAL,
		"ADD EXCLUSIVE|PRI");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	TAP_ERR(epoll_ctl(q[1], EPOLL_CTL_ADD, q[0], &ev), EINVAL,
		"ADD EXCLUSIVE with a pipe as epfd");
	xwrite(p[1]);
	TAP_RET(epoll_wait(ep, &ev, 1, 0), 1,
		"the EXCLUSIVE watch reports");
	drain(p[0]);

	close(reg);
	close2(p);
	close2(q);
	close(ep);
	close(ep2);
	close(nep);
}

/* struct epoll_event is 12 bytes: check each field and the stride. */
static void test_conversion(void)
{
	struct epoll_event ev, out[8];
	uint64_t data[3] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL,
			     (uintptr_t)&ev };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int p[3][2], i, n, seen = 0;
	unsigned char *tail;

	for (i = 0; i < 3; i++) {
		xpipe(p[i]);
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = data[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], &ev);
		xwrite(p[i][1]);
	}
	memset(out, 0xa5, sizeof(out));
	n = epoll_wait(ep, out, 8, 0);
	for (i = 0; i < n; i++) {
		int j;

		for (j = 0; j < 3; j++)
			if (out[i].data.u64 == data[j] &&
			    out[i].events == EPOLLIN)
				seen |= 1 << j;
	}
	tail = (unsigned char *)&out[3];
	tap_ok(n == 3 && seen == 7 && tail[0] == 0xa5 &&
	       tail[sizeof(out) - 3 * sizeof(out[0]) - 1] == 0xa5,
	       "3 events, each with its 64-bit data; %zu-byte entries, nothing written past them",
	       sizeof(struct epoll_event));
	close(p[0][1]);
	n = epoll_wait(ep, out, 8, 0);
	seen = 0;
	for (i = 0; i < n; i++)
		if (out[i].data.u64 == data[0])
			seen = out[i].events;
	tap_ok(seen == (EPOLLIN | EPOLLHUP),
	       "writer closed: IN|HUP (got %#x)", seen);
	for (i = 0; i < 3; i++)
		close2(p[i]);
	close(ep);
}

static void test_modes(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int p[2], q[2], r[2];

	xpipe(p);
	xpipe(q);
	xpipe(r);
	ev.data.fd = p[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.fd = q[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = r[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, r[0], &ev);

	xwrite(p[1]);
	tap_ok(epoll_wait(ep, out, 2, 0) == 1 && epoll_wait(ep, out, 2, 0) == 1,
	       "level-triggered: reported at every wait");
	drain(p[0]);
	xwrite(q[1]);
	tap_ok(epoll_wait(ep, out, 2, 0) == 1 && out[0].data.fd == q[0] &&
	       epoll_wait(ep, out, 2, 0) == 0,
	       "edge-triggered: reported once");
	xwrite(q[1]);
	tap_ok(epoll_wait(ep, out, 2, 0) == 1,
	       "edge-triggered: again after a new write");
	drain(q[0]);
	xwrite(r[1]);
	tap_ok(epoll_wait(ep, out, 2, 0) == 1 && out[0].data.fd == r[0] &&
	       epoll_wait(ep, out, 2, 0) == 0,
	       "one-shot: reported once");
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = r[0];
	epoll_ctl(ep, EPOLL_CTL_MOD, r[0], &ev);
	tap_ok(epoll_wait(ep, out, 2, 0) == 1, "one-shot: MOD re-arms");
	close2(p);
	close2(q);
	close2(r);
	close(ep);
}

/* Hides a bad argument from the compiler, which would warn about it. */
static __attribute__((noipa)) long opaque(long v)
{
	return v;
}

static void test_wait_errors(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC), p[2];
	long long t0;
	int n;

	xpipe(p);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	TAP_ERR(epoll_wait(ep, out, 0, 0), EINVAL, "maxevents 0");
	TAP_ERR(epoll_wait(ep, out, opaque(-1), 0), EINVAL, "maxevents -1");
	TAP_ERR(epoll_wait(ep, out, opaque(INT_MAX / sizeof(ev) + 1), 0), EINVAL,
		"maxevents above INT_MAX / sizeof(struct epoll_event)");
	TAP_ERR(epoll_wait(-1, out, 4, 0), EBADF, "epfd -1");
	TAP_ERR(epoll_wait(p[0], out, 4, 0), EINVAL, "a pipe as epfd");
	TAP_RET(epoll_wait(ep, (void *)opaque(0), 4, 0), 0,
		"NULL events, nothing ready");
	xwrite(p[1]);
	TAP_ERR(epoll_wait(ep, (void *)opaque(0), 4, 0), EFAULT,
		"NULL events, one ready: EFAULT");
	TAP_RET(epoll_wait(ep, out, 4, 0), 1, "the event was not lost");
	TAP_ERR(epoll_wait(ep, (void *)~0UL, 4, 0), EFAULT,
		"a kernel address for events");
	drain(p[0]);
	t0 = now_ms();
	n = epoll_wait(ep, out, 4, 100);
	tap_ok(n == 0 && now_ms() - t0 >= 100,
	       "timeout 100 ms: 0 after %lld ms", now_ms() - t0);
	close2(p);
	close(ep);
}

struct later {
	int fd;
	int ms;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	usleep(l->ms * 1000);
	xwrite(l->fd);
	return NULL;
}

/* A new epoll watching the read end of a new pipe @p for EPOLLIN. */
static int epoll_on_pipe(int p[2])
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	xpipe(p);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	return ep;
}

/*
 * epoll_wait(@ep, -1) while a thread writes to @wfd @ms later. Returns
 * what the wait returned; *@took_ms gets how long it slept.
 */
static int wait_for_write(int ep, int wfd, int ms, long long *took_ms)
{
	struct later l = { .fd = wfd, .ms = ms };
	struct epoll_event out[4];
	long long t0;
	pthread_t t;
	int n;

	pthread_create(&t, NULL, write_later, &l);
	t0 = now_ms();
	n = epoll_wait(ep, out, 4, -1);
	*took_ms = now_ms() - t0;
	pthread_join(t, NULL);
	return n;
}

static void test_blocking(void)
{
	struct epoll_event out[4];
	struct timespec ts = { 0, 1 };
	int p[2], ep = epoll_on_pipe(p);
	struct later l = { .fd = p[1], .ms = 200 };
	long long t0, took;
	pthread_t t;
	int n;

	n = wait_for_write(ep, p[1], 200, &took);
	tap_ok(n == 1 && took >= 150,
	       "timeout -1: woken by a write 200 ms later (%lld ms)", took);
	drain(p[0]);

	TAP_RET(epoll_pwait2(ep, out, 4, &ts, NULL), 0, "pwait2, 1 ns");
	/* To the nanosecond now: never shorter than asked. */
	{
		const long asked[] = { 100000, 1500000 };
		struct timespec a, b;
		long long dt;
		unsigned int i;

		for (i = 0; i < 2; i++) {
			ts.tv_nsec = asked[i];
			clock_gettime(CLOCK_MONOTONIC, &a);
			n = epoll_pwait2(ep, out, 4, &ts, NULL);
			clock_gettime(CLOCK_MONOTONIC, &b);
			dt = (b.tv_sec - a.tv_sec) * 1000000000LL +
			     (b.tv_nsec - a.tv_nsec);
			tap_ok(n == 0 && dt >= asked[i],
			       "pwait2, %ld ns: 0 after %lld ns", asked[i], dt);
		}
	}
	ts.tv_nsec = 100000000;
	t0 = now_ms();
	n = epoll_pwait2(ep, out, 4, &ts, NULL);
	tap_ok(n == 0 && now_ms() - t0 >= 100,
	       "pwait2, 100 ms: 0 after %lld ms", now_ms() - t0);
	ts.tv_nsec = 1000000000;
	TAP_ERR(epoll_pwait2(ep, out, 4, &ts, NULL), EINVAL,
		"pwait2, tv_nsec 1e9");
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	TAP_ERR(epoll_pwait2(ep, out, 0, &ts, NULL), EINVAL,
		"pwait2, tv_sec -1 (and maxevents 0)");
	pthread_create(&t, NULL, write_later, &l);
	n = epoll_pwait2(ep, out, 4, NULL, NULL);
	tap_ok(n == 1, "pwait2, no timeout: woken by a write");
	pthread_join(t, NULL);
	close2(p);
	close(ep);
}

static void test_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, empty, old;
	pthread_t self_t = pthread_self(), t;
	struct epoll_event out[1];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	__atomic_store_n(&got_signal, 0, __ATOMIC_RELAXED);
	pthread_create(&t, NULL, signal_later, &self_t);
	TAP_ERR(epoll_pwait(ep, out, 1, -1, &empty), EINTR,
		"pwait, SIGUSR1 unblocked by the mask: EINTR");
	pthread_join(t, NULL);
	tap_ok(__atomic_load_n(&got_signal, __ATOMIC_RELAXED) == SIGUSR1, "and its handler ran");
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* SA_RESTART or not, epoll_wait is never restarted. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&t, NULL, signal_later, &self_t);
	TAP_ERR(epoll_wait(ep, out, 1, -1), EINTR,
		"wait, SA_RESTART handler: EINTR");
	pthread_join(t, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(ep);
}

/* Many events: more than the shim converts on its stack. */
static void test_many(void)
{
	enum { N = 300 };
	struct epoll_event ev, *out = calloc(1000, sizeof(*out));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int (*p)[2] = calloc(N, sizeof(*p));
	unsigned char *seen = calloc(N, 1);
	int i, n, dup = 0, count = 0;

	for (i = 0; i < N; i++) {
		xpipe(p[i]);
		ev.events = EPOLLIN;
		ev.data.u64 = 1000000ULL + i;
		epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], &ev);
		xwrite(p[i][1]);
	}
	n = epoll_wait(ep, out, 1000, 0);
	for (i = 0; i < n; i++) {
		uint64_t d = out[i].data.u64 - 1000000ULL;

		if (d < N) {
			dup |= seen[d];
			seen[d] = 1;
			count++;
		}
	}
	tap_ok(n == N && count == N && !dup,
	       "%d ready, maxevents 1000: all %d, once each (got %d)", N, N, n);
	n = epoll_wait(ep, out, 7, 0);
	tap_ok(n == 7, "maxevents 7 of %d ready: 7", N);
	for (i = 0; i < N; i++)
		close2(p[i]);
	close(ep);
	free(out);
	free(p);
	free(seen);
}

/* Native epoll fds (raw syscalls, inherited) still work, and mix. */
static void test_native(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	int nep = native_epoll(), ep = epoll_create1(EPOLL_CLOEXEC), p[2];
	struct pollfd pfd;
	fd_set rfds;
	struct timeval tv = { 0, 0 };

	xpipe(p);
	ev.data.u64 = 5;
	TAP_RET(epoll_ctl(nep, EPOLL_CTL_ADD, p[0], &ev), 0,
		"native epoll fd: ctl goes to the kernel's epoll");
	xwrite(p[1]);
	tap_ok(epoll_wait(nep, out, 2, 0) == 1 && out[0].data.u64 == 5,
	       "native epoll fd: wait too");
	TAP_ERR(epoll_ctl(nep, EPOLL_CTL_ADD, p[0], &ev), EEXIST,
		"native epoll fd: its errno");
	epoll_ctl(nep, EPOLL_CTL_DEL, p[0], NULL);

	/* vepoll inside native epoll, and native epoll inside vepoll. */
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	ev.data.u64 = 6;
	TAP_RET(epoll_ctl(nep, EPOLL_CTL_ADD, ep, &ev), 0,
		"a vepoll instance inside a native epoll");
	tap_ok(epoll_wait(nep, out, 2, 0) == 1 && out[0].data.u64 == 6,
	       "... which reports it ready");
	epoll_ctl(nep, EPOLL_CTL_DEL, ep, NULL);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
	epoll_ctl(nep, EPOLL_CTL_ADD, p[0], &ev);
	ev.data.u64 = 7;
	TAP_RET(epoll_ctl(ep, EPOLL_CTL_ADD, nep, &ev), 0,
		"a native epoll inside a vepoll instance");
	tap_ok(epoll_wait(ep, out, 2, 0) == 1 && out[0].data.u64 == 7,
	       "... which reports it ready");

	pfd.fd = ep;
	pfd.events = POLLIN;
	tap_ok(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN,
	       "poll(2) on a ready instance: POLLIN");
	FD_ZERO(&rfds);
	FD_SET(ep, &rfds);
	tap_ok(select(ep + 1, &rfds, NULL, NULL, &tv) == 1 &&
	       FD_ISSET(ep, &rfds), "select(2) on a ready instance: readable");
	close2(p);
	close(ep);
	close(nep);
}

static void test_fd_life(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	int ep = epoll_create1(0), dupep, p[2], q[2], status;
	char arg[16];
	pid_t pid;

	xpipe(p);
	xpipe(q);
	ev.data.u64 = 11;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	dupep = dup(ep);
	close(ep);
	xwrite(p[1]);
	tap_ok(epoll_wait(dupep, out, 2, 0) == 1 && out[0].data.u64 == 11,
	       "a dup of a closed instance fd still works");

	pid = fork();
	if (pid == 0)
		_exit(epoll_wait(dupep, out, 2, 1000) == 1 &&
		      out[0].data.u64 == 11 ? 0 : 1);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status),
	       "a forked child waits on the parent's instance");

	/* Across exec: the new image waits on the inherited instance. */
	fcntl(dupep, F_SETFD, 0);
	pid = fork();
	if (pid == 0) {
		snprintf(arg, sizeof(arg), "%d", dupep);
		execl(self, self, "exec-child", arg, NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status),
	       "after exec, the instance fd still works (status %d)",
	       WEXITSTATUS(status));

	/* The last close of a watched file removes its watch. */
	drain(p[0]);
	ev.data.u64 = 12;
	epoll_ctl(dupep, EPOLL_CTL_ADD, q[0], &ev);
	xwrite(q[1]);
	close2(q);
	tap_ok(epoll_wait(dupep, out, 2, 0) == 0,
	       "a closed watched fd is never reported");
	close2(p);
	close(dupep);
}

static int exec_child(int ep)
{
	struct epoll_event out[2];

	return !(epoll_wait(ep, out, 2, 1000) == 1 && out[0].data.u64 == 11);
}

static void *cancel_me(void *arg)
{
	struct epoll_event out[1];

	epoll_wait(*(int *)arg, out, 1, -1);
	return NULL;
}

static void test_cancel(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long long t0 = now_ms();
	void *res = NULL;
	pthread_t t;

	pthread_create(&t, NULL, cancel_me, &ep);
	usleep(100000);
	pthread_cancel(t);
	pthread_join(t, &res);
	tap_ok(res == PTHREAD_CANCELED && now_ms() - t0 < 5000,
	       "epoll_wait is a cancellation point");
	close(ep);
}

/* Runs @role of this program with @env set; stderr and status back. */
static int run_role(const char *role, const char *env1, const char *env2,
		    char *err, size_t size)
{
	int p[2], status;
	ssize_t len, got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		if (env1)
			putenv((char *)env1);
		if (env2)
			putenv((char *)env2);
		execl(self, self, role, NULL);
		_exit(127);
	}
	close(p[1]);
	while ((len = read(p[0], err + got, size - 1 - got)) > 0)
		got += len;
	while (got && err[got - 1] == '\n')
		got--;
	err[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int role_no_device(void)
{
	if (epoll_create1(0) != -1 || errno != ENODEV)
		return 2;
	return 0;
}

static int role_fallback(void)
{
	struct epoll_event ev = { .events = EPOLLOUT }, out[1];
	int ep = epoll_create1(0), p[2];

	if (!fd_is(ep, EPOLL_FILE))
		return 2;
	xpipe(p);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev) ||
	    epoll_wait(ep, out, 1, 0) != 1)
		return 3;
	return 0;
}

static int role_stats(void)
{
	struct epoll_event out[1];
	int ep = epoll_create1(0);

	epoll_wait(ep, out, 1, 0);
	epoll_wait(ep, out, 1, 0);
	return 0;
}

static void test_roles(void)
{
	char err[1024], path[64], line[256] = "";
	int st;
	FILE *f;

	st = run_role("no-device", "VEPOLL_DEVICE=/nonexistent/vepoll", NULL,
		      err, sizeof(err));
	tap_ok(st == 0 && strstr(err, "is the vepoll module loaded?"),
	       "no device: ENODEV and one line on stderr: %s", err);
	st = run_role("no-device", "VEPOLL_DEVICE=/nonexistent/vepoll",
		      "VEPOLL_VERBOSE=0", err, sizeof(err));
	tap_ok(st == 0 && !err[0], "VEPOLL_VERBOSE=0: nothing on stderr");
	st = run_role("fallback", "VEPOLL_DEVICE=/nonexistent/vepoll",
		      "VEPOLL_PRELOAD_FALLBACK=1", err, sizeof(err));
	tap_ok(st == 0, "VEPOLL_PRELOAD_FALLBACK=1: native epoll (status %d)",
	       st);

	snprintf(path, sizeof(path), "VEPOLL_PRELOAD_STATS=/tmp/vepoll-stats.%d",
		 (int)getpid());
	st = run_role("stats", path, NULL, err, sizeof(err));
	f = fopen(strchr(path, '=') + 1, "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	unlink(strchr(path, '=') + 1);
	tap_ok(st == 0 && strstr(line, "creates 1 ctls 0 waits 2 ") &&
	       strstr(line, "native_creates 0"),
	       "VEPOLL_PRELOAD_STATS: %s", line);
}

/* An infinite wait outlives the module's wait_cap_ms. */
static int test_cap(int cap_ms)
{
	struct epoll_event out[1];
	struct timespec ts = { 0, 0 };
	int p[2], ep = epoll_on_pipe(p);
	long long t0, took;
	int n;

	n = wait_for_write(ep, p[1], 3 * cap_ms, &took);
	tap_ok(n == 1 && took >= 3 * cap_ms - 50,
	       "epoll_wait(-1) sleeps past wait_cap_ms=%d until the write at %d ms (%lld ms)",
	       cap_ms, 3 * cap_ms, took);
	drain(p[0]);

	ts.tv_sec = (3 * cap_ms) / 1000;
	ts.tv_nsec = (3 * cap_ms) % 1000 * 1000000L;
	t0 = now_ms();
	n = epoll_pwait2(ep, out, 1, &ts, NULL);
	tap_ok(n == 0 && now_ms() - t0 >= 3 * cap_ms,
	       "pwait2 of 3 x wait_cap_ms: its full length (%lld ms)",
	       now_ms() - t0);
	close2(p);
	close(ep);
	return tap_done();
}

int main(int argc, char **argv)
{
	int ep;

	if (argc > 1 && !strcmp(argv[1], "exec-child"))
		return exec_child(atoi(argv[2]));
	if (argc > 1 && !strcmp(argv[1], "no-device"))
		return role_no_device();
	if (argc > 1 && !strcmp(argv[1], "fallback"))
		return role_fallback();
	if (argc > 1 && !strcmp(argv[1], "stats"))
		return role_stats();

	printf("TAP version 13\n");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!fd_is(ep, VEPOLL_FILE)) {
		printf("1..0 # SKIP epoll_create1() did not make a vepoll instance: "
		       "run with LD_PRELOAD=libvepoll-preload.so and the module loaded\n");
		return 4;
	}
	close(ep);
	if (argc > 2 && !strcmp(argv[1], "cap"))
		return test_cap(atoi(argv[2]));

	test_create();
	test_ctl_errors();
	test_conversion();
	test_modes();
	test_wait_errors();
	test_blocking();
	test_signals();
	test_many();
	test_native();
	test_fd_life();
	test_cancel();
	test_roles();
	return tap_done();
}
