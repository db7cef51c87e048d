/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvepoll: epoll(7)'s calls, served by /dev/vepoll.
 *
 * Each call mirrors its epoll counterpart and issues one vepoll ioctl; it
 * returns what the ioctl returns, or -1 with errno set exactly as the
 * ioctl set it (see vepoll_uapi.h and Documentation.rst). /dev/vepoll is
 * opened once, on first use, with O_CLOEXEC, from any thread.
 *
 * Builds as C++ and as C with POSIX (sigset_t: -std=gnu11, or -std=c11
 * with _POSIX_C_SOURCE). Link with -lvepoll (pkg-config vepoll).
 */
#ifndef _VEPOLL_H
#define _VEPOLL_H

#include <signal.h>

#include "vepoll_uapi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device the library opens; the VEPOLL_DEVICE variable overrides it. */
#define VEPOLL_DEVICE_PATH	"/dev/vepoll"

/*
 * epoll_create1(2): a new instance fd. @flags is 0 or VEPOLL_CLOEXEC.
 * When /dev/vepoll cannot be opened, errno is ENODEV if the device does
 * not exist (the module is not loaded) or the open's errno otherwise
 * (EACCES, EMFILE...), and vepoll_device_error() says why.
 */
int vepoll_create1(int flags);

/*
 * epoll_ctl(2): VEPOLL_CTL_ADD, _MOD or _DEL of @fd in @epfd. @event may
 * be NULL for VEPOLL_CTL_DEL; for the others NULL is EFAULT, as in epoll.
 */
int vepoll_ctl(int epfd, int op, int fd, const struct vepoll_event *event);

/*
 * epoll_wait(2): at most @maxevents events into @events. A negative
 * @timeout sleeps at most the module's wait_cap_ms (30 s by default) and
 * then returns 0; loop on 0 for an unbounded wait.
 */
int vepoll_wait(int epfd, struct vepoll_event *events, int maxevents,
		int timeout);

/*
 * epoll_pwait(2): vepoll_wait() with the thread's signal mask replaced by
 * @sigmask (when not NULL) for the duration of the wait.
 */
int vepoll_pwait(int epfd, struct vepoll_event *events, int maxevents,
		 int timeout, const sigset_t *sigmask);

/*
 * VEPOLL_IOC_CTL_BATCH: apply @ctls[0..@count) to @epfd in order, each as
 * vepoll_ctl() would (an entry whose epfd is not @epfd fails with
 * EINVAL), stopping at the first that fails. Returns the number applied;
 * @results[i] is 0 for each of them and, when the return value r is below
 * @count, @results[r] is the failed entry's negative errno. -1 and errno
 * for an error of the batch itself (EINVAL: @count < 0; EFAULT).
 */
int vepoll_ctl_batch(int epfd, struct vepoll_ctl_args *ctls, int count,
		     int *results);

/*
 * Why the last attempt to open the device failed, as one line ("vepoll:
 * cannot open /dev/vepoll: No such file or directory (is the vepoll
 * module loaded?)"), or NULL when it did not fail. With VEPOLL_VERBOSE=1
 * in the environment the library also prints that line to stderr, once.
 */
const char *vepoll_device_error(void);

#ifdef __cplusplus
}
#endif

#endif /* _VEPOLL_H */
