// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvepoll: each call against the ioctl it wraps, the lazy, single,
 * close-on-exec device descriptor, and the message when there is no
 * device. Built twice, against libvepoll.so and libvepoll.a. TAP output.
 *
 *   test_lib            the tests (needs the module: run in the VM)
 *   test_lib cap MS     only the wait-cap test, the module loaded with
 *                       wait_cap_ms=MS (run.sh reloads it so)
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
#include <sys/stat.h>
#include <sys/wait.h>

#include "vepoll.h"
#include "helpers.h"
#include "tap.h"

#define DATA	0xdeadbeefcafef00dULL

/* The descriptors this process holds on /dev/vepoll, and the last one. */
static int dev_fds(int *last)
{
	char path[64], target[256];
	int fd, n = 0;
	ssize_t len;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (!strcmp(target, VEPOLL_DEVICE_PATH)) {
			n++;
			if (last)
				*last = fd;
		}
	}
	return n;
}

static pthread_barrier_t barrier;

static void *create_racer(void *arg)
{
	pthread_barrier_wait(&barrier);
	*(int *)arg = vepoll_create1(VEPOLL_CLOEXEC);
	return NULL;
}

/* In a fresh child: the first calls from 8 threads open one descriptor. */
static void test_lazy_open(void)
{
	pthread_t threads[8];
	int fds[8], i, status, devfd = -1, bad = 0;
	pid_t pid;

	tap_ok(dev_fds(NULL) == 0, "no device descriptor before the first call");
	pid = fork();
	if (pid == 0) {
		pthread_barrier_init(&barrier, NULL, 8);
		for (i = 0; i < 8; i++)
			pthread_create(&threads[i], NULL, create_racer, &fds[i]);
		for (i = 0; i < 8; i++) {
			pthread_join(threads[i], NULL);
			bad |= fds[i] < 0;
		}
		if (bad)
			_exit(2);
		if (dev_fds(&devfd) != 1)
			_exit(3);
		_exit(fcntl(devfd, F_GETFD) == FD_CLOEXEC ? 0 : 4);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "8 threads racing to the first call share one O_CLOEXEC device fd (child status %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void test_create(void)
{
	int ep;

	ep = vepoll_create1(0);
	tap_ok(ep >= 0 && fcntl(ep, F_GETFD) == 0,
	       "vepoll_create1(0): an fd without FD_CLOEXEC");
	close(ep);
	ep = vepoll_create1(VEPOLL_CLOEXEC);
	tap_ok(ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC,
	       "vepoll_create1(VEPOLL_CLOEXEC): an fd with FD_CLOEXEC");
	close(ep);
	TAP_ERR(vepoll_create1(1), EINVAL, "vepoll_create1(1)");
	TAP_ERR(vepoll_create1(-1), EINVAL, "vepoll_create1(-1)");
}

static void test_ctl(void)
{
	struct vepoll_event ev = { .events = VEPOLLIN, .data = DATA };
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	int p[2], q[2], reg;

	if (pipe2(p, O_CLOEXEC) || pipe2(q, O_CLOEXEC))
		exit(1);
	reg = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	TAP_RET(vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev), 0, "ctl ADD");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev), EEXIST,
		"ctl ADD twice");
	ev.events = VEPOLLIN | VEPOLLET;
	TAP_RET(vepoll_ctl(ep, VEPOLL_CTL_MOD, p[0], &ev), 0, "ctl MOD");
	TAP_RET(vepoll_ctl(ep, VEPOLL_CTL_DEL, p[0], NULL), 0,
		"ctl DEL with a NULL event");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_DEL, p[0], &ev), ENOENT,
		"ctl DEL of an fd not watched");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_MOD, p[0], &ev), ENOENT,
		"ctl MOD of an fd not watched");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], NULL), EFAULT,
		"ctl ADD with a NULL event");
	TAP_ERR(vepoll_ctl(-1, VEPOLL_CTL_ADD, p[0], &ev), EBADF,
		"ctl on epfd -1");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, 1000, &ev), EBADF,
		"ctl ADD of a closed fd");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, reg, &ev), EPERM,
		"ctl ADD of a regular file");
	TAP_ERR(vepoll_ctl(q[0], VEPOLL_CTL_ADD, p[0], &ev), EINVAL,
		"ctl on a pipe as epfd");
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, ep, &ev), EINVAL,
		"ctl ADD of the instance to itself");
	TAP_ERR(vepoll_ctl(ep, 7, p[0], &ev), EINVAL, "ctl op 7");
	ev.events = 1U << 20;
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev), EINVAL,
		"ctl ADD with an unknown event bit");
	ev.events = VEPOLLIN;
	ev.__pad = 1;
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev), EINVAL,
		"ctl ADD with a non-zero event pad");
	close(reg);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(ep);
}

static void test_wait(void)
{
	struct vepoll_event ev = { .events = VEPOLLIN, .data = DATA };
	struct vepoll_event out[4];
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	long long t0;
	int p[2], n;

	if (pipe2(p, O_CLOEXEC))
		exit(1);
	vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev);
	TAP_RET(vepoll_wait(ep, out, 4, 0), 0, "wait, nothing ready");
	t0 = now_ms();
	n = vepoll_wait(ep, out, 4, 100);
	tap_ok(n == 0 && now_ms() - t0 >= 100,
	       "wait 100 ms, nothing ready: 0 after %lld ms", now_ms() - t0);
	if (write(p[1], "x", 1) != 1)
		exit(1);
	memset(out, 0xff, sizeof(out));
	n = vepoll_wait(ep, out, 4, 1000);
	tap_ok(n == 1 && out[0].events == VEPOLLIN && out[0].__pad == 0 &&
	       out[0].data == DATA, "wait: one IN event with its data");
	TAP_ERR(vepoll_wait(ep, out, 0, 0), EINVAL, "wait, maxevents 0");
	TAP_ERR(vepoll_wait(ep, out, -1, 0), EINVAL, "wait, maxevents -1");
	TAP_ERR(vepoll_wait(ep, NULL, 4, 0), EFAULT,
		"wait into NULL with an event ready");
	TAP_RET(vepoll_wait(ep, out, 4, 0), 1,
		"the event that could not be copied is still there");
	TAP_ERR(vepoll_wait(-1, out, 4, 0), EBADF, "wait on epfd -1");
	TAP_ERR(vepoll_wait(p[1], out, 4, 0), EINVAL, "wait on a pipe");

	/* A vepoll instance is pollable: poll(2) sees it readable. */
	{
		struct pollfd pfd = { .fd = ep, .events = POLLIN };

		tap_ok(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN),
		       "poll(2) on a ready instance: POLLIN");
	}
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void test_pwait(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vepoll_event out[1];
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	sigset_t block, empty, old;
	pthread_t self = pthread_self(), t;
	struct timespec zero = { 0, 0 };

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	pthread_sigmask(SIG_BLOCK, &block, &old);

	__atomic_store_n(&got_signal, 0, __ATOMIC_RELAXED);
	pthread_create(&t, NULL, signal_later, &self);
	TAP_ERR(vepoll_pwait(ep, out, 1, 5000, &empty), EINTR,
		"pwait unblocking SIGUSR1: EINTR");
	pthread_join(t, NULL);
	tap_ok(__atomic_load_n(&got_signal, __ATOMIC_RELAXED) == SIGUSR1, "and the handler ran");

	__atomic_store_n(&got_signal, 0, __ATOMIC_RELAXED);
	pthread_create(&t, NULL, signal_later, &self);
	TAP_RET(vepoll_pwait(ep, out, 1, 300, NULL), 0,
		"pwait without a mask: SIGUSR1 stays blocked");
	pthread_join(t, NULL);
	tap_ok(!__atomic_load_n(&got_signal, __ATOMIC_RELAXED) &&
	       sigtimedwait(&block, NULL, &zero) == SIGUSR1, "and stays pending");

	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(ep);
}

static void test_batch(void)
{
	struct vepoll_ctl_args ctls[3];
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	int results[3], p[2], q[2], ret, i;

	if (pipe2(p, O_CLOEXEC) || pipe2(q, O_CLOEXEC))
		exit(1);
	memset(ctls, 0, sizeof(ctls));
	for (i = 0; i < 3; i++) {
		ctls[i].epfd = ep;
		ctls[i].op = VEPOLL_CTL_ADD;
		ctls[i].event.events = VEPOLLIN;
		ctls[i].event.data = i;
	}
	ctls[0].fd = p[0];
	ctls[1].fd = q[0];
	ctls[2].fd = p[1];
	memset(results, 0x55, sizeof(results));
	ret = vepoll_ctl_batch(ep, ctls, 3, results);
	tap_ok(ret == 3 && !results[0] && !results[1] && !results[2],
	       "ctl_batch: 3 ADDs applied");

	ctls[0].op = VEPOLL_CTL_DEL;
	ctls[1].op = VEPOLL_CTL_ADD;	/* q[0] is watched: EEXIST */
	ctls[2].op = VEPOLL_CTL_DEL;
	memset(results, 0x55, sizeof(results));
	ret = vepoll_ctl_batch(ep, ctls, 3, results);
	tap_ok(ret == 1 && results[0] == 0 && results[1] == -EEXIST &&
	       results[2] == 0x55555555,
	       "ctl_batch stops at the failing entry: returns 1, results[1] = -EEXIST");
	TAP_ERR(vepoll_ctl_batch(ep, ctls, -1, results), EINVAL,
		"ctl_batch, count -1");
	ctls[0].epfd = -1;
	ret = vepoll_ctl_batch(ep, ctls, 3, results);
	tap_ok(ret == 0 && results[0] == -EINVAL,
	       "ctl_batch: an entry for another epfd fails with EINVAL");
	ret = vepoll_ctl_batch(-1, ctls, 3, results);
	tap_ok(ret == 0 && results[0] == -EBADF,
	       "ctl_batch on epfd -1: its first entry fails with EBADF");
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(ep);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* epoll_pwait2's timespec, to the nanosecond, and its EINVAL checks. */
static void test_pwait2(void)
{
	struct vepoll_event ev = { .events = VEPOLLIN, .data = DATA };
	const long asked[2] = { 100000, 1500000 };
	struct timespec ts = { 0, 0 };
	struct vepoll_event out[4];
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	long long t0, dt;
	unsigned int i;
	int p[2], n;

	if (pipe2(p, O_CLOEXEC))
		exit(1);
	vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev);
	TAP_RET(vepoll_pwait2(ep, out, 4, &ts, NULL), 0,
		"pwait2, zero timespec: polls");
	for (i = 0; i < 2; i++) {
		ts.tv_nsec = asked[i];
		t0 = now_ns();
		n = vepoll_pwait2(ep, out, 4, &ts, NULL);
		dt = now_ns() - t0;
		tap_ok(n == 0 && dt >= asked[i],
		       "pwait2 %ld ns, nothing ready: 0 after %lld ns",
		       asked[i], dt);
	}
	ts.tv_nsec = 1000000000;
	TAP_ERR(vepoll_pwait2(ep, out, 4, &ts, NULL), EINVAL,
		"pwait2, tv_nsec 1e9");
	ts.tv_nsec = -1;
	TAP_ERR(vepoll_pwait2(ep, out, 4, &ts, NULL), EINVAL,
		"pwait2, tv_nsec -1");
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	TAP_ERR(vepoll_pwait2(ep, out, 0, &ts, NULL), EINVAL,
		"pwait2, tv_sec -1 (and maxevents 0)");
	ts.tv_sec = 0;
	TAP_ERR(vepoll_pwait2(ep, out, 0, &ts, NULL), EINVAL,
		"pwait2, maxevents 0");
	TAP_ERR(vepoll_pwait2(-1, out, 4, &ts, NULL), EBADF,
		"pwait2 on epfd -1");
	if (write(p[1], "x", 1) != 1)
		exit(1);
	/* The longest timespec: saturated, and the event ends it. */
	ts.tv_sec = (time_t)((1ULL << (sizeof(time_t) * 8 - 1)) - 1);
	ts.tv_nsec = 999999999;
	memset(out, 0xff, sizeof(out));
	n = vepoll_pwait2(ep, out, 4, &ts, NULL);
	tap_ok(n == 1 && out[0].events == VEPOLLIN && out[0].data == DATA,
	       "pwait2, longest timeout: the ready event");
	n = vepoll_pwait2(ep, out, 4, NULL, NULL);
	tap_ok(n == 1 && out[0].data == DATA, "pwait2, NULL timeout: the ready event");
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* The changelist: applied in order, results, a failing change stops. */
static void test_wait_changes(void)
{
	struct timespec zero = { 0, 0 }, five = { 5, 0 };
	struct vepoll_ctl_args c[3];
	struct vepoll_event out[4];
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	int results[3], p[2], q[2], n, i;
	long long t0;

	if (pipe2(p, O_CLOEXEC) || pipe2(q, O_CLOEXEC))
		exit(1);
	if (write(p[1], "x", 1) != 1)
		exit(1);
	memset(c, 0, sizeof(c));
	for (i = 0; i < 3; i++)
		c[i].epfd = ep;
	c[0].op = VEPOLL_CTL_ADD;
	c[0].fd = p[0];
	c[0].event.events = VEPOLLIN | VEPOLLONESHOT;
	c[0].event.data = 1;
	c[1].op = VEPOLL_CTL_ADD;
	c[1].fd = q[0];
	c[1].event.events = VEPOLLIN;
	c[1].event.data = 2;
	memset(results, 0x55, sizeof(results));
	n = vepoll_wait_changes(ep, c, 2, results, out, 4, &zero, NULL);
	tap_ok(n == 1 && out[0].data == 1 && !results[0] && !results[1] &&
	       results[2] == 0x55555555,
	       "wait_changes: 2 ADDs applied, then the ready one reported");
	TAP_RET(vepoll_pwait2(ep, out, 4, &zero, NULL), 0,
		"the one-shot watch is disarmed");

	/* Re-arm and wait in one call, as an event loop would. */
	c[0].op = VEPOLL_CTL_MOD;
	n = vepoll_wait_changes(ep, c, 1, NULL, out, 4, &five, NULL);
	tap_ok(n == 1 && out[0].data == 1,
	       "wait_changes: MOD re-arms, the wait reports it (results NULL)");

	/* ADD of q[0] again: EEXIST, the DEL after it is not applied. */
	c[1].op = VEPOLL_CTL_ADD;
	c[2].op = VEPOLL_CTL_DEL;
	c[2].fd = p[0];
	memset(results, 0x55, sizeof(results));
	t0 = now_ms();
	n = vepoll_wait_changes(ep, c, 3, results, out, 4, &five, NULL);
	tap_ok(n == -1 && errno == EEXIST && !results[0] &&
	       results[1] == -EEXIST && results[2] == 0x55555555 &&
	       now_ms() - t0 < 2500,
	       "wait_changes stops at the failing change: EEXIST, no wait");
	c[0].op = VEPOLL_CTL_ADD;
	TAP_ERR(vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &c[0].event), EEXIST,
		"and the DEL after it was not applied");
	c[2].epfd = -1;
	TAP_ERR(vepoll_wait_changes(ep, &c[2], 1, results, out, 4, &zero,
				    NULL), EINVAL,
		"wait_changes: a change for another epfd is EINVAL");
	TAP_ERR(vepoll_wait_changes(ep, c, -1, results, out, 4, &zero, NULL),
		EINVAL, "wait_changes, nchanges -1");
	five.tv_nsec = -1;
	TAP_ERR(vepoll_wait_changes(ep, c, 1, results, out, 4, &five, NULL),
		EINVAL, "wait_changes, a bad timespec");
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(ep);
}

/* The program closes our descriptor, or dup2()s over it: we reopen. */
static void test_reopen(void)
{
	int devfd = -1, p[2], ep;
	struct stat st;

	if (pipe2(p, O_CLOEXEC))
		exit(1);
	dev_fds(&devfd);
	close(devfd);
	ep = vepoll_create1(VEPOLL_CLOEXEC);
	tap_ok(ep >= 0 && dev_fds(NULL) == 1,
	       "the device fd closed behind our back: reopened");
	close(ep);

	dev_fds(&devfd);
	dup2(p[0], devfd);
	ep = vepoll_create1(VEPOLL_CLOEXEC);
	tap_ok(ep >= 0 && dev_fds(NULL) == 1 && fstat(devfd, &st) == 0 &&
	       S_ISFIFO(st.st_mode),
	       "a pipe dup2()ed over the device fd: reopened, the pipe left alone");
	close(ep);
	close(devfd);
	close(p[0]);
	close(p[1]);
}

static void test_fork(void)
{
	struct vepoll_event ev = { .events = VEPOLLIN, .data = 7 };
	int ep = vepoll_create1(0);
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		exit(1);
	vepoll_ctl(ep, VEPOLL_CTL_ADD, p[0], &ev);
	pid = fork();
	if (pid == 0) {
		struct vepoll_event out;

		_exit(vepoll_wait(ep, &out, 1, 5000) == 1 && out.data == 7 ?
		      0 : 1);
	}
	usleep(50000);
	if (write(p[1], "x", 1) != 1)
		exit(1);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a forked child waits on its parent's instance");
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* Run as a child with VEPOLL_DEVICE pointing nowhere. */
static int no_device(void)
{
	const char *msg;
	int ep;

	ep = vepoll_create1(0);
	if (ep != -1 || errno != ENODEV)
		return 2;
	ep = vepoll_create1(0);
	if (ep != -1 || errno != ENODEV)
		return 3;
	msg = vepoll_device_error();
	if (!msg || !strstr(msg, "is the vepoll module loaded?"))
		return 4;
	return 0;
}

static void test_no_device(const char *self)
{
	char buf[1024] = "";
	int p[2], status, lines = 0;
	ssize_t len, got = 0;
	pid_t pid;
	char *s;

	if (pipe2(p, O_CLOEXEC))
		exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		setenv("VEPOLL_DEVICE", "/nonexistent/vepoll", 1);
		setenv("VEPOLL_VERBOSE", "1", 1);
		execl(self, self, "no-device", NULL);
		_exit(127);
	}
	close(p[1]);
	while ((len = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += len;
	buf[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	for (s = buf; (s = strchr(s, '\n')); s++)
		lines++;
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "no device: ENODEV, and vepoll_device_error() says why (child status %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	tap_ok(lines == 1 &&
	       strstr(buf, "vepoll: cannot open /nonexistent/vepoll: "
		      "No such file or directory (is the vepoll module loaded?)"),
	       "VEPOLL_VERBOSE=1: one line on stderr for two failed calls: %s",
	       buf);
}

/* Negative timeouts end after wait_cap_ms, with 0 events. */
static int test_cap(int cap_ms)
{
	struct vepoll_event out[1];
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	long long t0 = now_ms();
	int n;

	n = vepoll_wait(ep, out, 1, -1);
	tap_ok(n == 0 && now_ms() - t0 >= cap_ms,
	       "wait with timeout -1: 0 after wait_cap_ms (%d ms: took %lld)",
	       cap_ms, now_ms() - t0);
	t0 = now_ms();
	n = vepoll_pwait2(ep, out, 1, NULL, NULL);
	tap_ok(n == 0 && now_ms() - t0 >= cap_ms,
	       "pwait2 with a NULL timeout: 0 after wait_cap_ms (took %lld)",
	       now_ms() - t0);
	t0 = now_ms();
	n = vepoll_wait_changes(ep, NULL, 0, NULL, out, 1, NULL, NULL);
	tap_ok(n == 0 && now_ms() - t0 >= cap_ms,
	       "wait_changes with a NULL timeout: 0 after wait_cap_ms (took %lld)",
	       now_ms() - t0);
	close(ep);
	return tap_done();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "no-device"))
		return no_device();
	printf("TAP version 13\n");
	if (argc > 2 && !strcmp(argv[1], "cap"))
		return test_cap(atoi(argv[2]));
	if (access(VEPOLL_DEVICE_PATH, F_OK)) {
		printf("1..0 # SKIP %s is missing: load vepoll.ko (scripts/vm.sh)\n",
		       VEPOLL_DEVICE_PATH);
		return 4;
	}
	test_lazy_open();
	test_create();
	test_ctl();
	test_wait();
	test_pwait();
	test_batch();
	test_pwait2();
	test_wait_changes();
	test_fork();
	test_reopen();
	test_no_device("/proc/self/exe");
	return tap_done();
}
