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
 * bounded. Such ADDs run under the registry mutex from check to insertion,
 * so two of them cannot each pass the check and build a cycle together.
 */
#include <linux/minmax.h>
#include <linux/spinlock.h>

#include "vepoll.h"

static DEFINE_SPINLOCK(vepoll_nest_lock);
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
		depth = max(depth, 1 + vepoll_chain_below(w->file->private_data,
							  ep));
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
 * The caller holds the registry mutex until the watch is linked.
 *
 * Return: 0, or -ELOOP if @ep is reachable from @to or the longest chain
 * through the new watch would exceed VEPOLL_MAX_NESTS instances.
 */
int vepoll_nest_check(struct vepoll_instance *ep, struct vepoll_instance *to)
{
	int chain;

	spin_lock(&vepoll_nest_lock);
	vepoll_nest_gen++;
	chain = vepoll_chain_below(to, ep);
	if (chain <= VEPOLL_MAX_NESTS) {
		/* @ep is not below @to, so no instance is measured twice. */
		vepoll_nest_gen++;
		chain += vepoll_chain_above(ep);
	}
	spin_unlock(&vepoll_nest_lock);
	return chain > VEPOLL_MAX_NESTS ? -ELOOP : 0;
}

/**
 * vepoll_nest_link() - record a watch whose target is an instance
 * @w: the new watch
 * @to: its target instance
 */
void vepoll_nest_link(struct vepoll_watch *w, struct vepoll_instance *to)
{
	spin_lock(&vepoll_nest_lock);
	list_add(&w->child_link, &w->ep->children);
	list_add(&w->parent_link, &to->parents);
	spin_unlock(&vepoll_nest_lock);
}

/**
 * vepoll_nest_unlink() - forget a watch, if its target is an instance
 * @w: a watch being removed; its instance's mtx is held, which is what
 *	guards the emptiness test of its links
 */
void vepoll_nest_unlink(struct vepoll_watch *w)
{
	if (list_empty(&w->child_link))
		return;
	spin_lock(&vepoll_nest_lock);
	list_del_init(&w->child_link);
	list_del_init(&w->parent_link);
	spin_unlock(&vepoll_nest_lock);
}
