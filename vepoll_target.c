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
 * @users: targets whose file has this inode
 * @link: link in vepoll_marks, to destroy the idle ones at unload
 *
 * @users and @link are guarded by vepoll_marks_mutex.
 */
struct vepoll_mark {
	struct fsnotify_mark fsn;
	unsigned int users;
	struct list_head link;
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
static DEFINE_HASHTABLE(vepoll_targets, VEPOLL_TARGETS_BITS);
static DEFINE_SPINLOCK(vepoll_targets_lock);
static DEFINE_MUTEX(vepoll_marks_mutex);
static LIST_HEAD(vepoll_marks);
static struct fsnotify_group *vepoll_notify_group;

static struct vepoll_mark *vepoll_mark_get(struct inode *inode)
{
	struct fsnotify_mark *fsn;
	struct vepoll_mark *mark;
	int err;

	mutex_lock(&vepoll_marks_mutex);
	fsn = fsnotify_find_mark(&inode->i_fsnotify_marks, vepoll_notify_group);
	if (fsn) {
		mark = container_of(fsn, struct vepoll_mark, fsn);
		mark->users++;
		/* Our reference is the one taken when the mark was made. */
		fsnotify_put_mark(fsn);
		goto out;
	}
	mark = kzalloc(sizeof(*mark), GFP_KERNEL_ACCOUNT);
	if (!mark) {
		mark = ERR_PTR(-ENOMEM);
		goto out;
	}
	fsnotify_init_mark(&mark->fsn, vepoll_notify_group);
	mark->fsn.mask = FS_CLOSE_WRITE | FS_CLOSE_NOWRITE;
	mark->users = 1;
	err = fsnotify_add_inode_mark(&mark->fsn, inode, 0);
	if (err) {
		fsnotify_put_mark(&mark->fsn);
		mark = ERR_PTR(err);
		goto out;
	}
	list_add(&mark->link, &vepoll_marks);
out:
	mutex_unlock(&vepoll_marks_mutex);
	return mark;
}

static void vepoll_mark_put(struct vepoll_mark *mark)
{
	mutex_lock(&vepoll_marks_mutex);
	mark->users--;
	mutex_unlock(&vepoll_marks_mutex);
}

static void vepoll_mark_destroy(struct vepoll_mark *mark)
{
	lockdep_assert_held(&vepoll_marks_mutex);
	list_del(&mark->link);
	fsnotify_destroy_mark(&mark->fsn, vepoll_notify_group);
	fsnotify_put_mark(&mark->fsn);
}

/* A file of @inode was closed: destroy vepoll's mark if it is idle. */
static void vepoll_mark_reap(struct inode *inode)
{
	struct fsnotify_mark *fsn;

	mutex_lock(&vepoll_marks_mutex);
	fsn = fsnotify_find_mark(&inode->i_fsnotify_marks, vepoll_notify_group);
	if (fsn) {
		struct vepoll_mark *mark = container_of(fsn, struct vepoll_mark,
							fsn);

		if (!mark->users)
			vepoll_mark_destroy(mark);
		fsnotify_put_mark(fsn);
	}
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

/**
 * vepoll_target_attach() - enter a new watch in the target of its file
 * @w: the watch, with @w->file set; the caller holds a reference on the
 *	file for the duration of the call, and @w->ep's mtx
 *
 * Return: 0, -EPERM for a file whose close fsnotify cannot report, or the
 * error of making the inode's mark (-ENOMEM).
 */
int vepoll_target_attach(struct vepoll_watch *w)
{
	struct vepoll_target *target, *fresh;
	struct vepoll_mark *mark;

	/* Without FS_CLOSE the watch would outlive its file. */
	if (w->file->f_mode & FMODE_NONOTIFY)
		return -EPERM;
	fresh = kmalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;
	mark = vepoll_mark_get(file_inode(w->file));
	if (IS_ERR(mark)) {
		kfree(fresh);
		return PTR_ERR(mark);
	}

	spin_lock(&vepoll_targets_lock);
	target = vepoll_target_find(w->file);
	if (!target) {
		target = fresh;
		fresh = NULL;
		target->file = w->file;
		target->mark = mark;
		mark = NULL;
		INIT_LIST_HEAD(&target->watches);
		hash_add(vepoll_targets, &target->node,
			 hash_ptr(w->file, VEPOLL_TARGETS_BITS));
	}
	list_add_tail(&w->target_link, &target->watches);
	w->target = target;
	spin_unlock(&vepoll_targets_lock);

	/* The file was watched already: it has a target, and a mark. */
	if (mark)
		vepoll_mark_put(mark);
	kfree(fresh);
	return 0;
}

/**
 * vepoll_target_detach() - take a watch out of its target
 * @w: a watch being removed; @w->ep's mtx is held
 */
void vepoll_target_detach(struct vepoll_watch *w)
{
	struct vepoll_target *target = w->target;
	bool last;

	spin_lock(&vepoll_targets_lock);
	list_del(&w->target_link);
	last = list_empty(&target->watches);
	if (last)
		hash_del(&target->node);
	spin_unlock(&vepoll_targets_lock);

	if (last) {
		vepoll_mark_put(target->mark);
		kfree(target);
	}
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
	struct vepoll_mark *mark, *next;

	mutex_lock(&vepoll_marks_mutex);
	list_for_each_entry_safe(mark, next, &vepoll_marks, link)
		vepoll_mark_destroy(mark);
	mutex_unlock(&vepoll_marks_mutex);
	fsnotify_wait_marks_destroyed();
	fsnotify_put_group(vepoll_notify_group);
}
