// SPDX-License-Identifier: GPL-2.0
/*
 * Watched files, and learning when user space closes them.
 *
 * Linux's epoll learns that a watched file is going away from a hook at
 * the start of __fput(), before the file's release method can free the
 * wait queues the watches sit on. A module cannot add to __fput(), but
 * __fput() begins with fsnotify_close(), which reports FS_CLOSE to every
 * fsnotify mark on the file's inode. So vepoll keeps one fsnotify mark on
 * the inode of each watched file and, when a watched file is closed for
 * the last time, removes every watch on it right there, as epoll does. A
 * watch therefore holds no reference on its file: the file goes away when
 * user space closes its last descriptor, and the watch with it.
 *
 * A target is the set of watches (in any instance) on one file, found by
 * file in a hash table; a mark is shared by the targets of one inode. A
 * mark outlives its last target until a file of its inode is closed, so
 * that a program which adds and deletes the same fd over and over does
 * not make and destroy a mark each time.
 */
#include <linux/file.h>
#include <linux/fsnotify_backend.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/lockdep.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "vepoll.h"

/**
 * struct vepoll_mark - vepoll's fsnotify mark on an inode
 * @fsn: the mark; vepoll's own reference is dropped when it is destroyed
 * @inode: the inode, pinned by fsnotify while the mark is attached
 * @users: targets whose file has this inode
 * @node: link in vepoll_marks, hashed by @inode
 *
 * @users and @node are guarded by vepoll_targets_lock, so that a watch on
 * an inode that has a mark already costs one hash lookup; making and
 * destroying a mark is serialised by vepoll_marks_mutex.
 */
struct vepoll_mark {
	struct fsnotify_mark fsn;
	struct inode *inode;
	unsigned int users;
	struct hlist_node node;
};

/**
 * struct vepoll_target - the watches on one file
 * @node: link in vepoll_targets, hashed by @file
 * @file: the watched file (not referenced: see the top of this file)
 * @watches: the watches, linked by their @target_link
 * @mark: the mark on @file's inode
 */
struct vepoll_target {
	struct hlist_node node;
	struct file *file;
	struct list_head watches;
	struct vepoll_mark *mark;
};

#define VEPOLL_TARGETS_BITS	10
#define VEPOLL_MARKS_BITS	8
static DEFINE_HASHTABLE(vepoll_targets, VEPOLL_TARGETS_BITS);
static DEFINE_HASHTABLE(vepoll_marks, VEPOLL_MARKS_BITS);
static DEFINE_SPINLOCK(vepoll_targets_lock);
static DEFINE_MUTEX(vepoll_marks_mutex);
static struct fsnotify_group *vepoll_notify_group;

static struct vepoll_mark *vepoll_mark_find(struct inode *inode)
{
	struct vepoll_mark *mark;

	lockdep_assert_held(&vepoll_targets_lock);
	hash_for_each_possible(vepoll_marks, mark, node,
			       hash_ptr(inode, VEPOLL_MARKS_BITS))
		if (mark->inode == inode)
			return mark;
	return NULL;
}

/*
 * The slow path of a new target: make @inode's mark if it has none.
 * Return: the mark with one more user, or an ERR_PTR().
 */
static struct vepoll_mark *vepoll_mark_get(struct inode *inode)
{
	struct vepoll_mark *mark;
	int err;

	mutex_lock(&vepoll_marks_mutex);
	spin_lock(&vepoll_targets_lock);
	mark = vepoll_mark_find(inode);
	if (mark)
		mark->users++;
	spin_unlock(&vepoll_targets_lock);
	if (mark)
		goto out;

	mark = kzalloc(sizeof(*mark), GFP_KERNEL_ACCOUNT);
	if (!mark) {
		mark = ERR_PTR(-ENOMEM);
		goto out;
	}
	fsnotify_init_mark(&mark->fsn, vepoll_notify_group);
	mark->fsn.mask = FS_CLOSE_WRITE | FS_CLOSE_NOWRITE;
	mark->inode = inode;
	mark->users = 1;
	err = fsnotify_add_inode_mark(&mark->fsn, inode, 0);
	if (err) {
		fsnotify_put_mark(&mark->fsn);
		mark = ERR_PTR(err);
		goto out;
	}
	spin_lock(&vepoll_targets_lock);
	hash_add(vepoll_marks, &mark->node, hash_ptr(inode, VEPOLL_MARKS_BITS));
	spin_unlock(&vepoll_targets_lock);
out:
	mutex_unlock(&vepoll_marks_mutex);
	return mark;
}

static void vepoll_mark_destroy(struct vepoll_mark *mark)
{
	lockdep_assert_held(&vepoll_marks_mutex);
	fsnotify_destroy_mark(&mark->fsn, vepoll_notify_group);
	fsnotify_put_mark(&mark->fsn);
}

/* A file of @inode was closed: destroy vepoll's mark if it is idle. */
static void vepoll_mark_reap(struct inode *inode)
{
	struct vepoll_mark *mark;

	mutex_lock(&vepoll_marks_mutex);
	spin_lock(&vepoll_targets_lock);
	mark = vepoll_mark_find(inode);
	if (mark && !mark->users)
		hash_del(&mark->node);
	else
		mark = NULL;
	spin_unlock(&vepoll_targets_lock);
	if (mark)
		vepoll_mark_destroy(mark);
	mutex_unlock(&vepoll_marks_mutex);
}

static struct vepoll_target *vepoll_target_find(struct file *file)
{
	struct vepoll_target *target;

	hash_for_each_possible(vepoll_targets, target, node,
			       hash_ptr(file, VEPOLL_TARGETS_BITS))
		if (target->file == file)
			return target;
	return NULL;
}

/* Make @fresh the target of @w's file, on @mark, with @w in it. */
static void vepoll_target_add(struct vepoll_target *fresh,
			      struct vepoll_mark *mark, struct vepoll_watch *w)
{
	lockdep_assert_held(&vepoll_targets_lock);
	fresh->file = w->file;
	fresh->mark = mark;
	INIT_LIST_HEAD(&fresh->watches);
	hash_add(vepoll_targets, &fresh->node,
		 hash_ptr(w->file, VEPOLL_TARGETS_BITS));
}

/*
 * Enter @w in its file's target, making the target from @fresh if the
 * file has none and its inode has a mark. Return: false if it needs one.
 */
static bool vepoll_target_enter(struct vepoll_watch *w,
				struct vepoll_target **fresh)
{
	struct vepoll_target *target;
	struct vepoll_mark *mark;

	lockdep_assert_held(&vepoll_targets_lock);
	target = vepoll_target_find(w->file);
	if (!target) {
		mark = vepoll_mark_find(file_inode(w->file));
		if (!mark)
			return false;
		mark->users++;
		target = *fresh;
		*fresh = NULL;
		vepoll_target_add(target, mark, w);
	}
	list_add_tail(&w->target_link, &target->watches);
	w->target = target;
	return true;
}

/**
 * vepoll_target_attach() - enter a new watch in the target of its file
 * @w: the watch, with @w->file set; the caller holds a reference on the
 *	file for the duration of the call, and @w->ep's mtx
 *
 * The caller has refused a file whose close fsnotify cannot report
 * (FMODE_NONOTIFY).
 *
 * Return: 0, or the error of making the inode's mark (-ENOMEM).
 */
int vepoll_target_attach(struct vepoll_watch *w)
{
	struct vepoll_target *fresh;
	struct vepoll_mark *mark;
	bool entered;

	fresh = kmalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;

	spin_lock(&vepoll_targets_lock);
	entered = vepoll_target_enter(w, &fresh);
	spin_unlock(&vepoll_targets_lock);
	if (!entered) {
		/* The inode's first watch: make its mark, then enter. */
		mark = vepoll_mark_get(file_inode(w->file));
		if (IS_ERR(mark)) {
			kfree(fresh);
			return PTR_ERR(mark);
		}
		spin_lock(&vepoll_targets_lock);
		/* Holds: the mark has a user, ours, so it stays hashed. */
		entered = vepoll_target_enter(w, &fresh);
		mark->users--;
		spin_unlock(&vepoll_targets_lock);
		WARN_ON_ONCE(!entered);
	}
	kfree(fresh);
	return 0;
}

/**
 * vepoll_target_detach() - take a watch out of its target
 * @w: a watch being removed; @w->ep's mtx is held
 *
 * The inode's mark stays, idle, until a file of the inode is closed.
 */
void vepoll_target_detach(struct vepoll_watch *w)
{
	struct vepoll_target *target = w->target;
	bool last;

	spin_lock(&vepoll_targets_lock);
	list_del(&w->target_link);
	last = list_empty(&target->watches);
	if (last) {
		hash_del(&target->node);
		target->mark->users--;
	}
	spin_unlock(&vepoll_targets_lock);

	if (last)
		kfree(target);
}

/* Some instance with a watch on @file, or NULL. */
static struct vepoll_instance *vepoll_target_watcher(struct file *file)
{
	struct vepoll_instance *ep = NULL;
	struct vepoll_target *target;

	spin_lock(&vepoll_targets_lock);
	target = vepoll_target_find(file);
	if (target)
		ep = list_first_entry(&target->watches, struct vepoll_watch,
				      target_link)->ep;
	spin_unlock(&vepoll_targets_lock);
	return ep;
}

/**
 * vepoll_target_watch_of() - a watch of one instance on a file
 * @ep: the instance, whose mtx the caller holds
 * @file: the file
 *
 * Return: a watch of @ep on @file, or NULL if it has none.
 */
struct vepoll_watch *vepoll_target_watch_of(struct vepoll_instance *ep,
					    struct file *file)
{
	struct vepoll_watch *w, *found = NULL;
	struct vepoll_target *target;

	spin_lock(&vepoll_targets_lock);
	target = vepoll_target_find(file);
	if (target) {
		list_for_each_entry(w, &target->watches, target_link) {
			if (w->ep == ep) {
				found = w;
				break;
			}
		}
	}
	spin_unlock(&vepoll_targets_lock);
	return found;
}

/*
 * The last reference on @file is going: drop every watch on it before its
 * release method runs. The registry mutex keeps each instance alive
 * between finding it and locking it (instances are freed under it).
 */
static void vepoll_target_closing(struct file *file)
{
	struct vepoll_instance *ep;

	/*
	 * Nobody can add a watch on a file in __fput(): no registry mutex is
	 * needed to see that it has none, which is what most closes find.
	 */
	if (!vepoll_target_watcher(file))
		return;

	vepoll_registry_lock();
	while ((ep = vepoll_target_watcher(file))) {
		vepoll_lock(ep);
		vepoll_watch_remove_file(ep, file);
		vepoll_unlock(ep);
	}
	vepoll_registry_unlock();
}

static int vepoll_notify_event(struct fsnotify_group *group, u32 mask,
			       const void *data, int data_type,
			       struct inode *dir, const struct qstr *file_name,
			       u32 cookie, struct fsnotify_iter_info *iter_info)
{
	const struct path *path = fsnotify_data_path(data, data_type);

	/* FS_CLOSE comes from fsnotify_close(file), with &file->f_path. */
	if (path && (mask & (FS_CLOSE_WRITE | FS_CLOSE_NOWRITE))) {
		vepoll_target_closing(container_of(path, struct file, f_path));
		vepoll_mark_reap(d_inode(path->dentry));
	}
	return 0;
}

static void vepoll_notify_free_mark(struct fsnotify_mark *fsn)
{
	kfree(container_of(fsn, struct vepoll_mark, fsn));
}

static const struct fsnotify_ops vepoll_notify_ops = {
	.handle_event	= vepoll_notify_event,
	.free_mark	= vepoll_notify_free_mark,
};

/**
 * vepoll_target_init() - create the fsnotify group of vepoll's marks
 *
 * Return: 0 or a negative errno.
 */
int vepoll_target_init(void)
{
	vepoll_notify_group = fsnotify_alloc_group(&vepoll_notify_ops, 0);
	return PTR_ERR_OR_ZERO(vepoll_notify_group);
}

/**
 * vepoll_target_exit() - destroy the fsnotify group of vepoll's marks
 *
 * Every instance is gone, so every mark is idle: destroy them, and wait
 * until they are freed, since freeing calls into this module.
 */
void vepoll_target_exit(void)
{
	struct vepoll_mark *mark;
	struct hlist_node *next;
	int bkt;

	mutex_lock(&vepoll_marks_mutex);
	hash_for_each_safe(vepoll_marks, bkt, next, mark, node) {
		hash_del(&mark->node);
		vepoll_mark_destroy(mark);
	}
	mutex_unlock(&vepoll_marks_mutex);
	fsnotify_wait_marks_destroyed();
	fsnotify_put_group(vepoll_notify_group);
}
