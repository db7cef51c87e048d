/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Objects shared by the vepoll module's files.
 *
 * LOCKING
 *
 * Locks, outermost first; a lock is only taken while holding locks above
 * it in this list:
 *
 *   vepoll_registry_mutex   (vepoll_registry.c) the registry and its counters;
 *                           held while an instance is freed, and by a
 *                           watched file's last close while it removes
 *                           the watches on it (vepoll_target.c); held
 *                           across an ADD whose target is an instance, so
 *                           that the cycle check and the insertion are one
 *                           step (vepoll_nest.c)
 *   ep->mtx                 (per instance) the watch tree and watch data;
 *                           an instance polling an inner instance takes
 *                           the inner mtx with subclass = nesting depth
 *   vepoll_marks_mutex      (vepoll_target.c) making and destroying the
 *                           fsnotify marks, then fsnotify's own group
 *                           mark_mutex
 *   vepoll_nest_lock        (vepoll_nest.c) the instance-in-instance graph
 *   vepoll_targets_lock     (vepoll_target.c) the watches of each file,
 *                           the marks' hash table and users
 *
 * Wakeup callbacks run under the target's wait-queue lock, possibly in IRQ
 * context, so on that path only spinlocks are taken, with IRQs disabled:
 *
 *   target wait-queue lock -> ep->lock -> ep->wq.lock
 *   ep->poll_work (irq_work) -> ep->poll_wait.lock -> outer ep->lock -> ...
 *
 * ep->lock (per instance) guards the ready list, the armed state of the
 * watches and additions to ep->wq. It is never held while calling into a
 * target (vfs_poll, wait-queue removal). The pollers of an instance file
 * (ep->poll_wait) are woken from an irq_work, with no lock held, so the
 * wakeup callbacks of nested files never nest poll_wait locks, whatever
 * mix of instances and native epoll files is nested.
 */
#ifndef _VEPOLL_H
#define _VEPOLL_H

#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "vepoll_uapi.h"

/* Longest chain of instances watching instances (SPEC 3: ELOOP beyond). */
#define VEPOLL_MAX_NESTS	5

/* Every condition bit a CTL mask may hold, and the two mode bits. */
#define VEPOLL_CONDITIONS	(VEPOLLIN | VEPOLLPRI | VEPOLLOUT | VEPOLLERR | \
				 VEPOLLHUP | VEPOLLRDNORM | VEPOLLRDBAND | \
				 VEPOLLWRNORM | VEPOLLWRBAND | VEPOLLMSG | \
				 VEPOLLRDHUP)
#define VEPOLL_MODES		(VEPOLLET | VEPOLLONESHOT)

/* Module parameters (vepoll_main.c), read-only once the module is loaded. */
extern unsigned int vepoll_max_instances;
extern unsigned int vepoll_max_watches;
extern unsigned int vepoll_wait_cap_ms;
extern unsigned int vepoll_max_user_instances;

/**
 * struct vepoll_instance - an event set, the object behind an instance fd
 * @id: registry id, from 1, never reused while the instance lives
 * @owner: effective uid charged for the instance (max_user_instances)
 * @file: the anon-inode file standing for the instance
 * @mtx: serialises CTL, harvesting and fdinfo; protects @watches,
 *	@nr_watches and each watch's @data
 * @mtx_owner: task holding @mtx, to refuse a poll that re-enters it
 * @watches: every watch, keyed by (target file, fd)
 * @nr_watches: number of entries in @watches
 * @lock: protects @rdllist and each watch's @rdllink, @events, @disarmed,
 *	@echoed; taken from wakeup callbacks, which may run in IRQ context
 * @rdllist: watches whose target signalled readiness, oldest first
 * @wq: tasks sleeping in VEPOLL_IOC_WAIT (exclusive waiters)
 * @poll_wait: pollers of @file (poll, select, epoll, an outer instance)
 * @poll_work: wakes @poll_wait from a clean context (vepoll_event.c)
 * @poll_missed: bit 0 set by a poll that could not take @mtx; the holder
 *	wakes @poll_wait when it lets go, so the poller looks again
 * @children: watches of this instance whose target is an instance
 * @parents: watches of other instances whose target is this instance
 * @nest_gen: generation of the last nesting check that measured @nest_depth
 * @nest_depth: longest chain of instances measured from here
 *
 * @children, @parents, @nest_gen and @nest_depth are guarded by
 * vepoll_nest_lock (vepoll_nest.c).
 */
struct vepoll_instance {
	u32 id;
	kuid_t owner;
	struct file *file;

	struct mutex mtx;		/* CTL, harvesting, fdinfo */
	struct task_struct *mtx_owner;
	struct rb_root watches;
	unsigned int nr_watches;

	spinlock_t lock;		/* ready list, armed state */
	struct list_head rdllist;
	wait_queue_head_t wq;
	wait_queue_head_t poll_wait;
	struct irq_work poll_work;
	unsigned long poll_missed;

	struct list_head children;
	struct list_head parents;
	u64 nest_gen;
	int nest_depth;
};

struct vepoll_target;
struct vepoll_pwq;

/**
 * struct vepoll_watch - one entry of an instance's watch list
 * @node: link in the instance's @watches tree
 * @rdllink: link in the instance's ready list, or in a harvester's private
 *	list while it reports the watch; empty otherwise
 * @ep: the instance the watch belongs to
 * @target: the watches on the same file, in any instance
 * @target_link: link in @target's list
 * @file: the watched file (first half of the key); not referenced, the
 *	watch is removed when the file is closed for the last time
 * @fd: fd number the watch was added with (second half of the key)
 * @events: the mask given to ADD or MOD, mode bits included
 * @disarmed: a ONESHOT watch that reported and waits for MOD
 * @native_epoll: the target is a native epoll file (asked on every wakeup,
 *	so found once, at ADD)
 * @echoed: a wakeup of a native epoll target found @w queued and woke the
 *	pollers; reset whenever @w is queued (vepoll_queue_ready())
 * @data: user cookie returned with every event
 * @pwqs: wait-queue entries this watch placed on the target's queues
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
	u64 data;
	struct vepoll_pwq *pwqs;
	struct list_head child_link;
	struct list_head parent_link;
};

/* vepoll_registry.c: the registry of instances and its limits. */
struct vepoll_instance *vepoll_instance_alloc(void);
void vepoll_instance_free(struct vepoll_instance *ep);
void vepoll_registry_lock(void);
void vepoll_registry_unlock(void);

/* vepoll_fops.c: the anon-inode file that stands for an instance. */
extern const struct file_operations vepoll_instance_fops;
int vepoll_create_fd(unsigned long flags);

/* vepoll_ctl.c: the watch list (VEPOLL_IOC_CTL, VEPOLL_IOC_CTL_BATCH). */
int vepoll_ctl(const struct vepoll_ctl_args *args);
long vepoll_ctl_batch(const struct vepoll_ctl_batch *batch);
void vepoll_watch_remove(struct vepoll_instance *ep, struct vepoll_watch *w);
void vepoll_watch_remove_all(struct vepoll_instance *ep);
void vepoll_watch_remove_file(struct vepoll_instance *ep, struct file *file);
int vepoll_watch_cache_init(void);
void vepoll_watch_cache_exit(void);

/* vepoll_event.c: wakeups, the ready list, harvesting, VEPOLL_IOC_WAIT. */
void vepoll_lock(struct vepoll_instance *ep);
bool vepoll_lock_poll(struct vepoll_instance *ep, int depth, bool foreign);
void vepoll_unlock(struct vepoll_instance *ep);
int vepoll_watch_hook(struct vepoll_watch *w, __poll_t *revents);
void vepoll_watch_unhook(struct vepoll_watch *w);
__poll_t vepoll_watch_poll(struct vepoll_watch *w, poll_table *pt, int depth);
void vepoll_queue_if_ready(struct vepoll_instance *ep, struct vepoll_watch *w,
			   __poll_t revents);
int vepoll_send_events(struct vepoll_instance *ep,
		       struct vepoll_event __user *uevents, int maxevents);
__poll_t vepoll_instance_poll(struct vepoll_instance *ep, poll_table *pt,
			      int depth, bool foreign);
void vepoll_wake_pollers(struct vepoll_instance *ep);
bool vepoll_is_native_epoll(const struct file *file);
void vepoll_poll_work(struct irq_work *work);
long vepoll_wait(const struct vepoll_wait_args *args);
int vepoll_event_init(void);
void vepoll_event_exit(void);

/* vepoll_target.c: watched files, and learning of their last close. */
int vepoll_target_attach(struct vepoll_watch *w);
void vepoll_target_detach(struct vepoll_watch *w);
struct vepoll_watch *vepoll_target_watch_of(struct vepoll_instance *ep,
					    struct file *file);
int vepoll_target_init(void);
void vepoll_target_exit(void);

/* vepoll_nest.c: instances inside instances. */
int vepoll_nest_check(struct vepoll_instance *ep, struct vepoll_instance *to);
void vepoll_nest_link(struct vepoll_watch *w, struct vepoll_instance *to);
void vepoll_nest_unlink(struct vepoll_watch *w);

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
