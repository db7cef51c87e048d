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
#include <time.h>

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
 * vepoll_pwait2 - epoll_pwait2(2): wait with a nanosecond timeout
 *
 * vepoll_pwait() with @timeout a struct timespec (VEPOLL_IOC_WAIT2): the
 * wait lasts at least that long, to the nanosecond, on an hrtimer; it is
 * never rounded to milliseconds. A zero @timeout polls. A NULL @timeout
 * waits for an event or the module's wait_cap_ms (30 s by default; then
 * 0, as vepoll_wait() with a negative timeout: loop for an unbounded
 * wait); a timeout too long for 64-bit nanoseconds waits for an event.
 * @sigmask, when not NULL, replaces the thread's signal mask for the
 * duration of the wait, as in vepoll_pwait().
 *
 * Returns the number of events written to @events, 0 on timeout, or -1
 * with errno: EINVAL for a negative tv_sec or a tv_nsec outside
 * [0, 999999999] (checked first, as epoll_pwait2 does), then vepoll_pwait()'s
 * errors in its order (EINVAL, EFAULT, EBADF, EINTR...).
 */
int vepoll_pwait2(int epfd, struct vepoll_event *events, int maxevents,
		  const struct timespec *timeout, const sigset_t *sigmask);

/*
 * vepoll_wait_changes - apply a changelist, then wait (as kevent(2))
 *
 * One VEPOLL_IOC_WAIT2: first @changes[0..@nchanges) are applied to
 * @epfd in order, each exactly as vepoll_ctl() would apply it (an entry
 * whose epfd is not @epfd fails with EINVAL), then the call waits as
 * vepoll_pwait2() does. @results, when not NULL, is filled as
 * vepoll_ctl_batch() fills it: 0 for each change applied, then the
 * failed change's negative errno; later slots are left alone. @nchanges
 * 0 reads neither array and makes the call vepoll_pwait2(). The re-arm
 * of a VEPOLLONESHOT watch and the wait for its next event are one call.
 *
 * If a change fails, the later ones are not applied, the call does not
 * wait, and it returns -1 with that change's errno (the changes before
 * it stay applied). A call whose own arguments are wrong applies none.
 *
 * Returns the number of events written to @events, 0 on timeout, or -1
 * with errno: EINVAL for a bad @timeout, then the signal mask (EINVAL,
 * EFAULT), @maxevents or @nchanges out of range (EINVAL), @events not in
 * user space (EFAULT), @epfd (EBADF, EINVAL), then the errno of the
 * first change that failed (EFAULT if @changes cannot be read or
 * @results written), then the wait's (EINTR, EFAULT). A signal that ends
 * the wait leaves the changes applied.
 */
int vepoll_wait_changes(int epfd, const struct vepoll_ctl_args *changes,
			int nchanges, int *results,
			struct vepoll_event *events, int maxevents,
			const struct timespec *timeout, const sigset_t *sigmask);

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
