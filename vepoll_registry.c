// SPDX-License-Identifier: GPL-2.0
/*
 * The global registry of vepoll instances.
 *
 * Every live instance has an id in one xarray, allocated from 1 upwards as
 * the seed's registry does. The registry enforces max_instances (ENFILE)
 * for everyone and, for callers without CAP_SYS_RESOURCE, two more limits,
 * so that no user can keep another from creating instances:
 *
 *  - reserved_instances slots stay free for CAP_SYS_RESOURCE callers, as
 *    file-max keeps a few files for CAP_SYS_ADMIN: however many uids the
 *    unprivileged users have between them (a user namespace gives one
 *    user thousands), an administrator can still create an instance to
 *    look into the problem (ENFILE past max_instances - reserved_instances);
 *  - max_user_instances per effective uid, by default an eighth of the
 *    table, so that one user leaves room for several others (EMFILE).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "vepoll.h"
#include "vepoll_trace.h"

static DEFINE_MUTEX(vepoll_registry_mutex);
static DEFINE_XARRAY_ALLOC1(vepoll_registry);
static u32 vepoll_next_id = 1;
static unsigned int vepoll_nr_instances;
/* Instances held per effective uid, as xarray values indexed by uid. */
static DEFINE_XARRAY(vepoll_user_counts);

static unsigned long vepoll_user_count(kuid_t uid)
{
	void *entry = xa_load(&vepoll_user_counts, __kuid_val(uid));

	return entry ? xa_to_value(entry) : 0;
}

static int vepoll_user_count_set(kuid_t uid, unsigned long count)
{
	void *entry = count ? xa_mk_value(count) : NULL;

	/*
	 * Charged like the instance itself: a user with many uids makes one
	 * entry, and maybe a node, per uid.
	 */
	return xa_err(xa_store(&vepoll_user_counts, __kuid_val(uid), entry,
			       GFP_KERNEL_ACCOUNT));
}

/*
 * May a caller whose uid holds @held instances take one more slot? The
 * capability is asked only when a limit would refuse, as file-max does:
 * a caller within every limit is never audited for a capability it did
 * not need.
 */
static int vepoll_may_create(unsigned long held)
{
	unsigned int unprivileged = vepoll_max_instances -
				    vepoll_reserved_instances;

	if (vepoll_nr_instances >= vepoll_max_instances)
		return -ENFILE;
	if (held < vepoll_max_user_instances &&
	    vepoll_nr_instances < unprivileged)
		return 0;
	if (capable(CAP_SYS_RESOURCE))
		return 0;
	/* Its own share first: that is what the user can do something about. */
	return held >= vepoll_max_user_instances ? -EMFILE : -ENFILE;
}

static void vepoll_instance_init(struct vepoll_instance *ep, kuid_t owner)
{
	ep->owner = owner;
	mutex_init(&ep->mtx);
	ep->watches = RB_ROOT;
	spin_lock_init(&ep->lock);
	INIT_LIST_HEAD(&ep->rdllist);
	INIT_LIST_HEAD(&ep->dead);
	init_waitqueue_head(&ep->wq);
	init_waitqueue_head(&ep->poll_wait);
	init_irq_work(&ep->poll_work, vepoll_poll_work);
	INIT_LIST_HEAD(&ep->children);
	INIT_LIST_HEAD(&ep->parents);
}

/**
 * vepoll_instance_alloc() - make a new instance and enter it in the registry
 *
 * The instance is charged to the caller's memory cgroup and to its
 * effective uid.
 *
 * Return: the instance, or ERR_PTR(-ENFILE) when max_instances are live,
 * or when all but reserved_instances are and the caller lacks
 * CAP_SYS_RESOURCE; ERR_PTR(-EMFILE) when the caller's uid holds
 * max_user_instances and the caller lacks CAP_SYS_RESOURCE;
 * ERR_PTR(-ENOMEM).
 */
struct vepoll_instance *vepoll_instance_alloc(void)
{
	kuid_t owner = current_euid();
	struct vepoll_instance *ep;
	unsigned long held;
	int err;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return ERR_PTR(-ENOMEM);
	vepoll_instance_init(ep, owner);

	mutex_lock(&vepoll_registry_mutex);
	held = vepoll_user_count(owner);
	err = vepoll_may_create(held);
	if (err)
		goto out_unlock;
	err = vepoll_user_count_set(owner, held + 1);
	if (err)
		goto out_unlock;
	err = xa_alloc_cyclic(&vepoll_registry, &ep->id, ep,
			      XA_LIMIT(1, INT_MAX), &vepoll_next_id,
			      GFP_KERNEL_ACCOUNT);
	if (err < 0) {
		vepoll_user_count_set(owner, held);
		goto out_unlock;
	}
	vepoll_nr_instances++;
	mutex_unlock(&vepoll_registry_mutex);
	trace_vepoll_instance_create(ep->id, from_kuid(&init_user_ns, owner));
	return ep;

out_unlock:
	mutex_unlock(&vepoll_registry_mutex);
	kfree(ep);
	return ERR_PTR(err);
}

/**
 * vepoll_instance_free() - destroy an instance
 * @ep: instance whose file is being released, or was never made
 *
 * Nobody holds the file any more, so no ioctl and no outer instance is
 * inside @ep; the close path already killed the outer watches on it.
 * What may still run are the close paths and wakeups of its own targets,
 * which dropping its watches waits for.
 */
void vepoll_instance_free(struct vepoll_instance *ep)
{
	trace_vepoll_instance_destroy(ep->id, ep->nr_watches);
	vepoll_watch_remove_all(ep);
	vepoll_nest_release(ep);

	mutex_lock(&vepoll_registry_mutex);
	xa_erase(&vepoll_registry, ep->id);
	vepoll_nr_instances--;
	/* Shrinking an existing entry needs no allocation, so cannot fail. */
	vepoll_user_count_set(ep->owner, vepoll_user_count(ep->owner) - 1);
	mutex_unlock(&vepoll_registry_mutex);

	irq_work_sync(&ep->poll_work);
	mutex_destroy(&ep->mtx);
	kfree(ep);
}

/**
 * vepoll_registry_stats() - print the instance table against its limits
 * @m: the debugfs file being read
 *
 * instances and watches: live ones (watches summed over the instances);
 * then one "user UID instances N" line per uid holding any. The limits
 * are the module parameters beside them.
 */
void vepoll_registry_stats(struct seq_file *m)
{
	struct vepoll_instance *ep;
	unsigned long id, uid, watches = 0;
	void *entry;

	mutex_lock(&vepoll_registry_mutex);
	/* An instance leaves the registry, under this mutex, before it goes. */
	xa_for_each(&vepoll_registry, id, ep)
		watches += READ_ONCE(ep->nr_watches);
	seq_printf(m, "instances %u\n", vepoll_nr_instances);
	seq_printf(m, "max_instances %u\n", vepoll_max_instances);
	seq_printf(m, "reserved_instances %d\n", vepoll_reserved_instances);
	seq_printf(m, "max_user_instances %u\n", vepoll_max_user_instances);
	seq_printf(m, "watches %lu\n", watches);
	xa_for_each(&vepoll_user_counts, uid, entry)
		seq_printf(m, "user %lu instances %lu\n", uid,
			   xa_to_value(entry));
	mutex_unlock(&vepoll_registry_mutex);
}
