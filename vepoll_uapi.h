/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space ABI of /dev/vepoll.
 *
 * vepoll is an epoll(7) clone behind a misc device. A program opens
 * /dev/vepoll and issues three ioctls on that descriptor: CREATE returns
 * an instance fd, CTL changes an instance's watch list, WAIT collects
 * events. Every structure has a fixed size and explicit padding, so 32-bit
 * and 64-bit programs share one layout. User addresses travel in __u64
 * fields; a 32-bit program stores them zero-extended.
 *
 * This header needs nothing but <linux/types.h> and <linux/ioctl.h> and
 * builds as C and as C++.
 */
#ifndef _UAPI_LINUX_VEPOLL_H
#define _UAPI_LINUX_VEPOLL_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Conditions a watch can wait for: the values of poll(2) and epoll(7). */
#define VEPOLLIN	0x00000001U
#define VEPOLLPRI	0x00000002U
#define VEPOLLOUT	0x00000004U
#define VEPOLLERR	0x00000008U
#define VEPOLLHUP	0x00000010U
#define VEPOLLRDNORM	0x00000040U
#define VEPOLLRDBAND	0x00000080U
#define VEPOLLWRNORM	0x00000100U
#define VEPOLLWRBAND	0x00000200U
#define VEPOLLMSG	0x00000400U
#define VEPOLLRDHUP	0x00002000U

/* Modes of a watch: set in a CTL mask, never reported by WAIT. */
#define VEPOLLONESHOT	(1U << 30)
#define VEPOLLET	(1U << 31)

/**
 * define VEPOLLEXCLUSIVE - wake one instance, not all (EPOLLEXCLUSIVE)
 *
 * ADD only: MOD with it, or of a watch added with it, is EINVAL. Beside it
 * only VEPOLLIN, VEPOLLOUT, VEPOLLERR, VEPOLLHUP, VEPOLLWAKEUP and VEPOLLET
 * may be set, and the target may not be an instance or a native epoll.
 * Never reported by WAIT.
 */
#define VEPOLLEXCLUSIVE	(1U << 28)

/**
 * define VEPOLLWAKEUP - hold off system suspend while an event is pending
 *
 * As EPOLLWAKEUP: the watch holds a wakeup source from the moment its
 * event is queued until a wait reports it. Silently dropped for a caller
 * without CAP_BLOCK_SUSPEND. Never reported by WAIT.
 */
#define VEPOLLWAKEUP	(1U << 29)

/* VEPOLL_CTL_* go in vepoll_ctl_args.op. */
#define VEPOLL_CTL_ADD	1
#define VEPOLL_CTL_DEL	2
#define VEPOLL_CTL_MOD	3

/* The only flag VEPOLL_IOC_CREATE accepts: the value of O_CLOEXEC. */
#define VEPOLL_CLOEXEC	0x00080000

/**
 * struct vepoll_event - one condition mask and its user cookie
 * @events: VEPOLL* bits: what to watch (CTL) or what happened (WAIT)
 * @__pad: must be zero in CTL; always zero in WAIT results
 * @data: opaque to the kernel, returned with every event of the watch
 */
struct vepoll_event {
	__u32 events;
	__u32 __pad;
	__u64 data;
};

/**
 * struct vepoll_ctl_args - argument of VEPOLL_IOC_CTL
 * @epfd: instance fd whose watch list changes
 * @op: VEPOLL_CTL_ADD, VEPOLL_CTL_DEL or VEPOLL_CTL_MOD
 * @fd: target fd; with the file it refers to, the key of the watch
 * @__pad: must be zero
 * @event: mask and data for ADD and MOD; ignored by DEL
 */
struct vepoll_ctl_args {
	__s32 epfd;
	__u32 op;
	__s32 fd;
	__u32 __pad;
	struct vepoll_event event;
};

/**
 * struct vepoll_wait_args - argument of VEPOLL_IOC_WAIT
 * @epfd: instance fd to wait on
 * @timeout_ms: 0 polls, > 0 waits at most that long, < 0 waits until an
 *	event or the module's wait_cap_ms, whichever comes first
 * @maxevents: capacity of @events, in entries; 1 to INT_MAX / 16
 * @flags: must be zero
 * @events: user address of struct vepoll_event[@maxevents]
 * @sigmask: 0, or user address of a sigset_t to wait under (epoll_pwait)
 * @sigsetsize: size of *@sigmask in bytes (8) when @sigmask is set
 */
struct vepoll_wait_args {
	__s32 epfd;
	__s32 timeout_ms;
	__u32 maxevents;
	__u32 flags;
	__u64 events;
	__u64 sigmask;
	__u64 sigsetsize;
};

/**
 * struct vepoll_ctl_batch - argument of VEPOLL_IOC_CTL_BATCH
 * @epfd: instance fd; every entry's epfd must be this one
 * @count: entries in @ctls and @results
 * @flags: must be zero
 * @__pad: must be zero
 * @ctls: user address of struct vepoll_ctl_args[@count], applied in order
 * @results: user address of __s32[@count]: 0 for each entry applied, then
 *	the negative errno of the entry that failed; entries after it are
 *	not applied and their results are left untouched
 *
 * The batch stops at the first entry that fails. The ioctl returns the
 * number of entries applied (@count when all were), or -1 with errno
 * EINVAL for bad @flags, @__pad or @count, EFAULT when @results cannot be
 * written (entries may have been applied by then).
 */
struct vepoll_ctl_batch {
	__s32 epfd;
	__u32 count;
	__u32 flags;
	__u32 __pad;
	__u64 ctls;
	__u64 results;
};

/**
 * struct vepoll_wait2_args - argument of VEPOLL_IOC_WAIT2
 * @epfd: instance fd to change and wait on
 * @maxevents: capacity of @events, in entries; 1 to INT_MAX / 16
 * @flags: must be zero
 * @nchanges: entries in @changes and @results; at most INT_MAX
 * @timeout_ns: 0 polls, > 0 waits at least that long, in nanoseconds,
 *	< 0 waits until an event or the module's wait_cap_ms
 * @events: user address of struct vepoll_event[@maxevents]
 * @changes: 0, or user address of struct vepoll_ctl_args[@nchanges],
 *	each with this @epfd, applied in order before the wait as
 *	VEPOLL_IOC_CTL applies them
 * @results: 0, or user address of __s32[@nchanges], filled as
 *	VEPOLL_IOC_CTL_BATCH fills its results
 * @sigmask: 0, or user address of a sigset_t to wait under (epoll_pwait)
 * @sigsetsize: size of *@sigmask in bytes (8) when @sigmask is set
 *
 * epoll_pwait2() with a changelist, as kevent() has: if a change fails,
 * the later ones are not applied, the call does not wait and fails with
 * that change's errno.
 */
struct vepoll_wait2_args {
	__s32 epfd;
	__u32 maxevents;
	__u32 flags;
	__u32 nchanges;
	__s64 timeout_ns;
	__u64 events;
	__u64 changes;
	__u64 results;
	__u64 sigmask;
	__u64 sigsetsize;
};

/* 0xB8 is free in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define VEPOLL_IOC_MAGIC	0xB8

/* ioctl(dev, VEPOLL_IOC_CREATE, flags): returns a new instance fd. */
#define VEPOLL_IOC_CREATE	_IO(VEPOLL_IOC_MAGIC, 0x01)
/* ioctl(dev, VEPOLL_IOC_CTL, &ctl_args): returns 0. */
#define VEPOLL_IOC_CTL		_IOW(VEPOLL_IOC_MAGIC, 0x02, struct vepoll_ctl_args)
/* ioctl(dev, VEPOLL_IOC_WAIT, &wait_args): returns the number of events. */
#define VEPOLL_IOC_WAIT		_IOW(VEPOLL_IOC_MAGIC, 0x03, struct vepoll_wait_args)
/* ioctl(dev, VEPOLL_IOC_CTL_BATCH, &batch): returns the entries applied. */
#define VEPOLL_IOC_CTL_BATCH	_IOW(VEPOLL_IOC_MAGIC, 0x04, struct vepoll_ctl_batch)
/* ioctl(dev, VEPOLL_IOC_WAIT2, &wait2_args): returns the number of events. */
#define VEPOLL_IOC_WAIT2	_IOW(VEPOLL_IOC_MAGIC, 0x05, struct vepoll_wait2_args)

/* One layout for every ABI: checked wherever this header is compiled. */
#ifdef __cplusplus
#define __VEPOLL_ABI_CHECK(cond, msg)	static_assert(cond, msg)
#else
#define __VEPOLL_ABI_CHECK(cond, msg)	_Static_assert(cond, msg)
#endif

__VEPOLL_ABI_CHECK(sizeof(struct vepoll_event) == 16,
		   "struct vepoll_event must be 16 bytes");
__VEPOLL_ABI_CHECK(sizeof(struct vepoll_ctl_args) == 32,
		   "struct vepoll_ctl_args must be 32 bytes");
__VEPOLL_ABI_CHECK(sizeof(struct vepoll_wait_args) == 40,
		   "struct vepoll_wait_args must be 40 bytes");
__VEPOLL_ABI_CHECK(sizeof(struct vepoll_ctl_batch) == 32,
		   "struct vepoll_ctl_batch must be 32 bytes");
__VEPOLL_ABI_CHECK(sizeof(struct vepoll_wait2_args) == 64,
		   "struct vepoll_wait2_args must be 64 bytes");
__VEPOLL_ABI_CHECK(__builtin_offsetof(struct vepoll_event, data) == 8,
		   "vepoll_event.data must sit at offset 8");
__VEPOLL_ABI_CHECK(__builtin_offsetof(struct vepoll_ctl_args, event) == 16,
		   "vepoll_ctl_args.event must sit at offset 16");
__VEPOLL_ABI_CHECK(__builtin_offsetof(struct vepoll_wait_args, events) == 16,
		   "vepoll_wait_args.events must sit at offset 16");
__VEPOLL_ABI_CHECK(__builtin_offsetof(struct vepoll_wait2_args, timeout_ns) == 16,
		   "vepoll_wait2_args.timeout_ns must sit at offset 16");

#undef __VEPOLL_ABI_CHECK

#endif /* _UAPI_LINUX_VEPOLL_H */
