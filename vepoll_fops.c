// SPDX-License-Identifier: GPL-2.0
/*
 * The anon-inode file that stands for an instance.
 *
 * The seed's EpollNode: the instance lives exactly as long as this file,
 * so its last close (every dup, every process after fork) destroys it.
 * It cannot be read or written; it can be polled, which is what lets an
 * instance sit inside another instance or any event loop.
 */
#include <linux/anon_inodes.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/seq_file.h>

#include "vepoll.h"

static int vepoll_instance_release(struct inode *inode, struct file *file)
{
	vepoll_instance_free(file->private_data);
	return 0;
}

/* Seed: reading or writing an EpollNode is PermissionDenied. */
static ssize_t vepoll_instance_read(struct file *file, char __user *buf,
				    size_t count, loff_t *ppos)
{
	return -EPERM;
}

static ssize_t vepoll_instance_write(struct file *file, const char __user *buf,
				     size_t count, loff_t *ppos)
{
	return -EPERM;
}

static __poll_t vepoll_instance_file_poll(struct file *file, poll_table *pt)
{
	return vepoll_instance_poll(file->private_data, pt, 0, true);
}

#ifdef CONFIG_PROC_FS
/* /proc/PID/fdinfo/FD: the registry id, then one line per watch. */
static void vepoll_instance_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct vepoll_instance *ep = file->private_data;
	unsigned long wakeups, sleeps;
	struct rb_node *node;

	vepoll_lock(ep);
	seq_printf(m, "vepoll-id:\t%u\n", ep->id);
	spin_lock_irq(&ep->lock);
	wakeups = ep->nr_wakeups;
	sleeps = ep->nr_sleeps;
	spin_unlock_irq(&ep->lock);
	seq_printf(m, "vepoll-stats:\twakeups %lu reports %lu waits %ld sleeps %lu\n",
		   wakeups, ep->nr_reports, atomic_long_read(&ep->nr_waits),
		   sleeps);
	for (node = rb_first(&ep->watches); node; node = rb_next(node)) {
		struct vepoll_watch *w = rb_entry(node, struct vepoll_watch,
						  node);

		/* Killed since vepoll_lock() reaped: as good as gone. */
		if (READ_ONCE(w->dead))
			continue;
		seq_printf(m, "tfd: %8d events: %8x data: %16llx et: %d oneshot: %d disarmed: %d\n",
			   w->fd, w->events, w->data,
			   !!(w->events & VEPOLLET),
			   !!(w->events & VEPOLLONESHOT), w->disarmed);
		if (seq_has_overflowed(m))
			break;
	}
	vepoll_unlock(ep);
}
#endif

const struct file_operations vepoll_instance_fops = {
	.owner		= THIS_MODULE,
	.release	= vepoll_instance_release,
	.read		= vepoll_instance_read,
	.write		= vepoll_instance_write,
	.poll		= vepoll_instance_file_poll,
	.llseek		= noop_llseek,
#ifdef CONFIG_PROC_FS
	.show_fdinfo	= vepoll_instance_show_fdinfo,
#endif
};

/**
 * vepoll_create_fd() - make an instance and a descriptor for it
 * @flags: 0 or VEPOLL_CLOEXEC
 *
 * Return: the new fd, or -EINVAL for other flags, -ENFILE or -EMFILE at
 * the instance limits, -EMFILE with a full descriptor table, -ENOMEM.
 */
int vepoll_create_fd(unsigned long flags)
{
	struct vepoll_instance *ep;
	struct file *file;
	int fd;

	BUILD_BUG_ON(VEPOLL_CLOEXEC != O_CLOEXEC);
	if (flags & ~VEPOLL_CLOEXEC)
		return -EINVAL;

	ep = vepoll_instance_alloc();
	if (IS_ERR(ep))
		return PTR_ERR(ep);

	fd = get_unused_fd_flags(O_RDWR | (flags & O_CLOEXEC));
	if (fd < 0)
		goto out_free;
	file = anon_inode_getfile("[vepoll]", &vepoll_instance_fops, ep,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto out_free;
	}
	ep->file = file;
	fd_install(fd, file);
	return fd;

out_free:
	vepoll_instance_free(ep);
	return fd;
}
