// SPDX-License-Identifier: GPL-2.0
/*
 * Watched files, and learning when their last reference goes.
 *
 * Linux's epoll learns that a watched file is going away from
 * eventpoll_release(), called by __fput() before the file's release
 * method can free the wait queues the watches sit on. A module cannot add
 * to __fput(), but __fput() first calls fsnotify_close(), which reports
 * FS_CLOSE to every fsnotify mark on the file's inode, mount or
 * superblock. vepoll keeps one mark on the superblock of every watched
 * file: made at the first watch on a file of that superblock, kept until
 * the superblock or the module goes away. So watching a new socket or pipe
 * costs no fsnotify work (all sockets share one superblock, all pipes
 * another), and the close of any file on a marked superblock calls
 * vepoll_notify_event(), which costs one lock-free hash lookup when the
 * file is not watched.
 *
 * When it is, the close path kills every watch on the file there and
 * then, with spinlocks only (see LIFETIMES and LOCKING in vepoll.h): it
 * runs inside fsnotify's SRCU read section and in the closing task, so it
 * must not wait for an instance mutex that a faulting WAIT may hold.
 *
 * A file opened with FMODE_NONOTIFY (a pty master from /dev/ptmx, a
 * fanotify event file) never reports its close. Its target holds a
 * reference instead, and a reaper that runs every VEPOLL_PINNED_PERIOD
 * while such targets exist kills their watches and drops the reference
 * once it is the only one left, i.e. once user space closed the file.
 */
#include <linux/file.h>
#include <linux/fsnotify_backend.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "vepoll.h"

/* How often pinned targets are checked: their close is seen within this. */
#define VEPOLL_PINNED_PERIOD	(HZ / 20)

/**
 * struct vepoll_target - the watches on one file
 * @node: link in vepoll_targets, keyed by @file
 * @file: the watched file; referenced only if @pinned
 * @lock: guards @watches and @dead (see LOCKING in vepoll.h)
 * @watches: the live watches, linked by their @target_link
 * @dead: the target left vepoll_targets and is being freed
 * @pinned: @file is FMODE_NONOTIFY, and the target holds a reference on it
 * @pinned_link: link in vepoll_pinned, when @pinned
 * @refs: one per watch, live or dead, whose @target this is
 * @rcu: frees the target after lock-free lookups are done with it
 *
 * A killed target leaves the table at once, and memory once the watches
 * that point to it are freed, so a holder of ep->mtx may always take the
 * lock of its watch's target.
 */
struct vepoll_target {
	struct rhash_head node;
	struct file *file;
	spinlock_t lock;		/* see LOCKING in vepoll.h */
	refcount_t refs;
	struct list_head watches;
	bool dead;
	bool pinned;
	struct list_head pinned_link;
	struct rcu_head rcu;
};

static const struct rhashtable_params vepoll_target_params = {
	.head_offset		= offsetof(struct vepoll_target, node),
	.key_offset		= offsetof(struct vepoll_target, file),
	.key_len		= sizeof(struct file *),
	.automatic_shrinking	= true,
};

static struct rhashtable vepoll_targets;

/**
 * struct vepoll_sbmark - vepoll's fsnotify mark on a superblock
 * @fsn: the mark; vepoll's reference is dropped when fsnotify frees it
 * @sb: the superblock
 * @node: link in vepoll_sbmarks, hashed by @sb, looked up under RCU
 * @exiting: the module is destroying the mark, and keeps its reference
 *	until fsnotify_destroy_mark() returns
 * @rcu: frees the mark after lock-free lookups are done with it
 *
 * vepoll_sbmarks changes, and @exiting is read and written, only under
 * vepoll_sbmarks_mutex.
 */
struct vepoll_sbmark {
	struct fsnotify_mark fsn;
	struct super_block *sb;
	struct hlist_node node;
	bool exiting;
	struct rcu_head rcu;
};

#define VEPOLL_SBMARKS_BITS	6
static DEFINE_HASHTABLE(vepoll_sbmarks, VEPOLL_SBMARKS_BITS);
static DEFINE_MUTEX(vepoll_sbmarks_mutex);
static struct fsnotify_group *vepoll_notify_group;
/* The group's last reference is gone: no fsnotify callback is left. */
static DECLARE_COMPLETION(vepoll_notify_group_freed);

/*
 * What the close path costs the system (vepoll/stats in debugfs): every
 * close on a marked superblock is a lookup, and only a close that finds a
 * target does more. Per CPU, so counting adds no shared cache line to
 * every close.
 */
static DEFINE_PER_CPU(unsigned long, vepoll_close_lookups);
static DEFINE_PER_CPU(unsigned long, vepoll_close_kills);
static DEFINE_PER_CPU(unsigned long, vepoll_pinned_kills);

static LIST_HEAD(vepoll_pinned);
static DEFINE_SPINLOCK(vepoll_pinned_lock);
static void vepoll_pinned_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(vepoll_pinned_work, vepoll_pinned_reap);

static bool vepoll_sbmark_exists(struct super_block *sb)
{
	struct vepoll_sbmark *mark;
	bool found = false;

	rcu_read_lock();
	hash_for_each_possible_rcu(vepoll_sbmarks, mark, node,
				   hash_ptr(sb, VEPOLL_SBMARKS_BITS))
		if (mark->sb == sb) {
			found = true;
			break;
		}
	rcu_read_unlock();
	return found;
}

/*
 * Make sure @sb carries vepoll's mark. The caller holds a file of @sb, so
 * the superblock, and a mark on it, cannot go away meanwhile.
 */
static int vepoll_sbmark_get(struct super_block *sb)
{
	struct vepoll_sbmark *mark;
	int err = 0;

	if (vepoll_sbmark_exists(sb))
		return 0;
	mutex_lock(&vepoll_sbmarks_mutex);
	if (vepoll_sbmark_exists(sb))
		goto out;
	err = -ENOMEM;
	/*
	 * Not charged to the caller's memory cgroup: the mark serves every
	 * user of the superblock and outlives the caller, so charging it
	 * would pin one cgroup for as long as the module is loaded.
	 */
	mark = kzalloc(sizeof(*mark), GFP_KERNEL);
	if (!mark)
		goto out;
	fsnotify_init_mark(&mark->fsn, vepoll_notify_group);
	mark->fsn.mask = FS_CLOSE_WRITE | FS_CLOSE_NOWRITE;
	mark->sb = sb;
	err = fsnotify_add_mark(&mark->fsn, &sb->s_fsnotify_marks,
				FSNOTIFY_OBJ_TYPE_SB, 0, NULL);
	if (err) {
		fsnotify_put_mark(&mark->fsn);
		goto out;
	}
	hash_add_rcu(vepoll_sbmarks, &mark->node,
		     hash_ptr(sb, VEPOLL_SBMARKS_BITS));
out:
	mutex_unlock(&vepoll_sbmarks_mutex);
	return err;
}

/* Kill @w, whose file's last reference is gone; @w->target->lock is held. */
static void vepoll_watch_kill(struct vepoll_watch *w)
{
	struct vepoll_instance *ep = w->ep;
	unsigned long flags;

	list_del(&w->target_link);
	vepoll_watch_unhook(w);
	spin_lock_irqsave(&ep->lock, flags);
	w->dead = true;
	list_del_init(&w->rdllink);
	/* Released now; unregistered by vepoll_watch_reap(), which may sleep. */
	vepoll_pm_relax(w);
	list_add_tail(&w->target_link, &ep->dead);
	spin_unlock_irqrestore(&ep->lock, flags);
}

/* Kill every watch on @t and take @t out of the table; @t->lock is held. */
static void vepoll_target_kill(struct vepoll_target *t)
{
	struct vepoll_watch *w, *next;

	list_for_each_entry_safe(w, next, &t->watches, target_link)
		vepoll_watch_kill(w);
	t->dead = true;
	rhashtable_remove_fast(&vepoll_targets, &t->node, vepoll_target_params);
}

static void vepoll_target_put(struct vepoll_target *t)
{
	if (refcount_dec_and_test(&t->refs))
		kfree_rcu(t, rcu);
}

/* Enter @w in the live target of its file, if there is one. */
static bool vepoll_target_join(struct vepoll_watch *w)
{
	struct vepoll_target *t;
	bool joined = false;

	rcu_read_lock();
	t = rhashtable_lookup(&vepoll_targets, &w->file, vepoll_target_params);
	if (t) {
		spin_lock(&t->lock);
		joined = !t->dead;
		if (joined) {
			list_add_tail(&w->target_link, &t->watches);
			refcount_inc(&t->refs);
			w->target = t;
		}
		spin_unlock(&t->lock);
	}
	rcu_read_unlock();
	return joined;
}

/* Make @t the target of @w's file, with @w in it. Return: 0 or -EEXIST. */
static int vepoll_target_insert(struct vepoll_target *t, struct vepoll_watch *w)
{
	struct vepoll_target *old;

	t->file = w->file;
	spin_lock_init(&t->lock);
	refcount_set(&t->refs, 1);
	INIT_LIST_HEAD(&t->watches);
	list_add(&w->target_link, &t->watches);
	w->target = t;
	t->pinned = !!(w->file->f_mode & FMODE_NONOTIFY);
	old = rhashtable_lookup_get_insert_fast(&vepoll_targets, &t->node,
						vepoll_target_params);
	if (!old) {
		if (t->pinned) {
			get_file(w->file);
			spin_lock(&vepoll_pinned_lock);
			list_add(&t->pinned_link, &vepoll_pinned);
			spin_unlock(&vepoll_pinned_lock);
			schedule_delayed_work(&vepoll_pinned_work,
					      VEPOLL_PINNED_PERIOD);
		}
		return 0;
	}
	w->target = NULL;
	/* Another ADD made the target meanwhile: join it. */
	return IS_ERR(old) ? -ENOMEM : -EEXIST;
}

/**
 * vepoll_target_attach() - enter a new watch in the target of its file
 * @w: the watch, with @w->file set; the caller holds a reference on the
 *	file and @w->ep's mtx
 *
 * Return: 0, or -ENOMEM.
 */
int vepoll_target_attach(struct vepoll_watch *w)
{
	struct vepoll_target *fresh = NULL;
	int err = 0;

	if (!(w->file->f_mode & FMODE_NONOTIFY)) {
		err = vepoll_sbmark_get(w->file->f_path.dentry->d_sb);
		if (err)
			return err;
	}
	while (!vepoll_target_join(w)) {
		if (!fresh)
			fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
		if (!fresh)
			return -ENOMEM;
		err = vepoll_target_insert(fresh, w);
		if (err != -EEXIST)
			break;
		err = 0;
	}
	if (w->target != fresh)
		kfree(fresh);
	return err;
}

/* A pinned target was killed: let its file go. */
static void vepoll_target_unpin(struct vepoll_target *t)
{
	spin_lock(&vepoll_pinned_lock);
	list_del(&t->pinned_link);
	spin_unlock(&vepoll_pinned_lock);
	fput(t->file);
}

/**
 * vepoll_target_detach() - take a watch out of its target
 * @w: a watch being removed; @w->ep's mtx is held
 *
 * Either the watch is still live, and this unhooks it, or the close path
 * killed it, entirely, under the target's lock, which this takes too.
 * Either way, once this returns nothing but the caller touches @w.
 *
 * The caller may hold no reference on the file (an instance's release),
 * so a live watch is unhooked before the target's lock is let go: once
 * the close path is past that lock, the file's release may free the wait
 * queues the watch sat on.
 */
void vepoll_target_detach(struct vepoll_watch *w)
{
	struct vepoll_target *t = w->target;
	struct vepoll_instance *ep = w->ep;
	bool alive, last = false;

	spin_lock(&t->lock);
	alive = !w->dead;
	if (alive) {
		list_del(&w->target_link);
		vepoll_watch_unhook(w);
		last = list_empty(&t->watches);
		if (last) {
			t->dead = true;
			rhashtable_remove_fast(&vepoll_targets, &t->node,
					       vepoll_target_params);
		}
	}
	spin_unlock(&t->lock);

	spin_lock_irq(&ep->lock);
	list_del_init(&w->rdllink);
	if (!alive)
		list_del(&w->target_link);	/* off ep->dead */
	spin_unlock_irq(&ep->lock);
	if (last && t->pinned)
		vepoll_target_unpin(t);
	vepoll_target_put(t);
}

/* The last reference on @file is going: kill every watch on it. */
static void vepoll_target_closing(struct file *file)
{
	struct vepoll_target *t;

	this_cpu_inc(vepoll_close_lookups);
	rcu_read_lock();
	t = rhashtable_lookup(&vepoll_targets, &file, vepoll_target_params);
	if (t) {
		spin_lock(&t->lock);
		if (!t->dead) {
			vepoll_target_kill(t);
			this_cpu_inc(vepoll_close_kills);
		}
		spin_unlock(&t->lock);
	}
	rcu_read_unlock();
}

/*
 * Every VEPOLL_PINNED_PERIOD while pinned targets exist: a pinned file
 * whose only reference is its target's was closed by user space.
 */
static void vepoll_pinned_reap(struct work_struct *work)
{
	struct vepoll_target *t, *next;
	LIST_HEAD(closed);
	bool again;

	spin_lock(&vepoll_pinned_lock);
	list_for_each_entry_safe(t, next, &vepoll_pinned, pinned_link) {
		if (file_count(t->file) != 1)
			continue;
		spin_lock(&t->lock);
		if (!t->dead) {
			vepoll_target_kill(t);
			list_move(&t->pinned_link, &closed);
			/* Its dead watches may be freed as soon as we unlock. */
			refcount_inc(&t->refs);
			this_cpu_inc(vepoll_pinned_kills);
		}
		spin_unlock(&t->lock);
	}
	again = !list_empty(&vepoll_pinned);
	spin_unlock(&vepoll_pinned_lock);

	list_for_each_entry_safe(t, next, &closed, pinned_link) {
		fput(t->file);
		vepoll_target_put(t);
	}
	if (again)
		schedule_delayed_work(&vepoll_pinned_work, VEPOLL_PINNED_PERIOD);
}

static int vepoll_notify_event(struct fsnotify_group *group, u32 mask,
			       const void *data, int data_type,
			       struct inode *dir, const struct qstr *file_name,
			       u32 cookie, struct fsnotify_iter_info *iter_info)
{
	const struct path *path = fsnotify_data_path(data, data_type);

	/* FS_CLOSE comes from fsnotify_close(file), with &file->f_path. */
	if (path && (mask & (FS_CLOSE_WRITE | FS_CLOSE_NOWRITE)))
		vepoll_target_closing(container_of(path, struct file, f_path));
	return 0;
}

/*
 * The superblock is going away (or the module, which then keeps its own
 * reference): forget the mark and let fsnotify free it.
 */
static void vepoll_notify_freeing_mark(struct fsnotify_mark *fsn,
				       struct fsnotify_group *group)
{
	struct vepoll_sbmark *mark = container_of(fsn, struct vepoll_sbmark,
						  fsn);
	bool exiting;

	mutex_lock(&vepoll_sbmarks_mutex);
	exiting = mark->exiting;
	if (!exiting)
		hash_del_rcu(&mark->node);
	mutex_unlock(&vepoll_sbmarks_mutex);
	if (!exiting)
		fsnotify_put_mark(fsn);
}

static void vepoll_notify_free_mark(struct fsnotify_mark *fsn)
{
	kfree_rcu(container_of(fsn, struct vepoll_sbmark, fsn), rcu);
}

/* Each mark holds a group reference: this runs after the last is freed. */
static void vepoll_notify_free_group(struct fsnotify_group *group)
{
	complete(&vepoll_notify_group_freed);
}

static const struct fsnotify_ops vepoll_notify_ops = {
	.handle_event		= vepoll_notify_event,
	.freeing_mark		= vepoll_notify_freeing_mark,
	.free_mark		= vepoll_notify_free_mark,
	.free_group_priv	= vepoll_notify_free_group,
};

static unsigned long vepoll_sum(unsigned long __percpu *counter)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(counter, cpu);
	return sum;
}

/**
 * vepoll_target_stats() - print the close path's statistics
 * @m: the debugfs file being read
 *
 * watched_files: files with at least one watch; close_lookups: closes on
 * a marked superblock, each one hash lookup; close_kills: those that found
 * watches and killed them; pinned_kills: FMODE_NONOTIFY files whose close
 * the reaper noticed.
 */
void vepoll_target_stats(struct seq_file *m)
{
	seq_printf(m, "watched_files %u\n",
		   atomic_read(&vepoll_targets.nelems));
	seq_printf(m, "close_lookups %lu\n",
		   vepoll_sum(&vepoll_close_lookups));
	seq_printf(m, "close_kills %lu\n", vepoll_sum(&vepoll_close_kills));
	seq_printf(m, "pinned_kills %lu\n", vepoll_sum(&vepoll_pinned_kills));
}

/**
 * vepoll_target_init() - create the target table and the fsnotify group
 *
 * Return: 0 or a negative errno.
 */
int vepoll_target_init(void)
{
	int err;

	err = rhashtable_init(&vepoll_targets, &vepoll_target_params);
	if (err)
		return err;
	vepoll_notify_group = fsnotify_alloc_group(&vepoll_notify_ops, 0);
	if (IS_ERR(vepoll_notify_group)) {
		rhashtable_destroy(&vepoll_targets);
		return PTR_ERR(vepoll_notify_group);
	}
	return 0;
}

/* Take one mark out of vepoll_sbmarks, keeping its reference, or NULL. */
static struct vepoll_sbmark *vepoll_sbmark_take(void)
{
	struct vepoll_sbmark *mark;
	int bkt;

	mutex_lock(&vepoll_sbmarks_mutex);
	hash_for_each(vepoll_sbmarks, bkt, mark, node) {
		hash_del_rcu(&mark->node);
		mark->exiting = true;
		mutex_unlock(&vepoll_sbmarks_mutex);
		return mark;
	}
	mutex_unlock(&vepoll_sbmarks_mutex);
	return NULL;
}

/**
 * vepoll_target_exit() - destroy the marks, the group and the table
 *
 * Every instance is gone, so every target is. A superblock may be shut
 * down meanwhile, destroying its mark too: a mark taken out of the table
 * first is ours to destroy. Freeing a mark calls into this module, from a
 * superblock's shutdown or from fsnotify's reaper, and every mark holds a
 * reference on the group: the module may go once the group is freed.
 */
void vepoll_target_exit(void)
{
	struct vepoll_sbmark *mark;

	cancel_delayed_work_sync(&vepoll_pinned_work);
	while ((mark = vepoll_sbmark_take())) {
		fsnotify_destroy_mark(&mark->fsn, vepoll_notify_group);
		fsnotify_put_mark(&mark->fsn);
	}
	fsnotify_put_group(vepoll_notify_group);
	wait_for_completion(&vepoll_notify_group_freed);
	rhashtable_destroy(&vepoll_targets);
}
