// SPDX-License-Identifier: GPL-2.0
/*
 * An instance's watch list: VEPOLL_IOC_CTL and VEPOLL_IOC_CTL_BATCH.
 *
 * Watches are kept in a tree keyed by (target file, fd), as Linux keys
 * them. Hooking a watch on its target and the events that follow live in
 * vepoll_event.c.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "vepoll.h"
#include "vepoll_trace.h"

static struct kmem_cache *vepoll_watch_cache __ro_after_init;

static struct vepoll_watch *vepoll_watch_find(struct vepoll_instance *ep,
					      struct file *file, int fd)
{
	struct rb_node *node = ep->watches.rb_node;

	while (node) {
		struct vepoll_watch *w = rb_entry(node, struct vepoll_watch,
						  node);

		if (file != w->file)
			node = file < w->file ? node->rb_left : node->rb_right;
		else if (fd != w->fd)
			node = fd < w->fd ? node->rb_left : node->rb_right;
		else
			return w;
	}
	return NULL;
}

static void vepoll_watch_insert(struct vepoll_instance *ep,
				struct vepoll_watch *w)
{
	struct rb_node **link = &ep->watches.rb_node, *parent = NULL;

	while (*link) {
		struct vepoll_watch *cur = rb_entry(*link, struct vepoll_watch,
						    node);

		parent = *link;
		if (w->file != cur->file)
			link = w->file < cur->file ? &parent->rb_left :
						     &parent->rb_right;
		else
			link = w->fd < cur->fd ? &parent->rb_left :
						 &parent->rb_right;
	}
	rb_link_node(&w->node, parent, link);
	rb_insert_color(&w->node, &ep->watches);
	ep->nr_watches++;
}

/**
 * vepoll_watch_remove() - drop one watch, live or dead
 * @ep: its instance, whose mtx the caller holds
 * @w: the watch; off any harvester's list
 *
 * Once vepoll_target_detach() returns, neither a wakeup callback nor the
 * close path touches the watch any more, so it can be freed at once.
 */
void vepoll_watch_remove(struct vepoll_instance *ep, struct vepoll_watch *w)
{
	vepoll_target_detach(w);
	/* Here, not in the close path: unregistering waits for SRCU. */
	wakeup_source_unregister(w->ws);
	rb_erase(&w->node, &ep->watches);
	ep->nr_watches--;
	vepoll_nest_unlink(w);
	kmem_cache_free(vepoll_watch_cache, w);
}

/**
 * vepoll_watch_reap() - free the watches the close path killed
 * @ep: the instance, whose mtx the caller has just taken
 *
 * Costs one look at an empty list when no watched file was closed.
 */
void vepoll_watch_reap(struct vepoll_instance *ep)
{
	struct vepoll_watch *w;

	while (!list_empty_careful(&ep->dead)) {
		spin_lock_irq(&ep->lock);
		w = list_first_entry_or_null(&ep->dead, struct vepoll_watch,
					     target_link);
		spin_unlock_irq(&ep->lock);
		if (!w)
			break;
		vepoll_watch_remove(ep, w);
	}
}

/**
 * vepoll_watch_remove_all() - drop every watch of an instance
 * @ep: instance being destroyed
 */
void vepoll_watch_remove_all(struct vepoll_instance *ep)
{
	struct rb_node *node;

	vepoll_lock(ep);
	while ((node = rb_first(&ep->watches)))
		vepoll_watch_remove(ep, rb_entry(node, struct vepoll_watch,
						 node));
	wakeup_source_unregister(ep->ws);
	ep->ws = NULL;
	vepoll_unlock(ep);
}

/*
 * The mask a watch keeps: VEPOLLWAKEUP only for a caller who may block
 * suspend, and only in a kernel that can suspend; else silently dropped,
 * as Linux's ep_take_care_of_epollwakeup() drops it.
 */
static u32 vepoll_watch_mask(u32 events)
{
	if ((events & VEPOLLWAKEUP) &&
	    (!IS_ENABLED(CONFIG_PM_SLEEP) || !capable(CAP_BLOCK_SUSPEND)))
		events &= ~VEPOLLWAKEUP;
	return events;
}

/* A new watch for ADD, after the ELOOP check: EEXIST, ENOSPC, ENOMEM. */
static struct vepoll_watch *vepoll_watch_new(struct vepoll_instance *ep,
					     struct file *file, int fd,
					     const struct vepoll_event *event)
{
	struct vepoll_watch *w;

	if (vepoll_watch_find(ep, file, fd))
		return ERR_PTR(-EEXIST);
	if (ep->nr_watches >= vepoll_max_watches)
		return ERR_PTR(-ENOSPC);
	w = kmem_cache_zalloc(vepoll_watch_cache, GFP_KERNEL);
	if (!w)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&w->rdllink);
	INIT_LIST_HEAD(&w->child_link);
	INIT_LIST_HEAD(&w->parent_link);
	w->ep = ep;
	w->file = file;
	w->fd = fd;
	w->native_epoll = vepoll_is_native_epoll(file, ep);
	w->events = vepoll_watch_mask(event->events);
	w->data = event->data;
	return w;
}

/* Enter a new watch in its target, the tree, and the target's queues. */
static int vepoll_watch_install(struct vepoll_instance *ep,
				struct vepoll_watch *w)
{
	__poll_t revents;
	int err;

	err = vepoll_target_attach(w);
	if (err) {
		vepoll_nest_unlink(w);
		kmem_cache_free(vepoll_watch_cache, w);
		return err;
	}
	vepoll_watch_insert(ep, w);
	/* Before the hook, which may queue the watch at once. */
	err = (w->events & VEPOLLWAKEUP) ? vepoll_wakeup_add(ep, w) : 0;
	if (!err)
		err = vepoll_watch_hook(w, &revents);
	if (err) {
		vepoll_watch_remove(ep, w);
		return err;
	}
	vepoll_queue_if_ready(ep, w, revents);
	return 0;
}

/*
 * ADD in epoll's error order: ELOOP, then EEXIST, then ENOSPC. The edge to
 * an instance target enters the graph while the graph is still locked
 * from the check, so that two racing ADDs cannot each pass the check and
 * build a cycle; the target instance is polled (its mtx taken) only once
 * the graph is unlocked again.
 */
static int vepoll_ctl_add(struct vepoll_instance *ep, struct file *file,
			  int fd, const struct vepoll_event *event)
{
	struct vepoll_instance *child = NULL;
	struct vepoll_watch *w;
	int err;

	if (vepoll_is_instance_file(file)) {
		child = file->private_data;
		vepoll_nest_lock();
		err = vepoll_nest_check(ep, child);
		if (err) {
			vepoll_nest_unlock();
			return err;
		}
	}
	w = vepoll_watch_new(ep, file, fd, event);
	if (child) {
		if (!IS_ERR(w))
			vepoll_nest_link(w, child);
		vepoll_nest_unlock();
	}
	return IS_ERR(w) ? PTR_ERR(w) : vepoll_watch_install(ep, w);
}

static int vepoll_watch_mod(struct vepoll_instance *ep,
			    struct vepoll_watch *w,
			    const struct vepoll_event *event)
{
	u32 events = vepoll_watch_mask(event->events);
	struct wakeup_source *ws = NULL;

	/* As in Linux, a source that cannot be made is no error for MOD. */
	if ((events & VEPOLLWAKEUP) && !w->ws)
		vepoll_wakeup_add(ep, w);
	spin_lock_irq(&ep->lock);
	w->events = events;
	w->disarmed = false;
	if (!(events & VEPOLLWAKEUP))
		swap(ws, w->ws);
	spin_unlock_irq(&ep->lock);
	w->data = event->data;
	/* No callback sees it any more (ep->lock); this may sleep. */
	wakeup_source_unregister(ws);

	/* Report a target that is already ready, in ET mode too. */
	vepoll_queue_if_ready(ep, w, vepoll_watch_poll(w, NULL, 0));
	return 0;
}

/* The EINVAL checks that depend on the arguments only. */
static int vepoll_ctl_check_args(const struct vepoll_ctl_args *args)
{
	if (args->__pad)
		return -EINVAL;
	switch (args->op) {
	case VEPOLL_CTL_ADD:
	case VEPOLL_CTL_MOD:
		if (args->event.__pad ||
		    args->event.events & ~(VEPOLL_CONDITIONS | VEPOLL_MODES |
					   VEPOLL_RULES))
			return -EINVAL;
		return 0;
	case VEPOLL_CTL_DEL:
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Linux's EPOLLEXCLUSIVE rules that the arguments and the target decide,
 * among the other EINVALs: the entries go on the target's queues at ADD
 * only, and an instance or epoll target would need nested exclusive
 * wakeups, which Linux does not do either.
 */
static int vepoll_ctl_check_exclusive(struct vepoll_instance *ep,
				      struct file *file,
				      const struct vepoll_ctl_args *args)
{
	if (args->op == VEPOLL_CTL_DEL ||
	    !(args->event.events & VEPOLLEXCLUSIVE))
		return 0;
	if (args->op == VEPOLL_CTL_MOD ||
	    (args->event.events & ~VEPOLL_EXCLUSIVE_OK) ||
	    vepoll_is_instance_file(file) || vepoll_is_native_epoll(file, ep))
		return -EINVAL;
	return 0;
}

static int vepoll_ctl_locked(struct vepoll_instance *ep, struct file *file,
			     const struct vepoll_ctl_args *args)
{
	struct vepoll_watch *w;

	if (args->op == VEPOLL_CTL_ADD)
		return vepoll_ctl_add(ep, file, args->fd, &args->event);

	w = vepoll_watch_find(ep, file, args->fd);
	if (!w)
		return -ENOENT;
	/* After ENOENT, as Linux looks at the watch only once found. */
	if (args->op == VEPOLL_CTL_MOD)
		return (w->events & VEPOLLEXCLUSIVE) ? -EINVAL :
		       vepoll_watch_mod(ep, w, &args->event);
	vepoll_watch_remove(ep, w);
	return 0;
}

/*
 * VEPOLL_IOC_CTL on the file @epf that args->epfd referred to: every check
 * after epfd's EBADF, in the order of Linux's epoll_ctl(). *@held says
 * whether the caller holds the instance's mtx already; it is left held
 * for the caller to release, so that a batch takes it once per chunk.
 */
static int vepoll_ctl_file(struct file *epf, const struct vepoll_ctl_args *args,
			   bool *held)
{
	struct vepoll_instance *ep;
	struct fd tf;
	int err;

	tf = fdget(args->fd);
	err = -EBADF;
	if (!tf.file)
		goto out;
	err = -EPERM;
	if (!file_can_poll(tf.file))
		goto out_tfput;
	err = -EINVAL;
	if (!vepoll_is_instance_file(epf) || epf == tf.file)
		goto out_tfput;
	err = vepoll_ctl_check_args(args);
	if (err)
		goto out_tfput;
	ep = epf->private_data;
	err = vepoll_ctl_check_exclusive(ep, tf.file, args);
	if (err)
		goto out_tfput;

	/*
	 * A batch holds the mtx across entries: free what the close path
	 * killed since the last one, as vepoll_lock() does, so that no dead
	 * watch's key matches a new file that took over its memory.
	 */
	if (*held)
		vepoll_watch_reap(ep);
	else
		vepoll_lock(ep);
	*held = true;
	err = vepoll_ctl_locked(ep, tf.file, args);
out_tfput:
	fdput(tf);
out:
	/* Id 0: epfd is not an instance. */
	trace_vepoll_ctl(vepoll_is_instance_file(epf) ?
			 ((struct vepoll_instance *)epf->private_data)->id : 0,
			 args->op, args->fd, args->event.events, err);
	return err;
}

/* Release the mtx vepoll_ctl_file() left held on @epf's instance. */
static void vepoll_ctl_release(struct file *epf, bool *held)
{
	if (*held)
		vepoll_unlock(epf->private_data);
	*held = false;
}

/**
 * vepoll_ctl() - add, modify or delete a watch (VEPOLL_IOC_CTL)
 * @args: the arguments, already copied from user space
 *
 * Errors come in the order of Linux's epoll_ctl(): EBADF for epfd, then
 * for fd, EPERM for a target that cannot be polled, EINVAL, ELOOP, then
 * EEXIST/ENOENT, then ENOSPC.
 *
 * Return: 0 or a negative errno.
 */
int vepoll_ctl(const struct vepoll_ctl_args *args)
{
	struct fd f = fdget(args->epfd);
	bool held = false;
	int err;

	if (!f.file)
		return -EBADF;
	err = vepoll_ctl_file(f.file, args, &held);
	vepoll_ctl_release(f.file, &held);
	fdput(f);
	return err;
}

/*
 * Entries a batch copies in, and results it copies out, at a time: one
 * user access each way per chunk instead of two per entry.
 */
#define VEPOLL_BATCH_CHUNK	8

/*
 * Copy in up to @n entries from @uctls. A fault part-way falls back to one
 * entry at a time, so that exactly the entries before the first unreadable
 * one are applied.
 *
 * Return: the number of entries copied; if fewer than @n, the next one
 * cannot be read.
 */
static u32 vepoll_batch_copy_in(struct vepoll_ctl_args *ctls,
				const struct vepoll_ctl_args __user *uctls,
				u32 n)
{
	u32 i;

	if (!copy_from_user(ctls, uctls, n * sizeof(*ctls)))
		return n;
	for (i = 0; i < n; i++)
		if (copy_from_user(&ctls[i], &uctls[i], sizeof(*ctls)))
			break;
	return i;
}

/* One entry of a changelist whose epfd referred to @epf (NULL: a bad fd). */
static int vepoll_batch_apply(s32 epfd, struct file *epf,
			      const struct vepoll_ctl_args *args, bool *held)
{
	if (args->epfd != epfd)
		return -EINVAL;
	if (!epf)
		return -EBADF;
	return vepoll_ctl_file(epf, args, held);
}

/**
 * vepoll_ctl_apply() - apply a changelist to one instance
 * @epf: the file @epfd referred to when the call started, or NULL
 * @epfd: the fd number every entry's epfd must equal (else EINVAL)
 * @uctls: user address of struct vepoll_ctl_args[@count]
 * @uresults: user address of __s32[@count]
 * @report: whether to write @uresults (when false, it is not looked at)
 * @count: number of entries, at most INT_MAX
 * @err: set to the errno of the entry that failed, 0 if none did
 *
 * The engine of VEPOLL_IOC_CTL_BATCH and of VEPOLL_IOC_WAIT2's changes.
 * Entries are applied in order, each exactly as VEPOLL_IOC_CTL would,
 * and the list stops at the first that fails; its result slot gets the
 * errno. Entries and results are copied in chunks, the results after
 * their chunk was applied, and the instance's mtx is held across a chunk
 * only: it is free again when this returns.
 *
 * Return: the number of entries applied, or -EFAULT if a result cannot
 * be written (the entries of that chunk are applied).
 */
long vepoll_ctl_apply(struct file *epf, s32 epfd,
		      const struct vepoll_ctl_args __user *uctls,
		      s32 __user *uresults, bool report, u32 count,
		      int *err)
{
	struct vepoll_ctl_args ctls[VEPOLL_BATCH_CHUNK];
	s32 results[VEPOLL_BATCH_CHUNK];
	u32 done = 0, n, copied, i;
	bool held = false;

	*err = 0;
	for (;;) {
		n = min_t(u32, count - done, VEPOLL_BATCH_CHUNK);
		if (!n)
			break;
		copied = vepoll_batch_copy_in(ctls, &uctls[done], n);
		for (i = 0; i < n; i++) {
			results[i] = i < copied ?
				     vepoll_batch_apply(epfd, epf, &ctls[i],
							&held) :
				     -EFAULT;
			if (results[i])
				break;
		}
		vepoll_ctl_release(epf, &held);
		if (i < n)
			*err = results[i];
		/* The failed entry's result is written too. */
		if (report &&
		    copy_to_user(&uresults[done], results,
				 min(i + 1, n) * sizeof(*results)))
			return -EFAULT;
		done += i;
		if (i < n)
			break;
		cond_resched();
	}
	return done;
}

/**
 * vepoll_ctl_batch() - apply many CTLs to one instance (VEPOLL_IOC_CTL_BATCH)
 * @batch: the batch header, already copied from user space
 *
 * The entries go through vepoll_ctl_apply(). The epfd is looked up once
 * for the whole batch.
 *
 * Return: the number of entries applied, or a negative errno if the batch
 * itself is invalid (EINVAL) or a result cannot be written (EFAULT, with
 * the entries of the chunk applied).
 */
long vepoll_ctl_batch(const struct vepoll_ctl_batch *batch)
{
	int err;
	long ret;
	struct fd f;

	if (batch->flags || batch->__pad || batch->count > INT_MAX)
		return -EINVAL;
	f = fdget(batch->epfd);
	/* A NULL @results faults, as any bad address does. */
	ret = vepoll_ctl_apply(f.file, batch->epfd,
			       u64_to_user_ptr(batch->ctls),
			       u64_to_user_ptr(batch->results), true,
			       batch->count, &err);
	fdput(f);
	return ret;
}

/**
 * vepoll_watch_cache_init() - create the slab cache of watches
 *
 * Charged to the memory cgroup of the task that adds the watch.
 *
 * Return: 0 or -ENOMEM.
 */
int vepoll_watch_cache_init(void)
{
	vepoll_watch_cache = KMEM_CACHE(vepoll_watch, SLAB_ACCOUNT);
	return vepoll_watch_cache ? 0 : -ENOMEM;
}

/**
 * vepoll_watch_cache_exit() - destroy the slab cache of watches
 */
void vepoll_watch_cache_exit(void)
{
	kmem_cache_destroy(vepoll_watch_cache);
}
