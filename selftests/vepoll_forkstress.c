// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_forkstress - many processes, each with many threads, sharing
 * instances and targets after fork ("any mix of concurrent CTL,
 * WAIT, poll and close, from many threads and processes, is safe"), and
 * rmmod attempted all the while. vepoll_stress does the single-process
 * part; this is the multi-process one.
 *
 * shared_instances_across_processes: the parent makes a few instances
 * (one nested in another) and a set of pipes, eventfds and socket pairs,
 * then forks VEPOLL_FORKSTRESS_PROCS (4) workers. Each inherits all of
 * them and runs, for VEPOLL_FORKSTRESS_SECONDS (10, times
 * VEPOLL_HOSTILE_SCALE), threads that
 *
 *   ctl     ADD/MOD/DEL (and CTL_BATCH) on the shared instances, with
 *           shared and private targets and the other instances, LT, ET,
 *           ONESHOT
 *   wait    WAIT on them with timeouts of 0 to 20 ms and checks every event
 *   io      write to the targets and drain them
 *   churn   close a shared descriptor and dup its saved copy back; dup a
 *           target to a new number, add that key, close it; close a
 *           private target while it is watched and open another; make a
 *           private instance holding shared ones and drop it; fork a child
 *           that uses the inherited instances and exits without a close
 *
 * and at the end exits, half of them with every descriptor still open.
 * Meanwhile the parent polls and waits on the instances and calls
 * delete_module("vepoll", O_NONBLOCK), which must fail with EWOULDBLOCK
 * or EBUSY every time. Any errno outside the contract, any malformed
 * event, or a worker that does not finish fails the test; after it, every
 * instance must be gone (the registry takes max_instances again), a fresh
 * one must work, and, with VEPOLL_KO, rmmod must succeed.
 *
 * rmmod_races_the_last_close (VEPOLL_KO): a child uses a freshly loaded
 * module and exits with its instances open, while the parent retries
 * rmmod until it succeeds: the unload follows the last release at once,
 * and must leave nothing behind.
 *
 * The seed (VEPOLL_FORKSTRESS_SEED) is printed.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define NR_SHARED_INST	4
#define NR_PIPES	6
#define NR_EFDS		4
#define NR_SOCKS	4
#define NR_SHARED_T	(NR_PIPES + NR_EFDS + NR_SOCKS)
#define NR_PRIVATE	6
#define MAX_PROCS	16
#define MAX_EVENTS	32
#define SPARE_BASE	600	/* saved copies of the shared descriptors */
#define DATA_TAG	0x5653ULL	/* "VS" */
#define MAX_FAILS	8
#define NR_ERRNO	160
#define E(x)		(1ULL << (x))

/* ---- configuration ---------------------------------------------------- */

static double cfg_scale = 1.0;
static const char *cfg_scale_why = "default";
static unsigned long long cfg_seed;
static int cfg_procs = 4;
static double cfg_seconds = 10;

/* ---- shared report ------------------------------------------------------ */

enum op {
	OP_CTL, OP_BATCH, OP_WAIT, OP_EVENTS, OP_WRITE, OP_READ, OP_REDUP,
	OP_DUPKEY, OP_PRIVATE, OP_PRIV_INST, OP_FORK, OP_RMMOD, OP_POLL,
	NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"ctl", "ctl batch", "wait", "events", "write", "read",
	"close+dup2 back", "dup+add+close", "private target replaced",
	"private instance", "fork", "rmmod refused", "parent poll/wait",
};

struct report {
	unsigned long ops[NR_OPS];
	unsigned long err[NR_ERRNO];
	int nr_fails;
	char fails[MAX_FAILS][320];
};

static struct report *rep;

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;
	int n;

	n = __atomic_fetch_add(&rep->nr_fails, 1, __ATOMIC_RELAXED);
	if (n >= MAX_FAILS)
		return;
	va_start(ap, fmt);
	vsnprintf(rep->fails[n], sizeof(rep->fails[n]), fmt, ap);
	va_end(ap);
}

static void count(enum op op, long ret)
{
	int err = ret < 0 ? (int)-ret : 0;

	__atomic_fetch_add(&rep->ops[op], 1, __ATOMIC_RELAXED);
	if (err < NR_ERRNO)
		__atomic_fetch_add(&rep->err[err], 1, __ATOMIC_RELAXED);
}

static bool allowed(long ret, uint64_t set)
{
	int err = ret < 0 ? (int)-ret : 0;

	return !err || (err < 64 && (set & E(err)));
}

/* ---- what a worker shares and holds -------------------------------------- */

struct target {
	int rfd, wfd;	/* the watched end, the end written to */
};

static int dev = -1;
static int inst[NR_SHARED_INST];
static struct target shared[NR_SHARED_T];

/* Private to one worker; only its churn thread replaces them. */
static struct target priv[NR_PRIVATE];
static int worker_no;
static bool stop;
static unsigned long long seq;

static __u64 new_data(void)
{
	return DATA_TAG << 48 | (uint64_t)worker_no << 40 |
	       (__atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED) &
		((1ULL << 40) - 1));
}

static const __u32 masks[] = {
	VEPOLLIN, VEPOLLIN | VEPOLLET, VEPOLLIN | VEPOLLONESHOT,
	VEPOLLIN | VEPOLLOUT | VEPOLLRDHUP, VEPOLLOUT | VEPOLLET,
	VEPOLLIN | VEPOLLET | VEPOLLONESHOT, 0,
};

/* A target descriptor: shared, private, or an instance. */
static int pick_target(uint64_t *r)
{
	unsigned int k = vp_below(r, 10);

	if (k < 5)
		return shared[vp_below(r, NR_SHARED_T)].rfd;
	if (k < 6)
		return shared[vp_below(r, NR_SHARED_T)].wfd;
	if (k < 9)
		return __atomic_load_n(&priv[vp_below(r, NR_PRIVATE)].rfd,
				       __ATOMIC_RELAXED);
	return inst[vp_below(r, NR_SHARED_INST)];
}

static void do_ctl(uint64_t *r)
{
	static const __u32 ops[] = {
		VEPOLL_CTL_ADD, VEPOLL_CTL_ADD, VEPOLL_CTL_MOD, VEPOLL_CTL_DEL,
	};
	struct vepoll_ctl_args a[4];
	struct vepoll_ctl_batch b;
	__s32 res[4];
	int i, n, ep;
	long ret;

	ep = inst[vp_below(r, NR_SHARED_INST)];
	if (vp_below(r, 8)) {
		__u32 op = ops[vp_below(r, ARRAY_SIZE(ops))];

		ret = vp_ctl(dev, ep, op, pick_target(r),
			     masks[vp_below(r, ARRAY_SIZE(masks))], new_data());
		count(OP_CTL, ret);
		if (!allowed(ret, VP_CONTRACT_ERRNOS & ~E(ENOTTY) & ~E(EINTR)) ||
		    ret > 0)
			fail("worker %d: CTL op %u on fd %d: %ld (%s)",
			     worker_no, op, ep, ret,
			     ret < 0 ? strerror(-ret) : "positive");
		return;
	}
	n = 1 + vp_below(r, 4);
	memset(a, 0, sizeof(a));
	for (i = 0; i < n; i++) {
		a[i].epfd = ep;
		a[i].op = ops[vp_below(r, ARRAY_SIZE(ops))];
		a[i].fd = pick_target(r);
		a[i].event.events = masks[vp_below(r, ARRAY_SIZE(masks))];
		a[i].event.data = new_data();
		res[i] = 0x5a5a5a5a;
	}
	b = (struct vepoll_ctl_batch){
		.epfd = ep, .count = n,
		.ctls = vp_ptr(a), .results = vp_ptr(res),
	};
	ret = vp_ret(ioctl(dev, VEPOLL_IOC_CTL_BATCH, &b));
	count(OP_BATCH, ret);
	if (ret < 0 || ret > n) {
		fail("worker %d: CTL_BATCH of %d: %ld", worker_no, n, ret);
		return;
	}
	for (i = 0; i < ret; i++)
		if (res[i])
			fail("worker %d: CTL_BATCH applied %ld, result %d is %d",
			     worker_no, ret, i, res[i]);
	if (ret < n &&
	    (res[ret] >= 0 || !allowed(res[ret], VP_CONTRACT_ERRNOS)))
		fail("worker %d: CTL_BATCH stopped at %ld with %d", worker_no,
		     ret, res[ret]);
	for (i = ret + 1; i < n; i++)
		if (res[i] != 0x5a5a5a5a)
			fail("worker %d: CTL_BATCH result %d past the failing one written",
			     worker_no, i);
}

static void do_wait(uint64_t *r)
{
	struct vepoll_event ev[MAX_EVENTS];
	unsigned int max = 1 + vp_below(r, MAX_EVENTS);
	int timeout = vp_below(r, 3) ? (int)vp_below(r, 21) : 0;
	int ep = inst[vp_below(r, NR_SHARED_INST)], i, j;
	long n;

	memset(ev, 0xa5, sizeof(ev));
	n = vp_wait(dev, ep, ev, max, timeout);
	count(OP_WAIT, n);
	if (!allowed(n, E(EBADF) | E(EINVAL) | E(EINTR))) {
		fail("worker %d: WAIT on %d: %s", worker_no, ep, strerror(-n));
		return;
	}
	if (n > (long)max) {
		fail("worker %d: WAIT: %ld events for %u", worker_no, n, max);
		return;
	}
	for (i = 0; i < n; i++) {
		if (ev[i].__pad || !ev[i].events ||
		    (ev[i].events & ~VP_COND_BITS) ||
		    ev[i].data >> 48 != DATA_TAG) {
			fail("worker %d: bad event: events %#x pad %#x data %#llx",
			     worker_no, ev[i].events, ev[i].__pad,
			     (unsigned long long)ev[i].data);
			return;
		}
		for (j = 0; j < i; j++)
			if (ev[j].data == ev[i].data)
				fail("worker %d: data %#llx twice in a result",
				     worker_no, (unsigned long long)ev[i].data);
	}
	if (n > 0)
		__atomic_fetch_add(&rep->ops[OP_EVENTS], n, __ATOMIC_RELAXED);
}

static void do_io(uint64_t *r)
{
	struct target *t = vp_below(r, 3) ? &shared[vp_below(r, NR_SHARED_T)] :
			   &priv[vp_below(r, NR_PRIVATE)];
	char buf[512];
	uint64_t one = 1;

	memset(buf, 'v', 64);
	if (vp_below(r, 2)) {
		/* An eventfd's two ends are one descriptor. */
		if (t->rfd == t->wfd)
			(void)!write(t->wfd, &one, sizeof(one));
		else
			(void)!write(t->wfd, buf, 1 + vp_below(r, 64));
		count(OP_WRITE, 0);
	} else {
		(void)!read(t->rfd, buf, sizeof(buf));
		count(OP_READ, 0);
	}
}

static int open_private(struct target *t, uint64_t *r)
{
	int p[2];

	switch (vp_below(r, 3)) {
	case 0:
		if (vp_pipe(p))
			return -1;
		break;
	case 1:
		p[0] = vp_eventfd(0);
		if (p[0] < 0)
			return -1;
		p[1] = p[0];
		break;
	default:
		if (vp_socketpair(p))
			return -1;
		break;
	}
	__atomic_store_n(&t->wfd, p[1], __ATOMIC_RELAXED);
	__atomic_store_n(&t->rfd, p[0], __ATOMIC_RELAXED);
	return 0;
}

static void close_private(struct target *t)
{
	if (t->wfd != t->rfd)
		close(t->wfd);
	close(t->rfd);
}

/* A child of a worker: a few calls on what it inherited, then gone. */
static void grandchild(uint64_t r)
{
	int i;

	/* Data of its own: its watches outlive it, next to the worker's. */
	worker_no |= 0x80;
	seq = (unsigned long long)getpid() << 20;

	for (i = 0; i < 20; i++) {
		if (vp_below(&r, 2))
			do_ctl(&r);
		else
			do_wait(&r);
	}
	_exit(0);
}

static void do_churn(uint64_t *r)
{
	struct vepoll_event ev[8];
	int i, fd, ep, ret, status;
	pid_t pid;

	switch (vp_below(r, 6)) {
	case 0:
		/* Close a shared descriptor here; the saved copy comes back. */
		i = vp_below(r, NR_SHARED_T + NR_SHARED_INST);
		fd = i < NR_SHARED_T ? shared[i].rfd : inst[i - NR_SHARED_T];
		close(fd);
		usleep(vp_below(r, 500));
		if (dup2(SPARE_BASE + i, fd) != fd)
			fail("worker %d: dup2 back to %d: %s", worker_no, fd,
			     strerror(errno));
		count(OP_REDUP, 0);
		break;
	case 1:
		/* Another key for the same file: add it, drop the number. */
		fd = dup(shared[vp_below(r, NR_SHARED_T)].rfd);
		if (fd < 0)
			break;
		ep = inst[vp_below(r, NR_SHARED_INST)];
		ret = vp_ctl(dev, ep, VEPOLL_CTL_ADD, fd, VEPOLLIN, new_data());
		if (!allowed(ret, E(EEXIST) | E(EBADF) | E(EINVAL)))
			fail("worker %d: ADD of a dup: %s", worker_no,
			     strerror(-ret));
		vp_wait(dev, ep, ev, 8, 0);
		close(fd);
		count(OP_DUPKEY, ret);
		break;
	case 2:
	case 3:
		/* A watched private target closed for good, another opened. */
		i = vp_below(r, NR_PRIVATE);
		close_private(&priv[i]);
		if (open_private(&priv[i], r))
			fail("worker %d: reopen private: %s", worker_no,
			     strerror(errno));
		count(OP_PRIVATE, 0);
		break;
	case 4:
		/* A private instance holding shared things, then dropped. */
		ep = vp_create(dev, VEPOLL_CLOEXEC);
		count(OP_PRIV_INST, ep < 0 ? ep : 0);
		if (ep < 0) {
			if (ep != -ENFILE && ep != -EMFILE)
				fail("worker %d: CREATE: %s", worker_no,
				     strerror(-ep));
			break;
		}
		for (i = 0; i < 4; i++)
			vp_ctl(dev, ep, VEPOLL_CTL_ADD, pick_target(r),
			       masks[vp_below(r, ARRAY_SIZE(masks))],
			       new_data());
		vp_wait(dev, ep, ev, 8, vp_below(r, 3));
		/* The shared ones may not take it back: ELOOP, EEXIST. */
		vp_ctl(dev, inst[vp_below(r, NR_SHARED_INST)], VEPOLL_CTL_ADD,
		       ep, VEPOLLIN, new_data());
		close(ep);
		break;
	default:
		pid = fork();
		if (pid == 0)
			grandchild(vp_rnd(r));
		if (pid > 0 && (waitpid(pid, &status, 0) != pid ||
				!WIFEXITED(status) || WEXITSTATUS(status)))
			fail("worker %d: grandchild status %#x", worker_no,
			     status);
		count(OP_FORK, pid < 0 ? -errno : 0);
		break;
	}
}

enum role { R_CTL, R_WAIT, R_IO, R_CHURN, NR_ROLES };

static const int role_count[NR_ROLES] = { 2, 2, 1, 1 };

struct thread {
	pthread_t th;
	enum role role;
	uint64_t rng;
};

static void *thread_fn(void *arg)
{
	struct thread *t = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		switch (t->role) {
		case R_CTL:
			do_ctl(&t->rng);
			break;
		case R_WAIT:
			do_wait(&t->rng);
			break;
		case R_IO:
			do_io(&t->rng);
			break;
		default:
			do_churn(&t->rng);
			usleep(200);
			break;
		}
	}
	return NULL;
}

static void worker(int no, int64_t end_ms)
{
	struct thread th[8];
	uint64_t r = vp_splitmix(cfg_seed ^ vp_splitmix(no + 1)) | 1;
	int i, j, n = 0;

	worker_no = no;
	vp_detach_stdio();
	signal(SIGPIPE, SIG_IGN);
	/* Saved copies, to put a closed shared descriptor back. */
	for (i = 0; i < NR_SHARED_T; i++)
		if (dup2(shared[i].rfd, SPARE_BASE + i) < 0)
			_exit(10);
	for (i = 0; i < NR_SHARED_INST; i++)
		if (dup2(inst[i], SPARE_BASE + NR_SHARED_T + i) < 0)
			_exit(11);
	for (i = 0; i < NR_PRIVATE; i++)
		if (open_private(&priv[i], &r))
			_exit(12);
	for (i = 0; i < NR_ROLES; i++)
		for (j = 0; j < role_count[i]; j++, n++) {
			th[n].role = (enum role)i;
			th[n].rng = vp_splitmix(r + n) | 1;
			if (pthread_create(&th[n].th, NULL, thread_fn, &th[n]))
				_exit(13);
		}
	while (vp_now_ms() < end_ms)
		vp_msleep(10);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(th[i].th, NULL);
	/* Half leave it all to exit(). */
	if (no & 1)
		_exit(0);
	vp_close_from(3);
	_exit(0);
}

/* ---- the tests ------------------------------------------------------------- */

/* delete_module while in use: refused, and the module stays. */
static void try_rmmod(void)
{
	int ret = vp_delete_module();

	count(OP_RMMOD, ret == -EWOULDBLOCK || ret == -EBUSY ? 0 : ret);
	if (ret == -EWOULDBLOCK || ret == -EBUSY)
		return;
	fail("delete_module with instances open: %d (%s)", ret,
	     ret ? strerror(-ret) : "unloaded!");
	if (!ret && vp_ko_path())
		vp_module_load(getenv("VEPOLL_PARAMS") ?: "");
}

static int make_shared(void)
{
	int i, p[2];

	dev = vp_open_dev();
	if (dev < 0)
		return -1;
	for (i = 0; i < NR_SHARED_INST; i++) {
		inst[i] = vp_create(dev, 0);
		if (inst[i] < 0)
			return -1;
	}
	/* The last instance holds the first one. */
	if (vp_ctl(dev, inst[NR_SHARED_INST - 1], VEPOLL_CTL_ADD, inst[0],
		   VEPOLLIN, DATA_TAG << 48))
		return -1;
	for (i = 0; i < NR_SHARED_T; i++) {
		if (i < NR_PIPES) {
			if (vp_pipe(p))
				return -1;
		} else if (i < NR_PIPES + NR_EFDS) {
			p[0] = vp_eventfd(0);
			p[1] = p[0];
			if (p[0] < 0)
				return -1;
		} else if (vp_socketpair(p)) {
			return -1;
		}
		shared[i].rfd = p[0];
		shared[i].wfd = p[1];
	}
	return 0;
}

static void print_report(double secs)
{
	char line[1024];
	size_t len;
	int i;

	len = snprintf(line, sizeof(line), "%.1f s:", secs);
	for (i = 0; i < NR_OPS && len < sizeof(line); i++)
		len += snprintf(line + len, sizeof(line) - len, " %s %lu%s",
				op_name[i], rep->ops[i],
				i < NR_OPS - 1 ? "," : "");
	ksft_print_msg("%s\n", line);
	len = snprintf(line, sizeof(line), "answers: success %lu",
		       rep->err[0]);
	for (i = 1; i < NR_ERRNO && len < sizeof(line); i++)
		if (rep->err[i])
			len += snprintf(line + len, sizeof(line) - len,
					", %s %lu", strerrorname_np(i) ?: "?",
					rep->err[i]);
	ksft_print_msg("%s\n", line);
}

TEST(shared_instances_across_processes)
{
	int64_t start = vp_now_ms(), end_ms, deadline;
	struct vepoll_event ev[MAX_EVENTS];
	pid_t pids[MAX_PROCS];
	int i, status, left, bad = 0;
	struct pollfd pfd[NR_SHARED_INST];
	bool root = !geteuid() && vp_module_loaded();
	long max;

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(rep != MAP_FAILED);
	memset(rep, 0, sizeof(*rep));
	ASSERT_EQ(0, vp_want_nofile(1024));
	ASSERT_EQ(0, make_shared());
	end_ms = start + (int64_t)(cfg_seconds * 1000);
	ksft_print_msg("scale %.3f (%s): %d processes x 6 threads, %.1f s, seed %llu%s\n",
		       cfg_scale, cfg_scale_why, cfg_procs, cfg_seconds,
		       cfg_seed, root ? ", rmmod attempts" :
		       ", no rmmod attempts (not root)");
	ksft_print_msg("VEPOLL_FORKSTRESS_SEED=%llu repeats the mix\n", cfg_seed);
	for (i = 0; i < cfg_procs; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			worker(i, end_ms);
	}
	/* The parent: rmmod attempts, polls and waits, until all are done. */
	deadline = end_ms + (int64_t)(30000 / (cfg_scale < 1 ? cfg_scale : 1));
	for (left = cfg_procs; left && vp_now_ms() < deadline;) {
		if (root)
			try_rmmod();
		for (i = 0; i < NR_SHARED_INST; i++) {
			pfd[i].fd = inst[i];
			pfd[i].events = POLLIN;
		}
		poll(pfd, NR_SHARED_INST, 0);
		vp_wait(dev, inst[(vp_now_ms() / 20) % NR_SHARED_INST], ev,
			MAX_EVENTS, 0);
		count(OP_POLL, 0);
		vp_msleep(20);
		for (i = 0; i < cfg_procs; i++) {
			if (pids[i] <= 0 ||
			    waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				TH_LOG("worker %d: status %#x", i, status);
				bad++;
			}
			pids[i] = 0;
			left--;
		}
	}
	for (i = 0; i < cfg_procs; i++)
		if (pids[i] > 0) {
			TH_LOG("worker %d (pid %d) did not finish: state %c",
			       i, pids[i], vp_task_state(pids[i], 0));
			kill(pids[i], SIGKILL);
			bad++;
		}
	if (root)
		try_rmmod();
	print_report((vp_now_ms() - start) / 1000.0);
	for (i = 0; i < rep->nr_fails && i < MAX_FAILS; i++)
		TH_LOG("%s", rep->fails[i]);
	EXPECT_EQ(0, rep->nr_fails);
	EXPECT_EQ(0, bad);
	if (root)
		EXPECT_LT(0UL, rep->ops[OP_RMMOD]);
	EXPECT_LT(0UL, rep->ops[OP_EVENTS]);

	/* All gone: the registry has room for max_instances again. */
	vp_close_from(3);
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	max = vp_param("max_instances");
	if (!bad && !geteuid() && max > 0 && max <= 4096) {
		int *fds = calloc(max + 1, sizeof(*fds)), n;

		ASSERT_TRUE(!!fds);
		ASSERT_EQ(0, vp_want_nofile(max + 64));
		for (n = 0; n <= max; n++) {
			fds[n] = vp_create(dev, 0);
			if (fds[n] < 0)
				break;
		}
		EXPECT_EQ(max, n);
		EXPECT_EQ(-ENFILE, n <= max ? fds[n] : 0);
		while (n-- > 0)
			close(fds[n]);
		free(fds);
	}
	/* A fresh instance works. */
	ASSERT_EQ(0, make_shared());
	ASSERT_EQ(1, vp_write_bytes(shared[0].wfd, 1));
	ASSERT_EQ(0, vp_ctl(dev, inst[1], VEPOLL_CTL_ADD, shared[0].rfd,
			    VEPOLLIN, 42));
	ASSERT_EQ(1, vp_wait(dev, inst[1], ev, 4, 1000));
	EXPECT_EQ(42ULL, ev[0].data);
	vp_close_from(3);
	/* Nothing holds the module now. */
	if (vp_ko_path() && root) {
		EXPECT_EQ(0, vp_module_unload());
		EXPECT_EQ(0, vp_module_restore());
	}
	munmap(rep, sizeof(*rep));
}

/* The child's use of the module: instances left open, events pending. */
static void last_user(int i, int ready)
{
	struct vepoll_event ev[4];
	int d, a, b, p[2];

	d = vp_open_dev();
	a = vp_create(d, 0);
	b = vp_create(d, 0);
	if (d < 0 || a < 0 || b < 0 || vp_pipe(p))
		_exit(10);
	if (vp_ctl(d, a, VEPOLL_CTL_ADD, p[0], VEPOLLIN | VEPOLLET, 1) ||
	    vp_ctl(d, b, VEPOLL_CTL_ADD, a, VEPOLLIN, 2) ||
	    vp_ctl(d, b, VEPOLL_CTL_ADD, p[1], VEPOLLOUT, 3))
		_exit(11);
	if (vp_write_bytes(p[1], 1) != 1 || vp_wait(d, b, ev, 4, 100) < 1)
		_exit(12);
	vp_write_bytes(p[1], 1);
	/* Half close the device first, half leave everything to exit(). */
	if (i & 1)
		close(d);
	if (write(ready, "r", 1) != 1)
		_exit(13);
	_exit(0);
}

TEST(rmmod_races_the_last_close)
{
	long cycles = (long)(20 * cfg_scale) < 3 ? 3 : (long)(20 * cfg_scale);
	const char *why = vp_reload_unsupported();
	unsigned long refused = 0;
	int64_t deadline;
	int ret, status, sync[2];
	char c;
	long i;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	vp_close_from(3);
	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, vp_module_restore());
		ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			vp_detach_stdio();
			last_user((int)i, sync[1]);
		}
		close(sync[1]);
		ASSERT_EQ(1, read(sync[0], &c, 1));
		close(sync[0]);
		/* Unload the moment the child's files are released. */
		deadline = vp_now_ms() + 10000;
		while ((ret = vp_delete_module()) != 0 &&
		       vp_now_ms() < deadline) {
			ASSERT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) {
				TH_LOG("delete_module: %s", strerror(-ret));
			}
			refused++;
		}
		ASSERT_EQ(0, ret);
		ASSERT_FALSE(vp_module_loaded());
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	ksft_print_msg("%ld unloads right after the last close (%lu refusals before them)\n",
		       cycles, refused);
	EXPECT_EQ(0, vp_module_restore());
}

int main(int argc, char **argv)
{
	const char *s = getenv("VEPOLL_FORKSTRESS_SEED");

	setvbuf(stdout, NULL, _IOLBF, 0);
	cfg_scale = vp_hostile_scale(&cfg_scale_why);
	cfg_seed = s && *s ? strtoull(s, NULL, 0) :
		   vp_splitmix((uint64_t)vp_now_us() ^ getpid()) % 1000000000;
	s = getenv("VEPOLL_FORKSTRESS_PROCS");
	if (s && *s)
		cfg_procs = atoi(s);
	if (cfg_procs < 1 || cfg_procs > MAX_PROCS)
		cfg_procs = 4;
	s = getenv("VEPOLL_FORKSTRESS_SECONDS");
	cfg_seconds = (s && *s ? atof(s) : 10) * cfg_scale;
	if (cfg_seconds < 3)
		cfg_seconds = 3;
	_shared_instances_across_processes_object.timeout =
		60 + (int)(cfg_seconds + 30 / (cfg_scale < 1 ? cfg_scale : 1));
	_rmmod_races_the_last_close_object.timeout = 300;
	return test_harness_run(argc, argv);
}
