// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_batch - VEPOLL_IOC_CTL_BATCH (vepoll_uapi.h; Documentation.rst,
 * "Batched CTL").
 *
 * A batch applies its entries in order, each exactly as VEPOLL_IOC_CTL
 * would, and stops at the first that fails. So the single CTL is the
 * oracle here: for every error path of CTL, and for the order of its
 * checks, the same state is built on two instances, the failing entry is
 * issued as a single CTL on one and inside a batch on the other, and the
 * batch must report, in that entry's result, both the errno the single
 * CTL returned and the one documented; the entries before it must be
 * applied (same watches on both instances, and their events reported) and
 * the ones after it neither applied nor given a result. The failing entry
 * sits on both sides of the chunk sizes an implementation is likely to
 * copy entries and results in (8, 16, 32, 64), in batches of 1 to 1000.
 *
 * Then: the errors of the batch itself (flags, pad, count), entries and
 * results the kernel cannot read or write (EFAULT), the order of entries
 * within a batch, instances added through a batch (ELOOP in mid-batch),
 * batches racing each other, a waiter woken by a batch, and the request
 * number. The suite is also built as a 32-bit program (build32/), which
 * reaches the module through compat_ioctl.
 */
#define _GNU_SOURCE
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define SENTINEL	((__s32)0x5a5a5a5a)	/* a result never written */
#define BAD_OP		0x7f
#define BAD_BIT		(1U << 20)		/* no VEPOLL* bit */
#define MAX_N		1000		/* entries in the largest batch */
#define NEST_MAX	5	/* deepest chain of instances, as Linux */
#define ENTRY_SIZE	sizeof(struct vepoll_ctl_args)
#define BITS		((int)sizeof(void *) * 8)

/* Data cookies: the top 32 bits say what kind of watch, the rest which. */
#define COOKIE(j)	(0xc0de000000000000ULL | (__u64)(j))
#define FILL_COOKIE(i)	(0xf111000000000000ULL | (__u64)(i))
#define ANCHOR		0xa4c4000000000000ULL
#define PRE_COOKIE	0x93e0000000000001ULL
#define FAIL_COOKIE	0xbad0000000000badULL
#define KIND(data)	((data) & 0xffffffff00000000ULL)
#define INDEX(data)	((unsigned int)((data) & 0xffffffffULL))

/*
 * The debug kernel (KASAN, lockdep, kmemleak) runs a CTL some 15 times
 * slower. What it adds is checking the code paths, which the shorter
 * cases already take: there, only a few of the 1000-entry cases run.
 */
static bool debug_kernel(void)
{
	struct utsname u;

	return !access("/sys/kernel/debug/kmemleak", F_OK) ||
	       (!uname(&u) && strstr(u.release, "debug"));
}

TEST(build_under_test)
{
	TH_LOG("%d-bit program: the batch reaches vepoll through %s",
	       BITS, BITS == 32 ? "compat_ioctl" : "unlocked_ioctl");
	if (debug_kernel())
		TH_LOG("debug kernel: in_batches: 4 of its 1000-entry cases");
	EXPECT_TRUE(BITS == 32 || BITS == 64);
}

/* ---- helpers ------------------------------------------------------------- */

static void set_ctl(struct vepoll_ctl_args *a, int epfd, __u32 op, int fd,
		    __u32 events, __u64 data)
{
	memset(a, 0, sizeof(*a));
	a->epfd = epfd;
	a->op = op;
	a->fd = fd;
	a->event.events = events;
	a->event.data = data;
}

static void fill_results(__s32 *res, unsigned int n)
{
	while (n--)
		res[n] = SENTINEL;
}

static int batch_args(int dev, const struct vepoll_ctl_batch *b)
{
	return vp_ret(ioctl(dev, VEPOLL_IOC_CTL_BATCH, b));
}

static int batch(int dev, int epfd, const struct vepoll_ctl_args *ctls,
		 __s32 *results, unsigned int count)
{
	struct vepoll_ctl_batch b = {
		.epfd = epfd,
		.count = count,
		.ctls = vp_ptr(ctls),
		.results = vp_ptr(results),
	};

	return batch_args(dev, &b);
}

/* Dups of one eventfd: each dup is a watch key of its own. */
struct pool {
	int efd, n;
	int *fd;
};

static void pool_init(struct pool *p)
{
	p->efd = -1;
	p->n = 0;
	p->fd = NULL;
}

/* @n dups of an eventfd holding @initval (1: readable, 0: not). */
static void pool_open(struct __test_metadata *_metadata, struct pool *p,
		      int n, unsigned int initval)
{
	p->efd = vp_eventfd(initval);
	ASSERT_LE(0, p->efd);
	p->fd = calloc(n, sizeof(*p->fd));
	ASSERT_TRUE(!!p->fd);
	for (p->n = 0; p->n < n; p->n++) {
		p->fd[p->n] = dup(p->efd);
		ASSERT_LE(0, p->fd[p->n]);
	}
}

static void pool_close(struct pool *p)
{
	while (p->n > 0)
		close(p->fd[--p->n]);
	free(p->fd);
	if (p->efd >= 0)
		close(p->efd);
	pool_init(p);
}

/* A descriptor number that is not open, above any this test will open. */
static int closed_fd(int above)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, above);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* /proc/self/fdinfo/@fd, whole, NUL-terminated; NULL on error. */
static char *read_fdinfo(int fd)
{
	size_t len = 0, cap = 16384;
	char path[64], *buf, *bigger;
	ssize_t r = 0;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		if (cap - len < 4096) {
			cap *= 2;
			bigger = realloc(buf, cap);
			if (!bigger)
				break;
			buf = bigger;
		}
		r = read(f, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += r;
	}
	close(f);
	if (!buf || r != 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* The "tfd:" lines of instance @ep's fdinfo (one per watch); NULL on error. */
static char *watch_lines(int ep)
{
	char *all = read_fdinfo(ep), *out, *o, *s;

	if (!all)
		return NULL;
	out = malloc(strlen(all) + 1);
	if (!out) {
		free(all);
		return NULL;
	}
	o = out;
	for (s = all; *s; ) {
		char *nl = strchrnul(s, '\n');
		size_t len = nl - s + (*nl ? 1 : 0);

		if (!strncmp(s, "tfd:", 4)) {
			memcpy(o, s, len);
			o += len;
		}
		s += len;
	}
	*o = '\0';
	free(all);
	return out;
}

/* The first line where @a and @b differ, for a failure message. */
static void log_first_difference(struct __test_metadata *_metadata,
				 const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	while (i > 0 && a[i - 1] != '\n')
		i--;
	TH_LOG("single CTLs: %.100s", a + i);
	TH_LOG("batch:       %.100s", b + i);
}

struct winfo {
	bool on;
	__u32 events;
	__u64 data;
};

/* The line after the one @s is in. */
static char *next_line(char *s)
{
	s = strchrnul(s, '\n');
	return *s ? s + 1 : s;
}

/*
 * The watches of instance @ep, from its fdinfo, indexed by target fd in
 * @t[0..@nfds). Returns how many watches there are, or -1.
 */
static int watch_table(int ep, struct winfo *t, int nfds)
{
	char *lines = watch_lines(ep), *s;
	int n = 0;

	if (!lines)
		return -1;
	memset(t, 0, nfds * sizeof(*t));
	for (s = lines; *s; s = next_line(s)) {
		unsigned long long data;
		unsigned int events;
		int tfd;

		if (sscanf(s, "tfd: %d events: %x data: %llx", &tfd, &events,
			   &data) != 3) {
			n = -1;
			break;
		}
		n++;
		if (tfd >= 0 && tfd < nfds) {
			t[tfd].on = true;
			t[tfd].events = events;
			t[tfd].data = data;
		}
	}
	free(lines);
	return n;
}

static int watch_count(int ep)
{
	char *lines = watch_lines(ep), *s;
	int n = 0;

	if (!lines)
		return -1;
	for (s = lines; *s; s++)
		n += *s == '\n';
	free(lines);
	return n;
}

/*
 * Wait on @ep once without sleeping: it must report exactly the watches
 * whose data is in @want[0..@n) (at most 64), each once, each with @events.
 */
static void expect_reported(struct __test_metadata *_metadata, int dev,
			    int ep, const __u64 *want, int n, __u32 events)
{
	struct vepoll_event ev[65];
	bool hit[64] = { false };
	int got, i, at;

	ASSERT_GE(64, n);
	got = vp_wait(dev, ep, ev, 65, 0);
	ASSERT_EQ(n, got);
	for (i = 0; i < got; i++) {
		for (at = 0; at < n && want[at] != ev[i].data; at++)
			;
		ASSERT_GT(n, at) {
			TH_LOG("event %d: unexpected data %#llx", i,
			       (unsigned long long)ev[i].data);
		}
		ASSERT_FALSE(hit[at]);
		hit[at] = true;
		EXPECT_EQ(events, ev[i].events);
		EXPECT_EQ(0U, ev[i].__pad);
	}
}

/*
 * @pages read-write pages followed by one page of protection @prot.
 * Returns where that last page begins, or NULL.
 */
static char *map_guarded(size_t pages, int prot)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (pages + 1) * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + pages * pg, pg, prot)) {
		munmap(p, (pages + 1) * pg);
		return NULL;
	}
	return p + pages * pg;
}

static void unmap_guarded(char *guard, size_t pages)
{
	size_t pg = sysconf(_SC_PAGESIZE);

	munmap(guard - pages * pg, (pages + 1) * pg);
}

/* ---- the request number -------------------------------------------------- */

/* The uapi number: magic 0xB8, number 4, written, 32 bytes. */
TEST(request_number_is_the_uapi_one)
{
	EXPECT_EQ(0x4020b804U, (unsigned int)VEPOLL_IOC_CTL_BATCH);
	EXPECT_EQ(0xB8U, (unsigned int)_IOC_TYPE(VEPOLL_IOC_CTL_BATCH));
	EXPECT_EQ(4U, (unsigned int)_IOC_NR(VEPOLL_IOC_CTL_BATCH));
	EXPECT_EQ((unsigned int)_IOC_WRITE,
		  (unsigned int)_IOC_DIR(VEPOLL_IOC_CTL_BATCH));
	EXPECT_EQ(32U, (unsigned int)_IOC_SIZE(VEPOLL_IOC_CTL_BATCH));
	EXPECT_EQ(32U, (unsigned int)sizeof(struct vepoll_ctl_batch));
	EXPECT_EQ(32U, (unsigned int)ENTRY_SIZE);
}

/* ---- the oracle: every error path of the single CTL, per entry ----------- */

/* What an entry's epfd is. */
enum epk {
	EP_SELF,	/* the batch's instance */
	EP_CLOSED,	/* not open: batch.epfd too */
	EP_NEG,		/* -1: batch.epfd too */
	EP_PIPE,	/* open, not an instance: batch.epfd too */
	EP_DEV,		/* /dev/vepoll, not an instance: batch.epfd too */
	EP_OTHER,	/* another instance than batch.epfd */
	EP_OTHER_CLOSED, /* not open, unlike batch.epfd */
};

/* What the failing entry's target fd is. */
enum fdk {
	FD_PIPE,	/* the read end of an empty pipe */
	FD_CLOSED,	/* not open */
	FD_FILE,	/* a regular file (memfd) */
	FD_DIR,		/* a directory */
	FD_PTMX,	/* a pty master: FMODE_NONOTIFY, accepted */
	FD_SELF,	/* the instance itself */
	FD_SELF_DUP,	/* a dup of the instance's fd */
	FD_CYCLE,	/* an instance that watches this one */
	FD_DEEP,	/* the head of a chain of NEST_MAX instances */
	FD_PLAIN,	/* an instance that watches nothing */
};

/* An instance and what its error path needs; two are built alike. */
struct side {
	int ep, dup_ep, cyc;
	int up[NEST_MAX - 1];	/* up[0] -> ... -> up[3] -> ep */
};

/* What the oracle tests share: the targets, the two sides. */
struct ofix {
	int dev, nofile;
	int p[2];	/* p[0]: the usual target; p[1]: the anchor watch */
	int q[2];	/* q[0]: an epfd that is not an instance */
	int file, dir, ptmx, ptmx_err, closed, plain;
	int deep[NEST_MAX];
	long max;
	struct pool pool;	/* targets of the other entries */
	struct pool fill;	/* max_watches more, to fill an instance */
	struct side s[2];	/* s[0] takes single CTLs, s[1] the batch */
	int nfill;		/* fill watches they hold */
	struct vepoll_event *ev;
	int nev;
	struct winfo *tab;
};

FIXTURE(oracle) {
	struct ofix f;
};

/* One error path: the failing entry and the state it meets. */
struct ocase {
	int expect;	/* the documented -errno; 0: only batch == single */
	enum epk epk;
	__u32 op;
	enum fdk fdk;
	__u32 pad, ev_pad, events;
	bool watched;	/* p[0] is watched before the entry */
	bool full;	/* the instance holds max_watches watches */
	bool parents;	/* 4 instances above it: a chain of 5 */
};

FIXTURE_VARIANT(oracle) {
	struct ocase c;
};

/* EBADF: epfd not open. batch.epfd is bad too: results[0], ioctl 0. */
FIXTURE_VARIANT_ADD(oracle, ebadf_epfd_closed) {
	.c = {
		.expect = -EBADF, .epk = EP_CLOSED, .op = VEPOLL_CTL_ADD,
		.fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, ebadf_epfd_negative) {
	.c = {
		.expect = -EBADF, .epk = EP_NEG, .op = VEPOLL_CTL_ADD,
		.fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

/* EBADF: fd not open, for each op. */
FIXTURE_VARIANT_ADD(oracle, ebadf_fd_add) {
	.c = {
		.expect = -EBADF, .op = VEPOLL_CTL_ADD, .fdk = FD_CLOSED,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, ebadf_fd_mod) {
	.c = {
		.expect = -EBADF, .op = VEPOLL_CTL_MOD, .fdk = FD_CLOSED,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, ebadf_fd_del) {
	.c = {
		.expect = -EBADF, .op = VEPOLL_CTL_DEL, .fdk = FD_CLOSED,
	},
};

/* EPERM: a target that cannot be polled. */
FIXTURE_VARIANT_ADD(oracle, eperm_regular_file) {
	.c = {
		.expect = -EPERM, .op = VEPOLL_CTL_ADD, .fdk = FD_FILE,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, eperm_regular_file_mod) {
	.c = {
		.expect = -EPERM, .op = VEPOLL_CTL_MOD, .fdk = FD_FILE,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, eperm_directory) {
	.c = {
		.expect = -EPERM, .op = VEPOLL_CTL_ADD, .fdk = FD_DIR,
		.events = VEPOLLIN,
	},
};

/* EINVAL: epfd open but not an instance. */
FIXTURE_VARIANT_ADD(oracle, einval_epfd_is_a_pipe) {
	.c = {
		.expect = -EINVAL, .epk = EP_PIPE, .op = VEPOLL_CTL_ADD,
		.fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_epfd_is_the_device) {
	.c = {
		.expect = -EINVAL, .epk = EP_DEV, .op = VEPOLL_CTL_ADD,
		.fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

/* EINVAL: the instance watching itself, through its fd or a dup. */
FIXTURE_VARIANT_ADD(oracle, einval_instance_adds_itself) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_SELF,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_instance_adds_its_dup) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_SELF_DUP,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_instance_dels_itself) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_DEL, .fdk = FD_SELF,
	},
};

/* EINVAL: op, pads, event bits. */
FIXTURE_VARIANT_ADD(oracle, einval_bad_op) {
	.c = {
		.expect = -EINVAL, .op = BAD_OP, .fdk = FD_PIPE,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_op_zero) {
	.c = {
		.expect = -EINVAL, .op = 0, .fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_args_pad) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.pad = 1, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_event_pad) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.ev_pad = 0x80000000, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_unknown_event_bit) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.events = VEPOLLIN | BAD_BIT,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_mod_unknown_event_bit) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_MOD, .fdk = FD_PIPE,
		.events = VEPOLLIN | BAD_BIT, .watched = true,
	},
};

/*
 * EINVAL: an entry whose epfd is not batch.epfd (Documentation.rst,
 * "Batched CTL"), even one that is not open, where a single CTL would
 * say EBADF. No single CTL twin: only the literal errno is checked.
 */
FIXTURE_VARIANT_ADD(oracle, einval_entry_epfd_differs) {
	.c = {
		.expect = -EINVAL, .epk = EP_OTHER, .op = VEPOLL_CTL_ADD,
		.fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, einval_entry_epfd_differs_and_closed) {
	.c = {
		.expect = -EINVAL, .epk = EP_OTHER_CLOSED, .op = VEPOLL_CTL_ADD,
		.fdk = FD_PIPE, .events = VEPOLLIN,
	},
};

/* ELOOP: a cycle; a chain of 6 below; a chain of 6 above. */
FIXTURE_VARIANT_ADD(oracle, eloop_cycle) {
	.c = {
		.expect = -ELOOP, .op = VEPOLL_CTL_ADD, .fdk = FD_CYCLE,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, eloop_chain_below_too_deep) {
	.c = {
		.expect = -ELOOP, .op = VEPOLL_CTL_ADD, .fdk = FD_DEEP,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, eloop_chain_above_too_deep) {
	.c = {
		.expect = -ELOOP, .op = VEPOLL_CTL_ADD, .fdk = FD_PLAIN,
		.events = VEPOLLIN, .parents = true,
	},
};

FIXTURE_VARIANT_ADD(oracle, eexist) {
	.c = {
		.expect = -EEXIST, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.events = VEPOLLOUT, .watched = true,
	},
};

FIXTURE_VARIANT_ADD(oracle, enoent_mod) {
	.c = {
		.expect = -ENOENT, .op = VEPOLL_CTL_MOD, .fdk = FD_PIPE,
		.events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, enoent_del) {
	.c = {
		.expect = -ENOENT, .op = VEPOLL_CTL_DEL, .fdk = FD_PIPE,
	},
};

FIXTURE_VARIANT_ADD(oracle, enospc) {
	.c = {
		.expect = -ENOSPC, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.events = VEPOLLIN, .full = true,
	},
};

/* The order of the checks: an entry with two faults gets the first. */
FIXTURE_VARIANT_ADD(oracle, order_ebadf_epfd_before_everything) {
	.c = {
		.expect = -EBADF, .epk = EP_CLOSED, .op = BAD_OP,
		.fdk = FD_FILE,
		.pad = 1, .events = ~0U,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_ebadf_fd_before_epfd_not_instance) {
	.c = {
		.expect = -EBADF, .epk = EP_PIPE, .op = VEPOLL_CTL_ADD,
		.fdk = FD_CLOSED, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_eperm_before_epfd_not_instance) {
	.c = {
		.expect = -EPERM, .epk = EP_PIPE, .op = VEPOLL_CTL_ADD,
		.fdk = FD_FILE, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_eperm_before_bad_op_pad_bits) {
	.c = {
		.expect = -EPERM, .op = BAD_OP, .fdk = FD_DIR, .pad = 1,
		.ev_pad = 1, .events = ~0U,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_einval_before_eexist) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.events = VEPOLLIN | BAD_BIT, .watched = true,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_einval_before_enoent) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_DEL, .fdk = FD_PIPE,
		.pad = 1,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_einval_before_eloop) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_CYCLE,
		.ev_pad = 1, .events = VEPOLLIN,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_einval_before_enospc) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.events = VEPOLLIN | BAD_BIT, .full = true,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_eloop_before_enospc) {
	.c = {
		.expect = -ELOOP, .op = VEPOLL_CTL_ADD, .fdk = FD_CYCLE,
		.events = VEPOLLIN, .full = true,
	},
};

FIXTURE_VARIANT_ADD(oracle, order_eexist_before_enospc) {
	.c = {
		.expect = -EEXIST, .op = VEPOLL_CTL_ADD, .fdk = FD_PIPE,
		.events = VEPOLLIN, .watched = true, .full = true,
	},
};

/* DEL ignores event: garbage there still gives ENOENT. */
FIXTURE_VARIANT_ADD(oracle, order_del_ignores_event) {
	.c = {
		.expect = -ENOENT, .op = VEPOLL_CTL_DEL, .fdk = FD_PIPE,
		.ev_pad = ~0U, .events = ~0U,
	},
};

/*
 * A pty master cannot report its close (FMODE_NONOTIFY), and is accepted
 * all the same, as epoll accepts it: its errors are any file's.
 */
FIXTURE_VARIANT_ADD(oracle, pty_master_with_bad_bits) {
	.c = {
		.expect = -EINVAL, .op = VEPOLL_CTL_ADD, .fdk = FD_PTMX,
		.events = VEPOLLIN | BAD_BIT,
	},
};

FIXTURE_VARIANT_ADD(oracle, pty_master_on_full_instance) {
	.c = {
		.expect = -ENOSPC, .op = VEPOLL_CTL_ADD, .fdk = FD_PTMX,
		.events = VEPOLLIN, .full = true,
	},
};

FIXTURE_VARIANT_ADD(oracle, pty_master_del) {
	.c = {
		.expect = -ENOENT, .op = VEPOLL_CTL_DEL, .fdk = FD_PTMX,
	},
};

/* batch.epfd is bad too: every entry fails, the first one first. */
static bool bad_epfd(const struct ocase *v)
{
	return v->epk == EP_CLOSED || v->epk == EP_NEG || v->epk == EP_PIPE ||
	       v->epk == EP_DEV;
}

/* The failing entry has no single-CTL twin: its epfd is not batch.epfd. */
static bool batch_only(const struct ocase *v)
{
	return v->epk == EP_OTHER || v->epk == EP_OTHER_CLOSED;
}

/* epfd of the entries of side @i: its batch, or its single CTLs. */
static int side_epfd(struct ofix *f, const struct ocase *v, int i)
{
	switch (v->epk) {
	case EP_CLOSED:
		return f->closed;
	case EP_NEG:
		return -1;
	case EP_PIPE:
		return f->q[0];
	case EP_DEV:
		return f->dev;
	default:
		return f->s[i].ep;
	}
}

static void fail_entry(struct ofix *f, const struct ocase *v, int i,
		       struct vepoll_ctl_args *a)
{
	const struct side *s = &f->s[i];
	int epfd = side_epfd(f, v, i), fd = -1;

	if (v->epk == EP_OTHER)
		epfd = f->s[!i].ep;
	else if (v->epk == EP_OTHER_CLOSED)
		epfd = f->closed;
	switch (v->fdk) {
	case FD_PIPE:
		fd = f->p[0];
		break;
	case FD_CLOSED:
		fd = f->closed;
		break;
	case FD_FILE:
		fd = f->file;
		break;
	case FD_DIR:
		fd = f->dir;
		break;
	case FD_PTMX:
		fd = f->ptmx;
		break;
	case FD_SELF:
		fd = s->ep;
		break;
	case FD_SELF_DUP:
		fd = s->dup_ep;
		break;
	case FD_CYCLE:
		fd = s->cyc;
		break;
	case FD_DEEP:
		fd = f->deep[0];
		break;
	case FD_PLAIN:
		fd = f->plain;
		break;
	}
	set_ctl(a, epfd, v->op, fd, v->events, FAIL_COOKIE);
	a->__pad = v->pad;
	a->event.__pad = v->ev_pad;
}

/*
 * Entry @j (not @k, the failing one) of a batch: mostly ADDs of pool dups,
 * every third a MOD of the anchor; right after @k a DEL of the anchor. Any
 * of them applied after @k would show in the watch list.
 */
static void good_entry(struct ofix *f, const struct ocase *v, int i,
		       unsigned int j, unsigned int k,
		       struct vepoll_ctl_args *a)
{
	int epfd = side_epfd(f, v, i);

	if (j == k + 1)
		set_ctl(a, epfd, VEPOLL_CTL_DEL, f->p[1], 0, 0);
	else if (j % 3 == 2)
		set_ctl(a, epfd, VEPOLL_CTL_MOD, f->p[1], VEPOLLOUT,
			ANCHOR + j);
	else
		set_ctl(a, epfd, VEPOLL_CTL_ADD, f->pool.fd[j],
			j % 5 == 4 ? VEPOLLIN | VEPOLLET : VEPOLLIN,
			COOKIE(j));
}

static bool good_entry_adds(unsigned int j, unsigned int k)
{
	return j != k + 1 && j % 3 != 2;
}

static void side_destroy(struct side *s)
{
	int i;

	for (i = 0; i < NEST_MAX - 1; i++) {
		if (s->up[i] >= 0)
			close(s->up[i]);
		s->up[i] = -1;
	}
	if (s->cyc >= 0)
		close(s->cyc);
	if (s->dup_ep >= 0)
		close(s->dup_ep);
	if (s->ep >= 0)
		close(s->ep);
	s->cyc = -1;
	s->dup_ep = -1;
	s->ep = -1;
}

/* Add or delete fill watches so that @s holds fill.fd[0..@to). */
static void side_refill(struct __test_metadata *_metadata, struct ofix *f,
			struct side *s, int from, int to)
{
	const int *fill = f->fill.fd;
	int i;

	for (i = from; i < to; i++) {
		ASSERT_EQ(0, vp_ctl(f->dev, s->ep, VEPOLL_CTL_ADD, fill[i],
				    VEPOLLIN, FILL_COOKIE(i)));
	}
	for (i = to; i < from; i++) {
		ASSERT_EQ(0, vp_ctl(f->dev, s->ep, VEPOLL_CTL_DEL, fill[i],
				    0, 0));
	}
}

/*
 * A fresh instance with the anchor watch (p[1], always writable), p[0]
 * watched if the variant says so, the instances its failing entry needs,
 * and @nfill more watches.
 */
static void side_build(struct __test_metadata *_metadata, struct ofix *f,
		       const struct ocase *v, struct side *s, int nfill)
{
	int dev = f->dev, i;

	side_destroy(s);
	s->ep = vp_create(dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, s->ep);
	ASSERT_EQ(0, vp_ctl(dev, s->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT,
			    ANCHOR));
	if (v->watched) {
		ASSERT_EQ(0, vp_ctl(dev, s->ep, VEPOLL_CTL_ADD, f->p[0],
				    VEPOLLIN, PRE_COOKIE));
	}
	if (v->fdk == FD_SELF_DUP) {
		s->dup_ep = fcntl(s->ep, F_DUPFD_CLOEXEC, 0);
		ASSERT_LE(0, s->dup_ep);
	}
	if (v->fdk == FD_CYCLE) {
		s->cyc = vp_create(dev, VEPOLL_CLOEXEC);
		ASSERT_LE(0, s->cyc);
		ASSERT_EQ(0, vp_ctl(dev, s->cyc, VEPOLL_CTL_ADD, s->ep,
				    VEPOLLIN, 0));
	}
	if (v->parents) {
		for (i = NEST_MAX - 2; i >= 0; i--) {
			s->up[i] = vp_create(dev, VEPOLL_CLOEXEC);
			ASSERT_LE(0, s->up[i]);
			ASSERT_EQ(0, vp_ctl(dev, s->up[i], VEPOLL_CTL_ADD,
					    i == NEST_MAX - 2 ? s->ep :
					    s->up[i + 1], VEPOLLIN, 0));
		}
	}
	side_refill(_metadata, f, s, 0, nfill);
}

/*
 * Both sides as a case starts: fresh, except full ones, which are kept
 * from case to case (filling two instances for each case would take
 * minutes on a debug kernel): run_case() undid its entries, only the
 * fill changes.
 */
static void sides_ready(struct __test_metadata *_metadata, struct ofix *f,
			const struct ocase *v, int nfill)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (v->full && f->s[i].ep >= 0)
			side_refill(_metadata, f, &f->s[i], f->nfill, nfill);
		else
			side_build(_metadata, f, v, &f->s[i], nfill);
	}
	f->nfill = nfill;
}

/* Undo what the entries before @k did to both (full) sides. */
static void sides_undo(struct __test_metadata *_metadata, struct ofix *f,
		       unsigned int k)
{
	unsigned int j;
	int i;

	for (i = 0; i < 2; i++) {
		int ep = f->s[i].ep;

		for (j = 0; j < k; j++) {
			if (!good_entry_adds(j, k))
				continue;
			ASSERT_EQ(0, vp_ctl(f->dev, ep, VEPOLL_CTL_DEL,
					    f->pool.fd[j], 0, 0));
		}
		ASSERT_EQ(0, vp_ctl(f->dev, ep, VEPOLL_CTL_MOD, f->p[1],
				    VEPOLLOUT, ANCHOR));
	}
}

FIXTURE_SETUP(oracle)
{
	const struct ocase *v = &variant->c;
	struct ofix *f = &self->f;
	int i, dev;

	/* The harness zeroes the fixture: 0 is a descriptor. */
	f->dev = -1;
	f->p[0] = -1;
	f->p[1] = -1;
	f->q[0] = -1;
	f->q[1] = -1;
	f->file = -1;
	f->dir = -1;
	f->ptmx = -1;
	f->plain = -1;
	for (i = 0; i < NEST_MAX; i++)
		f->deep[i] = -1;
	for (i = 0; i < 2; i++) {
		f->s[i].ep = -1;
		f->s[i].dup_ep = -1;
		f->s[i].cyc = -1;
		memset(f->s[i].up, -1, sizeof(f->s[i].up));
	}
	pool_init(&f->pool);
	pool_init(&f->fill);

	dev = vp_open_dev();
	f->dev = dev;
	ASSERT_LE(0, dev) {
		TH_LOG("open %s: %s (is the module loaded?)", VP_DEV_PATH,
		       strerror(-dev));
	}
	f->max = vp_param("max_watches");
	ASSERT_LT(0, f->max);
	ASSERT_GE(16384, f->max);
	f->nofile = f->max + 2 * MAX_N + 512;
	ASSERT_EQ(0, vp_want_nofile(f->nofile));
	ASSERT_EQ(0, vp_pipe(f->p));
	ASSERT_EQ(0, vp_pipe(f->q));
	f->file = memfd_create("vepoll-batch", MFD_CLOEXEC);
	ASSERT_LE(0, f->file);
	f->dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, f->dir);
	if (v->fdk == FD_PTMX) {
		f->ptmx = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		f->ptmx_err = errno;
	}
	f->plain = vp_create(dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, f->plain);
	if (v->fdk == FD_DEEP) {
		/* deep[0] -> deep[1] -> ... -> deep[4]: NEST_MAX deep. */
		for (i = NEST_MAX - 1; i >= 0; i--) {
			f->deep[i] = vp_create(dev, VEPOLL_CLOEXEC);
			ASSERT_LE(0, f->deep[i]);
			if (i == NEST_MAX - 1)
				continue;
			ASSERT_EQ(0, vp_ctl(dev, f->deep[i], VEPOLL_CTL_ADD,
					    f->deep[i + 1], VEPOLLIN, 0));
		}
	}
	pool_open(_metadata, &f->pool, MAX_N, 1);
	if (v->full)
		pool_open(_metadata, &f->fill, f->max, 1);
	f->nev = f->max + MAX_N + 16;
	f->ev = calloc(f->nev, sizeof(*f->ev));
	f->tab = calloc(f->nofile, sizeof(*f->tab));
	ASSERT_TRUE(f->ev && f->tab);
	/* Above every descriptor the test opens, so never reused. */
	f->closed = closed_fd(f->nofile - 64);
	ASSERT_LE(0, f->closed);
}

FIXTURE_TEARDOWN(oracle)
{
	struct ofix *f = &self->f;
	int i;

	side_destroy(&f->s[0]);
	side_destroy(&f->s[1]);
	pool_close(&f->fill);
	pool_close(&f->pool);
	for (i = 0; i < NEST_MAX; i++)
		if (f->deep[i] >= 0)
			close(f->deep[i]);
	if (f->plain >= 0)
		close(f->plain);
	if (f->ptmx >= 0)
		close(f->ptmx);
	for (i = 0; i < 2; i++) {
		if (f->p[i] >= 0)
			close(f->p[i]);
		if (f->q[i] >= 0)
			close(f->q[i]);
	}
	if (f->dir >= 0)
		close(f->dir);
	if (f->file >= 0)
		close(f->file);
	free(f->ev);
	free(f->tab);
	if (f->dev >= 0)
		close(f->dev);
}

/*
 * A batch of @n entries failing at entry @k, against the same entries as
 * single CTLs on a twin instance: see the top of this file.
 */
static void run_case(struct __test_metadata *_metadata, struct ofix *f,
		     const struct ocase *v, unsigned int n, unsigned int k)
{
	int base = 1 + v->watched, nadd = 0, nfill = 0, single = 0, ret, cnt;
	struct vepoll_ctl_args *ctls, *copy, a;
	char *lines0, *lines1, *seen, *fseen;
	struct winfo *tab = f->tab;
	__u64 anchor = ANCHOR;
	unsigned int j;
	__s32 *res;
	int i;

	for (j = 0; j < k; j++) {
		if (j % 3 == 2)
			anchor = ANCHOR + j;
		else
			nadd++;
	}
	if (v->full)
		nfill = f->max - base - nadd;
	ASSERT_LE(0, nfill);
	sides_ready(_metadata, f, v, nfill);

	/* The oracle: the same entries, as single CTLs, on s[0]. */
	for (j = 0; j < k; j++) {
		good_entry(f, v, 0, j, k, &a);
		ASSERT_EQ(0, vp_ctl_args(f->dev, &a)) {
			TH_LOG("n %u k %u: single CTL %u", n, k, j);
		}
	}
	if (!batch_only(v)) {
		fail_entry(f, v, 0, &a);
		single = vp_ctl_args(f->dev, &a);
		if (!v->expect && n == 1)
			TH_LOG("single CTL: %d (%s)", single,
			       strerror(-single));
	}

	ctls = calloc(n, sizeof(*ctls));
	copy = calloc(n, sizeof(*copy));
	res = calloc(n + 1, sizeof(*res));
	seen = calloc(n, 1);
	fseen = calloc(nfill + 1, 1);
	ASSERT_TRUE(ctls && copy && res && seen && fseen);
	for (j = 0; j < n; j++) {
		if (j == k)
			fail_entry(f, v, 1, &ctls[j]);
		else
			good_entry(f, v, 1, j, k, &ctls[j]);
	}
	memcpy(copy, ctls, n * sizeof(*ctls));
	fill_results(res, n + 1);
	ret = batch(f->dev, side_epfd(f, v, 1), ctls, res, n);

	/* It stopped at k, which holds the single CTL's errno. */
	ASSERT_EQ((int)k, ret) {
		TH_LOG("n %u k %u: results[k] %d, single CTL %d", n, k,
		       ret >= 0 && ret < (int)n ? res[ret] : 0, single);
	}
	for (j = 0; j < k; j++) {
		ASSERT_EQ(0, res[j]) {
			TH_LOG("n %u k %u: results[%u]", n, k, j);
		}
	}
	if (v->expect) {
		ASSERT_EQ(v->expect, res[k]) {
			TH_LOG("n %u k %u: results[k]", n, k);
		}
	} else {
		ASSERT_GT(0, res[k]);
	}
	if (!batch_only(v)) {
		ASSERT_EQ(single, res[k]) {
			TH_LOG("n %u k %u: single CTL vs results[k]", n, k);
		}
	}
	/* Nothing written after it, not even one past count. */
	for (j = k + 1; j <= n; j++) {
		ASSERT_EQ(SENTINEL, res[j]) {
			TH_LOG("n %u k %u: results[%u] written", n, k, j);
		}
	}
	/* The entries are input only. */
	ASSERT_EQ(0, memcmp(copy, ctls, n * sizeof(*ctls)));

	/* The same watches, masks and data as the single CTLs left... */
	lines0 = watch_lines(f->s[0].ep);
	lines1 = watch_lines(f->s[1].ep);
	ASSERT_TRUE(lines0 && lines1);
	EXPECT_EQ(0, strcmp(lines0, lines1)) {
		TH_LOG("n %u k %u: watch lists differ", n, k);
		log_first_difference(_metadata, lines0, lines1);
	}
	free(lines0);
	free(lines1);
	/* ... that is, the anchor, the fill, and the ADDs before k. */
	cnt = watch_table(f->s[1].ep, tab, f->nofile);
	ASSERT_EQ(base + nfill + nadd, cnt) {
		TH_LOG("n %u k %u: watches", n, k);
	}
	ASSERT_TRUE(tab[f->p[1]].on);
	ASSERT_EQ(anchor, tab[f->p[1]].data);
	ASSERT_EQ(v->watched, tab[f->p[0]].on);
	if (v->watched)
		ASSERT_EQ(PRE_COOKIE, tab[f->p[0]].data);
	for (j = 0; j < n; j++) {
		int fd = f->pool.fd[j];

		if (j == k || !good_entry_adds(j, k))
			continue;
		ASSERT_EQ(j < k, tab[fd].on) {
			TH_LOG("n %u k %u: ADD of entry %u %s", n, k, j,
			       j < k ? "missing" : "applied");
		}
		if (j < k) {
			ASSERT_EQ(COOKIE(j), tab[fd].data);
			ASSERT_EQ(j % 5 == 4 ? VEPOLLIN | VEPOLLET : VEPOLLIN,
				  tab[fd].events);
		}
	}

	/* A wait reports the anchor, the fill, every ADD before k, once. */
	cnt = vp_wait(f->dev, f->s[1].ep, f->ev, f->nev, 0);
	ASSERT_EQ(1 + nfill + nadd, cnt) {
		TH_LOG("n %u k %u: events", n, k);
	}
	for (i = 0; i < cnt; i++) {
		const struct vepoll_event *e = &f->ev[i];
		unsigned int x = INDEX(e->data);

		ASSERT_EQ(0U, e->__pad);
		if (e->data == anchor) {
			ASSERT_EQ(VEPOLLOUT, e->events);
			continue;
		}
		ASSERT_EQ(VEPOLLIN, e->events);
		if (KIND(e->data) == KIND(COOKIE(0)) && x < k &&
		    good_entry_adds(x, k) && !seen[x]) {
			seen[x] = 1;
		} else if (KIND(e->data) == KIND(FILL_COOKIE(0)) &&
			   x < (unsigned int)nfill && !fseen[x]) {
			fseen[x] = 1;
		} else {
			ASSERT_TRUE(false) {
				TH_LOG("n %u k %u: unexpected event %#llx", n,
				       k, (unsigned long long)e->data);
			}
		}
	}
	free(fseen);
	free(seen);
	free(res);
	free(copy);
	free(ctls);
	if (v->full) {
		sides_undo(_metadata, f, k);
	} else {
		side_destroy(&f->s[0]);
		side_destroy(&f->s[1]);
	}
}

/* The failing entry alone: results[0], and the ioctl returns 0. */
TEST_F(oracle, alone)
{
	const struct ocase *v = &variant->c;
	struct ofix *f = &self->f;

	if (v->fdk == FD_PTMX && f->ptmx < 0)
		SKIP(return, "no pty master: %s", strerror(f->ptmx_err));
	run_case(_metadata, f, v, 1, 0);
}

/* Failing entry k of n, around chunks of 8, 16, 32 and 64 entries. */
static const struct {
	unsigned int n, k;
} cases[] = {
	{ 7, 0 }, { 7, 6 }, { 8, 0 }, { 8, 7 }, { 9, 7 }, { 9, 8 },
	{ 15, 0 }, { 15, 14 },
	{ 16, 0 }, { 16, 1 }, { 16, 14 }, { 16, 15 },
	{ 17, 0 }, { 17, 15 }, { 17, 16 },
	{ 33, 31 }, { 33, 32 },
	{ 63, 15 }, { 63, 16 }, { 63, 62 },
	{ 64, 0 }, { 64, 16 }, { 64, 17 }, { 64, 62 }, { 64, 63 },
	{ 65, 15 }, { 65, 17 }, { 65, 63 }, { 65, 64 },
	{ MAX_N, 0 }, { MAX_N, 1 }, { MAX_N, 7 }, { MAX_N, 8 }, { MAX_N, 9 },
	{ MAX_N, 15 }, { MAX_N, 16 }, { MAX_N, 17 }, { MAX_N, 31 },
	{ MAX_N, 32 }, { MAX_N, 33 }, { MAX_N, 63 }, { MAX_N, 64 },
	{ MAX_N, 65 },
	{ MAX_N, 127 }, { MAX_N, 128 }, { MAX_N, 129 }, { MAX_N, 511 },
	{ MAX_N, 512 }, { MAX_N, MAX_N - 2 }, { MAX_N, MAX_N - 1 },
};

static bool thinned_out(unsigned int n, unsigned int k)
{
	return n == MAX_N && k != 0 && k != 8 && k != 64 && k != MAX_N - 1;
}

TEST_F_TIMEOUT(oracle, in_batches, 600)
{
	const struct ocase *v = &variant->c;
	struct ofix *f = &self->f;
	bool thin = debug_kernel();
	unsigned int c;

	if (v->fdk == FD_PTMX && f->ptmx < 0)
		SKIP(return, "no pty master: %s", strerror(f->ptmx_err));
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		/* With a bad batch.epfd, every entry fails: only k == 0. */
		if (bad_epfd(v) && cases[c].k)
			continue;
		if (thin && thinned_out(cases[c].n, cases[c].k))
			continue;
		run_case(_metadata, f, v, cases[c].n, cases[c].k);
	}
}

/* ---- everything else: one instance, its targets -------------------------- */

/* What the other tests share: an instance and targets for it. */
struct bfix {
	int dev, ep, p[2], closed, nofile;
	struct pool pool;	/* MAX_N dups of a readable eventfd */
	struct vepoll_event *ev;
	struct winfo *tab;
};

FIXTURE(batch) {
	struct bfix f;
};

FIXTURE_SETUP(batch)
{
	struct bfix *f = &self->f;

	/* The harness zeroes the fixture: 0 is a descriptor. */
	f->dev = -1;
	f->ep = -1;
	f->p[0] = -1;
	f->p[1] = -1;
	pool_init(&f->pool);
	f->dev = vp_open_dev();
	ASSERT_LE(0, f->dev) {
		TH_LOG("open %s: %s (is the module loaded?)", VP_DEV_PATH,
		       strerror(-f->dev));
	}
	f->ep = vp_create(f->dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, f->ep);
	f->nofile = 3 * MAX_N + 512;
	ASSERT_EQ(0, vp_want_nofile(f->nofile));
	ASSERT_EQ(0, vp_pipe(f->p));
	pool_open(_metadata, &f->pool, MAX_N, 1);
	f->ev = calloc(2 * MAX_N, sizeof(*f->ev));
	f->tab = calloc(f->nofile, sizeof(*f->tab));
	ASSERT_TRUE(f->ev && f->tab);
	f->closed = closed_fd(f->nofile - 64);
	ASSERT_LE(0, f->closed);
}

FIXTURE_TEARDOWN(batch)
{
	struct bfix *f = &self->f;

	pool_close(&f->pool);
	free(f->ev);
	free(f->tab);
	if (f->p[0] >= 0)
		close(f->p[0]);
	if (f->p[1] >= 0)
		close(f->p[1]);
	if (f->ep >= 0)
		close(f->ep);
	if (f->dev >= 0)
		close(f->dev);
}

/* Watch of @fd in @ep per fdinfo: 1 (and its data), 0, or -1. */
static int watched_data(struct bfix *f, int ep, int fd, __u64 *data)
{
	if (watch_table(ep, f->tab, f->nofile) < 0)
		return -1;
	if (data)
		*data = f->tab[fd].data;
	return f->tab[fd].on;
}

/* The same request number with another direction or size: not ours. */
TEST_F(batch, other_encodings_of_the_request_are_enotty)
{
	struct bfix *f = &self->f;
	const unsigned long reqs[] = {
		_IOWR(VEPOLL_IOC_MAGIC, 0x04, struct vepoll_ctl_batch),
		_IOR(VEPOLL_IOC_MAGIC, 0x04, struct vepoll_ctl_batch),
		_IO(VEPOLL_IOC_MAGIC, 0x04),
		_IOW(VEPOLL_IOC_MAGIC, 0x04, __u64[3]),
		_IOW(VEPOLL_IOC_MAGIC, 0x04, __u64[5]),
		_IOW(VEPOLL_IOC_MAGIC, 0x05, struct vepoll_ctl_batch),
	};
	struct vepoll_ctl_args ctl;
	struct vepoll_ctl_batch b;
	__s32 res[2];
	unsigned int i;

	set_ctl(&ctl, f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 1);
	b = (struct vepoll_ctl_batch){
		.epfd = f->ep, .count = 1,
		.ctls = vp_ptr(&ctl), .results = vp_ptr(res),
	};
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		fill_results(res, 2);
		EXPECT_EQ(-ENOTTY, vp_ret(ioctl(f->dev, reqs[i], &b))) {
			TH_LOG("request %#lx", reqs[i]);
		}
		EXPECT_EQ(SENTINEL, res[0]);
	}
	EXPECT_EQ(0, watch_count(f->ep));
	/* The uapi number does it. */
	EXPECT_EQ(1, batch_args(f->dev, &b));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(SENTINEL, res[1]);
	EXPECT_EQ(1, watch_count(f->ep));
}

/* ---- errors of the batch itself: nothing applied, nothing written -------- */

/* An ADD that would succeed, and sentinels in its results. */
static void valid_batch(struct bfix *f, struct vepoll_ctl_args *ctls,
			__s32 *res, struct vepoll_ctl_batch *b)
{
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, f->p[0], VEPOLLIN, 2);
	fill_results(res, 3);
	*b = (struct vepoll_ctl_batch){
		.epfd = f->ep, .count = 2,
		.ctls = vp_ptr(ctls), .results = vp_ptr(res),
	};
}

static void expect_untouched(struct __test_metadata *_metadata,
			     struct bfix *f, const __s32 *res)
{
	EXPECT_EQ(SENTINEL, res[0]);
	EXPECT_EQ(SENTINEL, res[1]);
	EXPECT_EQ(SENTINEL, res[2]);
	EXPECT_EQ(0, watch_count(f->ep));
}

TEST_F(batch, nonzero_flags_is_einval)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args ctls[2];
	struct vepoll_ctl_batch b;
	unsigned int bit;
	__s32 res[3];

	for (bit = 0; bit < 32; bit++) {
		valid_batch(f, ctls, res, &b);
		b.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, batch_args(f->dev, &b)) {
			TH_LOG("flags %#x", b.flags);
		}
		expect_untouched(_metadata, f, res);
	}
	valid_batch(f, ctls, res, &b);
	b.flags = ~0U;
	EXPECT_EQ(-EINVAL, batch_args(f->dev, &b));
	expect_untouched(_metadata, f, res);
}

TEST_F(batch, nonzero_pad_is_einval)
{
	struct bfix *f = &self->f;
	const __u32 pads[] = { 1, 0x80, 0x80000000, ~0U };
	struct vepoll_ctl_args ctls[2];
	struct vepoll_ctl_batch b;
	__s32 res[3];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pads); i++) {
		valid_batch(f, ctls, res, &b);
		b.__pad = pads[i];
		EXPECT_EQ(-EINVAL, batch_args(f->dev, &b)) {
			TH_LOG("__pad %#x", pads[i]);
		}
		expect_untouched(_metadata, f, res);
	}
}

TEST_F(batch, count_above_int_max_is_einval)
{
	struct bfix *f = &self->f;
	const __u32 counts[] = { 0x80000000U, 0x80000001U, 0xfffffffeU,
				 0xffffffffU };
	struct vepoll_ctl_args ctls[2];
	struct vepoll_ctl_batch b;
	__s32 res[3];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		valid_batch(f, ctls, res, &b);
		b.count = counts[i];
		EXPECT_EQ(-EINVAL, batch_args(f->dev, &b)) {
			TH_LOG("count %#x", counts[i]);
		}
		expect_untouched(_metadata, f, res);
	}
}

/* The batch is checked before any entry: no entry error in results. */
TEST_F(batch, batch_einval_comes_before_entry_errors)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args ctls[2];
	struct vepoll_ctl_batch b;
	__s32 res[3];

	valid_batch(f, ctls, res, &b);
	ctls[0].epfd = f->closed;
	b.epfd = f->closed;
	b.flags = 1;
	EXPECT_EQ(-EINVAL, batch_args(f->dev, &b));
	expect_untouched(_metadata, f, res);
	b.flags = 0;
	b.__pad = 1;
	EXPECT_EQ(-EINVAL, batch_args(f->dev, &b));
	expect_untouched(_metadata, f, res);
	b.__pad = 0;
	b.count = 0x80000000U;
	b.ctls = 0;
	EXPECT_EQ(-EINVAL, batch_args(f->dev, &b));
	expect_untouched(_metadata, f, res);
	/* Well formed: entry 0's EBADF is its result. */
	b.count = 2;
	b.ctls = vp_ptr(ctls);
	EXPECT_EQ(0, batch_args(f->dev, &b));
	EXPECT_EQ(-EBADF, res[0]);
	EXPECT_EQ(SENTINEL, res[1]);
}

/*
 * count == INT_MAX is allowed: entries are read one after another until
 * one cannot be, which fails with EFAULT. Two readable entries, then a
 * page that is not mapped readable, and room for three results before
 * another: the kernel may touch nothing beyond either.
 */
TEST_F(batch, count_int_max_runs_until_an_entry_cannot_be_read)
{
	struct bfix *f = &self->f;
	char *cguard = map_guarded(1, PROT_NONE);
	char *rguard = map_guarded(1, PROT_NONE);
	struct vepoll_ctl_args *ctls;
	__s32 *res;

	ASSERT_TRUE(cguard && rguard);
	ctls = (struct vepoll_ctl_args *)(cguard - 2 * ENTRY_SIZE);
	res = (__s32 *)(rguard - 3 * sizeof(*res));
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, f->p[0], VEPOLLIN, 2);
	fill_results(res, 3);
	EXPECT_EQ(2, batch(f->dev, f->ep, ctls, res, 0x7fffffffU));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(-EFAULT, res[2]);
	EXPECT_EQ(2, watch_count(f->ep));
	unmap_guarded(cguard, 1);
	unmap_guarded(rguard, 1);
}

/* count == 0: nothing read, nothing written, whatever the addresses. */
TEST_F(batch, count_zero_touches_nothing)
{
	struct bfix *f = &self->f;
	char *guard = map_guarded(1, PROT_NONE);
	char *ro = map_guarded(1, PROT_READ);
	struct vepoll_ctl_batch b = { .epfd = f->ep };
	__s32 res[2];

	ASSERT_TRUE(guard && ro);
	EXPECT_EQ(0, batch_args(f->dev, &b));
	b.ctls = vp_ptr(guard);
	b.results = vp_ptr(guard);
	EXPECT_EQ(0, batch_args(f->dev, &b));
	b.results = vp_ptr(ro);
	EXPECT_EQ(0, batch_args(f->dev, &b));
	b.ctls = vp_ptr(vp_unmapped());
	b.results = vp_ptr(res);
	fill_results(res, 2);
	EXPECT_EQ(0, batch_args(f->dev, &b));
	EXPECT_EQ(SENTINEL, res[0]);
	/*
	 * No entry, so no entry's epfd to fail: a bad batch.epfd is not an
	 * error of the batch (only flags, __pad, count and results are).
	 */
	b.epfd = f->closed;
	EXPECT_EQ(0, batch_args(f->dev, &b));
	b.epfd = -1;
	EXPECT_EQ(0, batch_args(f->dev, &b));
	EXPECT_EQ(SENTINEL, res[0]);
	EXPECT_EQ(SENTINEL, res[1]);
	/* The batch checks still apply. */
	b.epfd = f->ep;
	b.flags = 1;
	EXPECT_EQ(-EINVAL, batch_args(f->dev, &b));
	EXPECT_EQ(0, watch_count(f->ep));
	unmap_guarded(guard, 1);
	unmap_guarded(ro, 1);
}

/* The header itself unreadable (Documentation: "ABI", Requests). */
TEST_F(batch, unreadable_header_is_efault)
{
	struct bfix *f = &self->f;
	char *guard = map_guarded(1, PROT_NONE);
	struct vepoll_ctl_batch *b;

	ASSERT_TRUE(!!guard);
	EXPECT_EQ(-EFAULT, vp_ret(ioctl(f->dev, VEPOLL_IOC_CTL_BATCH,
					NULL)));
	EXPECT_EQ(-EFAULT, vp_ret(ioctl(f->dev, VEPOLL_IOC_CTL_BATCH,
					vp_unmapped())));
	EXPECT_EQ(-EFAULT, vp_ret(ioctl(f->dev, VEPOLL_IOC_CTL_BATCH,
					guard)));
	/* Its first 16 bytes readable, its addresses not. */
	b = (struct vepoll_ctl_batch *)(guard - 16);
	b->epfd = f->ep;
	b->count = 1;
	b->flags = 0;
	b->__pad = 0;
	EXPECT_EQ(-EFAULT, vp_ret(ioctl(f->dev, VEPOLL_IOC_CTL_BATCH, b)));
	EXPECT_EQ(0, watch_count(f->ep));
	unmap_guarded(guard, 1);
}

/*
 * Entries 0..k-1 readable, entry k at the start of a PROT_NONE page
 * (@across 0) or across it (16: its first half readable): the first k
 * are applied, k's result is EFAULT, the ioctl returns k, nothing after
 * k is written. A reader that copies entries in chunks must not lose the
 * readable entries of the chunk that faults.
 */
static void unreadable_at(struct __test_metadata *_metadata,
			  struct bfix *f, char *guard,
			  unsigned int k, int across)
{
	struct vepoll_ctl_args *ctls;
	__s32 res[MAX_N + 5];
	bool hit[MAX_N] = { false };
	unsigned int j;
	int ep, n, i;

	ep = vp_create(f->dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ctls = (struct vepoll_ctl_args *)(guard - k * ENTRY_SIZE - across);
	for (j = 0; j < k; j++)
		set_ctl(&ctls[j], ep, VEPOLL_CTL_ADD, f->pool.fd[j],
			VEPOLLIN, COOKIE(j));
	if (across) {
		/* The readable half of entry k looks valid. */
		ctls[k].epfd = ep;
		ctls[k].op = VEPOLL_CTL_ADD;
		ctls[k].fd = f->p[1];
		ctls[k].__pad = 0;
	}
	fill_results(res, k + 5);
	ASSERT_EQ((int)k, batch(f->dev, ep, ctls, res, k + 4)) {
		TH_LOG("entry %u unreadable (%s)", k,
		       across ? "across the page" : "at the page");
	}
	for (j = 0; j < k; j++) {
		ASSERT_EQ(0, res[j]) {
			TH_LOG("results[%u] of %u", j, k);
		}
	}
	ASSERT_EQ(-EFAULT, res[k]);
	for (j = k + 1; j < k + 5; j++) {
		ASSERT_EQ(SENTINEL, res[j]) {
			TH_LOG("results[%u] of %u", j, k);
		}
	}
	ASSERT_EQ((int)k, watch_count(ep));
	/* Applied for real: each reports its event, once. */
	n = vp_wait(f->dev, ep, f->ev, 2 * MAX_N, 0);
	ASSERT_EQ((int)k, n);
	for (i = 0; i < n; i++) {
		unsigned int x = INDEX(f->ev[i].data);

		ASSERT_EQ(COOKIE(x), f->ev[i].data);
		ASSERT_GT(k, x);
		ASSERT_FALSE(hit[x]);
		hit[x] = true;
	}
	close(ep);
}

/* Where an entry becomes unreadable, in pages of 128 entries. */
static const unsigned int fault_at[] = {
	0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
	511, 512, MAX_N - 1,
};

TEST_F_TIMEOUT(batch, unreadable_entry_stops_the_batch, 300)
{
	struct bfix *f = &self->f;
	size_t pages = (MAX_N * ENTRY_SIZE) / sysconf(_SC_PAGESIZE) + 2;
	char *guard = map_guarded(pages, PROT_NONE);
	unsigned int c;

	ASSERT_TRUE(!!guard);
	for (c = 0; c < ARRAY_SIZE(fault_at); c++) {
		unreadable_at(_metadata, f, guard, fault_at[c], 0);
		unreadable_at(_metadata, f, guard, fault_at[c], 16);
	}
	unmap_guarded(guard, pages);
}

/* No alignment is required of either array. */
TEST_F(batch, unaligned_entries_and_results)
{
	struct bfix *f = &self->f;
	char *cbuf = malloc(65 * ENTRY_SIZE + 8);
	char *rbuf = malloc(66 * sizeof(__s32) + 8);
	struct vepoll_ctl_args a;
	unsigned int j;
	__s32 r;

	ASSERT_TRUE(cbuf && rbuf);
	for (j = 0; j < 65; j++) {
		set_ctl(&a, f->ep, VEPOLL_CTL_ADD, f->pool.fd[j],
			VEPOLLIN, COOKIE(j));
		memcpy(cbuf + 1 + j * ENTRY_SIZE, &a, sizeof(a));
	}
	memset(rbuf, 0x5a, 66 * sizeof(__s32) + 8);
	EXPECT_EQ(65, batch(f->dev, f->ep,
			    (struct vepoll_ctl_args *)(cbuf + 1),
			    (__s32 *)(rbuf + 3), 65));
	for (j = 0; j <= 65; j++) {
		memcpy(&r, rbuf + 3 + j * sizeof(r), sizeof(r));
		EXPECT_EQ(j < 65 ? 0 : SENTINEL, r) {
			TH_LOG("results[%u]", j);
		}
	}
	EXPECT_EQ(65, watch_count(f->ep));
	EXPECT_EQ(65, vp_wait(f->dev, f->ep, f->ev, 2 * MAX_N, 0));
	free(cbuf);
	free(rbuf);
}

/*
 * Documentation.rst, "Batched CTL": a result that cannot be written fails
 * the ioctl with EFAULT; "entries may have been applied by then, since
 * results are copied out in chunks of eight, after the entries they
 * report on".
 */
#define DOC_RESULT_CHUNK	8

/*
 * results[0..k-1] writable, results[k] read-only, count k + 12: EFAULT.
 * What the documentation allows of the entries: applied in order (a
 * prefix of them), a result written as 0 reports an applied entry, and
 * nothing after the chunk of results[k] is applied.
 */
static void unwritable_at(struct __test_metadata *_metadata,
			  struct bfix *f, char *ro, unsigned int k)
{
	struct vepoll_ctl_args ctls[MAX_N];
	unsigned int n = k + 12, j, m, limit;
	__s32 *res = (__s32 *)ro - k;
	struct winfo *tab = f->tab;
	int ep;

	ep = vp_create(f->dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	for (j = 0; j < n; j++)
		set_ctl(&ctls[j], ep, VEPOLL_CTL_ADD, f->pool.fd[j], VEPOLLIN,
			COOKIE(j));
	fill_results(res, k);
	ASSERT_EQ(-EFAULT, batch(f->dev, ep, ctls, res, n)) {
		TH_LOG("results[%u] read-only", k);
	}
	ASSERT_LE(0, watch_table(ep, tab, f->nofile));
	for (m = 0; m < n && tab[f->pool.fd[m]].on; m++)
		;
	TH_LOG("results[%u] read-only: %u of %u entries applied", k, m, n);
	for (j = m; j < n; j++) {
		ASSERT_FALSE(tab[f->pool.fd[j]].on) {
			TH_LOG("entry %u applied, entry %u not", j, m);
		}
	}
	for (j = 0; j < k; j++) {
		ASSERT_TRUE(res[j] == SENTINEL || (!res[j] && j < m)) {
			TH_LOG("results[%u] %d, %u applied", j, res[j], m);
		}
	}
	limit = (k / DOC_RESULT_CHUNK + 1) * DOC_RESULT_CHUNK;
	ASSERT_GE(limit, m) {
		TH_LOG("applied beyond the chunk of results[%u]", k);
	}
	close(ep);
}

TEST_F(batch, unwritable_results_is_efault)
{
	struct bfix *f = &self->f;
	const unsigned int at[] = {
		0, 1, 6, 7, 8, 9, 15, 16, 17, 23, 24, 63, 64, 65, 513,
	};
	char *ro = map_guarded(1, PROT_READ);
	struct vepoll_ctl_args ctls[65];
	unsigned int c, j;

	ASSERT_TRUE(!!ro);
	/* Read-only, unmapped, NULL: MODs, harmless either way. */
	ASSERT_EQ(0, vp_ctl(f->dev, f->ep, VEPOLL_CTL_ADD, f->p[1],
			    VEPOLLOUT, 1));
	for (j = 0; j < ARRAY_SIZE(ctls); j++)
		set_ctl(&ctls[j], f->ep, VEPOLL_CTL_MOD, f->p[1],
			VEPOLLOUT, 2);
	EXPECT_EQ(-EFAULT, batch(f->dev, f->ep, ctls, (__s32 *)ro, 1));
	EXPECT_EQ(-EFAULT, batch(f->dev, f->ep, ctls, vp_unmapped(), 1));
	EXPECT_EQ(-EFAULT, batch(f->dev, f->ep, ctls, NULL, 1));
	EXPECT_EQ(-EFAULT, batch(f->dev, f->ep, ctls, (__s32 *)ro, 65));
	for (c = 0; c < ARRAY_SIZE(at); c++)
		unwritable_at(_metadata, f, ro, at[c]);
	unmap_guarded(ro, 1);
}

/* Entry 0 unreadable and its result unwritable: the ioctl fails. */
TEST_F(batch, unreadable_entry_and_unwritable_result_is_efault)
{
	struct bfix *f = &self->f;
	char *guard = map_guarded(1, PROT_NONE);
	char *ro = map_guarded(1, PROT_READ);

	ASSERT_TRUE(guard && ro);
	EXPECT_EQ(-EFAULT, batch(f->dev, f->ep,
				 (struct vepoll_ctl_args *)guard,
				 (__s32 *)ro, 3));
	EXPECT_EQ(0, watch_count(f->ep));
	unmap_guarded(guard, 1);
	unmap_guarded(ro, 1);
}

/* ---- stopping at the first error ----------------------------------------- */

TEST_F(batch, stops_at_first_error)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { COOKIE(0), COOKIE(1) };
	struct vepoll_ctl_args ctls[5];
	__s32 res[6];
	int i;

	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->pool.fd[0],
		VEPOLLIN, COOKIE(0));
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, f->pool.fd[1],
		VEPOLLIN, COOKIE(1));
	set_ctl(&ctls[2], f->ep, VEPOLL_CTL_ADD, f->closed, VEPOLLIN,
		COOKIE(2));
	set_ctl(&ctls[3], f->ep, VEPOLL_CTL_ADD, f->pool.fd[3],
		VEPOLLIN, COOKIE(3));
	set_ctl(&ctls[4], f->ep, VEPOLL_CTL_ADD, f->pool.fd[4],
		VEPOLLIN, COOKIE(4));
	fill_results(res, 6);
	ASSERT_EQ(2, batch(f->dev, f->ep, ctls, res, 5));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(-EBADF, res[2]);
	for (i = 3; i < 6; i++) {
		EXPECT_EQ(SENTINEL, res[i]) {
			TH_LOG("results[%d]", i);
		}
	}
	/* Entries 0 and 1 report their events; 3 and 4 do not exist. */
	expect_reported(_metadata, f->dev, f->ep, want, 2, VEPOLLIN);
	EXPECT_EQ(-ENOENT, vp_ctl(f->dev, f->ep, VEPOLL_CTL_DEL,
				  f->pool.fd[3], 0, 0));
	EXPECT_EQ(-ENOENT, vp_ctl(f->dev, f->ep, VEPOLL_CTL_DEL,
				  f->pool.fd[4], 0, 0));
	EXPECT_EQ(0, vp_ctl(f->dev, f->ep, VEPOLL_CTL_DEL,
			    f->pool.fd[0], 0, 0));
	EXPECT_EQ(0, vp_ctl(f->dev, f->ep, VEPOLL_CTL_DEL,
			    f->pool.fd[1], 0, 0));
}

/* ---- order within a batch ------------------------------------------------ */

TEST_F(batch, add_mod_del_of_one_fd)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args ctls[3];
	__s32 res[4];

	ASSERT_EQ(1, vp_write_bytes(f->p[1], 1));
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[0], VEPOLLIN, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_MOD, f->p[0], VEPOLLIN, 2);
	set_ctl(&ctls[2], f->ep, VEPOLL_CTL_DEL, f->p[0], 0, 0);
	fill_results(res, 4);
	ASSERT_EQ(3, batch(f->dev, f->ep, ctls, res, 3));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(0, res[2]);
	EXPECT_EQ(SENTINEL, res[3]);
	/* Gone, though readable: no event, no watch. */
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	EXPECT_EQ(0, watch_count(f->ep));
	EXPECT_EQ(-ENOENT, vp_ctl(f->dev, f->ep, VEPOLL_CTL_DEL,
				  f->p[0], 0, 0));
}

/* A MOD after the ADD of the same batch sets what the wait reports. */
TEST_F(batch, mod_after_add_in_one_batch_takes_effect)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { 2 };
	struct vepoll_ctl_args ctls[2];
	__u64 data = 0;
	__s32 res[2];

	ASSERT_EQ(1, vp_write_bytes(f->p[1], 1));
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[0], VEPOLLOUT, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_MOD, f->p[0],
		VEPOLLIN | VEPOLLRDNORM | VEPOLLET, 2);
	ASSERT_EQ(2, batch(f->dev, f->ep, ctls, res, 2));
	EXPECT_EQ(1, watched_data(f, f->ep, f->p[0], &data));
	EXPECT_EQ(2U, data);
	EXPECT_EQ(VEPOLLIN | VEPOLLRDNORM | VEPOLLET,
		  f->tab[f->p[0]].events);
	expect_reported(_metadata, f->dev, f->ep, want, 1,
			VEPOLLIN | VEPOLLRDNORM);
	/* Edge-triggered, as the MOD said: once. */
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
}

TEST_F(batch, add_twice_second_is_eexist)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { 1 };
	struct vepoll_ctl_args ctls[3];
	__u64 data = 0;
	__s32 res[4];

	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 2);
	set_ctl(&ctls[2], f->ep, VEPOLL_CTL_DEL, f->p[1], 0, 0);
	fill_results(res, 4);
	ASSERT_EQ(1, batch(f->dev, f->ep, ctls, res, 3));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(-EEXIST, res[1]);
	EXPECT_EQ(SENTINEL, res[2]);
	EXPECT_EQ(SENTINEL, res[3]);
	/* The first ADD's watch, untouched by the second, not deleted. */
	EXPECT_EQ(1, watched_data(f, f->ep, f->p[1], &data));
	EXPECT_EQ(1U, data);
	EXPECT_EQ(1, watch_count(f->ep));
	expect_reported(_metadata, f->dev, f->ep, want, 1, VEPOLLOUT);
}

TEST_F(batch, del_then_readd)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { 2 };
	struct vepoll_ctl_args ctls[2];
	__u64 data = 0;
	__s32 res[3];

	ASSERT_EQ(0, vp_ctl(f->dev, f->ep, VEPOLL_CTL_ADD, f->p[1],
			    VEPOLLOUT | VEPOLLONESHOT, 1));
	/* Disarm it: the re-ADD must give a fresh, armed watch. */
	ASSERT_EQ(1, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	ASSERT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_DEL, f->p[1], 0, 0);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 2);
	fill_results(res, 3);
	ASSERT_EQ(2, batch(f->dev, f->ep, ctls, res, 2));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(SENTINEL, res[2]);
	EXPECT_EQ(1, watch_count(f->ep));
	EXPECT_EQ(1, watched_data(f, f->ep, f->p[1], &data));
	EXPECT_EQ(2U, data);
	expect_reported(_metadata, f->dev, f->ep, want, 1, VEPOLLOUT);
	/* Level-triggered now: again. */
	expect_reported(_metadata, f->dev, f->ep, want, 1, VEPOLLOUT);
}

TEST_F(batch, mod_before_add_is_enoent)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args ctls[2];
	__s32 res[3];

	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_MOD, f->p[1], VEPOLLOUT, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 2);
	fill_results(res, 3);
	ASSERT_EQ(0, batch(f->dev, f->ep, ctls, res, 2));
	EXPECT_EQ(-ENOENT, res[0]);
	EXPECT_EQ(SENTINEL, res[1]);
	EXPECT_EQ(0, watch_count(f->ep));
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
}

/* A fd and its dup are two keys, also within one batch. */
TEST_F(batch, dup_keys_in_one_batch)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { 2 };
	struct vepoll_ctl_args ctls[4];
	__s32 res[4];
	int d = dup(f->p[1]);

	ASSERT_LE(0, d);
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 1);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, d, VEPOLLOUT, 2);
	set_ctl(&ctls[2], f->ep, VEPOLL_CTL_DEL, f->p[1], 0, 0);
	set_ctl(&ctls[3], f->ep, VEPOLL_CTL_DEL, f->p[1], 0, 0);
	fill_results(res, 4);
	ASSERT_EQ(3, batch(f->dev, f->ep, ctls, res, 4));
	EXPECT_EQ(-ENOENT, res[3]);
	EXPECT_EQ(1, watch_count(f->ep));
	expect_reported(_metadata, f->dev, f->ep, want, 1, VEPOLLOUT);
	close(d);
}

/* MOD in a batch re-arms a disarmed one-shot watch. */
TEST_F(batch, mod_in_a_batch_rearms_oneshot)
{
	struct bfix *f = &self->f;
	const __u64 want1[] = { 1 }, want3[] = { 3 };
	struct vepoll_ctl_args ctls[2];
	__s32 res[2];

	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->p[1],
		VEPOLLOUT | VEPOLLONESHOT, 1);
	ASSERT_EQ(1, batch(f->dev, f->ep, ctls, res, 1));
	expect_reported(_metadata, f->dev, f->ep, want1, 1, VEPOLLOUT);
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_MOD, f->p[1],
		VEPOLLOUT | VEPOLLONESHOT, 2);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_MOD, f->p[1],
		VEPOLLOUT | VEPOLLONESHOT, 3);
	ASSERT_EQ(2, batch(f->dev, f->ep, ctls, res, 2));
	expect_reported(_metadata, f->dev, f->ep, want3, 1, VEPOLLOUT);
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
}

/* 1000 distinct eventfds in one batch, all reported; 1000 DELs, none. */
TEST_F_TIMEOUT(batch, thousand_adds_then_thousand_dels, 300)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args *ctls = calloc(MAX_N, sizeof(*ctls));
	__s32 *res = calloc(MAX_N + 1, sizeof(*res));
	int *efd = calloc(MAX_N, sizeof(*efd));
	bool *hit = calloc(MAX_N, sizeof(*hit));
	unsigned int j;
	int n, i;

	ASSERT_TRUE(ctls && res && efd && hit);
	for (j = 0; j < MAX_N; j++) {
		efd[j] = vp_eventfd(1);
		ASSERT_LE(0, efd[j]);
		set_ctl(&ctls[j], f->ep, VEPOLL_CTL_ADD, efd[j], VEPOLLIN,
			COOKIE(j));
	}
	fill_results(res, MAX_N + 1);
	ASSERT_EQ(MAX_N, batch(f->dev, f->ep, ctls, res, MAX_N));
	for (j = 0; j < MAX_N; j++) {
		ASSERT_EQ(0, res[j]) {
			TH_LOG("ADD results[%u]", j);
		}
	}
	ASSERT_EQ(SENTINEL, res[MAX_N]);
	ASSERT_EQ(MAX_N, watch_count(f->ep));
	n = vp_wait(f->dev, f->ep, f->ev, 2 * MAX_N, 0);
	ASSERT_EQ(MAX_N, n);
	for (i = 0; i < n; i++) {
		unsigned int x = INDEX(f->ev[i].data);

		ASSERT_EQ(COOKIE(x), f->ev[i].data);
		ASSERT_GT((unsigned int)MAX_N, x);
		ASSERT_FALSE(hit[x]);
		hit[x] = true;
		ASSERT_EQ(VEPOLLIN, f->ev[i].events);
	}

	for (j = 0; j < MAX_N; j++)
		set_ctl(&ctls[j], f->ep, VEPOLL_CTL_DEL, efd[j], 0, 0);
	fill_results(res, MAX_N + 1);
	ASSERT_EQ(MAX_N, batch(f->dev, f->ep, ctls, res, MAX_N));
	for (j = 0; j < MAX_N; j++) {
		ASSERT_EQ(0, res[j]) {
			TH_LOG("DEL results[%u]", j);
		}
	}
	ASSERT_EQ(SENTINEL, res[MAX_N]);
	EXPECT_EQ(0, watch_count(f->ep));
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 2 * MAX_N, 0));
	for (j = 0; j < MAX_N; j++)
		close(efd[j]);
	free(hit);
	free(efd);
	free(res);
	free(ctls);
}

/* ---- instances added through a batch ------------------------------------- */

/* @n instances, each watching an eventfd of its own (not ready). */
struct inner {
	int n;
	int ep[32], efd[32];
};

static void inner_open(struct __test_metadata *_metadata, int dev,
		       struct inner *in, int n)
{
	int i;

	ASSERT_GE(32, n);
	for (in->n = 0; in->n < n; in->n++) {
		i = in->n;
		in->ep[i] = vp_create(dev, VEPOLL_CLOEXEC);
		in->efd[i] = vp_eventfd(0);
		ASSERT_LE(0, in->ep[i]);
		ASSERT_LE(0, in->efd[i]);
		ASSERT_EQ(0, vp_ctl(dev, in->ep[i], VEPOLL_CTL_ADD, in->efd[i],
				    VEPOLLIN, 0x1000 + i));
	}
}

static void inner_close(struct inner *in)
{
	while (in->n > 0) {
		in->n--;
		close(in->ep[in->n]);
		close(in->efd[in->n]);
	}
}

/*
 * 65 ADDs, every fourth of an instance (the registry mutex path), across
 * both chunk sizes; the instances report through the outer one.
 */
TEST_F(batch, instances_mixed_with_plain_targets)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args ctls[65];
	struct inner in;
	__s32 res[66];
	unsigned int j;
	int n, i, x;

	inner_open(_metadata, f->dev, &in, 17);
	for (j = 0; j < 65; j++)
		set_ctl(&ctls[j], f->ep, VEPOLL_CTL_ADD,
			j % 4 ? f->pool.fd[j] : in.ep[j / 4], VEPOLLIN,
			COOKIE(j));
	fill_results(res, 66);
	ASSERT_EQ(65, batch(f->dev, f->ep, ctls, res, 65));
	for (j = 0; j < 65; j++) {
		ASSERT_EQ(0, res[j]) {
			TH_LOG("results[%u]", j);
		}
	}
	ASSERT_EQ(SENTINEL, res[65]);
	ASSERT_EQ(65, watch_count(f->ep));
	/* The 48 plain ones are ready; no instance is, yet. */
	n = vp_wait(f->dev, f->ep, f->ev, 2 * MAX_N, 0);
	ASSERT_EQ(48, n);
	for (i = 0; i < n; i++) {
		ASSERT_NE(0U, INDEX(f->ev[i].data) % 4) {
			TH_LOG("event %d", i);
		}
	}
	/* Inner instance 5 (entry 20) becomes ready. */
	ASSERT_EQ(0, vp_eventfd_add(in.efd[5], 1));
	n = vp_wait(f->dev, f->ep, f->ev, 2 * MAX_N, 0);
	ASSERT_EQ(49, n);
	x = vp_find(f->ev, n, COOKIE(20));
	ASSERT_LE(0, x);
	EXPECT_EQ(VEPOLLIN, f->ev[x].events);
	ASSERT_EQ(1, vp_wait(f->dev, in.ep[5], f->ev, 4, 0));
	EXPECT_EQ(0x1005U, f->ev[0].data);

	/* And all of them deleted by one batch. */
	for (j = 0; j < 65; j++)
		ctls[j].op = VEPOLL_CTL_DEL;
	fill_results(res, 66);
	ASSERT_EQ(65, batch(f->dev, f->ep, ctls, res, 65));
	EXPECT_EQ(0, watch_count(f->ep));
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	inner_close(&in);
}

/*
 * ELOOP at entry k of a batch mixing instances and plain targets: the
 * entries before it are in, the ones after it are not, and the instance
 * and registry locks were let go (a CTL after it does not hang).
 */
TEST_F_TIMEOUT(batch, eloop_cycle_in_mid_batch, 120)
{
	struct bfix *f = &self->f;
	const unsigned int at[] = { 0, 1, 3, 15, 16, 17, 63, 64 };
	struct vepoll_ctl_args ctls[68];
	unsigned int c, j;
	struct inner in;
	__s32 res[69];
	int ep, cyc;

	inner_open(_metadata, f->dev, &in, 18);
	for (c = 0; c < ARRAY_SIZE(at); c++) {
		unsigned int k = at[c], n = k + 4;

		ep = vp_create(f->dev, VEPOLL_CLOEXEC);
		cyc = vp_create(f->dev, VEPOLL_CLOEXEC);
		ASSERT_LE(0, ep);
		ASSERT_LE(0, cyc);
		ASSERT_EQ(0, vp_ctl(f->dev, cyc, VEPOLL_CTL_ADD, ep,
				    VEPOLLIN, 0));
		for (j = 0; j < n; j++)
			set_ctl(&ctls[j], ep, VEPOLL_CTL_ADD,
				j == k ? cyc : j % 4 ? f->pool.fd[j] :
				in.ep[j / 4], VEPOLLIN, COOKIE(j));
		fill_results(res, n + 1);
		ASSERT_EQ((int)k, batch(f->dev, ep, ctls, res, n)) {
			TH_LOG("cycle at entry %u", k);
		}
		for (j = 0; j < k; j++) {
			ASSERT_EQ(0, res[j]) {
				TH_LOG("results[%u], cycle at %u", j, k);
			}
		}
		ASSERT_EQ(-ELOOP, res[k]);
		for (j = k + 1; j <= n; j++) {
			ASSERT_EQ(SENTINEL, res[j]) {
				TH_LOG("results[%u], cycle at %u", j, k);
			}
		}
		ASSERT_EQ((int)k, watch_table(ep, f->tab, f->nofile));
		for (j = 0; j < n; j++) {
			int fd = j % 4 ? f->pool.fd[j] : in.ep[j / 4];

			if (j == k)
				continue;
			ASSERT_EQ(j < k, f->tab[fd].on) {
				TH_LOG("cycle at %u: entry %u", k, j);
			}
		}
		ASSERT_FALSE(f->tab[cyc].on);
		/* Single CTLs agree, and the locks are free. */
		EXPECT_EQ(-ELOOP, vp_ctl(f->dev, ep, VEPOLL_CTL_ADD, cyc,
					 VEPOLLIN, 0));
		EXPECT_EQ(0, vp_ctl(f->dev, ep, VEPOLL_CTL_ADD,
				    in.ep[17], VEPOLLIN, 0));
		EXPECT_EQ(0, vp_ctl(f->dev, cyc, VEPOLL_CTL_DEL, ep, 0, 0));
		EXPECT_EQ(0, vp_ctl(f->dev, ep, VEPOLL_CTL_ADD, cyc,
				    VEPOLLIN, 0));
		close(cyc);
		close(ep);
	}
	inner_close(&in);
}

/*
 * A chain of exactly NEST_MAX instances is allowed, one more is ELOOP,
 * in the same batch; events cross all five levels.
 */
TEST_F(batch, eloop_depth_in_mid_batch)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { COOKIE(0), COOKIE(1) };
	struct vepoll_ctl_args ctls[4];
	int d[NEST_MAX], i, p[2];
	__s32 res[5];

	ASSERT_EQ(0, vp_pipe(p));
	/* d[0] -> d[1] -> d[2] -> d[3] -> d[4] -> p[0]. */
	for (i = NEST_MAX - 1; i >= 0; i--) {
		d[i] = vp_create(f->dev, VEPOLL_CLOEXEC);
		ASSERT_LE(0, d[i]);
		ASSERT_EQ(0, vp_ctl(f->dev, d[i], VEPOLL_CTL_ADD,
				    i == NEST_MAX - 1 ? p[0] : d[i + 1],
				    VEPOLLIN, i));
	}
	/* ep -> d[1] .. d[4]: 5 deep, fine; ep -> d[0] ..: 6, ELOOP. */
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, f->pool.fd[0],
		VEPOLLIN, COOKIE(0));
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, d[1], VEPOLLIN,
		COOKIE(1));
	set_ctl(&ctls[2], f->ep, VEPOLL_CTL_ADD, d[0], VEPOLLIN,
		COOKIE(2));
	set_ctl(&ctls[3], f->ep, VEPOLL_CTL_ADD, f->pool.fd[3],
		VEPOLLIN, COOKIE(3));
	fill_results(res, 5);
	ASSERT_EQ(2, batch(f->dev, f->ep, ctls, res, 4));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(-ELOOP, res[2]);
	EXPECT_EQ(SENTINEL, res[3]);
	EXPECT_EQ(SENTINEL, res[4]);
	EXPECT_EQ(2, watch_count(f->ep));
	EXPECT_EQ(-ELOOP, vp_ctl(f->dev, f->ep, VEPOLL_CTL_ADD, d[0],
				 VEPOLLIN, 0));
	ASSERT_EQ(1, vp_write_bytes(p[1], 1));
	expect_reported(_metadata, f->dev, f->ep, want, 2, VEPOLLIN);
	for (i = 0; i < NEST_MAX; i++)
		close(d[i]);
	close(p[0]);
	close(p[1]);
}

/* A batch makes ep watch b; a later batch on b cannot watch ep. */
TEST_F(batch, cycle_across_two_batches)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args ctls[3];
	__s32 res[4];
	int b = vp_create(f->dev, VEPOLL_CLOEXEC);

	ASSERT_LE(0, b);
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_ADD, b, VEPOLLIN, 1);
	ASSERT_EQ(1, batch(f->dev, f->ep, ctls, res, 1));
	set_ctl(&ctls[0], b, VEPOLL_CTL_ADD, f->p[1], VEPOLLOUT, 2);
	set_ctl(&ctls[1], b, VEPOLL_CTL_ADD, f->ep, VEPOLLIN, 3);
	set_ctl(&ctls[2], b, VEPOLL_CTL_DEL, f->p[1], 0, 0);
	fill_results(res, 4);
	ASSERT_EQ(1, batch(f->dev, b, ctls, res, 3));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(-ELOOP, res[1]);
	EXPECT_EQ(SENTINEL, res[2]);
	EXPECT_EQ(1, watch_count(b));
	/* b is ready (p[1] writable), so ep reports it. */
	ASSERT_EQ(1, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	EXPECT_EQ(1U, f->ev[0].data);
	EXPECT_EQ(VEPOLLIN, f->ev[0].events);
	close(b);
}

/* DEL, re-ADD and MOD of an instance target in one batch. */
TEST_F(batch, del_readd_mod_of_an_instance)
{
	struct bfix *f = &self->f;
	const __u64 want[] = { 3 };
	struct vepoll_ctl_args ctls[3];
	__u64 data = 0;
	__s32 res[4];
	int b = vp_create(f->dev, VEPOLL_CLOEXEC);

	ASSERT_LE(0, b);
	ASSERT_EQ(0, vp_ctl(f->dev, f->ep, VEPOLL_CTL_ADD, b, VEPOLLIN,
			    1));
	ASSERT_EQ(0, vp_ctl(f->dev, b, VEPOLL_CTL_ADD, f->p[1],
			    VEPOLLOUT, 0));
	set_ctl(&ctls[0], f->ep, VEPOLL_CTL_DEL, b, 0, 0);
	set_ctl(&ctls[1], f->ep, VEPOLL_CTL_ADD, b, VEPOLLIN, 2);
	set_ctl(&ctls[2], f->ep, VEPOLL_CTL_MOD, b, VEPOLLIN | VEPOLLET, 3);
	fill_results(res, 4);
	ASSERT_EQ(3, batch(f->dev, f->ep, ctls, res, 3));
	EXPECT_EQ(SENTINEL, res[3]);
	EXPECT_EQ(1, watch_count(f->ep));
	EXPECT_EQ(1, watched_data(f, f->ep, b, &data));
	EXPECT_EQ(3U, data);
	expect_reported(_metadata, f->dev, f->ep, want, 1, VEPOLLIN);
	EXPECT_EQ(0, vp_wait(f->dev, f->ep, f->ev, 4, 0));
	close(b);
}

/* ---- batches against each other, and against a waiter -------------------- */

struct racer {
	int dev, ep, other, fd, iters;
	int added, eloop, bad, bad_ret, bad_res[3];
	pthread_barrier_t *go;
	int *stop;
};

/*
 * [ADD fd, ADD other, DEL fd] on ep, while another racer does the same
 * with the roles swapped: each ADD of the other instance either succeeds
 * (then it is deleted again) or is ELOOP, never anything else.
 */
static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	struct vepoll_ctl_args ctls[3];
	__s32 res[3];
	int i, ret;

	set_ctl(&ctls[0], r->ep, VEPOLL_CTL_ADD, r->fd, VEPOLLIN, 1);
	set_ctl(&ctls[1], r->ep, VEPOLL_CTL_ADD, r->other, VEPOLLIN, 2);
	set_ctl(&ctls[2], r->ep, VEPOLL_CTL_DEL, r->fd, 0, 0);
	pthread_barrier_wait(r->go);
	for (i = 0; i < r->iters; i++) {
		fill_results(res, 3);
		ret = batch(r->dev, r->ep, ctls, res, 3);
		if (ret == 3 && !res[0] && !res[1] && !res[2]) {
			r->added++;
			if (vp_ctl(r->dev, r->ep, VEPOLL_CTL_DEL, r->other, 0,
				   0))
				r->bad++;
			continue;
		}
		if (ret == 1 && !res[0] && res[1] == -ELOOP &&
		    res[2] == SENTINEL) {
			r->eloop++;
			if (vp_ctl(r->dev, r->ep, VEPOLL_CTL_DEL, r->fd, 0, 0))
				r->bad++;
			continue;
		}
		if (!r->bad++) {
			r->bad_ret = ret;
			memcpy(r->bad_res, res, sizeof(res));
		}
	}
	return NULL;
}

/* Waits on both instances while the racers run (nested polls). */
static void *poller_fn(void *arg)
{
	struct racer *r = arg;
	struct vepoll_event ev[4];

	pthread_barrier_wait(r->go);
	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE)) {
		vp_wait(r->dev, r->ep, ev, 4, 0);
		vp_wait(r->dev, r->other, ev, 4, 0);
	}
	return NULL;
}

TEST_F_TIMEOUT(batch, racing_cross_batches_never_close_a_cycle, 300)
{
	struct bfix *f = &self->f;
	struct racer r[3];
	pthread_barrier_t go;
	int stop = 0;
	pthread_t t[3];
	int b, i;

	b = vp_create(f->dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 3));
	for (i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].dev = f->dev;
		r[i].ep = i == 1 ? b : f->ep;
		r[i].other = i == 1 ? f->ep : b;
		r[i].fd = f->pool.fd[i];
		r[i].iters = 1000;
		r[i].go = &go;
		r[i].stop = &stop;
	}
	ASSERT_EQ(0, pthread_create(&t[0], NULL, racer_fn, &r[0]));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, racer_fn, &r[1]));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, poller_fn, &r[2]));
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(t[2], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < 2; i++) {
		TH_LOG("racer %d: %d added, %d ELOOP", i, r[i].added,
		       r[i].eloop);
		EXPECT_EQ(0, r[i].bad) {
			TH_LOG("racer %d: ioctl %d, results %d %d %d", i,
			       r[i].bad_ret, r[i].bad_res[0],
			       r[i].bad_res[1], r[i].bad_res[2]);
		}
		EXPECT_EQ(r[i].iters, r[i].added + r[i].eloop);
	}
	EXPECT_EQ(0, watch_count(f->ep));
	EXPECT_EQ(0, watch_count(b));
	close(b);
}

struct waiter {
	int dev, ep, ret;
	struct vepoll_event ev;
	int64_t woke_ms;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->ret = vp_wait(w->dev, w->ep, &w->ev, 1, 20000);
	w->woke_ms = vp_now_ms();
	return NULL;
}

/* The last entry of a 1000-entry batch wakes a blocked waiter. */
TEST_F_TIMEOUT(batch, last_entry_of_a_batch_wakes_a_waiter, 120)
{
	struct bfix *f = &self->f;
	struct vepoll_ctl_args *ctls = calloc(MAX_N, sizeof(*ctls));
	__s32 *res = calloc(MAX_N, sizeof(*res));
	struct waiter w = { .dev = f->dev, .ep = f->ep };
	struct pool quiet;
	unsigned int j;
	int64_t start;
	pthread_t t;

	ASSERT_TRUE(ctls && res);
	pool_init(&quiet);
	pool_open(_metadata, &quiet, MAX_N - 1, 0);
	for (j = 0; j < MAX_N - 1; j++)
		set_ctl(&ctls[j], f->ep, VEPOLL_CTL_ADD, quiet.fd[j],
			VEPOLLIN, COOKIE(j));
	set_ctl(&ctls[MAX_N - 1], f->ep, VEPOLL_CTL_ADD, f->p[0],
		VEPOLLIN, COOKIE(MAX_N - 1));
	ASSERT_EQ(1, vp_write_bytes(f->p[1], 1));
	ASSERT_EQ(0, pthread_create(&t, NULL, waiter_fn, &w));
	vp_msleep(200);
	start = vp_now_ms();
	ASSERT_EQ(MAX_N, batch(f->dev, f->ep, ctls, res, MAX_N));
	pthread_join(t, NULL);
	ASSERT_EQ(1, w.ret);
	EXPECT_EQ(COOKIE(MAX_N - 1), w.ev.data);
	EXPECT_EQ(VEPOLLIN, w.ev.events);
	EXPECT_GT(10000, w.woke_ms - start);
	pool_close(&quiet);
	free(res);
	free(ctls);
}

TEST_HARNESS_MAIN
