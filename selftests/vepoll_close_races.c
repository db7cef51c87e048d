// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_close_races - a watched file's last close racing the instance
 * that watches it, one scenario each:
 *
 *   release_vs_target_last_close   an instance is released while another
 *                                  task closes the file its watches are
 *                                  on: the release never touches the
 *                                  file's wait queue once the close has
 *                                  freed it (KASAN use-after-free in
 *                                  remove_wait_queue otherwise)
 *   batch_mod_of_reused_key        a watch the close path killed in the
 *                                  middle of a CTL_BATCH chunk is gone for
 *                                  the rest of the chunk: a MOD of its key,
 *                                  now naming a new file at the same
 *                                  address and fd, answers ENOENT and
 *                                  queues nothing
 *
 * Each runs its scenario over and over for VEPOLL_STRESS_SECONDS (default
 * 8) s, or until the first failure, in a worker process: the test itself
 * only watches /dev/kmsg for a splat and the worker for getting stuck, so
 * that a module with the bug is reported before it wedges the guest. Both
 * are last in the Makefile for that reason.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

/* Run time of each racing test, s: VEPOLL_STRESS_SECONDS. */
static int cfg_seconds = 8;

/* What a worker may take past its run time before it counts as stuck, ms. */
#define GRACE_MS	20000

/* ---- shared helpers -------------------------------------------------------- */

static void *shared_page(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The racing tasks share the last CPU; the watcher (and the orchestrating
 * thread) stay on CPU 0. A release that hits the bug spins, interrupts
 * off, on the freed wait queue's lock: the CPU it wedges must not be the
 * one that takes the console's interrupts, or the verdict never shows.
 */
static int race_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 1 ? (int)n - 1 : 0;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* What a worker tells the test, in a shared page. */
struct report {
	int stop;		/* the test saw a splat: stop now */
	int done;		/* the worker finished its run */
	int skip;		/* a missing facility: what[] says which */
	long rounds;
	long held;		/* rounds whose race window was held open */
	long wrong;		/* rounds with a wrong answer */
	long calib_us;
	int err;		/* first failure: -errno, or -EPROTO */
	long fail_round;	/* in which round (rounds + 1: after the run) */
	char what[160];
};

static bool report_stopped(struct report *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_RELAXED);
}

/*
 * Record the first failure; the worker stops at it. @err: a negative errno
 * the step failed with, or anything else for a wrong answer.
 */
static void report_fail(struct report *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report_fail(struct report *r, int err, const char *fmt, ...)
{
	va_list ap;

	int len;

	if (r->what[0])
		return;
	r->err = err < 0 ? err : -EPROTO;
	r->fail_round = r->rounds + 1;
	va_start(ap, fmt);
	len = vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	if (err < 0 && len > 0 && (size_t)len < sizeof(r->what))
		snprintf(r->what + len, sizeof(r->what) - len, ": %s",
			 strerror(-err));
}

/*
 * After a run: an instance made now still reports a ready watch, and
 * forgets it once its file is closed. Whatever the race corrupted shows
 * here, if not before.
 */
static void check_instance_works(int dev, struct report *r)
{
	struct vepoll_event ev[2];
	int ep, efd, n;

	ep = vp_create(dev, VEPOLL_CLOEXEC);
	efd = vp_eventfd(1);
	if (ep < 0 || efd < 0) {
		report_fail(r, ep < 0 ? ep : efd, "afterwards: CREATE or eventfd");
		goto out;
	}
	n = vp_ctl(dev, ep, VEPOLL_CTL_ADD, efd, VEPOLLIN, 77);
	if (n) {
		report_fail(r, n, "afterwards: ADD");
		goto out;
	}
	n = vp_wait(dev, ep, ev, 2, 1000);
	if (n != 1 || ev[0].data != 77 || !(ev[0].events & VEPOLLIN)) {
		report_fail(r, n, "afterwards: WAIT answered %d (data %llu)", n,
			    n > 0 ? (unsigned long long)ev[0].data : 0ULL);
		goto out;
	}
	close(efd);
	efd = -1;
	n = vp_wait(dev, ep, ev, 2, 0);
	if (n)
		report_fail(r, n, "afterwards: WAIT after the close answered %d", n);
out:
	if (efd >= 0)
		close(efd);
	if (ep >= 0)
		close(ep);
}

/*
 * Run @work in a worker process and judge it: no splat, not stuck, no
 * failure recorded, at least one round. Returns the report (NULL if the
 * fork failed) for the test's own checks.
 */
static struct report *run_worker(struct __test_metadata *_metadata,
				 void (*work)(struct report *r))
{
	int64_t deadline, splat_ms = 0;
	struct vp_splats sp = {};
	struct report *r;
	int kmsg, status;
	pid_t pid, got;

	r = shared_page(sizeof(*r));
	if (!r)
		return NULL;
	/* Out of the racing tasks' way, and going if their CPU is wedged. */
	pin_to(0);
	kmsg = vp_kmsg_open();
	pid = fork();
	if (pid < 0)
		return NULL;
	if (!pid) {
		vp_detach_stdio();
		work(r);
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
		_exit(0);
	}

	/* A splat may leave the worker stuck: give it 2 s more, no more. */
	deadline = vp_now_ms() + cfg_seconds * 1000 + GRACE_MS;
	while (!(got = vp_wait_child(pid, &status, 100)) &&
	       vp_now_ms() < deadline) {
		if (!splat_ms && vp_kmsg_splats(kmsg, &sp)) {
			splat_ms = vp_now_ms();
			__atomic_store_n(&r->stop, 1, __ATOMIC_RELAXED);
		}
		if (splat_ms && vp_now_ms() > splat_ms + 2000)
			break;
	}
	vp_kmsg_splats(kmsg, &sp);
	if (kmsg >= 0)
		close(kmsg);
	ksft_print_msg("%ld rounds in %d s, %ld wrong answers\n", r->rounds,
		       cfg_seconds, r->wrong);
	EXPECT_EQ(0, sp.found) {
		TH_LOG("kernel: %s", sp.text);
	}
	EXPECT_EQ(pid, got) {
		TH_LOG("worker stuck in state %c after %ld rounds",
		       vp_task_state(pid, 0), r->rounds);
	}
	if (got == pid) {
		EXPECT_TRUE(WIFEXITED(status) && r->done) {
			TH_LOG("worker died (status %#x) after %ld rounds",
			       status, r->rounds);
		}
	}
	EXPECT_EQ(0, r->err) {
		TH_LOG("round %ld: %s", r->fail_round, r->what);
	}
	if (!r->skip)
		EXPECT_LT(0, r->rounds);
	return r;
}

/* ---- 1. an instance's release against its target's last close ------------- */

/* Watches of the one file: each a fd of its own, so the release takes long. */
#define RL_WATCHES	32

struct rl_race {
	struct report *r;
	pthread_barrier_t go, end;
	int ep, efd;
	long delay_ns;		/* < 0: the closer sits the round out */
	int64_t release_us;
	int quit;
	int fifo_err;
};

/* Task A: the instance's last close, which detaches every watch. */
static void *rl_releaser(void *arg)
{
	struct rl_race *x = arg;
	int64_t t0;

	pin_to(race_cpu());
	for (;;) {
		pthread_barrier_wait(&x->go);
		if (x->quit)
			return NULL;
		t0 = vp_now_us();
		close(x->ep);
		x->release_us = vp_now_us() - t0;
		pthread_barrier_wait(&x->end);
	}
}

/*
 * Task B: the file's last close, on A's CPU at a higher priority, so that
 * it preempts A at a random point of the release: anywhere between a
 * watch coming off the target's list and its hook coming off the file's
 * wait queue.
 */
static void *rl_closer(void *arg)
{
	struct sched_param sp = { .sched_priority = 10 };
	struct rl_race *x = arg;
	struct timespec ts;

	pin_to(race_cpu());
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		x->fifo_err = -errno;
	for (;;) {
		pthread_barrier_wait(&x->go);
		if (x->quit)
			return NULL;
		if (x->delay_ns >= 0) {
			ts.tv_sec = x->delay_ns / 1000000000;
			ts.tv_nsec = x->delay_ns % 1000000000;
			nanosleep(&ts, NULL);
			close(x->efd);
		}
		pthread_barrier_wait(&x->end);
	}
}

/* An instance with RL_WATCHES watches on one eventfd, each by its own fd. */
static int rl_setup(int dev, struct rl_race *x)
{
	int fds[RL_WATCHES], i, err = 0;

	x->ep = vp_create(dev, VEPOLL_CLOEXEC);
	if (x->ep < 0)
		return x->ep;
	x->efd = vp_eventfd(0);
	if (x->efd < 0)
		return x->efd;
	for (i = 0; i < RL_WATCHES && !err; i++) {
		fds[i] = i ? vp_ret(dup(x->efd)) : x->efd;
		err = fds[i] < 0 ? fds[i] :
		      vp_ctl(dev, x->ep, VEPOLL_CTL_ADD, fds[i], VEPOLLIN, i);
		if (fds[i] < 0)
			break;
	}
	/* The watches stay: the file is still open through x->efd. */
	while (--i > 0)
		close(fds[i]);
	return err;
}

/* One round: A releases the instance while B closes the file after @delay_ns. */
static void rl_round(struct rl_race *x, long delay_ns)
{
	x->delay_ns = delay_ns;
	pthread_barrier_wait(&x->go);
	pthread_barrier_wait(&x->end);
}

static void rl_work(struct report *r)
{
	struct rl_race x = { .r = r };
	pthread_t a, b;
	uint64_t seed = 1;
	int64_t deadline, sum = 0;
	int dev, i, err;

	pin_to(0);
	dev = vp_open_dev();
	if (dev < 0) {
		report_fail(r, dev, "open " VP_DEV_PATH);
		return;
	}
	pthread_barrier_init(&x.go, NULL, 3);
	pthread_barrier_init(&x.end, NULL, 3);
	if (pthread_create(&a, NULL, rl_releaser, &x) ||
	    pthread_create(&b, NULL, rl_closer, &x)) {
		report_fail(r, -EAGAIN, "pthread_create");
		_exit(1);
	}

	/* How long a release takes alone: B's delays span it. */
	for (i = 0; i < 20; i++) {
		err = rl_setup(dev, &x);
		if (err) {
			report_fail(r, err, "setting up %d watches", RL_WATCHES);
			break;
		}
		rl_round(&x, -1);
		close(x.efd);
		sum += x.release_us;
	}
	r->calib_us = sum / 20;
	if (x.fifo_err) {
		r->skip = 1;
		snprintf(r->what, sizeof(r->what), "SCHED_FIFO: %s",
			 strerror(-x.fifo_err));
	}

	deadline = vp_now_ms() + cfg_seconds * 1000LL;
	while (!r->err && !r->skip && !report_stopped(r) &&
	       vp_now_ms() < deadline) {
		err = rl_setup(dev, &x);
		if (err) {
			report_fail(r, err, "setting up %d watches", RL_WATCHES);
			break;
		}
		rl_round(&x, (long)(vp_below(&seed, 1300) * r->calib_us));
		r->rounds++;
	}
	x.quit = 1;
	pthread_barrier_wait(&x.go);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (!r->skip && !report_stopped(r))
		check_instance_works(dev, r);
	close(dev);
}

/*
 * Task A closes an instance whose 32 watches are all on one eventfd
 * while task B, SCHED_FIFO on A's CPU, closes the eventfd's last fd after
 * a random part of the time a release takes. B's close frees the file's
 * wait queue head as soon as it finds no watch left on the file to kill:
 * A must have unhooked the watch it took off the file by then.
 */
TEST(release_vs_target_last_close)
{
	struct report *r = run_worker(_metadata, rl_work);

	ASSERT_TRUE(!!r);
	if (r->skip)
		SKIP(return, "%s", r->what);
	ksft_print_msg("a release of %d watches takes %ld us alone\n",
		       RL_WATCHES, r->calib_us);
}

/* ---- 2. a CTL_BATCH chunk held open across a target's last close ---------- */

struct bm_round {
	int dev, outer, inner;
	void *page;		/* the inner WAIT's events: a userfaultfd page */
	int wait_ret;
	int xfd;		/* the watched fd whose file is closed */
	pid_t batch_tid;
	int batch_ret;
	__s32 results[2];
};

/* Holds the inner instance's mtx while its copy-out faults. */
static void *bm_inner_wait(void *arg)
{
	struct bm_round *b = arg;

	pin_to(race_cpu());
	b->wait_ret = vp_wait(b->dev, b->inner, b->page, 1, 0);
	return NULL;
}

/*
 * Entry 0 takes the outer instance's mtx, then blocks on the inner one's
 * (the ADD polls it); entry 1 runs only once the fault is resolved, in
 * the same chunk, under the same hold of the outer mtx.
 */
static void *bm_batch(void *arg)
{
	struct bm_round *b = arg;
	struct vepoll_ctl_args c[2] = {
		{ .epfd = b->outer, .op = VEPOLL_CTL_ADD, .fd = b->inner,
		  .event = { .events = VEPOLLIN, .data = 3 } },
		{ .epfd = b->outer, .op = VEPOLL_CTL_MOD, .fd = b->xfd,
		  .event = { .events = VEPOLLIN, .data = 4 } },
	};
	struct vepoll_ctl_batch batch = {
		.epfd = b->outer, .count = 2,
		.ctls = vp_ptr(c), .results = vp_ptr(b->results),
	};

	pin_to(race_cpu());
	__atomic_store_n(&b->batch_tid, (pid_t)syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	b->batch_ret = vp_ret(ioctl(b->dev, VEPOLL_IOC_CTL_BATCH, &batch));
	return NULL;
}

/* Wait up to 2 s for thread @tid to sleep in the kernel; whether it did. */
static bool bm_sleeping(pid_t tid)
{
	int64_t end = vp_now_ms() + 2000;
	char c;

	while (vp_now_ms() < end) {
		c = vp_task_state(0, tid);
		if (c == 'D' || c == 'S')
			return true;
		vp_msleep(1);
	}
	return false;
}

/*
 * One round. Returns 0 if it ran (whatever it found, in @r), or -errno
 * if it could not be set up.
 */
static int bm_round(struct bm_round *b, struct report *r, unsigned int rcu_ms)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {};
	struct uffdio_zeropage zp = {};
	struct vepoll_event ev[4];
	struct uffd_msg msg;
	struct pollfd pfd;
	pthread_t wth, bth;
	int uffd, efi, yfd = -1, n, err = 0;
	bool faulted, blocked;

	b->batch_tid = 0;
	b->outer = vp_create(b->dev, VEPOLL_CLOEXEC);
	b->inner = vp_create(b->dev, VEPOLL_CLOEXEC);
	efi = vp_eventfd(1);
	if (b->outer < 0 || b->inner < 0 || efi < 0)
		return -EMFILE;
	err = vp_ctl(b->dev, b->inner, VEPOLL_CTL_ADD, efi, VEPOLLIN, 1);
	if (err)
		return err;
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		r->skip = 1;
		snprintf(r->what, sizeof(r->what), "userfaultfd: %s", strerror(errno));
		return -errno;
	}
	b->page = mmap(NULL, pagesz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->page == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api))
		return -errno;
	reg.range.start = (uintptr_t)b->page;
	reg.range.len = pagesz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return -errno;

	if (pthread_create(&wth, NULL, bm_inner_wait, b))
		return -EAGAIN;
	pfd.fd = uffd;
	pfd.events = POLLIN;
	faulted = poll(&pfd, 1, 5000) == 1 &&
		  read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
		  msg.event == UFFD_EVENT_PAGEFAULT;

	/*
	 * The file that will be closed is made last, so that its memory is
	 * the next the file cache hands out once freed.
	 */
	b->xfd = vp_eventfd(0);
	err = b->xfd < 0 ? b->xfd :
	      vp_ctl(b->dev, b->outer, VEPOLL_CTL_ADD, b->xfd, VEPOLLIN, 2);
	if (!err && pthread_create(&bth, NULL, bm_batch, b))
		err = -EAGAIN;
	if (err) {
		zp.range.start = (uintptr_t)b->page;
		zp.range.len = pagesz;
		ioctl(uffd, UFFDIO_ZEROPAGE, &zp);
		pthread_join(wth, NULL);
		return err;
	}
	while (!__atomic_load_n(&b->batch_tid, __ATOMIC_ACQUIRE))
		vp_msleep(1);
	blocked = faulted && bm_sleeping(b->batch_tid);

	/*
	 * The last close kills the watch; after a grace period the file's
	 * memory is free, and the next file made takes the lowest free fd:
	 * likely the same address and fd, the same key. Nothing in between
	 * may open a file (not even /proc), or it would take that memory.
	 */
	close(b->xfd);
	vp_msleep(rcu_ms);
	yfd = vp_eventfd(1);

	zp.range.start = (uintptr_t)b->page;
	zp.range.len = pagesz;
	if (faulted && ioctl(uffd, UFFDIO_ZEROPAGE, &zp))
		err = -errno;
	pthread_join(wth, NULL);
	pthread_join(bth, NULL);
	if (err)
		return err;
	if (blocked && yfd == b->xfd)
		r->held++;

	/* The batch: entry 0 applied, entry 1 finds no watch of that key. */
	if (b->batch_ret != 1 || b->results[0] || b->results[1] != -ENOENT) {
		r->wrong++;
		report_fail(r, b->results[1],
			    "CTL_BATCH answered %d, results %d %d (want 1, 0 %d)%s",
			    b->batch_ret, b->results[0], b->results[1], -ENOENT,
			    blocked ? "" : " with the chunk not held");
	}
	/*
	 * A MOD that found the dead watch queued it, and the next lock of
	 * the instance frees it queued: a WAIT would then trip over freed
	 * memory (list_del corruption under slub_debug, interrupts off),
	 * which can wedge the guest before this failure is reported.
	 */
	if (!b->results[1])
		goto out;

	/* The outer instance works: it reports the inner one, no more. */
	n = vp_wait(b->dev, b->outer, ev, 4, 0);
	if (n != 1 || ev[0].data != 3) {
		r->wrong++;
		report_fail(r, n, "outer WAIT answered %d (data %llu), want the inner one",
			    n, n > 0 ? (unsigned long long)ev[0].data : 0ULL);
	}
	/* The new file was never watched: it can be added, and reported. */
	err = yfd < 0 ? yfd : vp_ctl(b->dev, b->outer, VEPOLL_CTL_ADD, yfd, VEPOLLIN, 5);
	if (err) {
		report_fail(r, err, "ADD of the new file");
		err = 0;
	} else {
		n = vp_wait(b->dev, b->outer, ev, 4, 0);
		if (n != 2 || vp_find(ev, n, 3) < 0 || vp_find(ev, n, 5) < 0) {
			r->wrong++;
			report_fail(r, n, "outer WAIT after the ADD answered %d, want 2", n);
		}
	}
out:
	if (yfd >= 0)
		close(yfd);
	close(uffd);
	munmap(b->page, pagesz);
	close(efi);
	close(b->inner);
	close(b->outer);
	return err;
}

static void bm_work(struct report *r)
{
	/* RCU grace periods to wait for the freed file, in turn, ms. */
	static const unsigned int rcu_ms[] = { 20, 50, 100, 200 };
	struct bm_round b = {};
	int64_t deadline;
	int err;

	/* Everything on one CPU: the freed file goes back to its cache. */
	pin_to(race_cpu());
	b.dev = vp_open_dev();
	if (b.dev < 0) {
		report_fail(r, b.dev, "open " VP_DEV_PATH);
		return;
	}
	deadline = vp_now_ms() + cfg_seconds * 1000LL;
	while (!r->err && !report_stopped(r) && vp_now_ms() < deadline) {
		err = bm_round(&b, r, rcu_ms[r->rounds % ARRAY_SIZE(rcu_ms)]);
		if (r->skip)
			return;
		if (err) {
			report_fail(r, err, "setting up a round");
			break;
		}
		r->rounds++;
	}
	if (!r->err && !report_stopped(r))
		check_instance_works(b.dev, r);
	vp_close_from(3);
}

/*
 * A CTL_BATCH holds the outer instance's mtx across a chunk. Its entry 0
 * (ADD of an inner instance) blocks on the inner one's mtx, held by a
 * WAIT whose copy-out faults on a userfaultfd page. Meanwhile the last
 * close of a watched eventfd kills its watch, and a new eventfd takes the
 * freed file's address and fd. Once the fault is resolved, entry 1, a MOD
 * of that fd, must answer ENOENT: the killed watch is no watch, even
 * before the instance has reaped it. Were it found, the MOD would queue a
 * watch that the next lock of the instance frees while it is queued.
 */
TEST(batch_mod_of_reused_key)
{
	struct report *r = run_worker(_metadata, bm_work);

	ASSERT_TRUE(!!r);
	if (r->skip)
		SKIP(return, "%s", r->what);
	ksft_print_msg("%ld rounds had the chunk held open and the fd reused\n",
		       r->held);
}

int main(int argc, char **argv)
{
	const char *s = getenv("VEPOLL_STRESS_SECONDS");
	char *end;
	long v;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (s && *s) {
		v = strtol(s, &end, 0);
		if (*end || v < 1 || v > 3600)
			fprintf(stderr, "VEPOLL_STRESS_SECONDS=%s: want 1..3600; using %d\n",
				s, cfg_seconds);
		else
			cfg_seconds = v;
	}
	/* The harness kills a test after .timeout s: scale the racing ones. */
	_release_vs_target_last_close_object.timeout = cfg_seconds + GRACE_MS / 1000 + 30;
	_batch_mod_of_reused_key_object.timeout = cfg_seconds + GRACE_MS / 1000 + 30;
	ksft_print_msg("racing tests run %d s each (VEPOLL_STRESS_SECONDS)\n",
		       cfg_seconds);
	return test_harness_run(argc, argv);
}
