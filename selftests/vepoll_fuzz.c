// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_fuzz - random, hostile ioctls on /dev/vepoll ("any mix ... is
 * safe"; every error is one the contract names).
 *
 * fuzz_ioctls issues VEPOLL_FUZZ_CALLS ioctls (default 20000, times
 * VEPOLL_HOSTILE_SCALE) in chunks of 500, each chunk in a child process of
 * its own, so that a crash of one chunk does not hide the others. A chunk
 * keeps a pool of descriptors: the device, instances (nested at random,
 * so ELOOP paths are taken), pipes, eventfds, sockets, timerfds, a
 * signalfd, a pidfd, a native epoll (with instances inside it, and it
 * inside instances), a regular file, a memfd, a directory, /dev/null, an
 * O_PATH descriptor, and numbers that are never open. Each call is one of:
 *
 *   CREATE, CTL, WAIT, CTL_BATCH   with random fields (ops, fds, event
 *        bits, padding, flags, maxevents, small timeouts, signal masks
 *        and sizes, batch counts) and argument pointers that are good,
 *        NULL, low, in a PROT_NONE page, kernel or non-canonical,
 *        misaligned, read-only, or straddling the end of a page into a
 *        PROT_NONE one
 *   the real request numbers with another size or direction, other
 *        numbers of the same magic, random numbers (not the generic
 *        ones the VFS answers itself), and the real requests on
 *        descriptors that are not /dev/vepoll
 *
 * mixed with closes, dup2s, epoll_ctl/epoll_wait and poll of the pool,
 * reads, writes and forks. Each return must be success or an errno of
 * the contract (EFAULT EBADF EPERM EINVAL ELOOP EEXIST ENOENT ENOSPC ENOTTY
 * EINTR ENFILE EMFILE ENOMEM) and, where the arguments decide it (the
 * documented order of checks), exactly the errno they call for; events handed
 * back must be well formed, batch results consistent with the count.
 * A chunk still running after 30 s (scaled) is reported with its state
 * (D: stuck in the kernel) and the call it was in, and ends the run.
 * Then module_still_works: a fresh instance, an ADD and a WAIT.
 *
 * *_on_a_cycle_through_epoll_returns: an instance and a native epoll that
 * watch each other, a cycle neither ELOOP check can see (the fuzzer builds
 * such cycles too); epoll_ctl, epoll_wait, poll and WAIT on it must
 * return. Last in this program, and this program last but vepoll_limits:
 * a deadlock here leaves tasks that cannot be killed and a module that
 * cannot be unloaded.
 *
 * The seed is printed; VEPOLL_FUZZ_SEED=<seed> repeats a run and
 * VEPOLL_FUZZ_CHUNK=<n> runs only chunk n of it. VEPOLL_FUZZ_CALLS sets
 * the number of calls (times VEPOLL_HOSTILE_SCALE, at least 5000);
 * VEPOLL_FUZZ_NO_EPOLL_CYCLES=1 keeps instances out of native epolls and
 * SKIPs the cycle tests, to look past that deadlock while it is open.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define CHUNK_CALLS	500
#define DEFAULT_CALLS	20000
#define MIN_CALLS	5000
#define NR_POOL		28
#define NR_INST_SLOTS	6
#define EV_CAP		64	/* events that fit before the guard page */
#define CTL_CAP		64	/* batch entries that fit before the guard */
#define RES_CAP		64	/* batch results that fit before the guard */
#define DATA_TAG	0x5646ULL	/* "VF": top 16 bits of our data */
#define RES_SENTINEL	0x5a5a5a5a	/* every byte 0x5a */
#define NR_ERRNO	160
#define MAX_FAILS	8
#define E(x)		(1ULL << (x))

/* A kernel address and a non-canonical one, for the __u64 fields. */
#define KADDR64		0xffffffff81000000ULL
#define NONCANON64	0x8000000000000000ULL
/* The same, as an ioctl argument (unsigned long), for 32-bit builds too. */
#if UINTPTR_MAX > 0xffffffffU
#define KADDR_ARG	((unsigned long)KADDR64)
#define NONCANON_ARG	((unsigned long)NONCANON64)
#else
#define KADDR_ARG	0xfffff000UL
#define NONCANON_ARG	0xffffffffUL
#endif

/* ---- configuration --------------------------------------------------- */

static double cfg_scale = 1.0;
static const char *cfg_scale_why = "default";
static unsigned long long cfg_seed;
static long cfg_calls;
static long cfg_only_chunk = -1;
static bool cfg_no_epoll_cycles;

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : def;
}

/* ---- random numbers ---------------------------------------------------- */

static uint64_t rng;

/* vp_rnd() and vp_below() on this process's sequence, @rng. */
static uint64_t rnd(void)
{
	return vp_rnd(&rng);
}

static unsigned int below(unsigned int n)
{
	return vp_below(&rng, n);
}

/* True with probability @pct percent. */
static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

/* ---- what the chunks report, in a shared page ------------------------ */

enum req {
	RQ_CREATE, RQ_CTL, RQ_WAIT, RQ_BATCH, RQ_WRONG, RQ_RANDOM, RQ_FOREIGN,
	NR_REQ
};

static const char *const req_name[NR_REQ] = {
	"CREATE", "CTL", "WAIT", "CTL_BATCH", "real nr, wrong size/dir",
	"random request", "real request, other fd",
};

enum other {
	OT_CLOSE, OT_DUP2, OT_EPOLL_CTL, OT_EPOLL_WAIT, OT_POLL, OT_RW_INST,
	OT_WRITE, OT_READ, OT_FORK, NR_OTHER
};

static const char *const other_name[NR_OTHER] = {
	"close+reopen", "dup2", "epoll_ctl", "epoll_wait", "poll",
	"read/write instance", "write target", "drain target", "fork",
};

struct report {
	unsigned long calls;
	unsigned long req[NR_REQ];
	unsigned long err[NR_ERRNO];	/* [0]: success */
	unsigned long other[NR_OTHER];
	unsigned long events;
	unsigned long eintr_alarm;
	int nr_fails;
	char fails[MAX_FAILS][512];
	char last[384];			/* the call in progress */
};

static struct report *rep;
static int chunk_no;

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = __atomic_fetch_add(&rep->nr_fails, 1, __ATOMIC_RELAXED);
	if (n < MAX_FAILS)
		snprintf(rep->fails[n], sizeof(rep->fails[n]),
			 "chunk %d (VEPOLL_FUZZ_SEED=%llu VEPOLL_FUZZ_CHUNK=%d): %s",
			 chunk_no, cfg_seed, chunk_no, msg);
}

static void __attribute__((format(printf, 1, 2))) doing(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->last, sizeof(rep->last), fmt, ap);
	va_end(ap);
}

/* Count a request's outcome; false if its errno is outside the contract. */
static bool account(enum req kind, long ret)
{
	int err = ret < 0 ? (int)-ret : 0;

	__atomic_fetch_add(&rep->calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&rep->req[kind], 1, __ATOMIC_RELAXED);
	if (err < NR_ERRNO)
		__atomic_fetch_add(&rep->err[err], 1, __ATOMIC_RELAXED);
	if (err && (err >= 64 || !(VP_CONTRACT_ERRNOS & E(err)))) {
		fail("%s: errno %d (%s) is not one the contract allows",
		     rep->last, err, strerror(err));
		return false;
	}
	return true;
}

/* ---- the descriptor pool ---------------------------------------------- */

enum kind {
	K_DEV, K_INST, K_PIPE_R, K_PIPE_W, K_EVENTFD, K_SOCK, K_TIMERFD,
	K_SIGNALFD, K_PIDFD, K_EPOLL, K_FILE, K_MEMFD, K_DIR, K_NULL, K_OPATH,
	NR_KINDS
};

static const char *const kind_name[NR_KINDS] = {
	"dev", "inst", "pipe-r", "pipe-w", "eventfd", "sock", "timerfd",
	"signalfd", "pidfd", "epoll", "file", "memfd", "dir", "devnull",
	"opath",
};

struct slot {
	int fd;
	enum kind kind;
	unsigned int obj;	/* same obj: same open file */
	int peer;		/* pipe/socket: the slot of the other end */
};

/*
 * Slot 0 is the device; 1..NR_INST_SLOTS instances; from FIXED_SLOT one of
 * each other kind; from RANDOM_SLOT random kinds, and the peers of pipes
 * and sockets.
 */
#define FIXED_SLOT	(NR_INST_SLOTS + 1)
#define RANDOM_SLOT	(FIXED_SLOT + NR_KINDS - K_PIPE_R)
static struct slot pool[NR_POOL];
static unsigned int next_obj = 1;
static int dev = -1;

static bool pollable(enum kind k)
{
	switch (k) {
	case K_DEV: case K_FILE: case K_MEMFD: case K_DIR: case K_NULL:
	case K_OPATH:
		return false;
	default:
		return true;
	}
}

/* Open a @k; *@fd2 gets the other end of a pipe or socket, else -1. */
static int open_kind(enum kind k, int *fd2)
{
	char path[] = "/tmp/vepoll_fuzz.XXXXXX";
	sigset_t ss;
	int p[2], fd;

	*fd2 = -1;
	switch (k) {
	case K_DEV:
		return open(VP_DEV_PATH, O_RDWR);
	case K_INST:
		return vp_create(dev, chance(50) ? VEPOLL_CLOEXEC : 0);
	case K_PIPE_R:
	case K_PIPE_W:
		if (pipe2(p, O_NONBLOCK))
			return -1;
		*fd2 = k == K_PIPE_R ? p[1] : p[0];
		return k == K_PIPE_R ? p[0] : p[1];
	case K_EVENTFD:
		return eventfd(below(2), EFD_NONBLOCK);
	case K_SOCK:
		if (socketpair(AF_UNIX, (chance(50) ? SOCK_STREAM : SOCK_DGRAM) |
			       SOCK_NONBLOCK, 0, p))
			return -1;
		*fd2 = p[1];
		return p[0];
	case K_TIMERFD:
		return vp_timerfd(below(4));
	case K_SIGNALFD:
		sigemptyset(&ss);
		sigaddset(&ss, SIGUSR2);
		return signalfd(-1, &ss, SFD_NONBLOCK);
	case K_PIDFD:
		return (int)syscall(SYS_pidfd_open, getpid(), 0);
	case K_EPOLL:
		return epoll_create1(0);
	case K_FILE:
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
		return fd;
	case K_MEMFD:
		return (int)syscall(SYS_memfd_create, "vepoll_fuzz", 0);
	case K_DIR:
		return open("/", O_RDONLY | O_DIRECTORY);
	case K_NULL:
		return open("/dev/null", O_RDWR);
	case K_OPATH:
		return open("/", O_PATH);
	default:
		return -1;
	}
}

static void slot_close(int i)
{
	int j = pool[i].peer;

	if (pool[i].fd >= 0)
		close(pool[i].fd);
	pool[i].fd = -1;
	if (j >= 0 && pool[j].peer == i)
		pool[j].peer = -1;
	pool[i].peer = -1;
}

/* A slot for the peer of a pipe or socket: one of the random ones. */
static int peer_slot(int not)
{
	int i = RANDOM_SLOT + below(NR_POOL - RANDOM_SLOT);

	return i == not ? -1 : i;
}

static void slot_open(int i, enum kind k)
{
	int fd2, fd, j;

	slot_close(i);
	fd = open_kind(k, &fd2);
	if (fd < 0) {
		/* ENFILE and friends: leave the slot closed. */
		pool[i].fd = -1;
		if (fd2 >= 0)
			close(fd2);
		return;
	}
	pool[i].fd = fd;
	pool[i].kind = k;
	pool[i].obj = next_obj++;
	if (fd2 < 0)
		return;
	j = peer_slot(i);
	if (j < 0) {
		close(fd2);
		return;
	}
	slot_close(j);
	pool[j].fd = fd2;
	pool[j].kind = k == K_PIPE_R ? K_PIPE_W : k == K_PIPE_W ? K_PIPE_R : k;
	pool[j].obj = next_obj++;
	pool[j].peer = i;
	pool[i].peer = j;
}

static void pool_init(void)
{
	int i, k;

	for (i = 0; i < NR_POOL; i++) {
		pool[i].fd = -1;
		pool[i].peer = -1;
	}
	pool[0].fd = dev;
	pool[0].kind = K_DEV;
	pool[0].obj = next_obj++;
	for (i = 1; i <= NR_INST_SLOTS; i++)
		slot_open(i, K_INST);
	for (k = K_PIPE_R; k < NR_KINDS; k++)
		slot_open(FIXED_SLOT + k - K_PIPE_R, k);
	for (i = RANDOM_SLOT; i < NR_POOL; i++)
		if (pool[i].fd < 0)
			slot_open(i, K_PIPE_R + below(NR_KINDS - K_PIPE_R));
}

/* ---- scratch memory: each area is followed by a PROT_NONE page --------- */

static long page;
static char *area_arg, *area_ev, *area_ctls, *area_res, *area_sig, *area_ro;

static int scratch_init(void)
{
	char *m;
	int i;

	page = sysconf(_SC_PAGESIZE);
	m = mmap(NULL, 12 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED)
		return -1;
	for (i = 0; i < 12; i += 2)
		if (mprotect(m + i * page, page, PROT_READ | PROT_WRITE))
			return -1;
	area_arg = m;
	area_ev = m + 2 * page;
	area_ctls = m + 4 * page;
	area_res = m + 6 * page;
	area_sig = m + 8 * page;
	area_ro = m + 10 * page;
	/* Garbage that reads as a plausible ctl/wait/batch argument. */
	for (i = 0; i < page; i++)
		area_ro[i] = (char)rnd();
	return mprotect(area_ro, page, PROT_READ);
}

/* ---- random values ------------------------------------------------------ */

enum ptrk {
	P_GOOD, P_MISALIGNED, P_NULL, P_LOW, P_GUARD, P_KERNEL, P_NONCANON,
	P_STRADDLE, P_RDONLY, NR_PTRK
};

static const char *const ptrk_name[NR_PTRK] = {
	"good", "misaligned", "NULL", "low", "guard", "kernel", "noncanon",
	"straddle", "read-only",
};

/* Pointer kinds that access_ok() itself refuses. */
static bool ptr_not_user(enum ptrk k)
{
	return k == P_KERNEL || k == P_NONCANON;
}

static enum ptrk rand_ptrk(unsigned int good_pct)
{
	if (chance(good_pct))
		return P_GOOD;
	return (enum ptrk)(1 + below(NR_PTRK - 1));
}

/*
 * Place @len bytes of @src in @area (followed by a guard page) as pointer
 * kind @k; returns the address for the kernel. P_STRADDLE copies only the
 * part before the guard. P_RDONLY returns an address in the read-only page
 * (whose contents are garbage).
 */
static uint64_t place(char *area, enum ptrk k, const void *src, size_t len)
{
	char *p;
	size_t in;

	switch (k) {
	case P_GOOD:
		p = area + page - len;
		memcpy(p, src, len);
		return vp_ptr(p);
	case P_MISALIGNED:
		p = area + page - len - 1 - below(7);
		memcpy(p, src, len);
		return vp_ptr(p);
	case P_NULL:
		return 0;
	case P_LOW:
		return 0x1000 + below(0x1000);
	case P_GUARD:
		return vp_ptr(area + page + below(page));
	case P_KERNEL:
		return KADDR64 + below(0x10000);
	case P_NONCANON:
		return NONCANON64 + below(0x10000);
	case P_STRADDLE:
		in = 1 + below(len - 1);
		p = area + page - in;
		memcpy(p, src, in);
		return vp_ptr(p);
	default:
		return vp_ptr(area_ro + below(page - len));
	}
}

/* The same as an ioctl argument: kernel kinds must fit unsigned long. */
static unsigned long arg_of(enum ptrk k, uint64_t p)
{
	if (k == P_KERNEL)
		return KADDR_ARG;
	if (k == P_NONCANON)
		return NONCANON_ARG;
	return (unsigned long)p;
}

/* Can the kernel read all @len bytes at a pointer of kind @k? */
static bool ptr_readable(enum ptrk k)
{
	return k == P_GOOD || k == P_MISALIGNED || k == P_RDONLY;
}

static __u64 rand_data(void)
{
	static const __u64 special[] = { 0, ~0ULL, 1ULL << 63, 1 };

	if (chance(10))
		return special[below(ARRAY_SIZE(special))];
	return DATA_TAG << 48 | (rnd() & ((1ULL << 48) - 1));
}

static bool data_ours(__u64 d)
{
	return d >> 48 == DATA_TAG || d == 0 || d == ~0ULL ||
	       d == 1ULL << 63 || d == 1;
}

static __u32 rand_events(void)
{
	/* Wakeup sources are costly to make and free: now and then only. */
	__u32 e = (__u32)rnd() & VP_VALID_BITS & ~VEPOLLWAKEUP;

	if (chance(5))
		e |= VEPOLLWAKEUP;
	if (chance(5))
		e = (e & VP_EXCL_OK_BITS) | VEPOLLEXCLUSIVE;

	switch (below(12)) {
	case 0:
		return (__u32)rnd();
	case 1:
		return e | 1U << below(32);
	case 2:
		return 0;
	case 3:
		return VEPOLLIN | VEPOLLET;
	case 4:
		return VEPOLLIN | VEPOLLONESHOT;
	default:
		return e;
	}
}

static __u32 rand_pad(void)
{
	return chance(92) ? 0 : (chance(50) ? 1U << below(32) : (__u32)rnd());
}

static __u32 rand_op(void)
{
	static const __u32 odd[] = { 0, 4, 5, 0x80000001U, ~0U, 0x100 };

	if (chance(90))
		return 1 + below(3);
	return odd[below(ARRAY_SIZE(odd))];
}

/* Numbers that are never open here (the pool stays far below 800). */
static int never_open_fd(void)
{
	static const int odd[] = { -1, -2, INT_MIN, INT_MAX, 1 << 20, 65536 };

	if (chance(60))
		return 800 + below(200);
	return odd[below(ARRAY_SIZE(odd))];
}

struct fdpick {
	int fd;
	int slot;	/* -1: never open */
};

static struct fdpick pick_fd(bool want_inst)
{
	struct fdpick p = { -1, -1 };
	int i;

	if (chance(6)) {
		p.fd = never_open_fd();
		return p;
	}
	if (want_inst && chance(70))
		i = 1 + below(NR_INST_SLOTS);
	else
		i = below(NR_POOL);
	p.slot = pool[i].fd >= 0 ? i : -1;
	p.fd = pool[i].fd;
	return p;
}

/* ---- expectations (Documentation.rst: its rules and their order) ------ */

/* fdget() finds nothing: never open, closed, or O_PATH. */
static bool fd_missing(const struct fdpick *p)
{
	return p->slot < 0 || pool[p->slot].kind == K_OPATH;
}

static bool is_inst(const struct fdpick *p)
{
	return !fd_missing(p) && pool[p->slot].kind == K_INST;
}

static bool ctl_args_bad(const struct vepoll_ctl_args *a)
{
	if (a->__pad)
		return true;
	if (a->op == VEPOLL_CTL_DEL)
		return false;
	if (a->op != VEPOLL_CTL_ADD && a->op != VEPOLL_CTL_MOD)
		return true;
	return a->event.__pad || (a->event.events & ~VP_KNOWN_BITS);
}

/* Some ADD with VEPOLLEXCLUSIVE succeeded: a MOD may find its watch. */
static bool exclusive_added;

/* Linux's EPOLLEXCLUSIVE rules that the arguments decide (EINVAL). */
static bool ctl_exclusive_bad(const struct vepoll_ctl_args *a,
			      const struct fdpick *t)
{
	if (a->op == VEPOLL_CTL_DEL || !(a->event.events & VEPOLLEXCLUSIVE))
		return false;
	return a->op == VEPOLL_CTL_MOD ||
	       (a->event.events & ~VP_EXCL_OK_BITS) ||
	       pool[t->slot].kind == K_INST || pool[t->slot].kind == K_EPOLL;
}

/* Note an exclusive watch that a later MOD may meet (EINVAL). */
static void ctl_note(const struct vepoll_ctl_args *a, long ret)
{
	if (!ret && a->op == VEPOLL_CTL_ADD &&
	    (a->event.events & VEPOLLEXCLUSIVE))
		exclusive_added = true;
}

/*
 * The errnos a CTL may answer: one exact errno where the arguments decide
 * it, else the set of outcomes that depend on the watch list (0 = success).
 */
static uint64_t ctl_expect(const struct vepoll_ctl_args *a,
			   const struct fdpick *ep, const struct fdpick *t,
			   int *exact)
{
	*exact = 0;
	if (fd_missing(ep) || fd_missing(t)) {
		*exact = EBADF;
		return 0;
	}
	if (!pollable(pool[t->slot].kind)) {
		*exact = EPERM;
		return 0;
	}
	if (!is_inst(ep) || pool[ep->slot].obj == pool[t->slot].obj ||
	    ctl_args_bad(a) || ctl_exclusive_bad(a, t)) {
		*exact = EINVAL;
		return 0;
	}
	if (a->op == VEPOLL_CTL_ADD)
		return E(0) | E(EEXIST) | E(ENOSPC) | E(ENOMEM) |
		       (is_inst(t) ? E(ELOOP) : 0);
	if (a->op == VEPOLL_CTL_MOD && exclusive_added)
		return E(0) | E(ENOENT) | E(EINVAL);
	return E(0) | E(ENOENT);
}

static bool check_ret(long ret, int exact, uint64_t set)
{
	int err = ret < 0 ? (int)-ret : 0;

	if (exact) {
		if (err == exact)
			return true;
		fail("%s: got %ld (%s), want %s", rep->last, ret,
		     ret < 0 ? strerror(err) : "success", strerror(exact));
		return false;
	}
	if (err < 64 && (set & E(err)))
		return true;
	fail("%s: got %ld (%s), which these arguments cannot give", rep->last,
	     ret, ret < 0 ? strerror(err) : "success");
	return false;
}

/* ---- the requests -------------------------------------------------------- */

/* Random CTL arguments; the epfd is @force's when given. */
static void rand_ctl(struct vepoll_ctl_args *a, struct fdpick *ep,
		     struct fdpick *t, const struct fdpick *force)
{
	*ep = force ? *force : pick_fd(true);
	*t = pick_fd(chance(30));
	if (chance(3))
		*t = *ep;
	memset(a, 0, sizeof(*a));
	a->epfd = ep->fd;
	a->op = rand_op();
	a->fd = t->fd;
	a->__pad = rand_pad();
	a->event.events = rand_events();
	a->event.__pad = rand_pad();
	a->event.data = rand_data();
}

static void do_ctl(void)
{
	struct vepoll_ctl_args a;
	struct fdpick ep, t;
	enum ptrk k = rand_ptrk(85);
	uint64_t set, p;
	int exact;
	long ret;

	rand_ctl(&a, &ep, &t, NULL);
	p = place(area_arg, k, &a, sizeof(a));
	doing("CTL arg %s epfd %d(%s) op %u fd %d(%s) pad %#x events %#x evpad %#x",
	      ptrk_name[k], a.epfd, ep.slot >= 0 ? kind_name[pool[ep.slot].kind] : "-",
	      a.op, a.fd, t.slot >= 0 ? kind_name[pool[t.slot].kind] : "-",
	      a.__pad, a.event.events, a.event.__pad);
	ret = vp_ret(ioctl(dev, VEPOLL_IOC_CTL, arg_of(k, p)));
	if (!account(RQ_CTL, ret))
		return;
	if (k == P_RDONLY)
		return;		/* garbage arguments: anything allowed */
	if (!ptr_readable(k)) {
		check_ret(ret, EFAULT, 0);
		return;
	}
	set = ctl_expect(&a, &ep, &t, &exact);
	check_ret(ret, exact, set);
	ctl_note(&a, ret);
}

static void alarm_handler(int sig)
{
}

/*
 * SIGALRM after @us and every 5 ms after that (0: none), to end a long
 * wait with EINTR even if the first one comes before the wait sleeps.
 */
static void alarm_in(long us)
{
	struct itimerval it = {
		.it_value = { us / 1000000, us % 1000000 },
		.it_interval = { 0, us ? 5000 : 0 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

static bool event_ok(const struct vepoll_event *e)
{
	return e->events && !(e->events & ~VP_COND_BITS) && !e->__pad &&
	       data_ours(e->data);
}

static void do_wait(void)
{
	static const __u32 odd_max[] = {
		0, INT_MAX / 16, INT_MAX / 16 + 1, 0x80000000U, ~0U, 1024,
	};
	static const __u64 odd_size[] = { 0, 4, 16, 128, ~0ULL, 7 };
	struct vepoll_wait_args a;
	struct vepoll_event *ev;
	enum ptrk k = rand_ptrk(85), ek, sk = P_NULL;
	uint64_t sigbits = 0, p;
	struct fdpick ep;
	bool armed = false, sane_mask;
	int exact = 0, i, fit;
	long ret;

	memset(&a, 0, sizeof(a));
	ep = pick_fd(true);
	a.epfd = ep.fd;
	a.maxevents = chance(85) ? 1 + below(EV_CAP) :
		      odd_max[below(ARRAY_SIZE(odd_max))];
	a.flags = chance(95) ? 0 : (__u32)rnd() | 1;
	/* Mostly 0; a few ms; rarely long, and then an alarm ends it. */
	switch (below(20)) {
	case 0:
		a.timeout_ms = chance(50) ? -1 : (chance(50) ? INT_MIN : INT_MAX);
		armed = true;
		break;
	case 1: case 2: case 3:
		a.timeout_ms = 1 + below(3);
		break;
	default:
		a.timeout_ms = 0;
		break;
	}
	ek = rand_ptrk(80);
	fit = a.maxevents < EV_CAP ? (int)a.maxevents : EV_CAP;
	memset(area_ev, 0xa5, page);
	if (ek == P_GOOD)
		a.events = vp_ptr(area_ev + page - fit * sizeof(*ev));
	else if (ek == P_MISALIGNED)
		a.events = vp_ptr(area_ev + page - EV_CAP * sizeof(*ev) - 1 -
				  below(15));
	else if (ek == P_STRADDLE)
		a.events = vp_ptr(area_ev + page - 1 - below(sizeof(*ev) - 1));
	else
		a.events = place(area_ev, ek, NULL, 0);
	if (chance(30)) {
		sk = armed ? P_GOOD : rand_ptrk(70);
		sigbits = chance(50) ? 0 : rnd();
		/* A long wait must stay interruptible by its alarm. */
		if (armed)
			sigbits &= ~(1ULL << (SIGALRM - 1));
		if (sk == P_STRADDLE)
			a.sigmask = vp_ptr(area_sig + page - 1 - below(7));
		else if (sk == P_MISALIGNED || sk == P_RDONLY)
			a.sigmask = place(area_sig, P_MISALIGNED, &sigbits,
					  sizeof(sigbits));
		else
			a.sigmask = place(area_sig, sk, &sigbits,
					  sizeof(sigbits));
		a.sigsetsize = armed || chance(80) ? VP_KSIGSET_SIZE :
			       odd_size[below(ARRAY_SIZE(odd_size))];
	} else {
		/* Ignored without a mask. */
		a.sigsetsize = chance(80) ? 0 : rnd();
	}
	sane_mask = !a.sigmask ||
		    (a.sigsetsize == VP_KSIGSET_SIZE && ptr_readable(sk));
	if (armed && !sane_mask) {
		armed = false;
		a.timeout_ms = 0;
	}
	/* Garbage arguments may ask for a long wait too. */
	if (k == P_RDONLY)
		armed = true;
	p = place(area_arg, k, &a, sizeof(a));
	doing("WAIT arg %s epfd %d(%s) timeout %d max %u flags %#x events %s sigmask %s size %llu",
	      ptrk_name[k], a.epfd,
	      ep.slot >= 0 ? kind_name[pool[ep.slot].kind] : "-",
	      a.timeout_ms, a.maxevents, a.flags, ptrk_name[ek],
	      a.sigmask ? ptrk_name[sk] : "none",
	      (unsigned long long)a.sigsetsize);
	if (armed)
		alarm_in(2000 + below(4000));
	ret = vp_ret(ioctl(dev, VEPOLL_IOC_WAIT, arg_of(k, p)));
	if (armed)
		alarm_in(0);
	if (!account(RQ_WAIT, ret) || k == P_RDONLY)
		return;
	if (!ptr_readable(k)) {
		check_ret(ret, EFAULT, 0);
		return;
	}
	/* Linux's order: signal mask, maxevents and flags, buffer, epfd. */
	if (a.sigmask && a.sigsetsize != VP_KSIGSET_SIZE)
		exact = EINVAL;
	else if (a.sigmask && !ptr_readable(sk))
		exact = EFAULT;
	else if (!a.maxevents || a.maxevents > INT_MAX / 16 || a.flags)
		exact = EINVAL;
	else if (ptr_not_user(ek))
		exact = EFAULT;
	else if (fd_missing(&ep))
		exact = EBADF;
	else if (!is_inst(&ep))
		exact = EINVAL;
	if (exact) {
		check_ret(ret, exact, 0);
		return;
	}
	if (ret == -EINTR && armed) {
		rep->eintr_alarm++;
		return;
	}
	/* A buffer that takes the first event cannot fault. */
	if (!check_ret(ret, 0, E(0) | (ek == P_GOOD || ek == P_MISALIGNED ?
				       0 : E(EFAULT))))
		return;
	if (ret > 0 && ret > (long long)a.maxevents) {
		fail("%s: %ld events for maxevents %u", rep->last, ret,
		     a.maxevents);
		return;
	}
	if (ek != P_GOOD || ret < 0)
		return;
	rep->events += ret;
	if (ret > fit) {
		fail("%s: %ld events in a buffer of %d before a guard page",
		     rep->last, ret, fit);
		return;
	}
	ev = (struct vepoll_event *)(uintptr_t)a.events;
	for (i = 0; i < ret; i++)
		if (!event_ok(&ev[i])) {
			fail("%s: bad event %d/%ld: events %#x pad %#x data %#llx",
			     rep->last, i, ret, ev[i].events, ev[i].__pad,
			     (unsigned long long)ev[i].data);
			return;
		}
	for (i = (int)ret; i < fit; i++)
		if (ev[i].events != 0xa5a5a5a5 || ev[i].__pad != 0xa5a5a5a5 ||
		    ev[i].data != 0xa5a5a5a5a5a5a5a5ULL) {
			fail("%s: entry %d past the %ld returned was written",
			     rep->last, i, ret);
			return;
		}
}

static void do_create(void)
{
	static const unsigned long odd[] = {
		1, O_NONBLOCK, O_CLOEXEC | 1, ~0UL, 1UL << 31, O_RDWR,
	};
	unsigned long flags;
	int exact = 0, i;
	long ret;

	switch (below(6)) {
	case 0: case 1:
		flags = 0;
		break;
	case 2: case 3:
		flags = VEPOLL_CLOEXEC;
		break;
	case 4:
		flags = odd[below(ARRAY_SIZE(odd))];
		break;
	default:
		flags = (unsigned long)rnd();
		break;
	}
	doing("CREATE flags %#lx", flags);
	ret = vp_ret(ioctl(dev, VEPOLL_IOC_CREATE, flags));
	if (!account(RQ_CREATE, ret))
		return;
	if (flags & ~(unsigned long)VEPOLL_CLOEXEC)
		exact = EINVAL;
	if (!check_ret(ret, exact, E(0) | E(ENFILE) | E(EMFILE) | E(ENOMEM)) ||
	    ret < 0)
		return;
	/* Keep it as one of the instances, or drop it at once. */
	if (chance(50)) {
		close((int)ret);
		return;
	}
	i = 1 + below(NR_INST_SLOTS);
	slot_close(i);
	pool[i].fd = (int)ret;
	pool[i].kind = K_INST;
	pool[i].obj = next_obj++;
}

static void do_batch(void)
{
	static const __u32 odd_count[] = {
		1U << 20, INT_MAX, (__u32)INT_MAX + 1, ~0U, CTL_CAP + 1, 1000,
	};
	struct vepoll_ctl_args ctls[CTL_CAP];
	struct fdpick eps[CTL_CAP], ts[CTL_CAP];
	struct vepoll_ctl_batch b;
	enum ptrk k = rand_ptrk(85), ck = rand_ptrk(85), rk = rand_ptrk(85);
	struct fdpick bep = pick_fd(true);
	unsigned int n, i, in_ctls, in_res;
	__s32 *res;
	uint64_t set, p;
	int exact;
	long ret;

	memset(&b, 0, sizeof(b));
	b.epfd = bep.fd;
	switch (below(10)) {
	case 0:
		b.count = 0;
		break;
	case 1:
		b.count = odd_count[below(ARRAY_SIZE(odd_count))];
		break;
	case 2:
		b.count = 9 + below(CTL_CAP - 8);
		break;
	default:
		b.count = 1 + below(8);
		break;
	}
	b.flags = chance(95) ? 0 : (__u32)rnd() | 1;
	b.__pad = chance(95) ? 0 : (__u32)rnd() | 1;
	n = b.count < CTL_CAP ? b.count : CTL_CAP;
	for (i = 0; i < n; i++)
		rand_ctl(&ctls[i], &eps[i], &ts[i], chance(90) ? &bep : NULL);
	/*
	 * Entries end at the guard page, so entry n faults; misaligned ones
	 * end 3 bytes before it, straddling ones 8 bytes into it.
	 */
	if (ck == P_GOOD || ck == P_MISALIGNED || ck == P_STRADDLE) {
		char *base = area_ctls + page - n * sizeof(ctls[0]);
		size_t len = n * sizeof(ctls[0]);

		in_ctls = n;
		if (ck == P_MISALIGNED) {
			base -= 3;
		} else if (ck == P_STRADDLE && n) {
			base += 8;
			len -= 8;
			in_ctls = n - 1;
		}
		memcpy(base, ctls, len);
		b.ctls = vp_ptr(base);
	} else {
		in_ctls = 0;
		b.ctls = place(area_ctls, ck, NULL, 0);
	}
	memset(area_res, RES_SENTINEL & 0xff, page);
	res = (__s32 *)(area_res + page - (n ? n : 1) * sizeof(__s32));
	in_res = n;
	if (rk == P_GOOD || rk == P_MISALIGNED) {
		b.results = vp_ptr(res);
	} else if (rk == P_STRADDLE) {
		res = (__s32 *)((char *)res + 2);
		b.results = vp_ptr(res);
		in_res = n ? n - 1 : 0;
	} else {
		b.results = place(area_res, rk, NULL, 0);
		in_res = 0;
	}
	/* Which entries get applied is known only afterwards: assume all. */
	for (i = 0; i < n; i++)
		ctl_note(&ctls[i], 0);
	p = place(area_arg, k, &b, sizeof(b));
	doing("BATCH arg %s epfd %d(%s) count %u flags %#x pad %#x ctls %s results %s",
	      ptrk_name[k], b.epfd,
	      bep.slot >= 0 ? kind_name[pool[bep.slot].kind] : "-", b.count,
	      b.flags, b.__pad, ptrk_name[ck], ptrk_name[rk]);
	ret = vp_ret(ioctl(dev, VEPOLL_IOC_CTL_BATCH, arg_of(k, p)));
	if (!account(RQ_BATCH, ret) || k == P_RDONLY)
		return;
	if (!ptr_readable(k)) {
		check_ret(ret, EFAULT, 0);
		return;
	}
	if (b.flags || b.__pad || b.count > INT_MAX) {
		check_ret(ret, EINVAL, 0);
		return;
	}
	if (!b.count) {
		check_ret(ret, 0, E(0));
		return;
	}
	if (ret == -EFAULT)
		return;		/* a result could not be written */
	if (ret < 0 || ret > (long long)b.count) {
		fail("%s: returned %ld", rep->last, ret);
		return;
	}
	if (rk != P_GOOD || ck == P_RDONLY)
		return;
	/* results[0..ret) are 0, results[ret] the errno, the rest untouched. */
	for (i = 0; i < (unsigned int)ret && i < in_res; i++)
		if (res[i]) {
			fail("%s: returned %ld but results[%u] = %d", rep->last,
			     ret, i, res[i]);
			return;
		}
	if ((unsigned int)ret >= in_res)
		return;
	if ((unsigned int)ret >= b.count) {
		for (i = ret; i < in_res; i++)
			if (res[i] != RES_SENTINEL)
				goto touched;
		return;
	}
	i = (unsigned int)ret;
	if (res[i] >= 0 || -res[i] >= 64 ||
	    !(VP_CONTRACT_ERRNOS & E(-res[i]))) {
		fail("%s: stopped at entry %u with result %d", rep->last, i,
		     res[i]);
		return;
	}
	if (i >= in_ctls) {
		/* The entry could not be read. */
		if (res[i] != -EFAULT)
			fail("%s: unreadable entry %u gave %d, want -EFAULT",
			     rep->last, i, res[i]);
	} else if (ctls[i].epfd != b.epfd) {
		if (res[i] != -EINVAL)
			fail("%s: entry %u with another epfd gave %d, want -EINVAL",
			     rep->last, i, res[i]);
	} else {
		set = ctl_expect(&ctls[i], &eps[i], &ts[i], &exact);
		if (exact ? -res[i] != exact : !(set & E(-res[i])))
			fail("%s: entry %u (op %u fd %d events %#x) gave %d",
			     rep->last, i, ctls[i].op, ctls[i].fd,
			     ctls[i].event.events, res[i]);
	}
	for (i++; i < in_res && i < b.count; i++)
		if (res[i] != RES_SENTINEL)
			goto touched;
	return;
touched:
	fail("%s: returned %ld, yet results[%u] = %#x was written", rep->last,
	     ret, i, res[i]);
}

/* Requests the VFS answers before the driver sees them: never sent. */
static bool generic_request(unsigned int cmd)
{
	switch (_IOC_TYPE(cmd)) {
	case 0x00:	/* FIBMAP, FIGETBSZ */
	case 'T':	/* FIONBIO, FIOCLEX, FIONREAD, ... */
	case 'X':	/* FIFREEZE, FITHAW, FS_IOC_FSGETXATTR, ... */
	case 'f':	/* FS_IOC_FIEMAP, FS_IOC_GETFLAGS, ... */
	case 0x94:	/* FICLONE, FIDEDUPERANGE, ... */
		return true;
	default:
		return false;
	}
}

static bool real_request(unsigned int cmd)
{
	return cmd == VEPOLL_IOC_CREATE || cmd == VEPOLL_IOC_CTL ||
	       cmd == VEPOLL_IOC_WAIT || cmd == VEPOLL_IOC_CTL_BATCH;
}

static unsigned long rand_arg(enum ptrk *k)
{
	char junk[64];
	unsigned int i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)rnd();
	*k = rand_ptrk(50);
	return arg_of(*k, place(area_arg, *k, junk, sizeof(junk)));
}

static void do_wrong(void)
{
	static const unsigned int real[] = {
		VEPOLL_IOC_CREATE, VEPOLL_IOC_CTL, VEPOLL_IOC_WAIT,
		VEPOLL_IOC_CTL_BATCH,
	};
	unsigned int cmd, r = real[below(ARRAY_SIZE(real))];
	unsigned long arg;
	enum ptrk k;
	long ret;

	do {
		switch (below(4)) {
		case 0:	/* another direction */
			cmd = _IOC(below(4), _IOC_TYPE(r), _IOC_NR(r),
				   _IOC_SIZE(r));
			break;
		case 1:	/* another size */
			cmd = _IOC(_IOC_DIR(r), _IOC_TYPE(r), _IOC_NR(r),
				   below(1 << _IOC_SIZEBITS));
			break;
		case 2:	/* another number of the same magic */
			cmd = _IOC(below(4), VEPOLL_IOC_MAGIC, below(256),
				   below(64));
			break;
		default:
			cmd = _IOC(_IOC_DIR(r), _IOC_TYPE(r), _IOC_NR(r),
				   _IOC_SIZE(r) ^ (1U << below(_IOC_SIZEBITS)));
			break;
		}
	} while (real_request(cmd));
	arg = rand_arg(&k);
	doing("wrong request %#x (real %#x) arg %s", cmd, r, ptrk_name[k]);
	ret = vp_ret(ioctl(dev, cmd, arg));
	if (account(RQ_WRONG, ret))
		check_ret(ret, ENOTTY, 0);
}

static void do_random(void)
{
	unsigned long arg;
	unsigned int cmd;
	enum ptrk k;
	long ret;

	do {
		cmd = (unsigned int)rnd();
	} while (generic_request(cmd) || real_request(cmd));
	arg = rand_arg(&k);
	doing("random request %#x arg %s", cmd, ptrk_name[k]);
	ret = vp_ret(ioctl(dev, cmd, arg));
	if (account(RQ_RANDOM, ret))
		check_ret(ret, ENOTTY, 0);
}

/* Our requests on descriptors that are not /dev/vepoll. */
static void do_foreign(void)
{
	static const unsigned int real[] = {
		VEPOLL_IOC_CREATE, VEPOLL_IOC_CTL, VEPOLL_IOC_WAIT,
		VEPOLL_IOC_CTL_BATCH,
	};
	unsigned int cmd = real[below(ARRAY_SIZE(real))];
	struct fdpick t = pick_fd(chance(50));
	unsigned long arg;
	enum ptrk k;
	long ret;

	if (t.slot >= 0 && pool[t.slot].kind == K_DEV)
		return;
	arg = rand_arg(&k);
	doing("request %#x on fd %d(%s) arg %s", cmd, t.fd,
	      t.slot >= 0 ? kind_name[pool[t.slot].kind] : "never open",
	      ptrk_name[k]);
	ret = vp_ret(ioctl(t.fd, cmd, arg));
	if (!account(RQ_FOREIGN, ret))
		return;
	if (fd_missing(&t))
		check_ret(ret, EBADF, 0);
	else if (pool[t.slot].kind == K_INST)
		check_ret(ret, ENOTTY, 0);
	else if (!ret)
		fail("%s: succeeded", rep->last);
}

/* ---- the other operations ------------------------------------------------ */

static void do_other(void)
{
	struct epoll_event ee, eev[8];
	struct pollfd pfd[4];
	struct fdpick a, b;
	char buf[64];
	uint64_t one = 1;
	int i, j;
	enum other o = (enum other)below(NR_OTHER);

	doing("%s", other_name[o]);
	switch (o) {
	case OT_CLOSE:
		i = 1 + below(NR_POOL - 1);
		slot_open(i, i <= NR_INST_SLOTS ? K_INST :
			  (enum kind)below(NR_KINDS));
		break;
	case OT_DUP2:
		i = 1 + below(NR_POOL - 1);
		j = 1 + below(NR_POOL - 1);
		if (i == j || pool[i].fd < 0 || pool[j].fd < 0)
			break;
		if (dup2(pool[i].fd, pool[j].fd) < 0)
			break;
		if (pool[j].peer >= 0)
			pool[pool[j].peer].peer = -1;
		pool[j].peer = -1;
		pool[j].kind = pool[i].kind;
		pool[j].obj = pool[i].obj;
		break;
	case OT_EPOLL_CTL:
		a = pick_fd(false);
		b = pick_fd(true);
		if (a.slot < 0 || pool[a.slot].kind != K_EPOLL)
			for (i = 0; i < NR_POOL; i++)
				if (pool[i].fd >= 0 && pool[i].kind == K_EPOLL)
					a = (struct fdpick){ pool[i].fd, i };
		/* An instance inside an epoll can close a cycle through it. */
		if (cfg_no_epoll_cycles && is_inst(&b))
			break;
		j = chance(70) ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;
		doing("epoll_ctl(%d, %s, %d(%s))", a.fd,
		      j == EPOLL_CTL_ADD ? "ADD" : "DEL", b.fd,
		      b.slot >= 0 ? kind_name[pool[b.slot].kind] : "-");
		ee.events = EPOLLIN | (chance(30) ? EPOLLET : 0);
		ee.data.u64 = rand_data();
		epoll_ctl(a.fd, j, b.fd, &ee);
		break;
	case OT_EPOLL_WAIT:
		for (i = 0; i < NR_POOL; i++)
			if (pool[i].fd >= 0 && pool[i].kind == K_EPOLL) {
				doing("epoll_wait(%d)", pool[i].fd);
				epoll_wait(pool[i].fd, eev, 8, 0);
			}
		break;
	case OT_POLL:
		for (i = 0; i < 4; i++) {
			pfd[i].fd = pick_fd(chance(50)).fd;
			pfd[i].events = VP_POLL_ALL;
		}
		doing("poll(%d, %d, %d, %d)", pfd[0].fd, pfd[1].fd, pfd[2].fd,
		      pfd[3].fd);
		poll(pfd, 4, 0);
		break;
	case OT_RW_INST:
		a = pick_fd(true);
		if (!is_inst(&a))
			break;
		if (vp_ret(read(a.fd, buf, 8)) != -EPERM ||
		    vp_ret(write(a.fd, buf, 8)) != -EPERM)
			fail("read/write of instance fd %d: not EPERM", a.fd);
		break;
	case OT_WRITE:
		for (i = 0; i < 3; i++) {
			a = pick_fd(false);
			if (a.slot < 0)
				continue;
			if (pool[a.slot].kind == K_EVENTFD)
				(void)!write(a.fd, &one, sizeof(one));
			else if (pool[a.slot].kind == K_PIPE_W ||
				 pool[a.slot].kind == K_SOCK)
				(void)!write(a.fd, buf, 1 + below(sizeof(buf)));
		}
		break;
	case OT_READ:
		a = pick_fd(false);
		if (a.slot >= 0 && (pool[a.slot].kind == K_PIPE_R ||
				    pool[a.slot].kind == K_EVENTFD ||
				    pool[a.slot].kind == K_SOCK ||
				    pool[a.slot].kind == K_TIMERFD))
			(void)!read(a.fd, buf, sizeof(buf));
		break;
	default:
		break;
	}
	rep->other[o]++;
}

static void do_call(void);

/* A child that inherits the pool, makes a few calls and exits uncleanly. */
static void do_fork(void)
{
	int status, i;
	pid_t pid;

	rep->other[OT_FORK]++;
	doing("fork");
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		rng = vp_splitmix(rng ^ 0xf0f0);
		for (i = 0; i < 10; i++)
			do_call();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("forked child: status %#x", status);
}

static void do_call(void)
{
	unsigned int r = below(1000);

	if (r < 330)
		do_ctl();
	else if (r < 600)
		do_wait();
	else if (r < 700)
		do_batch();
	else if (r < 750)
		do_create();
	else if (r < 800)
		do_wrong();
	else if (r < 840)
		do_random();
	else if (r < 870)
		do_foreign();
	else
		do_other();
}

static void run_chunk(int chunk, long calls)
{
	struct sigaction sa = { .sa_handler = alarm_handler };

	chunk_no = chunk;
	rng = vp_splitmix(cfg_seed ^ vp_splitmix((uint64_t)chunk + 1)) | 1;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Nothing here may reach what the harness holds. */
	vp_detach_stdio();
	vp_close_from(3);
	dev = vp_open_dev();
	if (dev < 0 || scratch_init()) {
		fail("setup: %s", strerror(dev < 0 ? -dev : errno));
		_exit(1);
	}
	pool_init();
	while (rep->calls < (unsigned long)calls)
		if (below(1000) < 3)
			do_fork();
		else
			do_call();
	_exit(0);
}

/* ---- the tests ----------------------------------------------------------- */

/* Append to a line, never past its end. */
static void __attribute__((format(printf, 3, 4)))
add(char *line, size_t size, const char *fmt, ...)
{
	size_t len = strlen(line);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(line + len, size - len, fmt, ap);
	va_end(ap);
}

static void print_report(double secs, long chunks)
{
	char line[1024];
	int i;

	ksft_print_msg("fuzz: %lu ioctl calls in %ld chunks, %.1f s, seed %llu\n",
		       rep->calls, chunks, secs, cfg_seed);
	line[0] = 0;
	for (i = 0; i < NR_REQ; i++)
		add(line, sizeof(line), "%s%s %lu", i ? ", " : "", req_name[i],
		    rep->req[i]);
	ksft_print_msg("fuzz: requests: %s\n", line);
	snprintf(line, sizeof(line), "success %lu", rep->err[0]);
	for (i = 1; i < NR_ERRNO; i++)
		if (rep->err[i])
			add(line, sizeof(line), ", %s %lu",
			    strerrorname_np(i) ?: "?", rep->err[i]);
	ksft_print_msg("fuzz: answers: %s\n", line);
	snprintf(line, sizeof(line), "%lu events received, %lu waits ended by their alarm",
		 rep->events, rep->eintr_alarm);
	for (i = 0; i < NR_OTHER; i++)
		add(line, sizeof(line), ", %s %lu", other_name[i],
		    rep->other[i]);
	ksft_print_msg("fuzz: %s\n", line);
}

TEST(fuzz_ioctls)
{
	long hang_ms = (long)(30000 / (cfg_scale < 1 ? cfg_scale : 1));
	long chunks, c, first, last, ran = 0;
	int64_t start = vp_now_ms();
	int status, nfail = 0, i;
	int64_t deadline;
	pid_t pid;

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(rep != MAP_FAILED);
	memset(rep, 0, sizeof(*rep));
	chunks = (cfg_calls + CHUNK_CALLS - 1) / CHUNK_CALLS;
	first = cfg_only_chunk >= 0 ? cfg_only_chunk : 0;
	last = cfg_only_chunk >= 0 ? cfg_only_chunk : chunks - 1;
	ksft_print_msg("fuzz: scale %.3f (%s): %ld calls, %d per chunk, seed %llu%s\n",
		       cfg_scale, cfg_scale_why, cfg_calls, CHUNK_CALLS,
		       cfg_seed, cfg_no_epoll_cycles ?
		       ", no instance inside a native epoll (VEPOLL_FUZZ_NO_EPOLL_CYCLES)" : "");
	ksft_print_msg("fuzz: VEPOLL_FUZZ_SEED=%llu repeats this run\n", cfg_seed);
	for (c = first; c <= last; c++) {
		unsigned long before = rep->calls;
		long want = c < chunks - 1 ? CHUNK_CALLS :
			    cfg_calls - (chunks - 1) * CHUNK_CALLS;

		rep->last[0] = 0;
		ran++;
		/* run_chunk() stops at rep->calls: make it count from 0. */
		rep->calls = 0;
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			run_chunk((int)c, want);
		/* A chunk is a second of work; a stuck one is a finding. */
		deadline = vp_now_ms() + hang_ms;
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (vp_now_ms() > deadline) {
				status = -1;
				break;
			}
			vp_msleep(5);
		}
		rep->calls += before;
		if (status == -1) {
			TH_LOG("chunk %ld stuck for %ld s, state %c, in: %s",
			       c, hang_ms / 1000, vp_task_state(pid, 0),
			       rep->last);
			TH_LOG("repeat: VEPOLL_FUZZ_SEED=%llu VEPOLL_FUZZ_CHUNK=%ld",
			       cfg_seed, c);
			/* Useless if it is stuck in the kernel: then stop. */
			kill(pid, SIGKILL);
			vp_msleep(1000);
			nfail++;
			if (waitpid(pid, &status, WNOHANG) != pid)
				break;
		} else if (WIFSIGNALED(status)) {
			TH_LOG("chunk %ld died of signal %d in: %s", c,
			       WTERMSIG(status), rep->last);
			TH_LOG("repeat: VEPOLL_FUZZ_SEED=%llu VEPOLL_FUZZ_CHUNK=%ld",
			       cfg_seed, c);
			nfail++;
		} else if (WEXITSTATUS(status)) {
			nfail++;
		}
	}
	print_report((vp_now_ms() - start) / 1000.0, ran);
	for (i = 0; i < rep->nr_fails && i < MAX_FAILS; i++)
		TH_LOG("%s", rep->fails[i]);
	EXPECT_EQ(0, rep->nr_fails);
	EXPECT_EQ(0, nfail);
	if (cfg_only_chunk < 0)
		EXPECT_LE((unsigned long)cfg_calls, rep->calls);
	munmap(rep, sizeof(*rep));
}

/* After all that, a fresh instance works: ADD, then WAIT reports a pipe. */
TEST(module_still_works)
{
	struct vepoll_event ev[4];
	int dev, ep, p[2];

	vp_setup_dev_ep_pipe(_metadata, &dev, &ep, p);
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 0x1234));
	EXPECT_EQ(0, vp_wait(dev, ep, ev, 4, 0));
	ASSERT_EQ(1, vp_write_bytes(p[1], 1));
	ASSERT_EQ(1, vp_wait(dev, ep, ev, 4, 1000));
	EXPECT_EQ(VEPOLLIN, ev[0].events);
	EXPECT_EQ(0U, ev[0].__pad);
	EXPECT_EQ(0x1234ULL, ev[0].data);
	vp_close_dev_ep_pipe(dev, ep, p);
}

/*
 * An instance and a native epoll that watch each other: a cycle that
 * vepoll's ELOOP check cannot see, nor epoll's (an instance is not an
 * epoll file). Every call must still return. Each case runs in
 * a child, and the test fails if the child is still there 10 s later:
 * stuck, as found by fuzz_ioctls, in D state - unkillable, and holding
 * the module.
 */
enum cycle_case { CY_EPOLL_CTL, CY_EPOLL_WAIT, CY_POLL, CY_VEPOLL_WAIT };

static int cycle_child(enum cycle_case how)
{
	struct epoll_event ee = { .events = EPOLLIN }, eev[8];
	struct vepoll_event ev[8];
	struct pollfd pfd;
	int dev, x, e, efd;
	uint64_t v;

	dev = vp_open_dev();
	x = vp_create(dev, 0);
	e = epoll_create1(0);
	efd = vp_eventfd(0);
	if (dev < 0 || x < 0 || e < 0 || efd < 0)
		return 10;
	if (epoll_ctl(e, EPOLL_CTL_ADD, efd, &ee))
		return 11;
	if (how == CY_EPOLL_CTL) {
		/* The epoll is ready, the instance has seen it: then ADD. */
		if (vp_eventfd_add(efd, 1) ||
		    vp_ctl(dev, x, VEPOLL_CTL_ADD, e, VEPOLLIN, 1))
			return 12;
		return epoll_ctl(e, EPOLL_CTL_ADD, x, &ee) ? 13 : 0;
	}
	/* Both watches in place while nothing is ready... */
	if (epoll_ctl(e, EPOLL_CTL_ADD, x, &ee) ||
	    vp_ctl(dev, x, VEPOLL_CTL_ADD, e, VEPOLLIN, 1))
		return 14;
	/* ...then the eventfd readies the epoll, and so the instance. */
	if (vp_eventfd_add(efd, 1))
		return 15;
	vp_msleep(20);
	switch (how) {
	case CY_EPOLL_WAIT:
		return epoll_wait(e, eev, 8, 100) < 0 ? 16 : 0;
	case CY_POLL:
		/* Only the instance's entry left on the epoll's ready list. */
		if (read(efd, &v, sizeof(v)) != sizeof(v))
			return 17;
		pfd.fd = e;
		pfd.events = POLLIN;
		return poll(&pfd, 1, 100) < 0 ? 18 : 0;
	default:
		return vp_wait(dev, x, ev, 8, 100) < 0 ? 19 : 0;
	}
}

static void run_cycle(struct __test_metadata *_metadata, enum cycle_case how)
{
	int64_t deadline = vp_now_ms() + (int64_t)(10000 / (cfg_scale < 1 ?
							  cfg_scale : 1));
	int status;
	pid_t pid;

	if (cfg_no_epoll_cycles)
		SKIP(return, "VEPOLL_FUZZ_NO_EPOLL_CYCLES is set");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vp_detach_stdio();
		_exit(cycle_child(how));
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (vp_now_ms() > deadline) {
			char state = vp_task_state(pid, 0);

			kill(pid, SIGKILL);
			ASSERT_NE('D', state) {
				TH_LOG("the child is stuck in the kernel:");
				TH_LOG("instance and epoll watching each other deadlock");
			}
			ASSERT_TRUE(false) {
				TH_LOG("the child is still running (state %c)",
				       state);
			}
		}
		vp_msleep(10);
	}
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST(epoll_ctl_closing_a_cycle_through_epoll_returns)
{
	run_cycle(_metadata, CY_EPOLL_CTL);
}

TEST(epoll_wait_on_a_cycle_through_epoll_returns)
{
	run_cycle(_metadata, CY_EPOLL_WAIT);
}

TEST(poll_on_a_cycle_through_epoll_returns)
{
	run_cycle(_metadata, CY_POLL);
}

TEST(vepoll_wait_on_a_cycle_through_epoll_returns)
{
	run_cycle(_metadata, CY_VEPOLL_WAIT);
}

int main(int argc, char **argv)
{
	const char *s = getenv("VEPOLL_FUZZ_SEED");

	setvbuf(stdout, NULL, _IOLBF, 0);
	cfg_scale = vp_hostile_scale(&cfg_scale_why);
	if (s && *s)
		cfg_seed = strtoull(s, NULL, 0);
	else
		cfg_seed = vp_splitmix((uint64_t)vp_now_us() ^ getpid()) %
			   1000000000;
	cfg_calls = (long)(env_long("VEPOLL_FUZZ_CALLS", DEFAULT_CALLS) *
			   cfg_scale);
	if (cfg_calls < MIN_CALLS)
		cfg_calls = MIN_CALLS;
	cfg_only_chunk = env_long("VEPOLL_FUZZ_CHUNK", -1);
	cfg_no_epoll_cycles = env_long("VEPOLL_FUZZ_NO_EPOLL_CYCLES", 0);
	/* A chunk takes well under a second on Debian's kernel. */
	_fuzz_ioctls_object.timeout = 60 + (int)(cfg_calls / CHUNK_CALLS * 5 /
						 (cfg_scale < 1 ? cfg_scale : 1));
	return test_harness_run(argc, argv);
}
