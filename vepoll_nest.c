// SPDX-License-Identifier: GPL-2.0
/*
 * Instances inside instances.
 *
 * An instance fd can be watched by another instance. The watches that do
 * so form a graph, kept as two lists per instance (children: the inner
 * instances it watches; parents: the watches of outer instances on it).
 * An ADD that would close a cycle, or make a chain of more than
 * VEPOLL_MAX_NESTS instances, is refused with ELOOP, so the graph stays
 * a shallow DAG and every recursion over it (poll, wakeup, this check) is
 * bounded. Such ADDs hold vepoll_nest_mutex from check to insertion, so
 * two of them cannot each pass the check and build a cycle together.
 *
 * The graph changes only under vepoll_nest_mutex, which is never taken on
 * the close path: a watch the close path killed stays in the graph until
 * its instance frees it, or until the instance it watches is released
 * (vepoll_nest_release()), whichever comes first. Until then it counts as
 * an edge, which can only make the check stricter for a moment.
 */
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mutex.h>

#include "vepoll.h"

static DEFINE_MUTEX(vepoll_nest_mutex);
/* Each walk stamps what it measured, so no instance is measured twice. */
static u64 vepoll_nest_gen;

/* Longest chain from @x down, counting @x; past the limit if it meets @ep. */
static int vepoll_chain_below(struct vepoll_instance *x,
			      struct vepoll_instance *ep)
{
	struct vepoll_watch *w;
	int depth = 1;

	if (x == ep)
		return VEPOLL_MAX_NESTS + 1;
	if (x->nest_gen == vepoll_nest_gen)
		return x->nest_depth;
	list_for_each_entry(w, &x->children, child_link) {
		depth = max(depth, 1 + vepoll_chain_below(w->nest_child, ep));
		if (depth > VEPOLL_MAX_NESTS)
			break;
	}
	x->nest_gen = vepoll_nest_gen;
	x->nest_depth = depth;
	return depth;
}

/* Longest chain from @x up, counting @x. */
static int vepoll_chain_above(struct vepoll_instance *x)
{
	struct vepoll_watch *w;
	int depth = 1;

	if (x->nest_gen == vepoll_nest_gen)
		return x->nest_depth;
	list_for_each_entry(w, &x->parents, parent_link) {
		depth = max(depth, 1 + vepoll_chain_above(w->ep));
		if (depth > VEPOLL_MAX_NESTS)
			break;
	}
	x->nest_gen = vepoll_nest_gen;
	x->nest_depth = depth;
	return depth;
}

/**
 * vepoll_nest_check() - may instance @to be added to instance @ep?
 * @ep: the outer instance
 * @to: the instance about to be watched; not @ep
 *
 * The caller holds vepoll_nest_lock() until the watch is linked.
 *
 * Return: 0, or -ELOOP if @ep is reachable from @to or the longest chain
 * through the new watch would exceed VEPOLL_MAX_NESTS instances.
 */
int vepoll_nest_check(struct vepoll_instance *ep, struct vepoll_instance *to)
{
	int chain;

	lockdep_assert_held(&vepoll_nest_mutex);
	vepoll_nest_gen++;
	chain = vepoll_chain_below(to, ep);
	if (chain <= VEPOLL_MAX_NESTS) {
		/* @ep is not below @to, so no instance is measured twice. */
		vepoll_nest_gen++;
		chain += vepoll_chain_above(ep);
	}
	return chain > VEPOLL_MAX_NESTS ? -ELOOP : 0;
}

/**
 * vepoll_nest_lock() - lock the graph, for an ADD whose target is an instance
 *
 * Taken under the outer instance's mtx; no instance mtx is taken under it.
 */
void vepoll_nest_lock(void)
{
	mutex_lock(&vepoll_nest_mutex);
}

/**
 * vepoll_nest_unlock() - unlock the graph
 */
void vepoll_nest_unlock(void)
{
	mutex_unlock(&vepoll_nest_mutex);
}

/**
 * vepoll_nest_link() - record a watch whose target is an instance
 * @w: the new watch, not yet installed
 * @to: its target instance
 *
 * Under vepoll_nest_lock(), taken for the check.
 */
void vepoll_nest_link(struct vepoll_watch *w, struct vepoll_instance *to)
{
	lockdep_assert_held(&vepoll_nest_mutex);
	w->nest_child = to;
	list_add(&w->child_link, &w->ep->children);
	list_add(&w->parent_link, &to->parents);
}

/**
 * vepoll_nest_unlink() - forget a watch, if its target is an instance
 * @w: a watch being removed; its instance's mtx is held, which is what
 *	guards @w->nest_child
 */
void vepoll_nest_unlink(struct vepoll_watch *w)
{
	if (!w->nest_child)
		return;
	mutex_lock(&vepoll_nest_mutex);
	list_del_init(&w->child_link);
	list_del_init(&w->parent_link);
	mutex_unlock(&vepoll_nest_mutex);
}

/**
 * vepoll_nest_release() - forget every watch of other instances on one
 * @ep: an instance being released; the close path has killed those
 *	watches, but their instances may not have freed them yet
 */
void vepoll_nest_release(struct vepoll_instance *ep)
{
	struct vepoll_watch *w, *next;

	mutex_lock(&vepoll_nest_mutex);
	list_for_each_entry_safe(w, next, &ep->parents, parent_link) {
		list_del_init(&w->child_link);
		list_del_init(&w->parent_link);
	}
	mutex_unlock(&vepoll_nest_mutex);
}
