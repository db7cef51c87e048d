// SPDX-License-Identifier: GPL-2.0
/*
 * The event path of an instance, in the order an event travels it.
 *
 * A watch hooks every wait queue its target offers through vfs_poll() with
 * a poll-table callback of its own. When the target wakes a queue, the
 * wakeup callback puts the watch on the instance's ready list and wakes
 * the instance's waiters: nothing ever scans the watch list to find out
 * what is ready. A wait takes the whole list private, re-polls each watch
 * to learn what is still true, reports it and decides where the watch
 * goes next: level-triggered back to the tail (so that a small maxevents
 * rotates through every ready watch), edge-triggered nowhere until its
 * target's next wakeup, one-shot disarmed. Work is proportional to the
 * number of ready watches, never to the number registered.
 *
 * The waiter sleeps on the instance's wait queue and is woken by the
 * targets' own wakeups: there is no polling loop, and a sleeping waiter
 * costs no CPU. An infinite wait is capped at wait_cap_ms, as the seed
 * caps it at 30 s.
 */
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/rcupdate.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/rt.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vepoll.h"
#include "vepoll_trace.h"

/**
 * struct vepoll_pwq - a watch's entry on one of its target's wait queues
 * @wait: the entry, with vepoll_wake() as its function
 * @whead: the queue; NULL once the target freed it (POLLFREE)
 * @watch: the watch to queue on the ready list
 * @next: the watch's next entry (a target may offer several queues)
 */
struct vepoll_pwq {
	wait_queue_entry_t wait;
	wait_queue_head_t *whead;
	struct vepoll_watch *watch;
	struct vepoll_pwq *next;
};

/* A poll table that registers one watch; @watch is NULL after ENOMEM. */
struct vepoll_pqueue {
	poll_table pt;
	struct vepoll_watch *watch;
};

static struct kmem_cache *vepoll_pwq_cache __ro_after_init;

/**
 * vepoll_lock() - take an instance's mtx, for CTL, a harvest or fdinfo
 * @ep: the instance
 *
 * Frees the watches the close path killed meanwhile, so that none of
 * them shares a key with a new file.
 */
void vepoll_lock(struct vepoll_instance *ep)
{
	mutex_lock(&ep->mtx);
	WRITE_ONCE(ep->mtx_owner, current);
	vepoll_watch_reap(ep);
}

/**
 * vepoll_lock_poll() - take an instance's mtx to answer a poll
 * @ep: the instance being polled
 * @depth: nesting depth, used as lockdep subclass
 * @foreign: the poll comes from outside vepoll (poll, select, a native
 *	epoll), directly or through instances nested in the polled one
 *
 * Instances inside instances form a DAG (vepoll_nest.c), so an outer
 * instance may wait for an inner one's mtx. A native epoll can close a
 * cycle vepoll cannot see (instance -> epoll -> instance), so a poll from
 * outside never waits, at any depth: it only tries. The caller has made
 * sure the task does not hold @ep->mtx already.
 *
 * Return: true with @ep->mtx held, false without.
 */
bool vepoll_lock_poll(struct vepoll_instance *ep, int depth, bool foreign)
{
	if (!foreign)
		mutex_lock_nested(&ep->mtx, depth);
	else if (!mutex_trylock(&ep->mtx))
		return false;
	WRITE_ONCE(ep->mtx_owner, current);
	return true;
}

/**
 * vepoll_unlock() - release an instance's mtx
 * @ep: the instance
 *
 * A poll that found @mtx held set @ep->poll_missed and answered from the
 * ready list alone; wake the pollers so that they look again.
 */
void vepoll_unlock(struct vepoll_instance *ep)
{
	WRITE_ONCE(ep->mtx_owner, NULL);
	mutex_unlock(&ep->mtx);
	/* Pairs with the barrier between setting the bit and the retry. */
	smp_mb();
	if (test_and_clear_bit(0, &ep->poll_missed))
		vepoll_wake_pollers(ep);
}

/*
 * Queue @w on the ready list, wake one waiter, and the pollers of the
 * instance file. Called with ep->lock held; @wakeup is true when the
 * target woke its queue, false for ADD and MOD. Returns whether a waiter
 * was there to wake, which VEPOLLEXCLUSIVE's callback reports.
 */
static bool vepoll_queue_ready(struct vepoll_instance *ep,
			       struct vepoll_watch *w, bool wakeup)
{
	bool edge = list_empty(&w->rdllink);

	if (edge) {
		list_add_tail(&w->rdllink, &ep->rdllist);
		w->echoed = false;
		vepoll_pm_stay_awake(w);
	} else if (wakeup) {
		/*
		 * As in Linux, a wakeup is a new edge for an outer ET watch
		 * even when @w is queued already (ADD and MOD count only
		 * when they queue). vepoll cannot see a cycle through a
		 * native epoll, which would echo every wakeup back here, so
		 * a native epoll target passes one such edge per queueing.
		 */
		edge = !w->native_epoll || !w->echoed;
		w->echoed = true;
	}
	/* A poller queues itself before it scans under ep->lock. */
	if (edge && waitqueue_active(&ep->poll_wait))
		vepoll_wake_pollers(ep);
	/*
	 * Waiters are exclusive: a level-triggered watch is passed on by the
	 * waiter that reports it (vepoll_send_events()). A waiter checks
	 * rdllist and adds itself to ep->wq under ep->lock, so
	 * waitqueue_active() cannot miss it.
	 */
	if (!waitqueue_active(&ep->wq))
		return false;
	wake_up(&ep->wq);
	return true;
}

/*
 * What the wakeup callback returns, as Linux's ep_poll_callback(). A
 * target wakes its exclusive entries until one returns non-zero, so an
 * exclusive watch says "woken" only when a waiter was there to wake and
 * the key is the watch's IN or OUT (or names neither); else the wakeup
 * goes on to the next instance. A non-exclusive entry is always passed.
 */
static int vepoll_wake_ret(u32 events, __poll_t pollflags, bool woke)
{
	__poll_t inout = pollflags & (EPOLLIN | EPOLLOUT);

	if (!(events & VEPOLLEXCLUSIVE))
		return 1;
	if (!woke || (pollflags & POLLFREE))
		return 0;
	if (!inout)
		return 1;
	if (inout == EPOLLIN)
		return !!(events & VEPOLLIN);
	if (inout == EPOLLOUT)
		return !!(events & VEPOLLOUT);
	return 0;
}

/*
 * The wakeup callback, run by the target under its wait-queue lock, maybe
 * in IRQ context: only ep->lock is taken.
 */
static int vepoll_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		       void *key)
{
	struct vepoll_pwq *pwq = container_of(wait, struct vepoll_pwq, wait);
	struct vepoll_watch *w = pwq->watch;
	struct vepoll_instance *ep = w->ep;
	__poll_t pollflags = key_to_poll(key);
	unsigned long flags;
	bool woke = false;
	u32 events;

	spin_lock_irqsave(&ep->lock, flags);
	ep->nr_wakeups++;
	events = w->events;
	/* A key without our conditions cannot make the watch reportable. */
	if (!w->disarmed &&
	    (!pollflags || (pollflags & vepoll_interest(events))))
		woke = vepoll_queue_ready(ep, w, true);
	spin_unlock_irqrestore(&ep->lock, flags);
	trace_vepoll_wakeup(ep->id, w->fd, (__force u32)pollflags, woke);

	if (pollflags & POLLFREE) {
		/* The queue is being freed: detach, and publish that last. */
		list_del_init(&wait->entry);
		/* Pairs with vepoll_pwq_remove(), which may then free @pwq. */
		smp_store_release(&pwq->whead, NULL);
	}
	return vepoll_wake_ret(events, pollflags, woke);
}

/* The poll-table callback: vfs_poll() hands over each queue to hook. */
static void vepoll_queue_proc(struct file *file, wait_queue_head_t *whead,
			      poll_table *pt)
{
	struct vepoll_pqueue *pq = container_of(pt, struct vepoll_pqueue, pt);
	struct vepoll_watch *w = pq->watch;
	struct vepoll_pwq *pwq;

	if (!w)
		return;
	pwq = kmem_cache_alloc(vepoll_pwq_cache, GFP_KERNEL);
	if (!pwq) {
		pq->watch = NULL;
		return;
	}
	init_waitqueue_func_entry(&pwq->wait, vepoll_wake);
	pwq->whead = whead;
	pwq->watch = w;
	pwq->next = w->pwqs;
	w->pwqs = pwq;
	/* Behind every non-exclusive entry, as epoll places its own. */
	if (w->events & VEPOLLEXCLUSIVE)
		add_wait_queue_exclusive(whead, &pwq->wait);
	else
		add_wait_queue(whead, &pwq->wait);
}

static void vepoll_pwq_remove(struct vepoll_pwq *pwq)
{
	wait_queue_head_t *whead;

	/* A queue freed with POLLFREE is freed after an RCU grace period. */
	rcu_read_lock();
	/* Pairs with the release in vepoll_wake(). */
	whead = smp_load_acquire(&pwq->whead);
	if (whead)
		remove_wait_queue(whead, &pwq->wait);
	rcu_read_unlock();
	kmem_cache_free(vepoll_pwq_cache, pwq);
}

/**
 * vepoll_wakeup_add() - give a VEPOLLWAKEUP watch its wakeup source
 * @ep: the instance, whose mtx the caller holds
 * @w: the watch, which has none yet
 *
 * The source is named "vepoll<id>:<fd>" and the instance's own, made with
 * its first such watch, "vepoll<id>", so that
 * /sys/kernel/debug/wakeup_sources says who holds off suspend. Registering
 * may sleep. A watch queued already holds its source from now on.
 *
 * Return: 0 or -ENOMEM.
 */
int vepoll_wakeup_add(struct vepoll_instance *ep, struct vepoll_watch *w)
{
	struct wakeup_source *ws;
	char name[32];

	lockdep_assert_held(&ep->mtx);
	if (!ep->ws) {
		snprintf(name, sizeof(name), "vepoll%u", ep->id);
		ep->ws = wakeup_source_register(NULL, name);
		if (!ep->ws)
			return -ENOMEM;
	}
	snprintf(name, sizeof(name), "vepoll%u:%d", ep->id, w->fd);
	ws = wakeup_source_register(NULL, name);
	if (!ws)
		return -ENOMEM;
	spin_lock_irq(&ep->lock);
	w->ws = ws;
	if (!list_empty(&w->rdllink))
		vepoll_pm_stay_awake(w);
	spin_unlock_irq(&ep->lock);
	return 0;
}

/**
 * vepoll_watch_hook() - hook a new watch on its target's queues
 * @w: the watch
 * @revents: the target's readiness, masked as vepoll_watch_poll() does
 *
 * Return: 0, or -ENOMEM with some of the queues hooked (undo with
 * vepoll_watch_unhook()).
 */
int vepoll_watch_hook(struct vepoll_watch *w, __poll_t *revents)
{
	struct vepoll_pqueue pq;

	pq.watch = w;
	init_poll_funcptr(&pq.pt, vepoll_queue_proc);
	*revents = vepoll_watch_poll(w, &pq.pt, 0);
	return pq.watch ? 0 : -ENOMEM;
}

/**
 * vepoll_watch_unhook() - take a watch off its target's queues
 * @w: the watch
 *
 * Once remove_wait_queue() returns, no callback runs on the watch any
 * more.
 */
void vepoll_watch_unhook(struct vepoll_watch *w)
{
	while (w->pwqs) {
		struct vepoll_pwq *pwq = w->pwqs;

		w->pwqs = pwq->next;
		vepoll_pwq_remove(pwq);
	}
}

/**
 * vepoll_watch_poll() - current readiness of a watch's target
 * @w: the watch
 * @pt: poll table hooking the target's queues, or NULL to only look
 * @depth: nesting depth of @w's instance (0 for an outermost instance)
 *
 * An instance target is polled directly, one level deeper, so that lockdep
 * sees its mutex at its own subclass.
 *
 * Return: the target's readiness masked with what @w reports.
 */
__poll_t vepoll_watch_poll(struct vepoll_watch *w, poll_table *pt, int depth)
{
	__poll_t interest = vepoll_interest(w->events);
	poll_table look;
	__poll_t revents;

	if (!pt) {
		init_poll_funcptr(&look, NULL);
		pt = &look;
	}
	pt->_key = interest;
	if (vepoll_is_instance_file(w->file))
		revents = vepoll_instance_poll(w->file->private_data, pt,
					       depth + 1, false);
	else
		revents = vfs_poll(w->file, pt);
	return revents & interest;
}

/**
 * vepoll_queue_if_ready() - queue a watch if its target is ready now
 * @ep: its instance
 * @w: the watch
 * @revents: the readiness vepoll_watch_poll() found
 *
 * As a wakeup would have (ADD, MOD).
 */
void vepoll_queue_if_ready(struct vepoll_instance *ep,
			   struct vepoll_watch *w, __poll_t revents)
{
	if (!revents)
		return;
	spin_lock_irq(&ep->lock);
	/* A killed watch is never queued again (see LIFETIMES). */
	if (!w->disarmed && !w->dead)
		vepoll_queue_ready(ep, w, false);
	spin_unlock_irq(&ep->lock);
}

/*
 * Take the ready list private. A watch is unlinked from the private list
 * under ep->lock before it is polled, so that a wakeup from then on queues
 * it on ep->rdllist again: no wakeup is lost while the list is scanned.
 * While @scanning, waiters count the instance as having events: what the
 * scan does not consume, it puts back.
 */
static void vepoll_start_scan(struct vepoll_instance *ep,
			      struct list_head *txlist)
{
	lockdep_assert_held(&ep->mtx);
	lockdep_assert_held(&ep->lock);
	list_splice_init(&ep->rdllist, txlist);
	WRITE_ONCE(ep->scanning, true);
}

/*
 * Put back what the scan did not consume, ahead of what was queued
 * meanwhile, and pass the baton: another waiter may take what is left.
 */
static void vepoll_done_scan(struct vepoll_instance *ep,
			     struct list_head *txlist)
{
	lockdep_assert_held(&ep->lock);
	list_splice(txlist, &ep->rdllist);
	WRITE_ONCE(ep->scanning, false);
	if (ep->ws)
		__pm_relax(ep->ws);
	/* ep->lock orders this with a waiter's check of rdllist. */
	if (!list_empty(&ep->rdllist) && waitqueue_active(&ep->wq))
		wake_up(&ep->wq);
}

/*
 * Take the next watch of a scan off @txlist, with a reference on its file,
 * or return NULL when @txlist is empty. Dead and disarmed watches are
 * dropped on the way: a dead one's file is going (its close path frees
 * nothing we use), a disarmed one waits for MOD. ep->lock is held.
 */
static struct file *vepoll_scan_next(struct list_head *txlist,
				     struct vepoll_watch **wp)
{
	struct vepoll_watch *w;
	struct file *file;

	while (!list_empty(txlist)) {
		w = list_first_entry(txlist, struct vepoll_watch, rdllink);
		list_del_init(&w->rdllink);
		if (w->disarmed) {
			vepoll_pm_relax(w);
			continue;
		}
		file = vepoll_watch_fget(w);
		if (file) {
			*wp = w;
			return file;
		}
		vepoll_pm_relax(w);
	}
	return NULL;
}

/*
 * Put @w back at the head of @txlist, unless a wakeup queued it again.
 * Return: whether it was put back.
 */
static bool vepoll_scan_keep(struct vepoll_watch *w, struct list_head *txlist)
{
	if (w->dead || !list_empty(&w->rdllink))
		return false;
	list_add(&w->rdllink, txlist);
	return true;
}

/*
 * A wait takes @w off the ready list to report it: @w's wakeup source is
 * released, and the instance's holds off suspend in its stead until the
 * scan ends, so that no gap opens before @w is queued again (LT), as in
 * Linux's ep_send_events().
 */
static void vepoll_pm_hand_over(struct vepoll_instance *ep,
				struct vepoll_watch *w)
{
	if (!w->ws)
		return;
	if (w->ws->active && ep->ws)
		__pm_stay_awake(ep->ws);
	__pm_relax(w->ws);
}

/*
 * After @w was reported: where it goes next. A wakeup while it was being
 * reported may have queued it again, which only a one-shot undoes.
 */
static void vepoll_requeue_reported(struct vepoll_instance *ep,
				    struct vepoll_watch *w)
{
	lockdep_assert_held(&ep->lock);
	if (w->dead)
		return;
	if (w->events & VEPOLLONESHOT) {
		w->disarmed = true;
		list_del_init(&w->rdllink);
		vepoll_pm_relax(w);
	} else if (!(w->events & VEPOLLET) && list_empty(&w->rdllink)) {
		list_add_tail(&w->rdllink, &ep->rdllist);
		w->echoed = false;
		vepoll_pm_stay_awake(w);
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
	trace_vepoll_report(w->ep->id, w->fd, event.events);
	if (copy_to_user(uevent, &event, sizeof(event)))
		return -EFAULT;
	w->ep->nr_reports++;
	return 1;
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
	struct vepoll_watch *w;
	struct file *file;
	LIST_HEAD(txlist);
	int sent = 0;

	vepoll_lock(ep);
	spin_lock_irq(&ep->lock);
	vepoll_start_scan(ep, &txlist);
	while (sent < maxevents && (file = vepoll_scan_next(&txlist, &w))) {
		int reported;

		vepoll_pm_hand_over(ep, w);
		spin_unlock_irq(&ep->lock);
		reported = vepoll_report(w, &uevents[sent]);
		fput(file);
		spin_lock_irq(&ep->lock);

		if (reported < 0) {
			/* Not delivered: pending still, in front. */
			if (vepoll_scan_keep(w, &txlist))
				vepoll_pm_stay_awake(w);
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
	vepoll_done_scan(ep, &txlist);
	spin_unlock_irq(&ep->lock);
	vepoll_unlock(ep);
	return sent;
}

/**
 * vepoll_is_native_epoll() - is a file a native epoll instance?
 * @file: any file
 * @ep: an instance, whose file shares the anonymous inode with epoll's
 *
 * is_file_epoll() is not exported. Every file that anon_inode_getfile()
 * makes, epoll's and vepoll's among them, shares one inode, and on it only
 * epoll names its files "[eventpoll]"; a file of another inode with that
 * name (a FIFO, say) is not an epoll.
 *
 * Return: true for an epoll file, whose poll takes that epoll's mutex.
 */
bool vepoll_is_native_epoll(const struct file *file,
			    const struct vepoll_instance *ep)
{
	static const char name[] = "[eventpoll]";
	const struct qstr *d_name = &file->f_path.dentry->d_name;

	return file_inode(file) == file_inode(ep->file) &&
	       d_name->len == sizeof(name) - 1 &&
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

/*
 * Does @ep have events, counting a scan in progress (it puts back what it
 * does not consume)? The lockless peek answers yes cheaply; a no is
 * confirmed under ep->lock, because a scan moves the ready list away and
 * marks itself in two steps that a lockless reader could fall between.
 */
static bool vepoll_events_available(struct vepoll_instance *ep)
{
	bool avail;

	if (!list_empty_careful(&ep->rdllist) || READ_ONCE(ep->scanning))
		return true;
	spin_lock_irq(&ep->lock);
	avail = !list_empty(&ep->rdllist) || ep->scanning;
	spin_unlock_irq(&ep->lock);
	return avail;
}

/* Is @ep readable? @ep->mtx is held: scan the ready list for a live one. */
static bool vepoll_scan_ready(struct vepoll_instance *ep, int depth,
			      bool foreign)
{
	struct vepoll_watch *w;
	struct file *file;
	LIST_HEAD(txlist);
	bool ready = false;

	spin_lock_irq(&ep->lock);
	vepoll_start_scan(ep, &txlist);
	while (!ready && (file = vepoll_scan_next(&txlist, &w))) {
		spin_unlock_irq(&ep->lock);
		ready = vepoll_scan_poll(w, depth, foreign);
		fput(file);
		spin_lock_irq(&ep->lock);
		/* Stale: dropped; its next wakeup queues it again. */
		if (ready)
			vepoll_scan_keep(w, &txlist);
		else if (list_empty(&w->rdllink))
			vepoll_pm_relax(w);
	}
	vepoll_done_scan(ep, &txlist);
	spin_unlock_irq(&ep->lock);
	return ready;
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
 * consumes nothing: ET and ONESHOT state are left as they are.
 *
 * A poll that comes back to an instance its task is scanning (a cycle
 * through a native epoll) answers from the ready list alone. A foreign
 * poll that finds @ep->mtx held by another task (vepoll_lock_poll())
 * counts a scan in progress as readable, and asks the holder to wake the
 * pollers once it lets go, so that they look again.
 *
 * Return: EPOLLIN | EPOLLRDNORM, or 0.
 */
__poll_t vepoll_instance_poll(struct vepoll_instance *ep, poll_table *pt,
			      int depth, bool foreign)
{
	bool ready;

	poll_wait(ep->file, &ep->poll_wait, pt);

	if (READ_ONCE(ep->mtx_owner) == current)
		return list_empty_careful(&ep->rdllist) ? 0 :
		       EPOLLIN | EPOLLRDNORM;
	if (!vepoll_lock_poll(ep, depth, foreign)) {
		set_bit(0, &ep->poll_missed);
		/* Pairs with the barrier in vepoll_unlock(). */
		smp_mb__after_atomic();
		if (!vepoll_lock_poll(ep, depth, foreign))
			return vepoll_events_available(ep) ?
			       EPOLLIN | EPOLLRDNORM : 0;
	}
	ready = vepoll_scan_ready(ep, depth, foreign);
	vepoll_unlock(ep);
	return ready ? EPOLLIN | EPOLLRDNORM : 0;
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
	sleep = list_empty(&ep->rdllist) && !ep->scanning &&
		!signal_pending(current);
	if (sleep) {
		add_wait_queue_exclusive(&ep->wq, wait);
		ep->nr_sleeps++;
	}
	spin_unlock_irq(&ep->lock);
	return sleep;
}

/*
 * The slack of a wait's timer, as Linux's select_estimate_accuracy()
 * gives epoll's: none for a realtime task, else 0.1% of the timeout
 * (0.5% when niced), at least the task's timer_slack_ns, at most 100 ms.
 * Slack only ever makes a wait longer: the deadline is its earliest end.
 */
static u64 vepoll_wait_slack(s64 timeout_ns)
{
	u64 slack;

	if (rt_task(current))
		return 0;
	slack = div_u64(timeout_ns, task_nice(current) > 0 ? 200 : 1000);
	slack = min_t(u64, slack, 100 * NSEC_PER_MSEC);
	return max_t(u64, slack, current->timer_slack_ns);
}

/*
 * Where a wait of @timeout_ns ends: 0 polls, < 0 is the infinite wait,
 * capped at wait_cap_ms (a cap of 0 makes it a poll). Sets *@expires, an
 * absolute CLOCK_MONOTONIC deadline (saturated, never wrapped), and
 * *@slack. Returns false for a poll, which reads no clock: the hot path
 * of event loops.
 */
static bool vepoll_deadline(s64 timeout_ns, ktime_t *expires, u64 *slack)
{
	if (timeout_ns < 0)
		timeout_ns = (s64)vepoll_wait_cap_ms * NSEC_PER_MSEC;
	if (!timeout_ns)
		return false;
	*slack = vepoll_wait_slack(timeout_ns);
	*expires = ktime_add_safe(ktime_get(), ns_to_ktime(timeout_ns));
	return true;
}

/*
 * The waiting loop of WAIT and WAIT2: report events, or sleep until
 * @deadline (NULL: do not sleep) plus at most @slack.
 */
static long vepoll_do_wait(struct vepoll_instance *ep,
			   struct vepoll_event __user *uevents, int maxevents,
			   const ktime_t *deadline, u64 slack)
{
	bool timed_out = !deadline;
	ktime_t expires = deadline ? *deadline : 0;
	DEFINE_WAIT(wait);
	int res;

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
			timed_out = !schedule_hrtimeout_range(&expires, slack,
							      HRTIMER_MODE_ABS);
		finish_wait(&ep->wq, &wait);
	}
}

/*
 * epoll_pwait(2): wait under the mask at @sigmask. The old mask is
 * restored on return, except after EINTR: then signal delivery restores
 * it once the handler of the signal that interrupted the wait has run.
 */
static int vepoll_set_sigmask(u64 sigmask, u64 sigsetsize)
{
	void __user *umask = u64_to_user_ptr(sigmask);
	sigset_t kmask;

	if (sigsetsize != sizeof(sigset_t))
		return -EINVAL;
	/* A 32-bit sigset is two words: the same bytes on little-endian only. */
	if (in_compat_syscall() ?
	    get_compat_sigset(&kmask, umask) :
	    copy_from_user(&kmask, umask, sizeof(kmask)))
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

/* The EINVAL and EFAULT checks of a wait's event buffer and flags. */
static int vepoll_check_events(struct vepoll_event __user *uevents,
			       u32 maxevents, u32 flags)
{
	if (!maxevents || maxevents > INT_MAX / sizeof(struct vepoll_event) ||
	    flags)
		return -EINVAL;
	if (!access_ok(uevents, maxevents * sizeof(struct vepoll_event)))
		return -EFAULT;
	return 0;
}

static long vepoll_wait_on(const struct vepoll_wait_args *args)
{
	struct vepoll_event __user *uevents = u64_to_user_ptr(args->events);
	ktime_t expires;
	u64 slack = 0;
	bool timed;
	struct fd f;
	long res;

	res = vepoll_check_events(uevents, args->maxevents, args->flags);
	if (res)
		return res;

	f = fdget(args->epfd);
	if (!f.file)
		return -EBADF;
	res = -EINVAL;
	if (vepoll_is_instance_file(f.file)) {
		struct vepoll_instance *ep = f.file->private_data;
		s64 timeout_ns = args->timeout_ms < 0 ? -1 :
				 (s64)args->timeout_ms * NSEC_PER_MSEC;

		timed = vepoll_deadline(timeout_ns, &expires, &slack);
		atomic_long_inc(&ep->nr_waits);
		trace_vepoll_wait_begin(ep->id, timeout_ns, args->maxevents);
		res = vepoll_do_wait(ep, uevents, args->maxevents,
				     timed ? &expires : NULL, slack);
		trace_vepoll_wait_end(ep->id, res);
	}
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
		res = vepoll_set_sigmask(args->sigmask, args->sigsetsize);
		if (res)
			return res;
	}
	res = vepoll_wait_on(args);
	if (args->sigmask)
		vepoll_restore_sigmask(res);
	return res;
}

static long vepoll_wait2_on(const struct vepoll_wait2_args *args)
{
	struct vepoll_event __user *uevents = u64_to_user_ptr(args->events);
	struct vepoll_instance *ep;
	ktime_t expires;
	u64 slack = 0;
	bool timed;
	struct fd f;
	long res;
	int err;

	res = vepoll_check_events(uevents, args->maxevents, args->flags);
	if (res)
		return res;
	if (args->nchanges > INT_MAX)
		return -EINVAL;

	f = fdget(args->epfd);
	if (!f.file)
		return -EBADF;
	res = -EINVAL;
	if (!vepoll_is_instance_file(f.file))
		goto out;
	/* From the call's start, as epoll_pwait2(): changes count in it. */
	timed = vepoll_deadline(args->timeout_ns, &expires, &slack);
	if (args->nchanges) {
		res = vepoll_ctl_apply(f.file, args->epfd,
				       u64_to_user_ptr(args->changes),
				       u64_to_user_ptr(args->results),
				       args->results, args->nchanges, &err);
		if (res >= 0)
			res = err;
		if (res)
			goto out;
	}
	ep = f.file->private_data;
	atomic_long_inc(&ep->nr_waits);
	trace_vepoll_wait_begin(ep->id, args->timeout_ns, args->maxevents);
	res = vepoll_do_wait(ep, uevents, args->maxevents,
			     timed ? &expires : NULL, slack);
	trace_vepoll_wait_end(ep->id, res);
out:
	fdput(f);
	return res;
}

/**
 * vepoll_wait2() - apply changes, then wait (VEPOLL_IOC_WAIT2)
 * @args: the arguments, already copied from user space
 *
 * epoll_pwait2() with a changelist. The checks of WAIT come first, in its
 * order, then nchanges (EINVAL), so that a call with bad arguments
 * changes nothing. The changes go through vepoll_ctl_apply(), the engine
 * of VEPOLL_IOC_CTL_BATCH; if one fails, the call does not wait and
 * fails with its errno. The wait is WAIT's, with a timeout in
 * nanoseconds on an hrtimer.
 *
 * Return: the number of events written, 0 on timeout, or a negative errno.
 */
long vepoll_wait2(const struct vepoll_wait2_args *args)
{
	long res;

	if (args->sigmask) {
		res = vepoll_set_sigmask(args->sigmask, args->sigsetsize);
		if (res)
			return res;
	}
	res = vepoll_wait2_on(args);
	if (args->sigmask)
		vepoll_restore_sigmask(res);
	return res;
}

/**
 * vepoll_event_init() - create the slab cache of wait-queue entries
 *
 * Charged to the memory cgroup of the task that adds the watch.
 *
 * Return: 0 or -ENOMEM.
 */
int vepoll_event_init(void)
{
	vepoll_pwq_cache = KMEM_CACHE(vepoll_pwq, SLAB_ACCOUNT);
	return vepoll_pwq_cache ? 0 : -ENOMEM;
}

/**
 * vepoll_event_exit() - destroy the slab cache of wait-queue entries
 */
void vepoll_event_exit(void)
{
	kmem_cache_destroy(vepoll_pwq_cache);
}
