// SPDX-License-Identifier: GPL-2.0
/*
 * The references vepoll holds on watched files.
 *
 * Linux's epoll learns that a watched file went away from a hook in
 * __fput(). A module has no such hook, so a watch must pin its file: a
 * wait-queue entry on a freed file would be a use-after-free. To still
 * notice when user space has closed the file, vepoll holds exactly one
 * reference per watched file, however many watches (in however many
 * instances) share it: when the file count drops to one, that reference is
 * the last, every descriptor is closed, and the watches on it must go.
 */
#include <linux/file.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "vepoll.h"

/**
 * struct vepoll_target - the one reference vepoll holds on a watched file
 * @node: link in vepoll_targets, hashed by @file
 * @file: the watched file
 * @users: watches sharing this reference
 */
struct vepoll_target {
	struct hlist_node node;
	struct file *file;
	unsigned int users;
};

#define VEPOLL_TARGETS_BITS	10
static DEFINE_HASHTABLE(vepoll_targets, VEPOLL_TARGETS_BITS);
static DEFINE_SPINLOCK(vepoll_targets_lock);

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
 * vepoll_target_get() - share vepoll's reference on a file
 * @file: file about to be watched; the caller holds a reference on it
 *
 * Return: the target, with one more user, or NULL if out of memory.
 */
struct vepoll_target *vepoll_target_get(struct file *file)
{
	struct vepoll_target *target, *fresh;

	/* Allocate outside the lock; most files are watched only once. */
	fresh = kmalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return NULL;

	spin_lock(&vepoll_targets_lock);
	target = vepoll_target_find(file);
	if (target) {
		target->users++;
	} else {
		target = fresh;
		fresh = NULL;
		target->file = get_file(file);
		target->users = 1;
		hash_add(vepoll_targets, &target->node,
			 hash_ptr(file, VEPOLL_TARGETS_BITS));
	}
	spin_unlock(&vepoll_targets_lock);

	kfree(fresh);
	return target;
}

/**
 * vepoll_target_put() - stop sharing vepoll's reference on a file
 * @target: target of a watch being removed
 *
 * The last user drops the file reference. The file may be released right
 * then, so the caller must not use it afterwards.
 */
void vepoll_target_put(struct vepoll_target *target)
{
	bool last;

	spin_lock(&vepoll_targets_lock);
	last = !--target->users;
	if (last)
		hash_del(&target->node);
	spin_unlock(&vepoll_targets_lock);

	if (last) {
		fput(target->file);
		kfree(target);
	}
}

/**
 * vepoll_target_closed() - has user space closed every descriptor of a file?
 * @target: target of a watch
 *
 * Nobody else can reach a file whose only reference is vepoll's, so once
 * true, this stays true.
 *
 * Return: true if vepoll's reference is the only one left.
 */
bool vepoll_target_closed(const struct vepoll_target *target)
{
	return file_count(target->file) == 1;
}
