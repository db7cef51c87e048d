/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to libvepoll and the preload shim: the shared /dev/vepoll
 * descriptor. Not installed.
 */
#ifndef _VEPOLL_DEV_H
#define _VEPOLL_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vepoll_uapi.h"

/* The kernel's sigset_t: what VEPOLL_IOC_WAIT wants in sigsetsize. */
#define VEPOLL_KSIGSET_SIZE	8

#define VEPOLL_HIDDEN	__attribute__((visibility("hidden")))

/*
 * ioctl(2) on the device, opened on first use. Returns what the ioctl
 * returns, or -1 with errno; when the device cannot be opened, errno is
 * ENODEV (no such device: the module is not loaded) or the open's errno.
 */
VEPOLL_HIDDEN long vepoll_dev_ioctl(unsigned long req, unsigned long arg);

/* The device descriptor, opening it if needed; -1 and errno if it cannot. */
VEPOLL_HIDDEN int vepoll_dev_fd(void);

/*
 * epoll_pwait2's timeout as VEPOLL_IOC_WAIT2's timeout_ns: NULL is -1 (no
 * timeout), one too long for 64-bit nanoseconds saturates (the module
 * then waits for an event). Returns false, as epoll_pwait2 fails with
 * EINVAL, for a negative tv_sec or a tv_nsec outside [0, 1e9).
 */
static inline bool vepoll_timespec_ns(const struct timespec *ts, __s64 *ns)
{
	if (!ts) {
		*ns = -1;
		return true;
	}
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return false;
	if (ts->tv_sec > (INT64_MAX - ts->tv_nsec) / 1000000000LL)
		*ns = INT64_MAX;
	else
		*ns = (__s64)ts->tv_sec * 1000000000LL + ts->tv_nsec;
	return true;
}

#endif /* _VEPOLL_DEV_H */
