/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vepoll_nest.h - helpers shared by the nesting selftests
 *
 * One interface over the two kinds of instance, so that a test can build
 * the same nest of vepoll instances ('v') and native epoll instances ('e')
 * and run the same steps on it: a nest made only of native epoll
 * instances is the oracle vepoll is held to (where the contract is
 * silent, vepoll does what Linux's epoll does). Include after
 * vepoll_test.h.
 */
#ifndef VEPOLL_NEST_H
#define VEPOLL_NEST_H

#include <dirent.h>
#include <sys/epoll.h>
#include <sys/wait.h>

/* Deepest chain of instances allowed (Linux: EP_MAX_NESTS + 1). */
#define NK_MAX_CHAIN	5
/* Most events one nk_wait() collects. */
#define NK_MAX_EVENTS	16

/* A new instance of @kind ('v': vepoll, 'e': native epoll), or -errno. */
static inline int nk_create(int dev, char kind)
{
	if (kind == 'e')
		return vp_ret(epoll_create1(EPOLL_CLOEXEC));
	return vp_create(dev, VEPOLL_CLOEXEC);
}

/* VEPOLL_CTL_* and EPOLL_CTL_* have the same values, as do the bits. */
static inline int nk_ctl(int dev, char kind, int ep, int op, int fd,
			 __u32 events, __u64 data)
{
	struct epoll_event eev = { .events = events, .data.u64 = data };

	if (kind == 'e')
		return vp_ret(epoll_ctl(ep, op, fd, &eev));
	return vp_ctl(dev, ep, op, fd, events, data);
}

/* A wait on either kind, results as struct vepoll_event; or -errno. */
static inline int nk_wait(int dev, char kind, int ep, struct vepoll_event *ev,
			  int maxevents, int timeout_ms)
{
	struct epoll_event eev[NK_MAX_EVENTS];
	int i, n;

	if (kind != 'e')
		return vp_wait(dev, ep, ev, maxevents, timeout_ms);
	if (maxevents > NK_MAX_EVENTS)
		maxevents = NK_MAX_EVENTS;
	n = vp_ret(epoll_wait(ep, eev, maxevents, timeout_ms));
	for (i = 0; i < n; i++) {
		ev[i].events = eev[i].events;
		ev[i].__pad = 0;
		ev[i].data = eev[i].data.u64;
	}
	return n;
}

static inline const char *nk_name(char kind)
{
	return kind == 'e' ? "epoll" : "vepoll";
}

static inline const char *nk_mode_name(__u32 mode)
{
	if (mode & VEPOLLONESHOT)
		return mode & VEPOLLET ? "ET|ONESHOT" : "ONESHOT";
	return mode & VEPOLLET ? "ET" : "LT";
}

/*
 * A chain of instances: ep[0], the outermost, watches ep[1], ..., and the
 * innermost watches the read end of a pipe. ep[i] is of kind kinds[i]; its
 * one watch asks for VEPOLLIN | modes[i], with data NK_DATA(i).
 */
#define NK_LEVELS_MAX	NK_MAX_CHAIN
#define NK_DATA(level)	(0x5e57ab1e00000000ULL + (level))

struct nk_chain {
	int dev, levels;
	const char *kinds;
	const __u32 *modes;
	int ep[NK_LEVELS_MAX];
	int p[2];
};

static inline void nk_chain_destroy(struct nk_chain *n)
{
	int i;

	for (i = 0; i < n->levels; i++)
		if (n->ep[i] >= 0)
			close(n->ep[i]);
	if (n->p[0] >= 0)
		close(n->p[0]);
	if (n->p[1] >= 0)
		close(n->p[1]);
}

/* Build the chain from the inside out: 0, or -errno (then destroy it). */
static inline int nk_chain_build(struct nk_chain *n, int dev,
				 const char *kinds, const __u32 *modes)
{
	int i, ret, target;

	n->dev = dev;
	n->kinds = kinds;
	n->modes = modes;
	n->levels = strlen(kinds);
	n->p[0] = -1;
	n->p[1] = -1;
	for (i = 0; i < NK_LEVELS_MAX; i++)
		n->ep[i] = -1;
	if (n->levels > NK_LEVELS_MAX)
		return -EINVAL;
	ret = vp_pipe(n->p);
	if (ret)
		return ret;
	target = n->p[0];
	for (i = n->levels - 1; i >= 0; i--) {
		n->ep[i] = nk_create(dev, kinds[i]);
		if (n->ep[i] < 0)
			return n->ep[i];
		ret = nk_ctl(dev, kinds[i], n->ep[i], VEPOLL_CTL_ADD, target,
			     VEPOLLIN | modes[i], NK_DATA(i));
		if (ret)
			return ret;
		target = n->ep[i];
	}
	return 0;
}

/* The fd level @lv watches. */
static inline int nk_chain_target(const struct nk_chain *n, int lv)
{
	return lv + 1 < n->levels ? n->ep[lv + 1] : n->p[0];
}

static inline pid_t nk_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * State letter of thread @tid of process @pid (0: this one) from
 * /proc/PID/task/TID/stat, and whether it is inside a system call (from
 * .../syscall: "running" when it is not). Returns 0 or -errno.
 */
static inline int nk_thread_state(pid_t pid, pid_t tid, char *state,
				  bool *in_syscall)
{
	char path[96], buf[512];
	int len;

	*state = vp_task_state(pid, tid);
	if (*state == '?')
		return -EIO;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall",
		 pid ? pid : getpid(), tid);
	len = vp_read_file(path, buf, sizeof(buf));
	if (len < 0)
		return len;
	*in_syscall = len && strncmp(buf, "running", 7) != 0;
	return 0;
}

/*
 * Wait until thread @tid of this process sleeps in a system call: after
 * it announced that it is about to wait, that is the wait itself. Gives
 * up after @limit_ms. Returns 0, or -ETIMEDOUT.
 */
static inline int nk_wait_sleeping(pid_t tid, unsigned int limit_ms)
{
	int64_t end = vp_now_ms() + limit_ms;
	bool in_syscall = false;
	char state = 0;

	do {
		if (!nk_thread_state(0, tid, &state, &in_syscall) &&
		    state == 'S' && in_syscall)
			return 0;
		vp_msleep(2);
	} while (vp_now_ms() < end);
	return -ETIMEDOUT;
}

/*
 * Print, for every thread of @pid, its state, wait channel and kernel
 * stack (the stack needs root): what a hung test leaves to debug.
 */
static inline void nk_dump_threads(pid_t pid)
{
	static const char * const files[] = { "stat", "wchan", "stack" };
	char path[384], line[1024];
	struct dirent *de;
	unsigned int i;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < ARRAY_SIZE(files); i++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/%s",
				 pid, de->d_name, files[i]);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				fprintf(stderr, "#   task %s %s: %s%s",
					de->d_name, files[i], line,
					strchr(line, '\n') ? "" : "\n");
			fclose(f);
		}
	}
	closedir(dir);
}

/*
 * Run @fn(@arg) in a child process and wait at most @limit_s seconds for
 * it: a deadlock in the kernel must fail the test, not hang the suite.
 * On time-out the child's threads are listed (state, wchan, stack) and
 * the child is sent SIGKILL, without waiting for it (a task stuck in D
 * state cannot die). The child's stdout and stderr are /dev/null: a child
 * that cannot die must not keep the runner's output pipe open. Returns
 * @fn's return value (0..255), or -ETIMEDOUT, or -ECHILD if the child
 * died of a signal.
 */
static inline int nk_run_watchdog(int (*fn)(void *), void *arg,
				  unsigned int limit_s)
{
	int64_t end = vp_now_ms() + (int64_t)limit_s * 1000;
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(null, STDERR_FILENO) < 0)
			_exit(255);
		_exit(fn(arg) & 0xff);
	}
	do {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			       -ECHILD;
		if (r < 0)
			return -errno;
		vp_msleep(20);
	} while (vp_now_ms() < end);
	fprintf(stderr, "# watchdog: child %d still running after %u s:\n",
		pid, limit_s);
	nk_dump_threads(pid);
	kill(pid, SIGKILL);
	/* Reap it if it can die; if it is stuck, leave it behind. */
	vp_msleep(500);
	waitpid(pid, &status, WNOHANG);
	return -ETIMEDOUT;
}

#endif /* VEPOLL_NEST_H */
