// SPDX-License-Identifier: GPL-2.0
/*
 * The vepoll module: parameters, /dev/vepoll, ioctls.
 *
 * vepoll clones the epoll subsystem of VeridianOS as a loadable module.
 * Programs open /dev/vepoll and issue VEPOLL_IOC_CREATE, VEPOLL_IOC_CTL,
 * VEPOLL_IOC_CTL_BATCH, VEPOLL_IOC_WAIT and VEPOLL_IOC_WAIT2 on it; see
 * Documentation.rst and vepoll_uapi.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "vepoll.h"

unsigned int vepoll_max_instances = 256;
module_param_named(max_instances, vepoll_max_instances, uint, 0444);
MODULE_PARM_DESC(max_instances,
		 "Instances alive at once, system-wide (default 256)");

unsigned int vepoll_max_watches = 1024;
module_param_named(max_watches, vepoll_max_watches, uint, 0444);
MODULE_PARM_DESC(max_watches, "Watches per instance (default 1024)");

unsigned int vepoll_wait_cap_ms = 30000;
module_param_named(wait_cap_ms, vepoll_wait_cap_ms, uint, 0444);
MODULE_PARM_DESC(wait_cap_ms,
		 "Longest sleep of a wait with a negative timeout, in ms (default 30000)");

/*
 * 0 until init, which makes it an eighth of max_instances unless given:
 * the table, less its reserve, then holds the instances of seven users at
 * their limit and more, so one user cannot crowd out the others.
 */
unsigned int vepoll_max_user_instances;
module_param_named(max_user_instances, vepoll_max_user_instances, uint, 0444);
MODULE_PARM_DESC(max_user_instances,
		 "Instances per user without CAP_SYS_RESOURCE (default max_instances / 8, at least 1)");

/*
 * -1 until init, which makes it a sixteenth of max_instances (16 of 256),
 * at least 1 while max_instances allows it: what file-max's reserve for
 * CAP_SYS_ADMIN is to files, enough for an administrator's shell and the
 * tools it runs to look into who holds the rest.
 */
int vepoll_reserved_instances = -1;
module_param_named(reserved_instances, vepoll_reserved_instances, int, 0444);
MODULE_PARM_DESC(reserved_instances,
		 "Instances only CAP_SYS_RESOURCE callers may take (default max_instances / 16, at least 1)");

static long vepoll_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VEPOLL_IOC_CREATE:
		return vepoll_create_fd(arg);
	case VEPOLL_IOC_CTL: {
		struct vepoll_ctl_args args;

		if (copy_from_user(&args, uarg, sizeof(args)))
			return -EFAULT;
		return vepoll_ctl(&args);
	}
	case VEPOLL_IOC_CTL_BATCH: {
		struct vepoll_ctl_batch batch;

		if (copy_from_user(&batch, uarg, sizeof(batch)))
			return -EFAULT;
		return vepoll_ctl_batch(&batch);
	}
	case VEPOLL_IOC_WAIT: {
		struct vepoll_wait_args args;

		if (copy_from_user(&args, uarg, sizeof(args)))
			return -EFAULT;
		return vepoll_wait(&args);
	}
	case VEPOLL_IOC_WAIT2: {
		struct vepoll_wait2_args args;

		if (copy_from_user(&args, uarg, sizeof(args)))
			return -EFAULT;
		return vepoll_wait2(&args);
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vepoll_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= vepoll_dev_ioctl,
	/*
	 * Every ABI structure, struct vepoll_wait2_args included, has one
	 * layout for 32 and 64-bit callers; only the signal mask differs,
	 * and vepoll_set_sigmask() reads a compat one itself.
	 */
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice vepoll_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vepoll",
	.fops	= &vepoll_dev_fops,
	.mode	= 0666,
};

static int __init vepoll_init(void)
{
	int err;

	if (!vepoll_max_instances || !vepoll_max_watches) {
		pr_err("max_instances and max_watches must be at least 1\n");
		return -EINVAL;
	}
	if (!vepoll_max_user_instances)
		vepoll_max_user_instances = max(vepoll_max_instances / 8, 1U);
	if (vepoll_reserved_instances == -1) {
		/* With one slot, reserving it would shut out every user. */
		vepoll_reserved_instances =
			min(max(vepoll_max_instances / 16, 1U),
			    vepoll_max_instances - 1);
	} else if (vepoll_reserved_instances < 0 ||
		   (unsigned int)vepoll_reserved_instances >=
		   vepoll_max_instances) {
		pr_err("reserved_instances must be below max_instances\n");
		return -EINVAL;
	}

	err = vepoll_watch_cache_init();
	if (err)
		return err;
	err = vepoll_event_init();
	if (err)
		goto out_watch_cache;
	err = vepoll_target_init();
	if (err)
		goto out_event;
	err = misc_register(&vepoll_misc);
	if (err)
		goto out_target;
	vepoll_stats_init();
	return 0;

out_target:
	vepoll_target_exit();
out_event:
	vepoll_event_exit();
out_watch_cache:
	vepoll_watch_cache_exit();
	return err;
}

/* No instance outlives the module: each instance file pins it. */
static void __exit vepoll_exit(void)
{
	vepoll_stats_exit();
	misc_deregister(&vepoll_misc);
	vepoll_target_exit();
	vepoll_event_exit();
	vepoll_watch_cache_exit();
}

module_init(vepoll_init);
module_exit(vepoll_exit);

MODULE_AUTHOR("The vepoll developers");
MODULE_DESCRIPTION("epoll clone of VeridianOS behind /dev/vepoll");
MODULE_LICENSE("GPL");
MODULE_VERSION(VEPOLL_VERSION);
