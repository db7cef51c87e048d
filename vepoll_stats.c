// SPDX-License-Identifier: GPL-2.0
/*
 * What a user or a kernel developer looks at when something is slow or
 * stuck: module-wide statistics in debugfs (vepoll/stats, one "name value"
 * pair per line: how many files are watched, and what the close of files
 * nobody watches costs vepoll), and the definitions of the tracepoints of
 * vepoll_trace.h. Per-instance figures are in each instance's fdinfo.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vepoll.h"

/* The tracepoints of vepoll_trace.h are defined here, once. */
#define CREATE_TRACE_POINTS
#include "vepoll_trace.h"

static struct dentry *vepoll_debugfs_dir;

static int vepoll_stats_show(struct seq_file *m, void *unused)
{
	vepoll_registry_stats(m);
	vepoll_target_stats(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vepoll_stats);

/**
 * vepoll_stats_init() - create /sys/kernel/debug/vepoll/stats
 *
 * As everywhere in the kernel, a debugfs failure is not an error: the
 * module works without its statistics.
 */
void vepoll_stats_init(void)
{
	vepoll_debugfs_dir = debugfs_create_dir("vepoll", NULL);
	debugfs_create_file("stats", 0444, vepoll_debugfs_dir, NULL,
			    &vepoll_stats_fops);
}

/**
 * vepoll_stats_exit() - remove the debugfs directory
 *
 * Waits for readers of the files to finish, so the module may go.
 */
void vepoll_stats_exit(void)
{
	debugfs_remove(vepoll_debugfs_dir);
}
