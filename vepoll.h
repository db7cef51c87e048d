/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Objects shared by the vepoll module's files: what each one is, who keeps
 * it alive, and which lock guards what. Every path follows these rules.
 *
 * LIFETIMES
 *
 * An instance (struct vepoll_instance) lives exactly as long as its file:
 * the file's release destroys it. Whoever uses an instance holds a
 * reference on that file: an ioctl its fdget(), an outer instance the
 * reference it takes around each poll (vepoll_watch_fget()).
 *
 * A watch (struct vepoll_watch) belongs to its instance and is freed only
 * by a holder of ep->mtx. It holds no reference on its file, as in Linux:
 * @file is a key, and the file is dereferenced only through a reference
 * that vepoll_watch_fget() took while the count was above zero, or the
 * one the CTL caller holds. When the file's last reference goes, the
 * watch is killed from the close path (vepoll_target.c): off the target's
 * wait queues and the ready list, @dead set, moved to ep->dead. The next
 * holder of ep->mtx frees it (vepoll_lock()). The close path itself never
 * frees a watch, never sleeps and never takes ep->mtx.
 *
 * A target (struct vepoll_target, private to vepoll_target.c) gathers the
 * watches on one file, in any instance, in a hash table looked up under
 * RCU; it is freed after a grace period once its last watch is gone. A
 * file whose close the kernel does not announce (FMODE_NONOTIFY) is
 * pinned: its target holds one reference, dropped by the reaper once that
 * reference is the only one left.
 *
 * LOCKING
 *
 * Sleeping locks, outermost first; a lock is only taken while holding
 * locks above it in this list:
 *
 *   ep->mtx                 (per instance) the watch tree, each watch's
 *                           @data, the freeing of watches; an instance
 *                           polling an inner instance takes the inner mtx
 *                           with subclass = nesting depth. A changelist
 *                           (CTL_BATCH, WAIT2's changes) holds it across
 *                           a chunk of eight entries; WAIT2 lets go of
 *                           it before it waits, so no task sleeps for
 *                           events holding it
 *   vepoll_nest_mutex       (vepoll_nest.c) the instance-in-instance
 *                           graph; nothing is taken under it
 *   vepoll_sbmarks_mutex    (vepoll_target.c) making an fsnotify mark,
 *                           then fsnotify's group mutex
 *   vepoll_registry_mutex   (vepoll_registry.c) ids and instance counts;
 *                           taken alone
 *
 * Spinlocks, which the close path and the wakeup callbacks take; the
 * close path runs inside fsnotify's SRCU read section, the callbacks
 * under a target's wait-queue lock, possibly in IRQ context:
 *
 *   target->lock -> target wait-queue lock   (unhooking a watch)
 *   target->lock -> ep->lock -> ep->wq.lock  (killing a watch)
 *   target wait-queue lock -> ep->lock -> ep->wq.lock  (a wakeup)
 *   ep->lock -> a wakeup source's lock       (__pm_stay_awake, __pm_relax)
 *   ep->poll_work (irq_work) -> ep->poll_wait.lock -> outer ep->lock -> ...
 *
 * ep->lock (per instance, IRQ-safe) guards the ready list, the dead list,
 * @scanning, and each watch's @rdllink, @events, @disarmed, @echoed,
 * @dead and @ws (the pointer; the wakeup source is IRQ-safe and locks
 * itself). It is never held while calling into a target (vfs_poll,
 * wait-queue removal). target->lock guards the target's watch list and
 * whether a watch is still on it: the close path and a holder of ep->mtx
 * removing a watch both take it, so exactly one of them unhooks the watch.
 * The pollers of an instance file (ep->poll_wait) are woken from an
 * irq_work with no lock held, so nested wakeups never nest poll_wait
 * locks, whatever mix of instances and native epoll files is nested.
 */
#ifndef _VEPOLL_H
#define _VEPOLL_H

#include <linux/device.h>	/* wakeup sources (linux/pm_wakeup.h) */
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "vepoll_uapi.h"

/* Longest chain of instances watching instances; one more is ELOOP. */
#define VEPOLL_MAX_NESTS	5

/* Every condition bit a CTL mask may hold, and the two mode bits. */
#define VEPOLL_CONDITIONS	(VEPOLLIN | VEPOLLPRI | VEPOLLOUT | VEPOLLERR | \
				 VEPOLLHUP | VEPOLLRDNORM | VEPOLLRDBAND | \
				 VEPOLLWRNORM | VEPOLLWRBAND | VEPOLLMSG | \
				 VEPOLLRDHUP)
#define VEPOLL_MODES		(VEPOLLET | VEPOLLONESHOT)
/* The rules a watch is added with (Documentation.rst, "Watches"). */
#define VEPOLL_RULES		(VEPOLLEXCLUSIVE | VEPOLLWAKEUP)
/* What may sit beside VEPOLLEXCLUSIVE, as EPOLLEXCLUSIVE_OK_BITS. */
#define VEPOLL_EXCLUSIVE_OK	(VEPOLLIN | VEPOLLOUT | VEPOLLERR | \
				 VEPOLLHUP | VEPOLLWAKEUP | VEPOLLET | \
				 VEPOLLEXCLUSIVE)

/* Module parameters (vepoll_main.c), read-only once the module is loaded. */
extern unsigned int vepoll_max_instances;
extern unsigned int vepoll_max_watches;
extern unsigned int vepoll_wait_cap_ms;
extern unsigned int vepoll_max_user_instances;
extern int vepoll_reserved_instances;

/**
 * struct vepoll_instance - an event set, the object behind an instance fd
 * @id: registry id, from 1, never reused while the instance lives
 * @owner: effective uid charged for the instance (max_user_instances)
 * @file: the anon-inode file standing for the instance
 * @mtx: serialises CTL, harvesting, polls and fdinfo; guards @watches,
 *	@nr_watches and each watch's @data
 * @mtx_owner: task holding @mtx, to refuse a poll that re-enters it
 * @watches: every watch, keyed by (target file, fd), dead ones included
 * @nr_watches: number of entries in @watches
 * @lock: see LOCKING above
 * @rdllist: watches whose target signalled readiness, oldest first
 * @dead: watches killed by their file's last close, to be freed
 * @scanning: a holder of @mtx has taken the ready list private; what it
 *	does not consume it puts back, so a waiter counts it as available
 * @wq: tasks sleeping in VEPOLL_IOC_WAIT or WAIT2 (exclusive waiters)
 * @poll_wait: pollers of @file (poll, select, epoll, an outer instance)
 * @poll_work: wakes @poll_wait from a clean context (vepoll_event.c)
 * @poll_missed: bit 0 set by a poll that found @mtx held by another task;
 *	the holder wakes @poll_wait when it lets go, so the poller looks again
 * @children: watches of this instance whose target is an instance
 * @parents: watches of other instances whose target is this instance
 * @nest_gen: generation of the last nesting check that measured @nest_depth
 * @nest_depth: longest chain of instances measured from here
 * @nr_wakeups: target wakeups that reached a watch (fdinfo); under @lock
 * @nr_sleeps: times a wait went to sleep (fdinfo); under @lock
 * @nr_reports: events copied to user space (fdinfo); under @mtx
 * @nr_waits: WAIT and WAIT2 calls that reached the instance (fdinfo)
 * @ws: wakeup source held while a scan reports a VEPOLLWAKEUP watch, so
 *	that suspend cannot slip in between the watch's own source being
 *	released and taken again (LT); made with the first such watch, freed
 *	with the instance, guarded by @mtx
 *
 * @children, @parents, @nest_gen and @nest_depth are guarded by
 * vepoll_nest_mutex (vepoll_nest.c).
 */
struct vepoll_instance {
	u32 id;
	kuid_t owner;
	struct file *file;

	struct mutex mtx;		/* see LOCKING */
	struct task_struct *mtx_owner;
	struct rb_root watches;
	unsigned int nr_watches;

	spinlock_t lock;		/* see LOCKING */
	struct list_head rdllist;
	struct list_head dead;
	bool scanning;
	wait_queue_head_t wq;
	wait_queue_head_t poll_wait;
	struct irq_work poll_work;
	unsigned long poll_missed;

	struct list_head children;
	struct list_head parents;
	u64 nest_gen;
	int nest_depth;

	struct wakeup_source *ws;

	unsigned long nr_wakeups;
	unsigned long nr_sleeps;
	unsigned long nr_reports;
	atomic_long_t nr_waits;
};

struct seq_file;
struct vepoll_target;
struct vepoll_pwq;
struct wakeup_source;

/**
 * struct vepoll_watch - one entry of an instance's watch list
 * @node: link in the instance's @watches tree
 * @rdllink: link in the instance's ready list, or in a harvester's private
 *	list while it reports the watch; empty otherwise
 * @ep: the instance the watch belongs to
 * @target: the watches on the same file, in any instance; set at ADD and
 *	never changed, freed with RCU (vepoll_target.c)
 * @target_link: link in @target's list while the watch lives, in
 *	@ep->dead once it is killed
 * @file: the watched file (first half of the key); not referenced: see
 *	LIFETIMES above
 * @fd: fd number the watch was added with (second half of the key)
 * @events: the mask given to ADD or MOD, mode bits included
 * @disarmed: a ONESHOT watch that reported and waits for MOD
 * @native_epoll: the target is a native epoll file (asked on every wakeup,
 *	so found once, at ADD)
 * @echoed: a wakeup of a native epoll target found @w queued and woke the
 *	pollers; reset whenever @w is queued (vepoll_queue_ready())
 * @dead: the file's last reference is gone; the watch is never polled or
 *	reported again and waits on @ep->dead to be freed
 * @data: user cookie returned with every event
 * @pwqs: wait-queue entries this watch placed on the target's queues;
 *	exclusive ones (add_wait_queue_exclusive()) for VEPOLLEXCLUSIVE
 * @ws: VEPOLLWAKEUP's wakeup source, active while the watch is queued;
 *	set and cleared under @ep->lock by a holder of @ep->mtx, which alone
 *	unregisters it (it may sleep): vepoll_watch_remove()
 * @nest_child: the target instance, when the target is an instance
 * @child_link: link in @ep's children, when the target is an instance
 * @parent_link: link in the target instance's parents
 */
struct vepoll_watch {
	struct rb_node node;
	struct list_head rdllink;
	struct vepoll_instance *ep;
	struct vepoll_target *target;
	struct list_head target_link;
	struct file *file;
	int fd;
	u32 events;
	bool disarmed;
	bool native_epoll;
	bool echoed;
	bool dead;
	u64 data;
	struct vepoll_pwq *pwqs;
	struct wakeup_source *ws;
	struct vepoll_instance *nest_child;
	struct list_head child_link;
	struct list_head parent_link;
};

/* vepoll_registry.c: the registry of instances and its limits. */
struct vepoll_instance *vepoll_instance_alloc(void);
void vepoll_instance_free(struct vepoll_instance *ep);
void vepoll_registry_stats(struct seq_file *m);

/* vepoll_fops.c: the anon-inode file that stands for an instance. */
extern const struct file_operations vepoll_instance_fops;
int vepoll_create_fd(unsigned long flags);

/* vepoll_ctl.c: the watch list (VEPOLL_IOC_CTL, VEPOLL_IOC_CTL_BATCH). */
int vepoll_ctl(const struct vepoll_ctl_args *args);
long vepoll_ctl_batch(const struct vepoll_ctl_batch *batch);
long vepoll_ctl_apply(struct file *epf, s32 epfd,
		      const struct vepoll_ctl_args __user *uctls,
		      s32 __user *uresults, bool report, u32 count,
		      int *err);
void vepoll_watch_remove(struct vepoll_instance *ep, struct vepoll_watch *w);
void vepoll_watch_reap(struct vepoll_instance *ep);
void vepoll_watch_remove_all(struct vepoll_instance *ep);
int vepoll_watch_cache_init(void);
void vepoll_watch_cache_exit(void);

/* vepoll_event.c: wakeups, the ready list, harvesting, WAIT and WAIT2. */
void vepoll_lock(struct vepoll_instance *ep);
bool vepoll_lock_poll(struct vepoll_instance *ep, int depth, bool foreign);
void vepoll_unlock(struct vepoll_instance *ep);
int vepoll_watch_hook(struct vepoll_watch *w, __poll_t *revents);
void vepoll_watch_unhook(struct vepoll_watch *w);
int vepoll_wakeup_add(struct vepoll_instance *ep, struct vepoll_watch *w);
__poll_t vepoll_watch_poll(struct vepoll_watch *w, poll_table *pt, int depth);
void vepoll_queue_if_ready(struct vepoll_instance *ep, struct vepoll_watch *w,
			   __poll_t revents);
int vepoll_send_events(struct vepoll_instance *ep,
		       struct vepoll_event __user *uevents, int maxevents);
__poll_t vepoll_instance_poll(struct vepoll_instance *ep, poll_table *pt,
			      int depth, bool foreign);
void vepoll_wake_pollers(struct vepoll_instance *ep);
bool vepoll_is_native_epoll(const struct file *file,
			    const struct vepoll_instance *ep);
void vepoll_poll_work(struct irq_work *work);
long vepoll_wait(const struct vepoll_wait_args *args);
long vepoll_wait2(const struct vepoll_wait2_args *args);
int vepoll_event_init(void);
void vepoll_event_exit(void);

/* vepoll_target.c: watched files, and learning of their last close. */
int vepoll_target_attach(struct vepoll_watch *w);
void vepoll_target_detach(struct vepoll_watch *w);
void vepoll_target_stats(struct seq_file *m);
int vepoll_target_init(void);
void vepoll_target_exit(void);

/* vepoll_nest.c: instances inside instances. */
void vepoll_nest_lock(void);
void vepoll_nest_unlock(void);
int vepoll_nest_check(struct vepoll_instance *ep, struct vepoll_instance *to);
void vepoll_nest_link(struct vepoll_watch *w, struct vepoll_instance *to);
void vepoll_nest_unlink(struct vepoll_watch *w);
void vepoll_nest_release(struct vepoll_instance *ep);

/* vepoll_stats.c: module-wide statistics in debugfs. */
void vepoll_stats_init(void);
void vepoll_stats_exit(void);

/**
 * vepoll_interest() - conditions a watch reports
 * @events: the watch's mask, mode bits included
 *
 * Error and hang-up are always reported, even when not asked for.
 *
 * Return: the condition bits to test against the target's readiness.
 */
static inline __poll_t vepoll_interest(u32 events)
{
	return (__force __poll_t)((events & VEPOLL_CONDITIONS) |
				  VEPOLLERR | VEPOLLHUP);
}

/**
 * vepoll_pm_stay_awake() - a watch was queued: hold off suspend
 * @w: the watch; @w->ep->lock is held
 *
 * VEPOLLWAKEUP's wakeup source is active exactly while the watch is
 * queued. Wakeup sources are IRQ-safe, as the wakeup callback needs.
 */
static inline void vepoll_pm_stay_awake(struct vepoll_watch *w)
{
	lockdep_assert_held(&w->ep->lock);
	if (w->ws)
		__pm_stay_awake(w->ws);
}

/**
 * vepoll_pm_relax() - a watch left the ready list: let suspend happen
 * @w: the watch; @w->ep->lock is held
 */
static inline void vepoll_pm_relax(struct vepoll_watch *w)
{
	lockdep_assert_held(&w->ep->lock);
	if (w->ws)
		__pm_relax(w->ws);
}

/**
 * vepoll_watch_fget() - a reference on a watch's file, to poll it
 * @w: the watch; @w->ep->lock is held
 *
 * As Linux's epi_fget(): the reference is taken only while the count is
 * above zero. A watch that is not dead has a file whose close path has
 * not passed vepoll yet, so the file is still there to look at.
 *
 * Return: the file, or NULL if its last reference is gone.
 */
static inline struct file *vepoll_watch_fget(struct vepoll_watch *w)
{
	lockdep_assert_held(&w->ep->lock);
	if (w->dead || !get_file_rcu(w->file))
		return NULL;
	return w->file;
}

/**
 * vepoll_is_instance_file() - does a file stand for a vepoll instance?
 * @file: any file
 *
 * Inline: every CTL and every nested poll asks, several times.
 *
 * Return: true if @file is an instance file; its private_data is then the
 * struct vepoll_instance.
 */
static inline bool vepoll_is_instance_file(const struct file *file)
{
	return file->f_op == &vepoll_instance_fops;
}

#endif /* _VEPOLL_H */
