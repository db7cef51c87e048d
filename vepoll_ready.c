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
static void vepoll_done_scan(struct vepoll_instance *ep,
			     struct list_head *txlist)
{
	spin_lock_irq(&ep->lock);
	list_splice(txlist, &ep->rdllist);
	/* ep->lock orders this with a waiter's check of rdllist. */
	if (!list_empty(&ep->rdllist) && waitqueue_active(&ep->wq))
		wake_up(&ep->wq);
	spin_unlock_irq(&ep->lock);
}

static struct vepoll_watch *vepoll_next_scanned(struct vepoll_instance *ep,
						struct list_head *txlist)
{
	struct vepoll_watch *w;

	spin_lock_irq(&ep->lock);
	w = list_first_entry_or_null(txlist, struct vepoll_watch, rdllink);
	if (w)
		list_del_init(&w->rdllink);
	spin_unlock_irq(&ep->lock);
	return w;
}

/* After @w was reported: where it goes next. */
static void vepoll_requeue_reported(struct vepoll_instance *ep,
				    struct vepoll_watch *w)
{
	spin_lock_irq(&ep->lock);
	if (w->events & VEPOLLONESHOT) {
		w->disarmed = true;
		/* A wakeup during the report may have queued it again. */
		list_del_init(&w->rdllink);
	} else if (!(w->events & VEPOLLET) && list_empty(&w->rdllink)) {
		list_add_tail(&w->rdllink, &ep->rdllist);
	}
	spin_unlock_irq(&ep->lock);
}

/* A report that could not be copied stays pending, in front. */
static void vepoll_requeue_unreported(struct vepoll_instance *ep,
				      struct vepoll_watch *w,
				      struct list_head *txlist)
{
	spin_lock_irq(&ep->lock);
	if (list_empty(&w->rdllink))
		list_add(&w->rdllink, txlist);
	spin_unlock_irq(&ep->lock);
}

/**
 * vepoll_send_events() - report ready watches to user space
 * @ep: the instance
 * @uevents: user buffer of @maxevents entries, checked with access_ok()
 * @maxevents: at least 1
 *
 * Events are copied one at a time; a watch whose event could not be
 * copied is left pending, whatever its mode.
 *
 * Return: the number of events copied, or -EFAULT if the first copy
 * failed.
 */
int vepoll_send_events(struct vepoll_instance *ep,
		       struct vepoll_event __user *uevents, int maxevents)
{
	struct vepoll_watch *w;
	LIST_HEAD(txlist);
	int sent = 0;

	vepoll_lock(ep);
	vepoll_start_scan(ep, &txlist);
	while (sent < maxevents && (w = vepoll_next_scanned(ep, &txlist))) {
		struct vepoll_event event = {};
		__poll_t revents;

		if (w->disarmed)
			continue;
		/* No longer ready: its next wakeup queues it again. */
		revents = vepoll_watch_poll(w, NULL, 0);
		if (!revents)
			continue;

		event.events = (__force u32)revents;
		event.data = w->data;
		if (copy_to_user(&uevents[sent], &event, sizeof(event))) {
			vepoll_requeue_unreported(ep, w, &txlist);
			if (!sent)
				sent = -EFAULT;
			break;
		}
		sent++;
		vepoll_requeue_reported(ep, w);
	}
	vepoll_done_scan(ep, &txlist);
	vepoll_unlock(ep);
	return sent;
}

/**
 * vepoll_instance_poll() - readiness of an instance, as poll() sees it
 * @ep: the instance
 * @pt: poll table of the caller (hooks @ep->poll_wait), or one with no
 *	callback
 * @depth: nesting depth, the lockdep subclass of @ep->mtx
 *
 * Readable while at least one watch would be reported by a wait. Looking
 * consumes nothing: ET and ONESHOT state are left as they are. When @ep's
 * mtx cannot be had (vepoll_lock_poll()), the answer is whether the ready
 * list is empty, and the pollers are woken to look again once it is free.
 *
 * Return: EPOLLIN | EPOLLRDNORM, or 0.
 */
__poll_t vepoll_instance_poll(struct vepoll_instance *ep, poll_table *pt,
			      int depth)
{
	struct vepoll_watch *w, *tmp;
	__poll_t res = 0;
	LIST_HEAD(txlist);

	poll_wait(ep->file, &ep->poll_wait, pt);

	if (!vepoll_lock_poll(ep, depth)) {
		/* Ask the holder to wake us once it lets go, then retry. */
		set_bit(0, &ep->poll_missed);
		/* Pairs with the barrier in vepoll_unlock(). */
		smp_mb__after_atomic();
		if (!vepoll_lock_poll(ep, depth))
			return list_empty_careful(&ep->rdllist) ? 0 :
			       EPOLLIN | EPOLLRDNORM;
	}
	vepoll_start_scan(ep, &txlist);
	list_for_each_entry_safe(w, tmp, &txlist, rdllink) {
		if (!w->disarmed && vepoll_watch_poll(w, NULL, depth)) {
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
