// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvepoll: epoll(7)'s calls on top of the /dev/vepoll ioctls.
 *
 * One device descriptor serves the whole process. It is opened on first
 * use (not at load time: a program that never calls us must not see an
 * extra fd or an error), with O_CLOEXEC, and published with a
 * compare-and-swap so that racing threads agree on one descriptor.
 * Programs that close every descriptor they do not know about, or dup2()
 * over ours, exist: when an ioctl fails in a way that could mean the
 * descriptor is no longer ours, it is checked and, if need be, reopened.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "vepoll.h"
#include "vepoll_dev.h"

/* The shim defaults to 1: a preloaded program had better say why. */
#ifndef VEPOLL_VERBOSE_DEFAULT
#define VEPOLL_VERBOSE_DEFAULT	0
#endif

static int dev_fd = -1;		/* the device, or -1: not opened yet */
static dev_t dev_rdev;		/* its device number, once opened */
static int dev_errno;		/* errno of the last failed open, or 0 */
static char dev_err_path[128];	/* the path that open failed on */
static int dev_err_printed;

static const char *dev_path(void)
{
	const char *p = secure_getenv("VEPOLL_DEVICE");

	return p && *p ? p : VEPOLL_DEVICE_PATH;
}

static bool dev_missing(int err)
{
	return err == ENOENT || err == ENXIO || err == ENODEV;
}

static bool verbose(void)
{
	const char *v = secure_getenv("VEPOLL_VERBOSE");

	if (v && *v)
		return *v != '0';
	return VEPOLL_VERBOSE_DEFAULT;
}

static void dev_open_failed(const char *path, int err)
{
	snprintf(dev_err_path, sizeof(dev_err_path), "%s", path);
	__atomic_store_n(&dev_errno, err, __ATOMIC_RELEASE);
	if (verbose() && !__atomic_exchange_n(&dev_err_printed, 1,
					      __ATOMIC_RELAXED)) {
		const char *msg = vepoll_device_error();

		if (msg)
			fprintf(stderr, "%s\n", msg);
	}
}

/*
 * Open the device and install it in place of @old (-1 on first use, else
 * a descriptor found not to be ours any more: never closed here, since
 * its number now belongs to the program). Returns the installed fd.
 */
static int dev_open(int old)
{
	const char *path = dev_path();
	struct stat st;
	int fd, cur;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		dev_open_failed(path, err);
		errno = dev_missing(err) ? ENODEV : err;
		return -1;
	}
	if (fstat(fd, &st) == 0)
		__atomic_store_n(&dev_rdev, st.st_rdev, __ATOMIC_RELAXED);
	__atomic_store_n(&dev_errno, 0, __ATOMIC_RELAXED);

	cur = old;
	if (__atomic_compare_exchange_n(&dev_fd, &cur, fd, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return fd;
	/* Another thread installed one first: use it. */
	close(fd);
	return cur;
}

int vepoll_dev_fd(void)
{
	int fd = __atomic_load_n(&dev_fd, __ATOMIC_ACQUIRE);

	return fd >= 0 ? fd : dev_open(-1);
}

/* Is @fd still the device we opened? */
static bool dev_still_ours(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == __atomic_load_n(&dev_rdev, __ATOMIC_RELAXED);
}

long vepoll_dev_ioctl(unsigned long req, unsigned long arg)
{
	int fd = vepoll_dev_fd();
	long ret;
	int err;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, req, arg);
	if (ret >= 0)
		return ret;
	/*
	 * What another file (or no file) answers to our requests. Only on
	 * this slow path do we look, so a real EBADF costs one fstat().
	 */
	err = errno;
	if (err != EBADF && err != ENOTTY && err != EINVAL)
		return ret;
	if (dev_still_ours(fd)) {
		errno = err;
		return ret;
	}
	fd = dev_open(fd);
	if (fd < 0)
		return -1;
	return ioctl(fd, req, arg);
}

const char *vepoll_device_error(void)
{
	static __thread char msg[256];
	int err = __atomic_load_n(&dev_errno, __ATOMIC_ACQUIRE);
	char buf[128];

	if (!err)
		return NULL;
	snprintf(msg, sizeof(msg), "vepoll: cannot open %s: %s%s",
		 dev_err_path, strerror_r(err, buf, sizeof(buf)),
		 dev_missing(err) ? " (is the vepoll module loaded?)" : "");
	return msg;
}

int vepoll_create1(int flags)
{
	return vepoll_dev_ioctl(VEPOLL_IOC_CREATE, (unsigned int)flags);
}

int vepoll_ctl(int epfd, int op, int fd, const struct vepoll_event *event)
{
	struct vepoll_ctl_args args = {
		.epfd = epfd,
		.op = (__u32)op,
		.fd = fd,
	};

	/* The ioctl carries the event inline: copying it is our job. */
	if (event) {
		args.event = *event;
	} else if (op != VEPOLL_CTL_DEL) {
		errno = EFAULT;
		return -1;
	}
	return vepoll_dev_ioctl(VEPOLL_IOC_CTL, (uintptr_t)&args);
}

int vepoll_pwait(int epfd, struct vepoll_event *events, int maxevents,
		 int timeout, const sigset_t *sigmask)
{
	struct vepoll_wait_args args = {
		.epfd = epfd,
		.timeout_ms = timeout,
		/* A negative count becomes one the ioctl refuses: EINVAL. */
		.maxevents = (__u32)maxevents,
		.events = (uintptr_t)events,
		.sigmask = (uintptr_t)sigmask,
		.sigsetsize = sigmask ? VEPOLL_KSIGSET_SIZE : 0,
	};

	return vepoll_dev_ioctl(VEPOLL_IOC_WAIT, (uintptr_t)&args);
}

int vepoll_wait(int epfd, struct vepoll_event *events, int maxevents,
		int timeout)
{
	return vepoll_pwait(epfd, events, maxevents, timeout, NULL);
}

int vepoll_wait_changes(int epfd, const struct vepoll_ctl_args *changes,
			int nchanges, int *results,
			struct vepoll_event *events, int maxevents,
			const struct timespec *timeout, const sigset_t *sigmask)
{
	struct vepoll_wait2_args args = {
		.epfd = epfd,
		/* Negative counts become ones the ioctl refuses: EINVAL. */
		.maxevents = (__u32)maxevents,
		.nchanges = (__u32)nchanges,
		.events = (uintptr_t)events,
		.changes = (uintptr_t)changes,
		.results = (uintptr_t)results,
		.sigmask = (uintptr_t)sigmask,
		.sigsetsize = sigmask ? VEPOLL_KSIGSET_SIZE : 0,
	};

	/* epoll_pwait2 checks the timeout before anything else. */
	if (!vepoll_timespec_ns(timeout, &args.timeout_ns)) {
		errno = EINVAL;
		return -1;
	}
	return vepoll_dev_ioctl(VEPOLL_IOC_WAIT2, (uintptr_t)&args);
}

int vepoll_pwait2(int epfd, struct vepoll_event *events, int maxevents,
		  const struct timespec *timeout, const sigset_t *sigmask)
{
	return vepoll_wait_changes(epfd, NULL, 0, NULL, events, maxevents,
				   timeout, sigmask);
}

int vepoll_ctl_batch(int epfd, struct vepoll_ctl_args *ctls, int count,
		     int *results)
{
	struct vepoll_ctl_batch batch = {
		.epfd = epfd,
		/* Likewise: above INT_MAX is EINVAL. */
		.count = (__u32)count,
		.ctls = (uintptr_t)ctls,
		.results = (uintptr_t)results,
	};

	return vepoll_dev_ioctl(VEPOLL_IOC_CTL_BATCH, (uintptr_t)&batch);
}
