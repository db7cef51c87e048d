// SPDX-License-Identifier: GPL-2.0
/*
 * VEPOLL_IOC_WAIT: sleeping until a watch is ready.
 *
 * The waiter sleeps on the instance's wait queue and is woken by the
 * targets' own wakeups (vepoll_watch.c): there is no polling loop, and a
 * sleeping waiter costs no CPU. An infinite wait is capped at wait_cap_ms,
 * as the seed caps it at 30 s.
 */
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/uaccess.h>

#include "vepoll.h"

static bool vepoll_events_available(struct vepoll_instance *ep)
{
	/* Unlocked peek: a waker queues under ep->lock, then wakes us. */
	return !list_empty_careful(&ep->rdllist);
}

/*
 * Queue the waiter unless something is ready. The check and the enqueue
 * are one step under ep->lock, the lock under which wakers queue a watch
 * and test waitqueue_active(), so no wakeup falls between them. Waiters
 * are exclusive: one wakeup, one waiter (see vepoll_done_scan()).
 */
static bool vepoll_prepare_to_sleep(struct vepoll_instance *ep,
				    struct wait_queue_entry *wait)
{
	bool sleep;

	spin_lock_irq(&ep->lock);
	set_current_state(TASK_INTERRUPTIBLE);
	sleep = list_empty(&ep->rdllist) && !signal_pending(current);
	if (sleep)
		add_wait_queue_exclusive(&ep->wq, wait);
	spin_unlock_irq(&ep->lock);
	return sleep;
}

static long vepoll_do_wait(struct vepoll_instance *ep,
			   struct vepoll_event __user *uevents, int maxevents,
			   int timeout_ms)
{
	unsigned int wait_ms = timeout_ms < 0 ? vepoll_wait_cap_ms : timeout_ms;
	bool timed_out = wait_ms == 0;
	ktime_t expires = 0;
	DEFINE_WAIT(wait);
	int res;

	/* A poll reads no clock: the hot path of event loops. */
	if (!timed_out)
		expires = ktime_add_ms(ktime_get(), wait_ms);

	for (;;) {
		if (vepoll_events_available(ep)) {
			res = vepoll_send_events(ep, uevents, maxevents);
			if (res)
				return res;
			/*
			 * Only stale watches: a cycle through a native epoll
			 * can keep re-queueing them, so the deadline must not
			 * depend on ever sleeping.
			 */
			if (!timed_out && ktime_after(ktime_get(), expires))
				timed_out = true;
			cond_resched();
		}
		if (timed_out)
			return 0;
		if (signal_pending(current))
			return -EINTR;

		if (vepoll_prepare_to_sleep(ep, &wait))
			timed_out = !schedule_hrtimeout_range(&expires,
						current->timer_slack_ns,
						HRTIMER_MODE_ABS);
		finish_wait(&ep->wq, &wait);
	}
}

/*
 * epoll_pwait(2): wait under @sigmask. The old mask is restored on return,
 * except after EINTR: then signal delivery restores it once the handler
 * of the signal that interrupted the wait has run.
 */
static int vepoll_set_sigmask(const struct vepoll_wait_args *args)
{
	sigset_t kmask;

	if (args->sigsetsize != sizeof(sigset_t))
		return -EINVAL;
	if (copy_from_user(&kmask, u64_to_user_ptr(args->sigmask),
			   sizeof(kmask)))
		return -EFAULT;
	sigdelsetmask(&kmask, sigmask(SIGKILL) | sigmask(SIGSTOP));
	current->saved_sigmask = current->blocked;
	sigprocmask(SIG_SETMASK, &kmask, NULL);
	set_restore_sigmask();
	return 0;
}

static void vepoll_restore_sigmask(long res)
{
	if (res == -EINTR)
		return;
	clear_restore_sigmask();
	sigprocmask(SIG_SETMASK, &current->saved_sigmask, NULL);
}

static long vepoll_wait_on(const struct vepoll_wait_args *args)
{
	struct vepoll_event __user *uevents = u64_to_user_ptr(args->events);
	struct fd f;
	long res;

	if (!args->maxevents ||
	    args->maxevents > INT_MAX / sizeof(struct vepoll_event) ||
	    args->flags)
		return -EINVAL;
	if (!access_ok(uevents, args->maxevents * sizeof(struct vepoll_event)))
		return -EFAULT;

	f = fdget(args->epfd);
	if (!f.file)
		return -EBADF;
	res = -EINVAL;
	if (vepoll_is_instance_file(f.file))
		res = vepoll_do_wait(f.file->private_data, uevents,
				     args->maxevents, args->timeout_ms);
	fdput(f);
	return res;
}

/**
 * vepoll_wait() - wait for events on an instance (VEPOLL_IOC_WAIT)
 * @args: the arguments, already copied from user space
 *
 * Errors come in the order of Linux's epoll_pwait(): the signal mask
 * (EINVAL, EFAULT), then maxevents and flags (EINVAL), the event buffer
 * (EFAULT), epfd (EBADF, EINVAL). A signal ends the wait with EINTR; it is
 * never restarted.
 *
 * Return: the number of events written, 0 on timeout, or a negative errno.
 */
long vepoll_wait(const struct vepoll_wait_args *args)
{
	long res;

	if (args->sigmask) {
		res = vepoll_set_sigmask(args);
		if (res)
			return res;
	}
	res = vepoll_wait_on(args);
	if (args->sigmask)
		vepoll_restore_sigmask(res);
	return res;
}
