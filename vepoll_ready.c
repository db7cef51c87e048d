// SPDX-License-Identifier: GPL-2.0
/*
 * Consuming an instance's ready list.
 *
 * The wakeup callbacks (vepoll_watch.c) append watches to ep->rdllist.
 * A wait takes the whole list private, re-polls each watch to learn what
 * is still true, reports it and decides where the watch goes next:
 * level-triggered back to the tail (so that a small maxevents rotates
 * through every ready watch), edge-triggered nowhere until its target's
 * next wakeup, one-shot disarmed. Work is proportional to the number of
 * ready watches, never to the number registered.
 */
#include <linux/irq_work.h>
#include <linux/lockdep.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vepoll.h"

/*
 * Take the ready list private. The callbacks leave a watch that is on the
 * private list alone (it is linked), and re-queue it on ep->rdllist once
 * it has been unlinked for reporting, so no wakeup is lost meanwhile.
 */
static void vepoll_start_scan(struct vepoll_instance *ep,
			      struct list_head *txlist)
{
	spin_lock_irq(&ep->lock);
	list_splice_init(&ep->rdllist, txlist);
	spin_unlock_irq(&ep->lock);
}

/*
 * Put back what the scan did not consume, ahead of what was queued
 * meanwhile, and pass the baton: another waiter may take what is left.
 */
static void vepoll_finish_scan(struct vepoll_instance *ep,
			       struct list_head *txlist)
{
	lockdep_assert_held(&ep->lock);
	list_splice(txlist, &ep->rdllist);
	/* ep->lock orders this with a waiter's check of rdllist. */
	if (!list_empty(&ep->rdllist) && waitqueue_active(&ep->wq))
		wake_up(&ep->wq);
}

static void vepoll_done_scan(struct vepoll_instance *ep,
			     struct list_head *txlist)
{
	spin_lock_irq(&ep->lock);
	vepoll_finish_scan(ep, txlist);
	spin_unlock_irq(&ep->lock);
}

/*
 * After @w was reported: where it goes next. A wakeup while it was being
 * reported may have queued it again, which only a one-shot undoes.
 */
static void vepoll_requeue_reported(struct vepoll_instance *ep,
				    struct vepoll_watch *w)
{
	lockdep_assert_held(&ep->lock);
	if (w->events & VEPOLLONESHOT) {
		w->disarmed = true;
		list_del_init(&w->rdllink);
	} else if (!(w->events & VEPOLLET) && list_empty(&w->rdllink)) {
		list_add_tail(&w->rdllink, &ep->rdllist);
		w->echoed = false;
	}
}

/* Re-poll @w and copy its event out; ep->lock is not held. */
static int vepoll_report(struct vepoll_watch *w,
			 struct vepoll_event __user *uevent)
{
	struct vepoll_event event = {};
	__poll_t revents;

	revents = vepoll_watch_poll(w, NULL, 0);
	if (!revents)
		return 0;
	event.events = (__force u32)revents;
	event.data = w->data;
	return copy_to_user(uevent, &event, sizeof(event)) ? -EFAULT : 1;
}

/**
 * vepoll_send_events() - report ready watches to user space
 * @ep: the instance
 * @uevents: user buffer of @maxevents entries, checked with access_ok()
 * @maxevents: at least 1
 *
 * Events are copied one at a time; a watch whose event could not be
 * copied is left pending, whatever its mode. ep->lock is dropped only
 * around the poll and the copy of each watch: one lock round trip per
 * event.
 *
 * Return: the number of events copied, or -EFAULT if the first copy
 * failed.
 */
int vepoll_send_events(struct vepoll_instance *ep,
		       struct vepoll_event __user *uevents, int maxevents)
{
	LIST_HEAD(txlist);
	int sent = 0;

	vepoll_lock(ep);
	spin_lock_irq(&ep->lock);
	list_splice_init(&ep->rdllist, &txlist);
	while (sent < maxevents && !list_empty(&txlist)) {
		struct vepoll_watch *w = list_first_entry(&txlist,
							  struct vepoll_watch,
							  rdllink);
		int reported;

		/* Unlinked, so a wakeup from now on queues it again. */
		list_del_init(&w->rdllink);
		if (w->disarmed)
			continue;
		spin_unlock_irq(&ep->lock);
		reported = vepoll_report(w, &uevents[sent]);
		spin_lock_irq(&ep->lock);

		if (reported < 0) {
			/* Not delivered: pending still, in front. */
			if (list_empty(&w->rdllink))
				list_add(&w->rdllink, &txlist);
			if (!sent)
				sent = -EFAULT;
			break;
		}
		/* Not ready any more: its next wakeup queues it again. */
		if (reported) {
			sent++;
			vepoll_requeue_reported(ep, w);
		}
	}
	vepoll_finish_scan(ep, &txlist);
	spin_unlock_irq(&ep->lock);
	vepoll_unlock(ep);
	return sent;
}

/**
 * vepoll_is_native_epoll() - is a file a native epoll instance?
 * @file: any file
 *
 * is_file_epoll() is not exported; epoll's anon inode name is stable ABI
 * (it shows in /proc/PID/fd).
 *
 * Return: true for an epoll file, whose poll takes that epoll's mutex.
 */
bool vepoll_is_native_epoll(const struct file *file)
{
	static const char name[] = "[eventpoll]";
	const struct qstr *d_name = &file->f_path.dentry->d_name;

	/* Every ADD asks: the length alone rules out most files. */
	return d_name->len == sizeof(name) - 1 &&
	       !memcmp(d_name->name, name, sizeof(name) - 1);
}

/*
 * Readiness of a queued watch, for a poll of its instance. A native
 * epoll's poll takes that epoll's mutex, which the task that polls us from
 * a native epoll may hold already (instance in epoll in instance: a cycle
 * neither side can refuse), so under a foreign poll a queued native epoll
 * target counts as ready without being asked: at worst a spurious POLLIN.
 */
static __poll_t vepoll_scan_poll(struct vepoll_watch *w, int depth,
				 bool foreign)
{
	poll_table look;

	if (vepoll_is_instance_file(w->file)) {
		init_poll_funcptr(&look, NULL);
		return vepoll_instance_poll(w->file->private_data, &look,
					    depth + 1, foreign) &
		       vepoll_interest(w->events);
	}
	if (foreign && w->native_epoll)
		return vepoll_interest(w->events) & (EPOLLIN | EPOLLRDNORM);
	return vepoll_watch_poll(w, NULL, depth);
}

/**
 * vepoll_instance_poll() - readiness of an instance, as poll() sees it
 * @ep: the instance
 * @pt: poll table of the caller (hooks @ep->poll_wait), or one with no
 *	callback
 * @depth: nesting depth, the lockdep subclass of @ep->mtx
 * @foreign: the poll comes from outside vepoll (poll, select, a native
 *	epoll), whose caller may hold a native epoll's mutex
 *
 * Readable while at least one watch would be reported by a wait. Looking
 * consumes nothing: ET and ONESHOT state are left as they are. When @ep's
 * mtx cannot be had (vepoll_lock_poll()), the answer is whether the ready
 * list is empty, and the pollers are woken to look again once it is free.
 *
 * Return: EPOLLIN | EPOLLRDNORM, or 0.
 */
__poll_t vepoll_instance_poll(struct vepoll_instance *ep, poll_table *pt,
			      int depth, bool foreign)
{
	struct vepoll_watch *w, *tmp;
	__poll_t res = 0;
	LIST_HEAD(txlist);

	poll_wait(ep->file, &ep->poll_wait, pt);

	if (!vepoll_lock_poll(ep, depth, foreign)) {
		/* Ask the holder to wake us once it lets go, then retry. */
		set_bit(0, &ep->poll_missed);
		/* Pairs with the barrier in vepoll_unlock(). */
		smp_mb__after_atomic();
		if (!vepoll_lock_poll(ep, depth, foreign))
			return list_empty_careful(&ep->rdllist) ? 0 :
			       EPOLLIN | EPOLLRDNORM;
	}
	vepoll_start_scan(ep, &txlist);
	list_for_each_entry_safe(w, tmp, &txlist, rdllink) {
		if (!w->disarmed && vepoll_scan_poll(w, depth, foreign)) {
			res = EPOLLIN | EPOLLRDNORM;
			break;
		}
		/* Stale entry: its next wakeup queues it again. */
		spin_lock_irq(&ep->lock);
		list_del_init(&w->rdllink);
		spin_unlock_irq(&ep->lock);
	}
	vepoll_done_scan(ep, &txlist);
	vepoll_unlock(ep);
	return res;
}

/**
 * vepoll_wake_pollers() - wake the pollers of an instance file, soon
 * @ep: the instance
 *
 * Called with locks held, maybe in IRQ context: the wakeup runs from
 * @ep->poll_work, so that it holds nothing that a poller's callback (an
 * outer instance, a native epoll) may take in turn.
 */
void vepoll_wake_pollers(struct vepoll_instance *ep)
{
	irq_work_queue(&ep->poll_work);
}

/**
 * vepoll_poll_work() - the irq_work that wakes an instance's pollers
 * @work: &ep->poll_work
 */
void vepoll_poll_work(struct irq_work *work)
{
	struct vepoll_instance *ep = container_of(work, struct vepoll_instance,
						  poll_work);

	wake_up_poll(&ep->poll_wait, EPOLLIN | EPOLLRDNORM);
}
