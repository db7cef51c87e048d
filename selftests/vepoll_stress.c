// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_stress - many threads hammering /dev/vepoll at once
 *
 * stress_mixed: for VEPOLL_STRESS_SECONDS (default 5) s, threads share a
 * few instances and a table of pipes, eventfds and socket pairs:
 *
 *   ctl      random ADD/MOD/DEL with LT, ET and ONESHOT masks, also of
 *            instances into instances
 *   wait     WAIT with timeouts 0, 1..20 ms and -1, sometimes with a
 *            signal mask, sometimes into a buffer that runs into a
 *            PROT_NONE page
 *   write    make targets ready
 *   read     drain them
 *   poll     poll(2) the instance fds
 *   churn    close and re-create instances and targets, dup and close
 *            target fds, fork children that use and drop inherited fds
 *   signal   SIGUSR1 to the waiters (SA_RESTART, yet WAIT must EINTR)
 *
 * Only churn replaces descriptors. Every slot carries a generation count
 * that is odd while its descriptor is being replaced, so each call knows
 * whether it may have raced with a close: only then are EBADF and the
 * other "that fd is something else now" errors accepted. Any other errno,
 * and any malformed event, fails the test. At the end a fresh instance
 * must still work and every instance must have been freed.
 *
 * closed_target_gone: targets are closed while another thread waits on
 * the instance and an always-ready watch keeps every wait busy; a closed
 * target must never be reported again, and the wait right after its close
 * must release its file.
 *
 * no_lost_wakeup: VEPOLL_STRESS_WAKEUPS rounds (default 300) in which one
 * or two threads block in WAIT with timeout -1 and must be woken within
 * 5 s by a write (LT, ET, ONESHOT; for two waiters, ET and ONESHOT wake
 * exactly one, MOD re-arm wakes the other).
 *
 * The seed (VEPOLL_STRESS_SEED) is printed so a failing mix can be re-run.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define DEFAULT_SEED	20241124ULL
#define DATA_MAGIC	0x5650ULL		/* "VP" in data's top 16 bits */
#define SEQ_MASK	((1ULL << 48) - 1)
#define NR_SLOTS	4
#define QUIET_SLOT	0
#define NR_TARGETS	12
#define NR_DUPS		6
#define MAX_EVENTS	32
#define WAKE_BOUND_MS	5000
#define E(x)		(1ULL << (x))

static unsigned long long cfg_seed = DEFAULT_SEED;
static int cfg_seconds = 5;
static int cfg_wakeups = 300;

/* ---- small helpers ------------------------------------------------- */

static long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static atomic_ulong sigusr1_seen;

static void on_sigusr1(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&sigusr1_seen, 1, memory_order_relaxed);
}

/* SA_RESTART on purpose: WAIT must still end with EINTR. */
static int install_sigusr1(void)
{
	struct sigaction sa = { .sa_handler = on_sigusr1,
				.sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	return sigaction(SIGUSR1, &sa, NULL);
}

/* ---- shared state of stress_mixed --------------------------------- */

/*
 * A descriptor that churn may replace. gen is odd while it is being
 * replaced; a caller that saw the same even gen before and after its
 * call knows the descriptor was this slot's object throughout.
 */
struct slot {
	atomic_int fd;
	atomic_uint gen;
};

enum tkind { TK_PIPE, TK_EVENTFD, TK_SOCK, NR_TKINDS };

struct target {
	atomic_int rfd;		/* the end that becomes readable */
	atomic_int wfd;		/* the end writers use (== rfd for eventfd) */
	atomic_uint gen;
	enum tkind kind;
};

static struct slot inst[NR_SLOTS];
static struct slot dups[NR_DUPS];
static struct target tgt[NR_TARGETS];
static int stress_dev = -1;
static atomic_bool stop;
static atomic_ullong data_seq = 1;
static char *guard_buf;		/* a page followed by a PROT_NONE page */
static long page_size;

struct ref {
	int fd;
	unsigned int gen;
	atomic_uint *genp;
};

static void take(struct ref *r, atomic_int *fdp, atomic_uint *genp)
{
	r->genp = genp;
	r->gen = atomic_load(genp);
	r->fd = atomic_load(fdp);
}

static bool held(const struct ref *r)
{
	return r->fd >= 0 && !(r->gen & 1) && atomic_load(r->genp) == r->gen;
}

enum op {
	OP_ADD, OP_MOD, OP_DEL, OP_WAIT, OP_WAIT_EMPTY, OP_WAIT_FAULT, OP_EVENTS,
	OP_WRITE, OP_READ, OP_POLL, OP_INST, OP_DUP, OP_RECREATE,
	OP_FORK, OP_SIGNAL, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	[OP_ADD] = "ctl ADD", [OP_MOD] = "ctl MOD", [OP_DEL] = "ctl DEL",
	[OP_WAIT] = "wait", [OP_WAIT_EMPTY] = "wait that got nothing",
	[OP_WAIT_FAULT] = "wait, bad buffer",
	[OP_EVENTS] = "events received", [OP_WRITE] = "target write",
	[OP_READ] = "target read", [OP_POLL] = "poll of instances",
	[OP_INST] = "instance close+create", [OP_DUP] = "dup/close target",
	[OP_RECREATE] = "target close+create", [OP_FORK] = "fork+child ops",
	[OP_SIGNAL] = "SIGUSR1 to waiter",
};

#define NR_ERRNO	134

struct stats {
	unsigned long ops[NR_OPS];
	unsigned long err[NR_OPS][NR_ERRNO];
};

enum role { R_CTL, R_WAIT, R_WRITE, R_READ, R_POLL, R_CHURN, R_SIGNAL, NR_ROLES };

static const char *const role_name[NR_ROLES] = {
	"ctl", "wait", "write", "read", "poll", "churn", "signal",
};

static const int role_count[NR_ROLES] = {
	[R_CTL] = 2, [R_WAIT] = 3, [R_WRITE] = 1, [R_READ] = 2,
	[R_POLL] = 1, [R_CHURN] = 1, [R_SIGNAL] = 1,
};

#define MAX_WORKERS	16

struct worker {
	pthread_t th;
	int idx;
	enum role role;
	uint64_t rng;
	atomic_bool running;
	struct stats st;
};

static struct worker workers[MAX_WORKERS];
static int nr_workers;

/* The first failures, reported by the test body after the join. */
#define MAX_FAILS	16
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[MAX_FAILS][256];
static atomic_int nr_fails;

static void __attribute__((format(printf, 2, 3)))
bad(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	pthread_mutex_lock(&fail_lock);
	n = atomic_fetch_add(&nr_fails, 1);
	if (n < MAX_FAILS) {
		int len = snprintf(fail_msg[n], sizeof(fail_msg[n]), "%s#%d: ",
				   w ? role_name[w->role] : "main",
				   w ? w->idx : 0);

		va_start(ap, fmt);
		vsnprintf(fail_msg[n] + len, sizeof(fail_msg[n]) - len, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fail_lock);
	/* Stop early: the first failure is the one worth reading. */
	atomic_store(&stop, true);
}

static void count(struct worker *w, enum op kind, int err)
{
	w->st.ops[kind]++;
	if (err > 0 && err < NR_ERRNO)
		w->st.err[kind][err]++;
}

/* Is err (0 = success) acceptable given the set of allowed errnos? */
static bool allowed(uint64_t set, int err)
{
	return err == 0 || (err > 0 && err < 64 && (set & E(err)));
}

static const __u32 masks[] = {
	VEPOLLIN,
	VEPOLLIN | VEPOLLOUT,
	VEPOLLIN | VEPOLLRDHUP,
	VEPOLLOUT | VEPOLLET,
	VEPOLLIN | VEPOLLET,
	VEPOLLIN | VEPOLLOUT | VEPOLLRDHUP | VEPOLLET,
	VEPOLLIN | VEPOLLONESHOT,
	VEPOLLIN | VEPOLLET | VEPOLLONESHOT,
	VEPOLLPRI | VEPOLLRDNORM | VEPOLLWRNORM,
	0,	/* only ERR and HUP, which are always reported */
};

static const __u32 quiet_masks[] = {
	VEPOLLIN | VEPOLLET,
	VEPOLLIN | VEPOLLRDHUP | VEPOLLET,
	VEPOLLIN | VEPOLLONESHOT,
	VEPOLLIN | VEPOLLET | VEPOLLONESHOT,
};

/* ---- target and instance (re)creation ------------------------------ */

static int make_target(struct target *t)
{
	int p[2];

	switch (t->kind) {
	case TK_PIPE:
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			return -1;
		break;
	case TK_EVENTFD:
		p[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p[0] < 0)
			return -1;
		p[1] = p[0];
		break;
	default:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0, p))
			return -1;
		break;
	}
	atomic_store(&t->rfd, p[0]);
	atomic_store(&t->wfd, p[1]);
	return 0;
}

static void drop_target(struct target *t)
{
	int r = atomic_load(&t->rfd), w = atomic_load(&t->wfd);

	/* Writer side first: watchers of the read side see HUP. */
	if (w >= 0 && w != r)
		close(w);
	if (w != r)
		sched_yield();
	if (r >= 0)
		close(r);
	atomic_store(&t->rfd, -1);
	atomic_store(&t->wfd, -1);
}

/* ---- the roles ------------------------------------------------------ */

struct pick {
	struct ref r;
	bool is_inst;
	int inst_slot;
};

static void pick_target(struct worker *w, struct pick *p)
{
	unsigned int k = vp_below(&w->rng, 20), i;

	p->is_inst = false;
	p->inst_slot = -1;
	/* Mostly read ends: a write end is nearly always ready (OUT). */
	if (k < 13) {
		i = vp_below(&w->rng, NR_TARGETS);
		take(&p->r, &tgt[i].rfd, &tgt[i].gen);
	} else if (k < 14) {
		i = vp_below(&w->rng, NR_TARGETS);
		take(&p->r, &tgt[i].wfd, &tgt[i].gen);
	} else if (k < 18) {
		i = vp_below(&w->rng, NR_DUPS);
		take(&p->r, &dups[i].fd, &dups[i].gen);
	} else {
		i = vp_below(&w->rng, NR_SLOTS);
		take(&p->r, &inst[i].fd, &inst[i].gen);
		p->is_inst = true;
		p->inst_slot = i;
	}
}

static void do_ctl(struct worker *w)
{
	static const unsigned int ops[] = {
		VEPOLL_CTL_ADD, VEPOLL_CTL_ADD, VEPOLL_CTL_ADD,
		VEPOLL_CTL_MOD, VEPOLL_CTL_MOD, VEPOLL_CTL_DEL, VEPOLL_CTL_DEL,
	};
	unsigned int s = vp_below(&w->rng, NR_SLOTS);
	unsigned int op = ops[vp_below(&w->rng, ARRAY_SIZE(ops))];
	__u32 mask = masks[vp_below(&w->rng, ARRAY_SIZE(masks))];
	__u64 data = DATA_MAGIC << 48 | atomic_fetch_add(&data_seq, 1);
	struct ref ep;
	struct pick t;
	uint64_t ok;
	bool same, raced;
	int ret, err;
	enum op kind;

	take(&ep, &inst[s].fd, &inst[s].gen);
	pick_target(w, &t);
	/*
	 * Slot 0 stays quiet: read ends only, edge-triggered or one-shot,
	 * so that its waiters really sleep and depend on wakeups (a dup may
	 * keep an old read end, and its HUP, alive for a while).
	 */
	if (s == QUIET_SLOT) {
		unsigned int i = vp_below(&w->rng, NR_TARGETS);

		take(&t.r, &tgt[i].rfd, &tgt[i].gen);
		t.is_inst = false;
		t.inst_slot = -1;
		mask = quiet_masks[vp_below(&w->rng, ARRAY_SIZE(quiet_masks))];
	}
	ret = vp_ctl(stress_dev, ep.fd, op, t.r.fd, mask, data);
	err = ret ? errno : 0;
	raced = !held(&ep) || !held(&t.r);
	same = t.is_inst && t.inst_slot == (int)s;

	switch (op) {
	case VEPOLL_CTL_ADD:
		kind = OP_ADD;
		ok = E(EEXIST);
		if (t.is_inst)
			ok |= E(ELOOP);
		break;
	case VEPOLL_CTL_MOD:
		kind = OP_MOD;
		ok = E(ENOENT);
		break;
	default:
		kind = OP_DEL;
		ok = E(ENOENT);
		break;
	}
	/* fd == epfd: EINVAL, before any lookup of the key. */
	if (same)
		ok = E(EINVAL);
	/* The numbers may now name other files: anything a bad fd gives. */
	if (raced)
		ok |= E(EBADF) | E(EINVAL) | E(ELOOP) | E(EEXIST) | E(ENOENT) |
		      E(EPERM);
	count(w, kind, err);
	if (!allowed(ok, err) || ret > 0)
		bad(w, "%s epfd %d fd %d mask 0x%x: ret %d, %s (raced: %s)",
		    op_name[kind], ep.fd, t.r.fd, mask, ret, strerror(err),
		    raced ? "yes" : "no");
}

static void check_events(struct worker *w, const struct vepoll_event *ev,
			 int n, int max, const char *what)
{
	unsigned long long seq = atomic_load(&data_seq);
	int i, j;

	if (n > max) {
		bad(w, "%s: %d events for maxevents %d", what, n, max);
		return;
	}
	for (i = 0; i < n; i++) {
		if (ev[i].__pad || !ev[i].events ||
		    (ev[i].events & ~VP_COND_BITS) ||
		    ev[i].data >> 48 != DATA_MAGIC ||
		    (ev[i].data & SEQ_MASK) >= seq) {
			bad(w, "%s: bad event %d/%d: events 0x%x pad 0x%x data 0x%llx",
			    what, i, n, ev[i].events, ev[i].__pad,
			    (unsigned long long)ev[i].data);
			return;
		}
		/* Each watch has its own data: one watch reported twice. */
		for (j = 0; j < i; j++)
			if (ev[j].data == ev[i].data) {
				bad(w, "%s: data 0x%llx twice in one result",
				    what, (unsigned long long)ev[i].data);
				return;
			}
	}
}

static void do_wait(struct worker *w)
{
	struct vepoll_event evs[MAX_EVENTS];
	unsigned int s = vp_below(&w->rng, 2) ? QUIET_SLOT :
			 vp_below(&w->rng, NR_SLOTS);
	unsigned int max = 1 + vp_below(&w->rng, MAX_EVENTS);
	unsigned int k = vp_below(&w->rng, 10);
	int timeout = k < 4 ? 0 : k < 8 ? 1 + (int)vp_below(&w->rng, 20) : -1;
	sigset_t mask, *mp = NULL;
	uint64_t ok = E(EINTR);
	struct ref ep;
	int ret, err;

	if (vp_below(&w->rng, 4) == 0) {
		/* Blocks SIGUSR2 only: SIGUSR1 must still interrupt. */
		sigemptyset(&mask);
		if (vp_below(&w->rng, 2))
			sigaddset(&mask, SIGUSR2);
		mp = &mask;
	}
	memset(evs, 0xa5, sizeof(evs));
	take(&ep, &inst[s].fd, &inst[s].gen);
	ret = vp_pwait(stress_dev, ep.fd, evs, max, timeout, mp);
	err = ret < 0 ? errno : 0;
	if (!held(&ep))
		ok |= E(EBADF) | E(EINVAL);
	count(w, OP_WAIT, err);
	if (!allowed(ok, err)) {
		bad(w, "WAIT epfd %d max %u timeout %d sigmask %s: %s",
		    ep.fd, max, timeout, mp ? "yes" : "no", strerror(err));
		return;
	}
	if (ret > 0) {
		w->st.ops[OP_EVENTS] += ret;
		check_events(w, evs, ret, max, "WAIT");
	} else if (ret == 0) {
		w->st.ops[OP_WAIT_EMPTY]++;
	}
}

/*
 * The result buffer has room for k events, then a PROT_NONE page: the
 * wait returns at most k (the events copied before the fault), or EFAULT
 * if it could copy none.
 */
static void do_wait_fault(struct worker *w)
{
	unsigned int s = vp_below(&w->rng, NR_SLOTS);
	unsigned int k = vp_below(&w->rng, 4);
	unsigned int max = k + 1 + vp_below(&w->rng, 4);
	struct vepoll_event *evs;
	uint64_t ok = k ? 0 : E(EFAULT);
	struct ref ep;
	int ret, err;

	evs = (struct vepoll_event *)(guard_buf + page_size) - k;
	take(&ep, &inst[s].fd, &inst[s].gen);
	ret = vp_wait(stress_dev, ep.fd, evs, max, 0);
	err = ret < 0 ? errno : 0;
	if (!held(&ep))
		ok |= E(EBADF) | E(EINVAL);
	ok |= E(EINTR);
	count(w, OP_WAIT_FAULT, err);
	if (!allowed(ok, err) || ret > (int)k) {
		bad(w, "WAIT into %u good slots of %u: ret %d, %s", k, max, ret,
		    strerror(err));
		return;
	}
	if (ret > 0) {
		struct vepoll_event copy[4];

		/* guard_buf's first page is private to this thread */
		memcpy(copy, evs, ret * sizeof(*evs));
		w->st.ops[OP_EVENTS] += ret;
		check_events(w, copy, ret, max, "WAIT (guard page)");
	}
}

static void do_write(struct worker *w)
{
	unsigned int i = vp_below(&w->rng, NR_TARGETS);
	uint64_t one = 1, ok = E(EAGAIN);
	struct ref r;
	ssize_t ret;
	int err;

	take(&r, &tgt[i].wfd, &tgt[i].gen);
	/* 8 bytes of 1: valid for a pipe, a socket and an eventfd alike */
	ret = write(r.fd, &one, sizeof(one));
	err = ret < 0 ? errno : 0;
	if (!held(&r))
		ok |= E(EBADF) | E(EPIPE) | E(EPERM) | E(EINVAL);
	count(w, OP_WRITE, err);
	if (!allowed(ok, err) || ret == 0)
		bad(w, "write(%d) %s: %zd, %s", r.fd,
		    tgt[i].kind == TK_PIPE ? "pipe" :
		    tgt[i].kind == TK_SOCK ? "socket" : "eventfd",
		    ret, strerror(err));
	/* Pauses let readers win at times, so that waiters block. */
	if (vp_below(&w->rng, 8) == 0)
		sleep_us(vp_below(&w->rng, 100));
}

static void do_read(struct worker *w)
{
	unsigned int i = vp_below(&w->rng, NR_TARGETS);
	uint64_t ok = E(EAGAIN);
	char buf[4096];
	struct ref r;
	ssize_t ret;
	int n = 0, err;

	take(&r, &tgt[i].rfd, &tgt[i].gen);
	do {
		ret = read(r.fd, buf, sizeof(buf));
	} while (ret > 0 && ++n < 16);
	err = ret < 0 ? errno : 0;
	if (!held(&r))
		ok |= E(EBADF) | E(EPERM) | E(EINVAL);
	count(w, OP_READ, err);
	/* EOF only once the writer side was closed, i.e. in a race. */
	if (!allowed(ok, err) || (ret == 0 && held(&r)))
		bad(w, "read(%d): %zd, %s", r.fd, ret, strerror(err));
}

static void do_poll(struct worker *w)
{
	struct pollfd p[NR_SLOTS];
	struct ref r[NR_SLOTS];
	int i, ret;

	for (i = 0; i < NR_SLOTS; i++) {
		take(&r[i], &inst[i].fd, &inst[i].gen);
		p[i].fd = r[i].fd;
		p[i].events = POLLIN | POLLRDNORM | POLLOUT | POLLPRI;
		p[i].revents = 0;
	}
	ret = poll(p, NR_SLOTS, vp_below(&w->rng, 2));
	count(w, OP_POLL, ret < 0 ? errno : 0);
	if (ret < 0) {
		if (errno != EINTR)
			bad(w, "poll: %s", strerror(errno));
		return;
	}
	for (i = 0; i < NR_SLOTS; i++) {
		/* An instance is readable or nothing. */
		if (held(&r[i]) && p[i].revents &&
		    p[i].revents != (POLLIN | POLLRDNORM))
			bad(w, "poll of instance fd %d: revents 0x%x", p[i].fd,
			    p[i].revents);
	}
}

/* What a fork child saw, in a MAP_SHARED page: one child at a time. */
struct child_report {
	int op;		/* 0: fine, 1: WAIT, 2: ADD went wrong */
	int fd;
	int err;
};

static struct child_report *child_rep;

/* In a fork child: only async-signal-safe calls. */
static void __attribute__((noreturn)) child_ops(uint64_t rng, __u64 seq)
{
	struct vepoll_event evs[8];
	int s, fd, tfd, ret;

	child_rep->op = 0;
	for (s = 0; s < NR_SLOTS; s++) {
		/* A descriptor may have been mid-replacement at fork. */
		fd = atomic_load(&inst[s].fd);
		ret = vp_wait(stress_dev, fd, evs, 8, 0);
		if (ret < 0 && errno != EBADF && errno != EINVAL && errno != EINTR) {
			child_rep->op = 1;
			child_rep->fd = fd;
			child_rep->err = errno;
			_exit(1);
		}
		tfd = atomic_load(&tgt[vp_below(&rng, NR_TARGETS)].rfd);
		ret = vp_ctl(stress_dev, fd, VEPOLL_CTL_ADD, tfd, VEPOLLIN,
			     DATA_MAGIC << 48 | (seq + s));
		if (ret && errno != EEXIST && errno != EBADF && errno != EINVAL &&
		    errno != ELOOP && errno != EPERM) {
			child_rep->op = 2;
			child_rep->fd = tfd;
			child_rep->err = errno;
			_exit(1);
		}
	}
	/* Exiting drops this process's references, maybe the last ones. */
	_exit(0);
}

static void do_churn(struct worker *w)
{
	unsigned int k = vp_below(&w->rng, 100), i;
	int fd, st;
	pid_t pid;

	if (k < 30) {
		i = vp_below(&w->rng, NR_SLOTS);
		atomic_fetch_add(&inst[i].gen, 1);
		close(atomic_load(&inst[i].fd));
		fd = vp_create(stress_dev,
			       vp_below(&w->rng, 2) ? VEPOLL_CLOEXEC : 0);
		count(w, OP_INST, fd < 0 ? errno : 0);
		if (fd < 0)
			bad(w, "CREATE: %s", strerror(errno));
		atomic_store(&inst[i].fd, fd);
		atomic_fetch_add(&inst[i].gen, 1);
	} else if (k < 60) {
		struct target *t = &tgt[vp_below(&w->rng, NR_TARGETS)];

		i = vp_below(&w->rng, NR_DUPS);
		atomic_fetch_add(&dups[i].gen, 1);
		fd = atomic_load(&dups[i].fd);
		if (fd >= 0)
			close(fd);
		fd = dup(vp_below(&w->rng, 4) ? atomic_load(&t->rfd) :
			 atomic_load(&t->wfd));
		count(w, OP_DUP, fd < 0 ? errno : 0);
		if (fd < 0)
			bad(w, "dup: %s", strerror(errno));
		atomic_store(&dups[i].fd, fd);
		atomic_fetch_add(&dups[i].gen, 1);
	} else if (k < 90) {
		struct target *t = &tgt[vp_below(&w->rng, NR_TARGETS)];

		atomic_fetch_add(&t->gen, 1);
		drop_target(t);
		st = make_target(t);
		count(w, OP_RECREATE, st ? errno : 0);
		if (st)
			bad(w, "re-creating a target: %s", strerror(errno));
		atomic_fetch_add(&t->gen, 1);
	} else if (k < 95) {
		uint64_t seed = vp_rnd(&w->rng);
		__u64 seq = atomic_fetch_add(&data_seq, NR_SLOTS);

		pid = fork();
		if (pid == 0)
			child_ops(seed, seq);
		count(w, OP_FORK, pid < 0 ? errno : 0);
		if (pid < 0) {
			bad(w, "fork: %s", strerror(errno));
			return;
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad(w, "fork child: status 0x%x: %s of fd %d: %s", st,
			    child_rep->op == 1 ? "WAIT" : "ADD", child_rep->fd,
			    strerror(child_rep->err));
	} else {
		sleep_us(200);
	}
}

static void do_signal(struct worker *w)
{
	struct worker *v;
	int i, n = 0, pickn;

	sleep_us(200 + vp_below(&w->rng, 1800));
	for (i = 0; i < nr_workers; i++)
		n += workers[i].role == R_WAIT;
	pickn = vp_below(&w->rng, n);
	for (i = 0; i < nr_workers; i++) {
		v = &workers[i];
		if (v->role != R_WAIT || pickn--)
			continue;
		if (atomic_load(&v->running)) {
			pthread_kill(v->th, SIGUSR1);
			count(w, OP_SIGNAL, 0);
		}
		break;
	}
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		switch (w->role) {
		case R_CTL:
			do_ctl(w);
			break;
		case R_WAIT:
			/* one waiter owns guard_buf's page */
			if (w->idx == 0 && vp_below(&w->rng, 16) == 0)
				do_wait_fault(w);
			else
				do_wait(w);
			break;
		case R_WRITE:
			do_write(w);
			break;
		case R_READ:
			do_read(w);
			break;
		case R_POLL:
			do_poll(w);
			break;
		case R_CHURN:
			do_churn(w);
			break;
		default:
			do_signal(w);
			break;
		}
	}
	atomic_store(&w->running, false);
	return NULL;
}

/* ---- after the run -------------------------------------------------- */

static void print_stats(double secs)
{
	static struct stats sum;
	char errs[512];
	int i, op, e, n;

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < nr_workers; i++)
		for (op = 0; op < NR_OPS; op++) {
			sum.ops[op] += workers[i].st.ops[op];
			for (e = 0; e < NR_ERRNO; e++)
				sum.err[op][e] += workers[i].st.err[op][e];
		}
	ksft_print_msg("%-22s %10s %10s  %s\n", "operation", "count", "per s",
		       "errors (all allowed)");
	for (op = 0; op < NR_OPS; op++) {
		n = 0;
		errs[0] = '\0';
		for (e = 1; e < NR_ERRNO; e++)
			if (sum.err[op][e] && n < (int)sizeof(errs) - 40)
				n += snprintf(errs + n, sizeof(errs) - n, "%s%s %lu",
					      n ? ", " : "", strerrorname_np(e) ?: "?",
					      sum.err[op][e]);
		ksft_print_msg("%-22s %10lu %10.0f  %s\n", op_name[op], sum.ops[op],
			       sum.ops[op] / secs, errs);
	}
	ksft_print_msg("SIGUSR1 handled: %lu\n", atomic_load(&sigusr1_seen));
}

TEST(stress_mixed)
{
	struct vepoll_event ev[2];
	int i, r, ep, p[2], max, made;
	long long t_start, t_stop, t_dead;
	int *fds;

	stress_dev = vp_open_dev();
	if (stress_dev < 0)
		SKIP(return, "%s: %s: is the vepoll module loaded?",
		     VP_DEV_PATH, strerror(errno));
	ASSERT_EQ(0, install_sigusr1());
	page_size = sysconf(_SC_PAGESIZE);
	guard_buf = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(guard_buf != MAP_FAILED);
	ASSERT_EQ(0, mprotect(guard_buf + page_size, page_size, PROT_NONE));
	child_rep = mmap(NULL, sizeof(*child_rep), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(child_rep != MAP_FAILED);

	for (i = 0; i < NR_SLOTS; i++) {
		r = vp_create(stress_dev, 0);
		ASSERT_LE(0, r);
		atomic_store(&inst[i].fd, r);
	}
	for (i = 0; i < NR_TARGETS; i++) {
		tgt[i].kind = i % NR_TKINDS;
		ASSERT_EQ(0, make_target(&tgt[i]));
	}
	for (i = 0; i < NR_DUPS; i++) {
		r = dup(atomic_load(&tgt[i].rfd));
		ASSERT_LE(0, r);
		atomic_store(&dups[i].fd, r);
	}

	ksft_print_msg("stress_mixed: %d s, seed %llu (VEPOLL_STRESS_SEED=%llu repeats the mix)\n",
		       cfg_seconds, cfg_seed, cfg_seed);
	nr_workers = 0;
	for (r = 0; r < NR_ROLES; r++)
		for (i = 0; i < role_count[r]; i++) {
			struct worker *w = &workers[nr_workers];

			w->idx = i;
			w->role = r;
			w->rng = vp_splitmix(cfg_seed + nr_workers) | 1;
			atomic_store(&w->running, true);
			nr_workers++;
		}
	t_start = mono_ns();
	for (i = 0; i < nr_workers; i++)
		ASSERT_EQ(0, pthread_create(&workers[i].th, NULL, worker_fn,
					    &workers[i]));

	while (!atomic_load(&stop) &&
	       mono_ns() - t_start < cfg_seconds * 1000000000LL)
		sleep_us(10000);
	atomic_store(&stop, true);
	t_stop = mono_ns();

	/* Waiters blocked with -1 leave on a signal (EINTR). */
	t_dead = t_stop + WAKE_BOUND_MS * 1000000LL;
	for (;;) {
		bool any = false;

		for (i = 0; i < nr_workers; i++)
			if (atomic_load(&workers[i].running)) {
				any = true;
				if (workers[i].role == R_WAIT)
					pthread_kill(workers[i].th, SIGUSR1);
			}
		if (!any)
			break;
		if (mono_ns() > t_dead) {
			bad(NULL, "threads busy %d ms after the end: a WAIT a signal did not end?",
			    WAKE_BOUND_MS);
			break;
		}
		sleep_us(2000);
	}
	if (mono_ns() <= t_dead)
		for (i = 0; i < nr_workers; i++)
			pthread_join(workers[i].th, NULL);

	print_stats((t_stop - t_start) / 1e9);
	for (i = 0; i < atomic_load(&nr_fails) && i < MAX_FAILS; i++)
		TH_LOG("%s", fail_msg[i]);
	ASSERT_EQ(0, atomic_load(&nr_fails)) {
		TH_LOG("re-run with VEPOLL_STRESS_SEED=%llu", cfg_seed);
	}

	/* Everything closed: a fresh instance must work. */
	for (i = 0; i < NR_SLOTS; i++)
		close(atomic_load(&inst[i].fd));
	for (i = 0; i < NR_DUPS; i++)
		close(atomic_load(&dups[i].fd));
	for (i = 0; i < NR_TARGETS; i++)
		drop_target(&tgt[i]);

	ep = vp_create(stress_dev, 0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, vp_ctl(stress_dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 42));
	ASSERT_EQ(0, vp_wait(stress_dev, ep, ev, 2, 0));
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(1, vp_wait(stress_dev, ep, ev, 2, 1000));
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	EXPECT_EQ(42ULL, ev[0].data);
	close(p[0]);
	close(p[1]);
	close(ep);

	/* Nothing leaked: the whole instance table is free again. */
	max = vp_param("max_instances");
	if (max <= 0) {
		ksft_print_msg("no max_instances parameter: leak check skipped\n");
	} else {
		fds = calloc(max, sizeof(*fds));
		ASSERT_TRUE(!!fds);
		for (made = 0; made < max; made++) {
			fds[made] = vp_create(stress_dev, 0);
			if (fds[made] < 0)
				break;
		}
		r = errno;
		for (i = 0; i < made; i++)
			close(fds[i]);
		free(fds);
		EXPECT_EQ(max, made) {
			TH_LOG("afterwards only %d of max_instances=%d created: %s (leak?)",
			       made, max, strerror(r));
		}
	}
	close(stress_dev);
}

/* ---- closed_target_gone -------------------------------------------- */

#define GONE_ROUNDS	400
#define GONE_DATA	0xc0000ULL

struct bg_waiter {
	pthread_t th;
	int dev, ep;
	atomic_bool stop;
	unsigned long waits;
	int err;
};

/* Keeps the instance busy (polling its targets) while they are closed. */
static void *bg_waiter_fn(void *arg)
{
	struct bg_waiter *b = arg;
	struct vepoll_event evs[8];
	int ret;

	while (!atomic_load(&b->stop)) {
		ret = vp_wait(b->dev, b->ep, evs, 8, b->waits & 1);
		if (ret < 0 && errno != EINTR && !b->err)
			b->err = errno;
		b->waits++;
	}
	return NULL;
}

static long nr_files(void)
{
	char buf[64];

	if (vp_read_file("/proc/sys/fs/file-nr", buf, sizeof(buf)) <= 0)
		return -1;
	return atol(buf);
}

/* Does a result hold any watch of the rounds up to @round? */
static int find_gone(const struct vepoll_event *ev, int n, int round)
{
	int i;

	for (i = 0; i < n; i++)
		if (ev[i].data >= GONE_DATA && ev[i].data <= GONE_DATA + round)
			return i;
	return -1;
}

/*
 * After the wait that follows its close, a pipe's read end must be gone:
 * its write end then polls POLLERR. (Polling wakes nobody; a write would,
 * and so would queue the watch where the next wait finds it.)
 */
static bool read_end_released(int wfd)
{
	long long dead = mono_ns() + 100 * 1000000LL;
	struct pollfd pfd = { .fd = wfd, .events = POLLOUT };

	/* The background waiter's fput() may still be on its way out. */
	do {
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
			return true;
		sleep_us(1000);
	} while (mono_ns() < dead);
	return false;
}

/*
 * Close the last descriptor of a watched target while another thread
 * waits on the instance (first half of the rounds), and an always-ready
 * watch keeps every wait busy:
 * no later wait may report the target, and the wait right after the
 * close must have released its file, which the pipe's writer
 * sees as EPIPE.
 */
TEST(closed_target_gone)
{
	static const __u32 gone_mask[] = {
		VEPOLLIN, VEPOLLIN | VEPOLLET, VEPOLLIN | VEPOLLONESHOT, VEPOLLIN,
	};
	static const char *const gone_name[] = {
		"LT", "ET", "ONESHOT", "LT, closed after a dup",
	};
	int kept[ARRAY_SIZE(gone_mask)] = { 0 };
	struct vepoll_event ev[8];
	struct bg_waiter b = { 0 };
	int dev, ep, round, busy[2], p[2], d, n, i, m, first_kept = -1;
	long before, after;

	dev = vp_open_dev();
	if (dev < 0)
		SKIP(return, "%s: %s: is the vepoll module loaded?",
		     VP_DEV_PATH, strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	/* Always ready, never drained: no wait ever comes back empty. */
	ASSERT_EQ(0, pipe2(busy, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(busy[1], "b", 1));
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, busy[0], VEPOLLIN, 1));
	b.dev = dev;
	b.ep = ep;
	ASSERT_EQ(0, pthread_create(&b.th, NULL, bg_waiter_fn, &b));
	before = nr_files();

	for (round = 0; round < GONE_ROUNDS; round++) {
		/*
		 * Second half alone: the waiter aside may release a file in
		 * its own wait, which would hide a wait that does not.
		 */
		if (round == GONE_ROUNDS / 2) {
			atomic_store(&b.stop, true);
			pthread_join(b.th, NULL);
		}
		m = round % ARRAY_SIZE(gone_mask);
		ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], gone_mask[m],
				    GONE_DATA + round));
		ASSERT_EQ(1, write(p[1], "x", 1));
		n = vp_wait(dev, ep, ev, 8, 1000);
		ASSERT_LE(0, n);
		/* LT: reported to every waiter; ET/ONESHOT: maybe to bg. */
		if (gone_mask[m] == VEPOLLIN) {
			ASSERT_LE(0, find_gone(ev, n, round)) {
				TH_LOG("round %d: ready LT watch not reported", round);
			}
		}

		d = m == 3 ? dup(p[0]) : -1;
		close(p[0]);
		if (d >= 0) {
			/* Still open through the dup: the watch stays. */
			n = vp_wait(dev, ep, ev, 8, 1000);
			ASSERT_LE(0, find_gone(ev, n, round)) {
				TH_LOG("round %d: watch of a file open through a dup lost",
				       round);
			}
			close(d);
		}
		/* The last descriptor is gone: so is the watch, at once. */
		for (i = 0; i < 2; i++) {
			n = vp_wait(dev, ep, ev, 8, i);
			ASSERT_LE(0, n);
			ASSERT_EQ(-1, find_gone(ev, n, round)) {
				int j = find_gone(ev, n, round);

				TH_LOG("round %d: data 0x%llx (events 0x%x) after the file's close",
				       round, (unsigned long long)ev[j].data,
				       ev[j].events);
			}
		}
		/* A few failures tell the story: stop paying 100 ms each. */
		if (kept[m] < 5 && !read_end_released(p[1])) {
			kept[m]++;
			if (first_kept < 0)
				first_kept = round;
		}
		close(p[1]);
	}
	EXPECT_EQ(0, b.err) {
		TH_LOG("background WAIT failed: %s", strerror(b.err));
	}

	ASSERT_LE(0, vp_wait(dev, ep, ev, 8, 0));
	sleep_us(300000);	/* files are freed after an RCU grace period */
	after = nr_files();
	if (before < 0 || after < 0)
		ksft_print_msg("no /proc/sys/fs/file-nr: file count not checked\n");
	else
		ksft_print_msg("closed_target_gone: %d rounds, %lu waits aside, files %+ld\n",
			       GONE_ROUNDS, b.waits, after - before);
	for (m = 0; m < (int)ARRAY_SIZE(gone_mask); m++) {
		EXPECT_EQ(0, kept[m]) {
			TH_LOG("%s: %s%d closed targets outlived the next wait (first: round %d)",
			       gone_name[m], kept[m] >= 5 ? "at least " : "", kept[m],
			       first_kept);
		}
	}
	if (before >= 0 && after >= 0)
		EXPECT_GT(GONE_ROUNDS / 4, after - before) {
			TH_LOG("%ld more open files after %d closed targets: references kept",
			       after - before, GONE_ROUNDS);
		}
	close(busy[0]);
	close(busy[1]);
	close(ep);
	close(dev);
}

/* ---- no_lost_wakeup ------------------------------------------------- */

enum wscen { WS_LT1, WS_ET1, WS_OS1, WS_LT2, WS_ET2, WS_OS2, NR_WSCEN };

static const char *const wscen_name[NR_WSCEN] = {
	"LT, 1 waiter", "ET, 1 waiter", "ONESHOT, 1 waiter",
	"LT, 2 waiters", "ET, 2 waiters", "ONESHOT, 2 waiters",
};

static const __u32 wscen_mask[NR_WSCEN] = {
	VEPOLLIN, VEPOLLIN | VEPOLLET, VEPOLLIN | VEPOLLONESHOT,
	VEPOLLIN, VEPOLLIN | VEPOLLET, VEPOLLIN | VEPOLLONESHOT,
};

struct wwaiter {
	pthread_t th;
	int dev, ep;
	atomic_int tid;
	atomic_int state;	/* 1: about to wait, 2: returned */
	int ret, err;
	long long t_ret;
	struct vepoll_event ev[4];
};

static void *wwaiter_fn(void *arg)
{
	struct wwaiter *w = arg;

	memset(w->ev, 0xa5, sizeof(w->ev));
	atomic_store(&w->tid, gettid());
	atomic_store(&w->state, 1);
	w->ret = vp_wait(w->dev, w->ep, w->ev, 4, -1);
	w->err = w->ret < 0 ? errno : 0;
	w->t_ret = mono_ns();
	atomic_store(&w->state, 2);
	return NULL;
}

/* Is the thread asleep (in the kernel)? False when /proc cannot tell. */
static bool sleeping(int tid)
{
	return vp_task_state(0, tid) == 'S';
}

/* Let the waiters get into WAIT: now, a little later, or once asleep. */
static void settle(uint64_t *rng, struct wwaiter *w, int n)
{
	long long dead = mono_ns() + 200 * 1000000LL;
	int i;

	for (i = 0; i < n; i++)
		while (atomic_load(&w[i].state) < 1)
			sched_yield();
	switch (vp_below(rng, 4)) {
	case 0:
		break;
	case 1:
		/* A few microseconds: the write races the waiter's sleep. */
		for (i = vp_below(rng, 3000); i > 0; i--)
			__asm__ __volatile__("" ::: "memory");
		break;
	case 2:
		sleep_us(vp_below(rng, 500));
		break;
	default:
		for (i = 0; i < n; i++)
			while (!sleeping(atomic_load(&w[i].tid)) &&
			       mono_ns() < dead)
				sleep_us(20);
		break;
	}
}

/* Wait for @want of the waiters to have returned; false after 5 s. */
static bool returned(struct wwaiter *w, int n, int want, int bound_ms)
{
	long long dead = mono_ns() + bound_ms * 1000000LL;
	int i, got;

	for (;;) {
		for (got = 0, i = 0; i < n; i++)
			got += atomic_load(&w[i].state) == 2;
		if (got >= want)
			return true;
		if (mono_ns() > dead)
			return false;
		sleep_us(50);
	}
}

static int poke(enum tkind kind, int wfd)
{
	uint64_t one = 1;

	(void)kind;
	return write(wfd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

TEST(no_lost_wakeup)
{
	long long lat_sum[NR_WSCEN] = { 0 }, lat_max[NR_WSCEN] = { 0 };
	int rounds[NR_WSCEN] = { 0 };
	uint64_t rng = vp_splitmix(cfg_seed ^ 0x77616b65ULL) | 1;
	struct wwaiter w[2];
	int dev, round, i, nw, ep, p[2], first, other;
	enum wscen sc;
	enum tkind kind;
	long long t_poke;
	char fail[256] = "";
	__u64 data;

	dev = vp_open_dev();
	if (dev < 0)
		SKIP(return, "%s: %s: is the vepoll module loaded?",
		     VP_DEV_PATH, strerror(errno));
	ASSERT_EQ(0, install_sigusr1());
	ksft_print_msg("no_lost_wakeup: %d rounds, bound %d ms, seed %llu\n",
		       cfg_wakeups, WAKE_BOUND_MS, cfg_seed);

	for (round = 0; round < cfg_wakeups && !fail[0]; round++) {
		sc = round % NR_WSCEN;
		kind = vp_below(&rng, NR_TKINDS);
		nw = sc >= WS_LT2 ? 2 : 1;
		data = 0x1000 + round;

		ep = vp_create(dev, 0);
		ASSERT_LE(0, ep);
		if (kind == TK_PIPE) {
			ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
		} else if (kind == TK_EVENTFD) {
			p[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			ASSERT_LE(0, p[0]);
			p[1] = p[0];
		} else {
			ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
						SOCK_CLOEXEC, 0, p));
		}
		ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], wscen_mask[sc], data));

		memset(w, 0, sizeof(w));
		for (i = 0; i < nw; i++) {
			w[i].dev = dev;
			w[i].ep = ep;
			ASSERT_EQ(0, pthread_create(&w[i].th, NULL, wwaiter_fn, &w[i]));
		}
		settle(&rng, w, nw);
		t_poke = mono_ns();
		if (poke(kind, p[1])) {
			snprintf(fail, sizeof(fail), "round %d: write: %s", round,
				 strerror(errno));
			goto cleanup;
		}

		/* LT wakes every waiter; ET and ONESHOT exactly one. */
		if (!returned(w, nw, sc == WS_LT2 ? 2 : 1, WAKE_BOUND_MS)) {
			snprintf(fail, sizeof(fail),
				 "round %d (%s, %s): waiter blocked in WAIT(-1) not woken %d ms after the write",
				 round, wscen_name[sc],
				 kind == TK_PIPE ? "pipe" : kind == TK_SOCK ? "socket" : "eventfd",
				 WAKE_BOUND_MS);
			goto cleanup;
		}
		first = atomic_load(&w[0].state) == 2 ? 0 : 1;
		other = !first;
		if (w[first].ret != 1 || w[first].ev[0].events != VEPOLLIN ||
		    w[first].ev[0].data != data || w[first].ev[0].__pad) {
			snprintf(fail, sizeof(fail),
				 "round %d (%s): WAIT returned %d (%s), event 0x%x data 0x%llx",
				 round, wscen_name[sc], w[first].ret, strerror(w[first].err),
				 w[first].ev[0].events, (unsigned long long)w[first].ev[0].data);
			goto cleanup;
		}
		rounds[sc]++;
		lat_sum[sc] += w[first].t_ret - t_poke;
		if (w[first].t_ret - t_poke > lat_max[sc])
			lat_max[sc] = w[first].t_ret - t_poke;

		if (sc == WS_ET2 || sc == WS_OS2) {
			/* The event went to one waiter: the other sleeps on. */
			sleep_us(20000);
			if (atomic_load(&w[other].state) == 2) {
				snprintf(fail, sizeof(fail),
					 "round %d (%s): both waiters returned for one event (ret %d, events 0x%x)",
					 round, wscen_name[sc], w[other].ret,
					 w[other].ev[0].events);
				goto cleanup;
			}
			/* A new edge, or a MOD re-arm of a ready target, wakes it. */
			t_poke = mono_ns();
			if (sc == WS_ET2 ? poke(kind, p[1]) :
			    vp_ctl(dev, ep, VEPOLL_CTL_MOD, p[0], wscen_mask[sc], data)) {
				snprintf(fail, sizeof(fail), "round %d (%s): %s: %s",
					 round, wscen_name[sc],
					 sc == WS_ET2 ? "write" : "MOD", strerror(errno));
				goto cleanup;
			}
			if (!returned(&w[other], 1, 1, WAKE_BOUND_MS)) {
				snprintf(fail, sizeof(fail),
					 "round %d (%s): second waiter not woken %d ms after the %s",
					 round, wscen_name[sc], WAKE_BOUND_MS,
					 sc == WS_ET2 ? "second write" : "MOD re-arm");
				goto cleanup;
			}
			if (w[other].ret != 1 || w[other].ev[0].data != data) {
				snprintf(fail, sizeof(fail),
					 "round %d (%s): second waiter got %d (%s)",
					 round, wscen_name[sc], w[other].ret,
					 strerror(w[other].err));
				goto cleanup;
			}
		} else if (sc == WS_LT2) {
			if (w[other].ret != 1 || w[other].ev[0].data != data) {
				snprintf(fail, sizeof(fail),
					 "round %d (%s): second waiter got %d (%s)",
					 round, wscen_name[sc], w[other].ret,
					 strerror(w[other].err));
				goto cleanup;
			}
		}
cleanup:
		/* A waiter still blocked leaves on a signal. */
		for (i = 0; i < nw; i++) {
			while (atomic_load(&w[i].state) != 2) {
				pthread_kill(w[i].th, SIGUSR1);
				sleep_us(1000);
			}
			pthread_join(w[i].th, NULL);
		}
		close(p[0]);
		if (p[1] != p[0])
			close(p[1]);
		close(ep);
	}

	for (sc = 0; sc < NR_WSCEN; sc++)
		if (rounds[sc])
			ksft_print_msg("%-20s %4d wakeups, latency avg %6.1f us, max %7.1f us\n",
				       wscen_name[sc], rounds[sc],
				       lat_sum[sc] / 1e3 / rounds[sc], lat_max[sc] / 1e3);
	close(dev);
	ASSERT_EQ(0, fail[0]) {
		TH_LOG("%s", fail);
	}
}

static long long env_num(const char *name, long long def, long long lo,
			 long long hi)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "%s=%s: want a number in %lld..%lld; using %lld\n",
			name, s, lo, hi, def);
		return def;
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *s = getenv("VEPOLL_STRESS_SEED");

	/* Test children end in _exit(): nothing may wait in a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (s && *s)
		cfg_seed = strtoull(s, NULL, 0);
	cfg_seconds = env_num("VEPOLL_STRESS_SECONDS", cfg_seconds, 1, 3600);
	cfg_wakeups = env_num("VEPOLL_STRESS_WAKEUPS", cfg_wakeups, 1, 1000000);
	/* The harness kills a test after .timeout s: scale it with the run. */
	_stress_mixed_object.timeout = cfg_seconds + 2 * WAKE_BOUND_MS / 1000 + 30;
	_closed_target_gone_object.timeout = 90;
	_no_lost_wakeup_object.timeout = 60 + cfg_wakeups / 10;
	return test_harness_run(argc, argv);
}
