// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_bench - vepoll vs. native epoll vs. poll(2), side by side
 *
 * Every figure is the median of several repetitions; within one repetition
 * the implementations run one after the other, in an order that rotates
 * from one repetition to the next, so that all of them see the same machine
 * (this matters in an emulated VM, whose speed drifts).
 *
 *   wait-hot     N registered pipes, one readable, level-triggered,
 *                timeout 0: ns per wait, N = 1, 10, 100, 1000
 *   ctl churn    ADD then DEL of one fd: ns per pair
 *   ping-pong    two threads pass a token through two eventfds, each
 *                blocked in a wait with timeout -1: round trips per second
 *   mass-ready   1000 ready eventfds, maxevents 64, level-triggered:
 *                events delivered per second
 *   idle CPU     CPU time of a thread blocked in a wait with nothing ready
 *   batch        1000 ADDs as one VEPOLL_IOC_CTL_BATCH, as 1000
 *                VEPOLL_IOC_CTLs, as 1000 epoll_ctl()s: ns per ADD
 *   rearm        a VEPOLLONESHOT watch re-armed and waited for, in a loop:
 *                one WAIT2 carrying the MOD, vs. CTL(MOD) then WAIT, vs.
 *                epoll_ctl(MOD) then epoll_wait: ns per re-arm
 *   ladder       cheap calls that stop at successive points of the WAIT
 *                and CTL paths (ENOTTY, EINVAL, EBADF, ENOENT, empty set),
 *                to tell where the time of a call goes
 *
 * Output: a table on stdout, then the same results as JSON and as CSV,
 * each between marker lines (scripts/bench.sh cuts them out of the VM's
 * console, since the guest cannot write into the repository).
 *
 * usage: vepoll_bench [--quick] [--reps N] [--sample-ms MS] [--idle-ms MS]
 *                     [--only TEST,...]
 *        vepoll_bench --loop NAME [--impl vepoll|epoll|poll] [--n N]
 *                     [--seconds S]
 *
 * --loop runs one inner loop for S seconds and prints its ns per
 * operation: the thing to run under perf (bench/profile.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "vepoll_uapi.h"

#define DEV_PATH	"/dev/vepoll"
#define MAX_REPS	64
#define MASS_N		1000
#define MASS_MAXEV	64
#define BATCH_N		1000
#define IDLE_FDS	10
#define NOFILE_WANT	16384
#define SETTLE_MS	300	/* pause between two tests */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MARK_TABLE_BEGIN "----- vepoll-bench table begin -----"
#define MARK_TABLE_END	 "----- vepoll-bench table end -----"
#define MARK_JSON_BEGIN	 "----- vepoll-bench json begin -----"
#define MARK_JSON_END	 "----- vepoll-bench json end -----"
#define MARK_CSV_BEGIN	 "----- vepoll-bench csv begin -----"
#define MARK_CSV_END	 "----- vepoll-bench csv end -----"

/* ---- configuration --------------------------------------------------- */

static struct {
	bool quick;
	int reps;
	double sample_ns;	/* wanted length of one timed sample */
	int idle_ms;
	int idle_reps;
	bool allow_missing;	/* run without /dev/vepoll (host testing) */
} cfg = {
	.reps = 61,
	.sample_ns = 1e6,
	.idle_ms = 2000,
	.idle_reps = 5,
};

static int devfd = -1;		/* /dev/vepoll, or -1 when allowed missing */
static uint64_t sink;		/* keeps harvested data alive */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "vepoll_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vepoll_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- the three implementations behind one interface ------------------- */

enum kind { K_VEPOLL, K_EPOLL, K_POLL, NKIND };
static const char *const kind_name[NKIND] = { "vepoll", "epoll", "poll" };

struct evset {
	enum kind kind;
	int fd;				/* vepoll instance or epoll fd */
	struct pollfd *pfd;		/* poll(2): the registered fds */
	int n, cap;
	struct vepoll_event *vev;	/* result buffers */
	struct epoll_event *eev;
	int maxev;
};

static int vp_ctl(int epfd, unsigned int op, int fd, uint32_t events,
		  uint64_t data)
{
	struct vepoll_ctl_args a = {
		.epfd = epfd, .op = op, .fd = fd,
		.event = { .events = events, .data = data },
	};

	return ioctl(devfd, VEPOLL_IOC_CTL, &a) < 0 ? -errno : 0;
}

static int vp_wait(int epfd, struct vepoll_event *ev, int maxev, int timeout)
{
	struct vepoll_wait_args a = {
		.epfd = epfd, .timeout_ms = timeout, .maxevents = maxev,
		.events = (uintptr_t)ev,
	};
	int r = ioctl(devfd, VEPOLL_IOC_WAIT, &a);

	return r < 0 ? -errno : r;
}

static void set_init(struct evset *s, enum kind impl, int maxev)
{
	memset(s, 0, sizeof(*s));
	s->kind = impl;
	s->fd = -1;
	s->maxev = maxev;
	switch (impl) {
	case K_VEPOLL:
		s->fd = ioctl(devfd, VEPOLL_IOC_CREATE, 0);
		if (s->fd < 0)
			die("VEPOLL_IOC_CREATE: %s", strerror(errno));
		s->vev = calloc(maxev, sizeof(*s->vev));
		break;
	case K_EPOLL:
		s->fd = epoll_create1(0);
		if (s->fd < 0)
			die("epoll_create1: %s", strerror(errno));
		s->eev = calloc(maxev, sizeof(*s->eev));
		break;
	case K_POLL:
		break;
	default:
		abort();
	}
}

static void set_free(struct evset *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->pfd);
	free(s->vev);
	free(s->eev);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int set_add(struct evset *s, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	switch (s->kind) {
	case K_VEPOLL:
		return vp_ctl(s->fd, VEPOLL_CTL_ADD, fd, events, data);
	case K_EPOLL:
		return epoll_ctl(s->fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
	case K_POLL:
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 16;
			s->pfd = realloc(s->pfd, s->cap * sizeof(*s->pfd));
			if (!s->pfd)
				die("out of memory");
		}
		s->pfd[s->n].fd = fd;
		s->pfd[s->n].events = events;
		s->pfd[s->n].revents = 0;
		s->n++;
		return 0;
	default:
		abort();
	}
}

static int set_del(struct evset *s, int fd)
{
	int i;

	switch (s->kind) {
	case K_VEPOLL:
		return vp_ctl(s->fd, VEPOLL_CTL_DEL, fd, 0, 0);
	case K_EPOLL:
		return epoll_ctl(s->fd, EPOLL_CTL_DEL, fd, NULL) ? -errno : 0;
	case K_POLL:
		for (i = 0; i < s->n; i++)
			if (s->pfd[i].fd == fd) {
				s->pfd[i] = s->pfd[--s->n];
				return 0;
			}
		return -ENOENT;
	default:
		abort();
	}
}

/*
 * One wait, harvest included: the caller gets the number of events it can
 * now act on. poll(2) has no maxevents; its caller scans the array, and is
 * given every ready fd (up to @maxev, which the mass-ready test sets to
 * the number of fds).
 */
static int set_wait(struct evset *s, int maxev, int timeout)
{
	int r, i, got;

	switch (s->kind) {
	case K_VEPOLL:
		r = vp_wait(s->fd, s->vev, maxev, timeout);
		if (r > 0)
			sink += s->vev[r - 1].data;
		return r;
	case K_EPOLL:
		r = epoll_wait(s->fd, s->eev, maxev, timeout);
		if (r < 0)
			return -errno;
		if (r > 0)
			sink += s->eev[r - 1].data.u64;
		return r;
	case K_POLL:
		r = poll(s->pfd, s->n, timeout);
		if (r <= 0)
			return r < 0 ? -errno : 0;
		for (i = 0, got = 0; i < s->n && got < r && got < maxev; i++)
			if (s->pfd[i].revents) {
				sink += i;
				got++;
			}
		return got;
	default:
		abort();
	}
}

/* ---- measurement ------------------------------------------------------ */

struct sample {
	double ns;	/* time measured */
	double units;	/* work done in it (calls, events, ADDs, ...) */
};

/* Run @iters of variant @var; return the time and the work done. */
typedef struct sample (*sample_fn)(void *ctx, int var, long iters);

struct series {
	int n;
	double v[MAX_REPS];
	double med, min, max;
	double q1, q3;		/* quartiles */
};

/* The @p quantile of sorted @v[0..n), linearly interpolated. */
static double quantile(const double *v, int n, double p)
{
	double x = p * (n - 1);
	int i = (int)x;

	return i + 1 < n ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[n - 1];
}

static void series_finish(struct series *s)
{
	double tmp[MAX_REPS];

	memcpy(tmp, s->v, s->n * sizeof(double));
	qsort(tmp, s->n, sizeof(double), cmp_double);
	s->min = tmp[0];
	s->max = tmp[s->n - 1];
	s->med = quantile(tmp, s->n, 0.5);
	s->q1 = quantile(tmp, s->n, 0.25);
	s->q3 = quantile(tmp, s->n, 0.75);
}

/* Length of one sample, in units of cfg.sample_ns (ping-pong: longer). */
static double sample_scale = 1;

/* Iterations for one sample of about cfg.sample_ns (the runs warm up too). */
static long calibrate(sample_fn fn, void *ctx, int var, long max_iters)
{
	double target = cfg.sample_ns * sample_scale, want;
	long iters = 1;
	struct sample s;

	for (;;) {
		s = fn(ctx, var, iters);
		if (s.ns >= target / 8 || iters >= max_iters)
			break;
		iters *= s.ns < target / 200 ? 16 : 4;
		if (iters > max_iters)
			iters = max_iters;
	}
	want = target / (s.ns / iters);
	if (want < 1)
		want = 1;
	return want > max_iters ? max_iters : (long)want;
}

/*
 * Measure variants 0..@nvar-1 of @fn, interleaved: repetition r runs them
 * starting at variant r % nvar. @rate: report units per second instead
 * of ns per unit.
 */
static void measure(sample_fn fn, void *ctx, int nvar, const bool *skip,
		    bool rate, long max_iters, struct series *out)
{
	long iters[NKIND + 1];
	int r, k, v;

	for (v = 0; v < nvar; v++) {
		out[v].n = 0;
		if (!skip || !skip[v])
			iters[v] = calibrate(fn, ctx, v, max_iters);
	}
	for (r = 0; r < cfg.reps; r++)
		for (k = 0; k < nvar; k++) {
			struct sample s;

			v = (r + k) % nvar;
			if (skip && skip[v])
				continue;
			s = fn(ctx, v, iters[v]);
			out[v].v[out[v].n++] = rate ? s.units * 1e9 / s.ns :
						      s.ns / s.units;
		}
	for (v = 0; v < nvar; v++)
		if (out[v].n)
			series_finish(&out[v]);
}

/* ---- results ---------------------------------------------------------- */

/*
 * One table row: a value per implementation column (vepoll, epoll, poll),
 * each a measured series or a derived number, and the ratio vepoll/epoll.
 */
struct row {
	const char *test;	/* machine name: wait-hot, ctl-churn, ... */
	char param[24];		/* N=10, ... */
	char label[64];		/* human label */
	const char *unit;	/* ns/wait, rt/s, ... */
	bool higher_better;
	bool has[NKIND];
	struct series s[NKIND];	/* n == 0: derived, only med is set */
	bool has_ratio;
	double ratio;		/* vepoll / epoll */
	struct series ratio_s;	/* per-repetition ratios, when paired */
	const char *note;
};

static struct row rows[64];
static int nrows;

static struct row *row_new(const char *test, const char *param,
			   const char *label, const char *unit,
			   bool higher_better)
{
	struct row *r;

	if (nrows == (int)ARRAY_SIZE(rows))
		die("too many rows");
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	r->test = test;
	snprintf(r->param, sizeof(r->param), "%s", param);
	snprintf(r->label, sizeof(r->label), "%s", label);
	r->unit = unit;
	r->higher_better = higher_better;
	return r;
}

static void row_set(struct row *r, enum kind k, const struct series *s)
{
	if (!s->n)
		return;
	r->has[k] = true;
	r->s[k] = *s;
}

static void row_set_value(struct row *r, enum kind k, double v)
{
	r->has[k] = true;
	r->s[k].n = 0;
	r->s[k].med = v;
	r->s[k].min = v;
	r->s[k].max = v;
	r->s[k].q1 = v;
	r->s[k].q3 = v;
}

/*
 * vepoll / epoll. Both measured: the median of the per-repetition ratios,
 * each taken between two samples that ran back to back, so that a drift of
 * the machine's speed cancels out. Derived values: their plain ratio.
 */
static void row_ratio(struct row *r)
{
	const struct series *v = &r->s[K_VEPOLL], *e = &r->s[K_EPOLL];
	struct series q = { 0 };
	int i;

	if (!r->has[K_VEPOLL] || !r->has[K_EPOLL] || !(e->med > 0))
		return;
	r->has_ratio = true;
	if (v->n < 1 || v->n != e->n) {
		r->ratio = v->med / e->med;
		return;
	}
	for (i = 0; i < v->n; i++)
		if (e->v[i] > 0)
			q.v[q.n++] = v->v[i] / e->v[i];
	if (!q.n) {
		r->has_ratio = false;
		return;
	}
	series_finish(&q);
	r->ratio = q.med;
	r->ratio_s = q;
}

static void fmt_value(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.3g", v);
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

/* Half the interquartile range, in percent of the median. */
static double spread(const struct series *s)
{
	return 50.0 * (s->q3 - s->q1) / s->med;
}

/* The median, with the spread of the repetitions. */
static void fmt_cell(char *buf, size_t len, const struct row *r, enum kind k)
{
	char v[32];

	if (!r->has[k]) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_value(v, sizeof(v), r->s[k].med);
	if (r->s[k].n > 2 && r->s[k].med > 0)
		snprintf(buf, len, "%s ±%.0f%%", v, spread(&r->s[k]));
	else
		snprintf(buf, len, "%s", v);
}

static const char *read_clocksource(void);

static void print_table(void)
{
	const char *last = NULL;
	struct utsname u;
	int i, k;

	uname(&u);
	printf("%s\n", MARK_TABLE_BEGIN);
	printf("%-44s %-9s %16s %16s %16s %12s\n", "benchmark", "unit",
	       "vepoll", "epoll", "poll", "vp/ep");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		char name[96], cell[NKIND][40], ratio[32] = "-";

		if (last && strncmp(last, r->test, strcspn(r->test, "-")))
			printf("\n");
		last = r->test;
		snprintf(name, sizeof(name), "%s%s%s", r->label,
			 r->param[0] ? " " : "", r->param);
		for (k = 0; k < NKIND; k++)
			fmt_cell(cell[k], sizeof(cell[k]), r, k);
		if (r->has_ratio && r->ratio_s.n > 2)
			snprintf(ratio, sizeof(ratio), "%.2f ±%.0f%%", r->ratio,
				 spread(&r->ratio_s));
		else if (r->has_ratio)
			snprintf(ratio, sizeof(ratio), "%.2f", r->ratio);
		printf("%-44s %-9s %16s %16s %16s %12s\n", name, r->unit,
		       cell[0], cell[1], cell[2], ratio);
		if (r->note)
			printf("    (%s)\n", r->note);
	}
	printf("\nmedians of %d interleaved repetitions (idle: %d); ±: half the"
	       " interquartile range, in %% of the median;\nvp/ep = median of the"
	       " per-repetition ratios vepoll / epoll (ns, CPU: >1 is slower;"
	       " per-second rates: <1 is slower)\n",
	       cfg.reps, cfg.idle_reps);
	printf("kernel %s, clocksource %s, %ld CPUs\n", u.release,
	       read_clocksource(), sysconf(_SC_NPROCESSORS_ONLN));
	printf("%s\n", MARK_TABLE_END);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_num(double v)
{
	if (isfinite(v))
		printf("%.6g", v);
	else
		printf("null");
}

/* The guest's clocksource: hpet makes every kernel clock read slow in TCG. */
static const char *read_clocksource(void)
{
	static char buf[32] = "unknown";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
			"current_clocksource", "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

static void print_json(double elapsed_s)
{
	struct utsname u;
	int i, k, j;

	uname(&u);
	printf("%s\n", MARK_JSON_BEGIN);
	printf("{\"tool\": \"vepoll_bench\", \"version\": 1, \"kernel\": ");
	json_str(u.release);
	printf(", \"clocksource\": ");
	json_str(read_clocksource());
	printf(", \"cpus\": %ld", sysconf(_SC_NPROCESSORS_ONLN));
	printf(", \"quick\": %s, \"reps\": %d, \"idle_reps\": %d, "
	       "\"idle_ms\": %d, \"sample_ms\": %g, \"elapsed_s\": %.1f,\n",
	       cfg.quick ? "true" : "false", cfg.reps, cfg.idle_reps,
	       cfg.idle_ms, cfg.sample_ns / 1e6, elapsed_s);
	printf(" \"rows\": [\n");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		printf("  {\"test\": ");
		json_str(r->test);
		printf(", \"param\": ");
		json_str(r->param);
		printf(", \"label\": ");
		json_str(r->label);
		printf(", \"unit\": ");
		json_str(r->unit);
		printf(", \"better\": \"%s\"",
		       r->higher_better ? "higher" : "lower");
		for (k = 0; k < NKIND; k++) {
			const struct series *s = &r->s[k];

			printf(", \"%s\": ", kind_name[k]);
			if (!r->has[k]) {
				printf("null");
				continue;
			}
			printf("{\"median\": ");
			json_num(s->med);
			printf(", \"min\": ");
			json_num(s->min);
			printf(", \"max\": ");
			json_num(s->max);
			printf(", \"q1\": ");
			json_num(s->q1);
			printf(", \"q3\": ");
			json_num(s->q3);
			printf(", \"samples\": [");
			for (j = 0; j < s->n; j++) {
				if (j)
					printf(", ");
				json_num(s->v[j]);
			}
			printf("]}");
		}
		printf(", \"vepoll_over_epoll\": ");
		if (r->has_ratio)
			json_num(r->ratio);
		else
			printf("null");
		if (r->ratio_s.n) {
			printf(", \"vepoll_over_epoll_samples\": [");
			for (j = 0; j < r->ratio_s.n; j++) {
				if (j)
					printf(", ");
				json_num(r->ratio_s.v[j]);
			}
			printf("]");
		}
		if (r->note) {
			printf(", \"note\": ");
			json_str(r->note);
		}
		printf("}%s\n", i + 1 < nrows ? "," : "");
	}
	printf(" ]}\n%s\n", MARK_JSON_END);
}

static void print_csv(void)
{
	int i, k;

	printf("%s\n", MARK_CSV_BEGIN);
	printf("test,param,label,unit,better,impl,median,min,max,samples\n");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		for (k = 0; k < NKIND; k++)
			if (r->has[k])
				printf("%s,%s,\"%s\",%s,%s,%s,%.6g,%.6g,%.6g,%d\n",
				       r->test, r->param, r->label, r->unit,
				       r->higher_better ? "higher" : "lower",
				       kind_name[k], r->s[k].med, r->s[k].min,
				       r->s[k].max, r->s[k].n);
		if (r->has_ratio)
			printf("%s,%s,\"%s\",ratio,lower,vepoll/epoll,%.6g,,,\n",
			       r->test, r->param, r->label, r->ratio);
	}
	printf("%s\n", MARK_CSV_END);
}

/* ---- targets ---------------------------------------------------------- */

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= NOFILE_WANT)
		return;
	rl.rlim_cur = NOFILE_WANT;
	if (rl.rlim_max < NOFILE_WANT)
		rl.rlim_max = NOFILE_WANT;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		/* Unprivileged: as far as the hard limit goes. */
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * 1000 + MASS_N + BATCH_N + 64)
			die("RLIMIT_NOFILE is %lu, need about %d",
			    (unsigned long)rl.rlim_cur,
			    2 * 1000 + MASS_N + BATCH_N + 64);
	}
}

static void make_pipe(int p[2])
{
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
}

static int make_eventfd(unsigned int val)
{
	int fd = eventfd(val, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		die("eventfd: %s", strerror(errno));
	return fd;
}

static bool have(enum kind k)
{
	return k != K_VEPOLL || devfd >= 0;
}

static void skip_missing(bool skip[NKIND])
{
	int k;

	for (k = 0; k < NKIND; k++)
		skip[k] = !have(k);
}

/* ---- 1. wait-hot ------------------------------------------------------ */

struct hot {
	int n;
	int (*p)[2];
	struct evset set[NKIND];
};

static void hot_setup(struct hot *h, int n)
{
	int i, k;

	h->n = n;
	h->p = calloc(n, sizeof(*h->p));
	for (i = 0; i < n; i++)
		make_pipe(h->p[i]);
	/* The one readable pipe sits in the middle of poll's array. */
	if (write(h->p[n / 2][1], "x", 1) != 1)
		die("write: %s", strerror(errno));
	for (k = 0; k < NKIND; k++) {
		if (!have(k))
			continue;
		set_init(&h->set[k], k, 16);
		for (i = 0; i < n; i++)
			if (set_add(&h->set[k], h->p[i][0], EPOLLIN, i))
				die("%s ADD pipe %d of %d: %s", kind_name[k],
				    i, n, strerror(errno));
	}
}

static void hot_teardown(struct hot *h)
{
	int i, k;

	for (k = 0; k < NKIND; k++)
		if (have(k))
			set_free(&h->set[k]);
	for (i = 0; i < h->n; i++) {
		close(h->p[i][0]);
		close(h->p[i][1]);
	}
	free(h->p);
}

static struct sample hot_sample(void *ctx, int var, long iters)
{
	struct hot *h = ctx;
	struct evset *s = &h->set[var];
	double t0, t1;
	long i;
	int r;

	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		r = set_wait(s, 16, 0);
		if (r != 1)
			die("%s wait-hot N=%d: got %d", kind_name[var], h->n,
			    r);
	}
	t1 = now_ns();
	return (struct sample){ t1 - t0, iters };
}

static void bench_wait_hot(void)
{
	static const int ns[] = { 1, 10, 100, 1000 };
	double med[ARRAY_SIZE(ns)][NKIND];
	struct series s[NKIND];
	bool skip[NKIND];
	unsigned int i;
	int k;

	skip_missing(skip);
	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		struct hot h;
		char param[16];
		struct row *r;

		progress("wait-hot N=%d", ns[i]);
		hot_setup(&h, ns[i]);
		measure(hot_sample, &h, NKIND, skip, false, 1L << 26, s);
		hot_teardown(&h);
		snprintf(param, sizeof(param), "N=%d", ns[i]);
		r = row_new("wait-hot", param, "wait-hot, 1 ready, t=0",
			    "ns/wait", false);
		for (k = 0; k < NKIND; k++) {
			row_set(r, k, &s[k]);
			med[i][k] = s[k].n ? s[k].med : NAN;
		}
		row_ratio(r);
	}
	{
		struct row *r = row_new("wait-hot-scaling", "N=1000/N=10",
					"wait-hot scaling", "ratio", false);

		for (k = 0; k < NKIND; k++)
			if (!skip[k])
				row_set_value(r, k, med[3][k] / med[1][k]);
		row_ratio(r);
	}
}

/* ---- 2. ctl churn ----------------------------------------------------- */

struct churn {
	int p[2];
	struct evset set[2];
};

static struct sample churn_sample(void *ctx, int var, long iters)
{
	struct churn *c = ctx;
	struct evset *s = &c->set[var];
	double t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		if (set_add(s, c->p[0], EPOLLIN, i))
			die("%s churn ADD: %s", kind_name[var], strerror(errno));
		if (set_del(s, c->p[0]))
			die("%s churn DEL: %s", kind_name[var], strerror(errno));
	}
	t1 = now_ns();
	return (struct sample){ t1 - t0, iters };
}

static void bench_ctl_churn(void)
{
	struct churn c;
	struct series s[2];
	bool skip[2] = { !have(K_VEPOLL), false };
	struct row *r;
	int k;

	progress("ctl churn");
	make_pipe(c.p);
	for (k = 0; k < 2; k++)
		if (!skip[k])
			set_init(&c.set[k], k, 1);
	measure(churn_sample, &c, 2, skip, false, 1L << 24, s);
	for (k = 0; k < 2; k++)
		if (!skip[k])
			set_free(&c.set[k]);
	close(c.p[0]);
	close(c.p[1]);
	r = row_new("ctl-churn", "", "ctl churn, ADD+DEL of one pipe",
		    "ns/pair", false);
	row_set(r, K_VEPOLL, &s[K_VEPOLL]);
	row_set(r, K_EPOLL, &s[K_EPOLL]);
	r->note = "poll(2) has no kernel-side registration";
	row_ratio(r);
}

/* ---- 2b. fresh targets: ADD of a new file, then its close ------------- */

/*
 * What a server does for every connection: a new socket (or pipe) is
 * watched, then closed with the watch still in place, so the close itself
 * removes it. This is the path where a close-notification scheme shows its
 * cost (a watch per inode would be set up and torn down every time).
 */
enum fresh_kind { FRESH_SOCKET, FRESH_PIPE };

struct fresh {
	enum fresh_kind what;
	struct evset set[2];
};

static struct sample fresh_sample(void *ctx, int var, long iters)
{
	struct fresh *f = ctx;
	struct evset *s = &f->set[var];
	double t0, t1;
	int p[2];
	long i;

	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		if (f->what == FRESH_SOCKET) {
			p[0] = socket(AF_INET, SOCK_STREAM, 0);
			p[1] = -1;
			if (p[0] < 0)
				die("socket: %s", strerror(errno));
		} else {
			make_pipe(p);
		}
		if (set_add(s, p[0], EPOLLIN, i))
			die("%s fresh ADD: %s", kind_name[var], strerror(errno));
		close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
	}
	t1 = now_ns();
	return (struct sample){ t1 - t0, iters };
}

static void bench_fresh(void)
{
	struct fresh f;
	struct series s[2];
	bool skip[2] = { !have(K_VEPOLL), false };
	struct row *r;
	int k;

	for (f.what = FRESH_SOCKET; f.what <= FRESH_PIPE; f.what++) {
		progress("fresh %s", f.what == FRESH_SOCKET ? "socket" : "pipe");
		for (k = 0; k < 2; k++)
			if (!skip[k])
				set_init(&f.set[k], k, 1);
		measure(fresh_sample, &f, 2, skip, false, 1L << 20, s);
		for (k = 0; k < 2; k++)
			if (!skip[k])
				set_free(&f.set[k]);
		r = row_new("fresh-close",
			    f.what == FRESH_SOCKET ? "TCP socket" : "pipe",
			    "fresh file: create, ADD, close:", "ns/file",
			    false);
		row_set(r, K_VEPOLL, &s[K_VEPOLL]);
		row_set(r, K_EPOLL, &s[K_EPOLL]);
		r->note = "the close removes the watch; no DEL";
		row_ratio(r);
	}
}

/* ---- 3. wakeup ping-pong ---------------------------------------------- */

struct pingpong {
	int efd_a, efd_b;		/* A waits on efd_a, B on efd_b */
	struct evset set_a[NKIND], set_b[NKIND];
	int var;
	long iters;
};

static void eventfd_eat(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		die("eventfd read: %s", strerror(errno));
}

static void eventfd_poke(int fd)
{
	uint64_t v = 1;

	if (write(fd, &v, sizeof(v)) != sizeof(v))
		die("eventfd write: %s", strerror(errno));
}

static void *pong_thread(void *arg)
{
	struct pingpong *pp = arg;
	struct evset *s = &pp->set_b[pp->var];
	long i;
	int r;

	/* One more than the timed loop: the untimed first round trip. */
	for (i = 0; i <= pp->iters; i++) {
		r = set_wait(s, 1, -1);
		if (r != 1)
			die("%s pong wait: got %d", kind_name[pp->var], r);
		eventfd_eat(pp->efd_b);
		eventfd_poke(pp->efd_a);
	}
	return NULL;
}

static struct sample pingpong_sample(void *ctx, int var, long iters)
{
	struct pingpong *pp = ctx;
	struct evset *s = &pp->set_a[var];
	pthread_t th;
	double t0, t1;
	long i;
	int r;

	pp->var = var;
	pp->iters = iters;
	if (pthread_create(&th, NULL, pong_thread, pp))
		die("pthread_create failed");
	/* Untimed: the first round trip waits for the new thread to run. */
	eventfd_poke(pp->efd_b);
	if (set_wait(s, 1, -1) != 1)
		die("%s ping wait failed", kind_name[var]);
	eventfd_eat(pp->efd_a);
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		eventfd_poke(pp->efd_b);
		r = set_wait(s, 1, -1);
		if (r != 1)
			die("%s ping wait: got %d", kind_name[var], r);
		eventfd_eat(pp->efd_a);
	}
	t1 = now_ns();
	pthread_join(th, NULL);
	return (struct sample){ t1 - t0, iters };
}

static void bench_pingpong(void)
{
	struct pingpong pp;
	struct series s[NKIND];
	bool skip[NKIND];
	struct row *r;
	int k;

	progress("wakeup ping-pong");
	skip_missing(skip);
	pp.efd_a = make_eventfd(0);
	pp.efd_b = make_eventfd(0);
	for (k = 0; k < NKIND; k++) {
		if (skip[k])
			continue;
		set_init(&pp.set_a[k], k, 1);
		set_init(&pp.set_b[k], k, 1);
		if (set_add(&pp.set_a[k], pp.efd_a, EPOLLIN, 1) ||
		    set_add(&pp.set_b[k], pp.efd_b, EPOLLIN, 2))
			die("%s ping-pong ADD: %s", kind_name[k],
			    strerror(errno));
	}
	/* Each sample starts a thread: make it long enough to not matter. */
	sample_scale = 10;
	measure(pingpong_sample, &pp, NKIND, skip, true, 1L << 22, s);
	sample_scale = 1;
	for (k = 0; k < NKIND; k++)
		if (!skip[k]) {
			set_free(&pp.set_a[k]);
			set_free(&pp.set_b[k]);
		}
	close(pp.efd_a);
	close(pp.efd_b);
	r = row_new("ping-pong", "", "wakeup ping-pong, 2 threads, t=-1",
		    "rt/s", true);
	for (k = 0; k < NKIND; k++)
		row_set(r, k, &s[k]);
	row_ratio(r);
}

/* ---- 4. mass-ready ---------------------------------------------------- */

struct mass {
	int fds[MASS_N];
	struct evset set[NKIND];
};

static struct sample mass_sample(void *ctx, int var, long iters)
{
	struct mass *m = ctx;
	struct evset *s = &m->set[var];
	int maxev = var == K_POLL ? MASS_N : MASS_MAXEV;
	double t0, t1, events = 0;
	long i;
	int r;

	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		r = set_wait(s, maxev, 0);
		if (r != maxev)
			die("%s mass-ready: got %d, want %d", kind_name[var],
			    r, maxev);
		events += r;
	}
	t1 = now_ns();
	return (struct sample){ t1 - t0, events };
}

static void bench_mass_ready(void)
{
	struct mass *m = calloc(1, sizeof(*m));
	struct series s[NKIND];
	bool skip[NKIND];
	struct row *r;
	int i, k;

	progress("mass-ready");
	skip_missing(skip);
	for (i = 0; i < MASS_N; i++)
		m->fds[i] = make_eventfd(1);
	for (k = 0; k < NKIND; k++) {
		if (skip[k])
			continue;
		set_init(&m->set[k], k, MASS_N);
		for (i = 0; i < MASS_N; i++)
			if (set_add(&m->set[k], m->fds[i], EPOLLIN, i))
				die("%s mass ADD: %s", kind_name[k],
				    strerror(errno));
	}
	measure(mass_sample, m, NKIND, skip, true, 1L << 22, s);
	for (k = 0; k < NKIND; k++)
		if (!skip[k])
			set_free(&m->set[k]);
	for (i = 0; i < MASS_N; i++)
		close(m->fds[i]);
	free(m);
	r = row_new("mass-ready", "N=1000", "mass-ready, maxevents 64, LT",
		    "events/s", true);
	for (k = 0; k < NKIND; k++)
		row_set(r, k, &s[k]);
	r->note = "poll(2) has no maxevents: each call returns all 1000";
	row_ratio(r);
}

/* ---- 5. idle CPU ------------------------------------------------------ */

struct idle {
	enum kind kind;
	pthread_barrier_t *go;
	double cpu_ns, wall_ns;
};

static void *idle_thread(void *arg)
{
	struct idle *id = arg;
	struct evset s;
	int p[IDLE_FDS][2];
	double c0, w0;
	int i, r;

	set_init(&s, id->kind, 1);
	for (i = 0; i < IDLE_FDS; i++) {
		make_pipe(p[i]);
		if (set_add(&s, p[i][0], EPOLLIN, i))
			die("%s idle ADD: %s", kind_name[id->kind],
			    strerror(errno));
	}
	pthread_barrier_wait(id->go);
	w0 = now_ns();
	c0 = thread_cpu_ns();
	r = set_wait(&s, 1, cfg.idle_ms);
	id->cpu_ns = thread_cpu_ns() - c0;
	id->wall_ns = now_ns() - w0;
	if (r != 0)
		die("%s idle wait: got %d", kind_name[id->kind], r);
	set_free(&s);
	for (i = 0; i < IDLE_FDS; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	return NULL;
}

/*
 * The three waits sleep at the same time, in three threads: a sleeping
 * thread costs nothing, so they do not disturb each other, and the whole
 * test takes idle_reps * idle_ms.
 */
static void bench_idle(void)
{
	struct series cpu[NKIND] = { 0 }, wall[NKIND] = { 0 };
	struct idle id[NKIND];
	pthread_t th[NKIND];
	pthread_barrier_t go;
	bool skip[NKIND];
	struct row *r;
	char param[24];
	int rep, k, nth;

	progress("idle CPU (%d x %d ms)", cfg.idle_reps, cfg.idle_ms);
	skip_missing(skip);
	for (k = 0, nth = 0; k < NKIND; k++)
		nth += !skip[k];
	for (rep = 0; rep < cfg.idle_reps; rep++) {
		pthread_barrier_init(&go, NULL, nth);
		for (k = 0; k < NKIND; k++) {
			if (skip[k])
				continue;
			id[k] = (struct idle){ .kind = k, .go = &go };
			if (pthread_create(&th[k], NULL, idle_thread, &id[k]))
				die("pthread_create failed");
		}
		for (k = 0; k < NKIND; k++) {
			if (skip[k])
				continue;
			pthread_join(th[k], NULL);
			cpu[k].v[cpu[k].n++] = id[k].cpu_ns / 1e3;
			wall[k].v[wall[k].n++] = id[k].wall_ns / 1e6;
		}
		pthread_barrier_destroy(&go);
	}
	snprintf(param, sizeof(param), "%d ms", cfg.idle_ms);
	r = row_new("idle-cpu", param, "idle CPU, blocked wait, 10 idle fds",
		    "us CPU", false);
	for (k = 0; k < NKIND; k++)
		if (cpu[k].n) {
			series_finish(&cpu[k]);
			row_set(r, k, &cpu[k]);
		}
	row_ratio(r);
	r = row_new("idle-wall", param, "idle wait, wall time", "ms", false);
	for (k = 0; k < NKIND; k++)
		if (wall[k].n) {
			series_finish(&wall[k]);
			row_set(r, k, &wall[k]);
		}
	row_ratio(r);
}

/* ---- 6. batch --------------------------------------------------------- */

enum { B_BATCH, B_SINGLE, B_EPOLL, NB };

struct batch {
	int fds[BATCH_N];
	struct evset vb, vs, ep;
	struct vepoll_ctl_args add[BATCH_N], del[BATCH_N];
	int32_t results[BATCH_N];
};

static void batch_run(struct batch *b, int epfd, struct vepoll_ctl_args *c)
{
	struct vepoll_ctl_batch hdr = {
		.epfd = epfd, .count = BATCH_N,
		.ctls = (uintptr_t)c, .results = (uintptr_t)b->results,
	};
	int r = ioctl(devfd, VEPOLL_IOC_CTL_BATCH, &hdr);

	if (r != BATCH_N)
		die("VEPOLL_IOC_CTL_BATCH: %d (%s), entry result %d", r,
		    r < 0 ? strerror(errno) : "short",
		    r >= 0 && r < BATCH_N ? b->results[r] : 0);
}

static void batch_fill(struct batch *b, int epfd)
{
	int i;

	for (i = 0; i < BATCH_N; i++) {
		b->add[i] = (struct vepoll_ctl_args){
			.epfd = epfd, .op = VEPOLL_CTL_ADD, .fd = b->fds[i],
			.event = { .events = VEPOLLIN, .data = i },
		};
		b->del[i] = b->add[i];
		b->del[i].op = VEPOLL_CTL_DEL;
		b->del[i].event.events = 0;
	}
}

static struct sample batch_sample(void *ctx, int var, long rounds)
{
	struct batch *b = ctx;
	double t0, ns = 0;
	long round;
	int i;

	for (round = 0; round < rounds; round++) {
		switch (var) {
		case B_BATCH:
			batch_fill(b, b->vb.fd);
			t0 = now_ns();
			batch_run(b, b->vb.fd, b->add);
			ns += now_ns() - t0;
			batch_run(b, b->vb.fd, b->del);
			break;
		case B_SINGLE:
			batch_fill(b, b->vs.fd);
			t0 = now_ns();
			for (i = 0; i < BATCH_N; i++)
				if (ioctl(devfd, VEPOLL_IOC_CTL, &b->add[i]))
					die("VEPOLL_IOC_CTL ADD: %s",
					    strerror(errno));
			ns += now_ns() - t0;
			batch_run(b, b->vs.fd, b->del);
			break;
		case B_EPOLL:
			t0 = now_ns();
			for (i = 0; i < BATCH_N; i++) {
				struct epoll_event ev = {
					.events = EPOLLIN, .data.u64 = i,
				};

				if (epoll_ctl(b->ep.fd, EPOLL_CTL_ADD,
					      b->fds[i], &ev))
					die("epoll_ctl ADD: %s",
					    strerror(errno));
			}
			ns += now_ns() - t0;
			for (i = 0; i < BATCH_N; i++)
				if (epoll_ctl(b->ep.fd, EPOLL_CTL_DEL,
					      b->fds[i], NULL))
					die("epoll_ctl DEL: %s",
					    strerror(errno));
			break;
		}
	}
	return (struct sample){ ns, (double)rounds * BATCH_N };
}

static void bench_batch(void)
{
	struct batch *b = calloc(1, sizeof(*b));
	struct series s[NB];
	bool skip[NB] = { !have(K_VEPOLL), !have(K_VEPOLL), false };
	struct row *r;
	int i;

	progress("batch");
	for (i = 0; i < BATCH_N; i++)
		b->fds[i] = make_eventfd(0);
	if (have(K_VEPOLL)) {
		set_init(&b->vb, K_VEPOLL, 1);
		set_init(&b->vs, K_VEPOLL, 1);
	}
	set_init(&b->ep, K_EPOLL, 1);
	measure(batch_sample, b, NB, skip, false, 1L << 16, s);

	r = row_new("batch", "x1000", "ADD via one VEPOLL_IOC_CTL_BATCH",
		    "ns/ADD", false);
	row_set(r, K_VEPOLL, &s[B_BATCH]);
	row_set(r, K_EPOLL, &s[B_EPOLL]);
	r->note = "epoll column: 1000 epoll_ctl(ADD)";
	row_ratio(r);
	r = row_new("batch", "x1000", "ADD via single VEPOLL_IOC_CTLs",
		    "ns/ADD", false);
	row_set(r, K_VEPOLL, &s[B_SINGLE]);
	row_set(r, K_EPOLL, &s[B_EPOLL]);
	row_ratio(r);
	if (s[B_BATCH].n && s[B_SINGLE].n) {
		r = row_new("batch", "", "single CTLs / one CTL_BATCH",
			    "ratio", false);
		row_set_value(r, K_VEPOLL, s[B_SINGLE].med / s[B_BATCH].med);
	}

	if (have(K_VEPOLL)) {
		set_free(&b->vb);
		set_free(&b->vs);
	}
	set_free(&b->ep);
	for (i = 0; i < BATCH_N; i++)
		close(b->fds[i]);
	free(b);
}

/* ---- 6b. one-shot re-arm: WAIT2's changelist ----------------------------- */

/*
 * The loop of a server that hands each ready fd to one worker: the watch
 * is VEPOLLONESHOT, and after the work it is re-armed with MOD and the
 * loop waits again. With VEPOLL_IOC_WAIT2 the MOD rides in the wait's
 * changelist: one system call instead of two. The eventfd stays readable,
 * so every wait reports it at once (timeout 0: no sleep is measured).
 */
enum { R_WAIT2, R_CTL_WAIT, R_EPOLL, NR };

struct rearm {
	int efd;
	struct evset vw2, vcw, ep;
};

static struct sample rearm_sample(void *ctx, int var, long iters)
{
	struct rearm *a = ctx;
	struct vepoll_event vev;
	struct epoll_event eev = { .events = EPOLLIN | EPOLLONESHOT };
	struct vepoll_ctl_args mod = {
		.op = VEPOLL_CTL_MOD, .fd = a->efd,
		.event = { .events = VEPOLLIN | VEPOLLONESHOT },
	};
	struct vepoll_wait2_args w2 = {
		.maxevents = 1, .nchanges = 1, .events = (uintptr_t)&vev,
		.changes = (uintptr_t)&mod,
	};
	double t0, t1;
	long i;
	int r;

	mod.epfd = var == R_WAIT2 ? a->vw2.fd : a->vcw.fd;
	w2.epfd = a->vw2.fd;
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		switch (var) {
		case R_WAIT2:
			mod.event.data = i;
			r = ioctl(devfd, VEPOLL_IOC_WAIT2, &w2);
			break;
		case R_CTL_WAIT:
			mod.event.data = i;
			if (ioctl(devfd, VEPOLL_IOC_CTL, &mod))
				die("VEPOLL_IOC_CTL MOD: %s", strerror(errno));
			r = vp_wait(a->vcw.fd, &vev, 1, 0);
			break;
		default:
			eev.data.u64 = i;
			if (epoll_ctl(a->ep.fd, EPOLL_CTL_MOD, a->efd, &eev))
				die("epoll_ctl MOD: %s", strerror(errno));
			r = epoll_wait(a->ep.fd, a->ep.eev, 1, 0);
			if (r == 1)
				vev.data = a->ep.eev[0].data.u64;
			break;
		}
		if (r != 1)
			die("re-arm %d: wait returned %d (%s)", var, r,
			    r < 0 ? strerror(errno) : "no event");
		sink += vev.data;
	}
	t1 = now_ns();
	return (struct sample){ t1 - t0, iters };
}

static void bench_rearm(void)
{
	struct rearm a;
	struct series s[NR];
	bool skip[NR] = { !have(K_VEPOLL), !have(K_VEPOLL), false };
	struct row *r;

	progress("rearm");
	a.efd = make_eventfd(1);
	if (have(K_VEPOLL)) {
		set_init(&a.vw2, K_VEPOLL, 1);
		set_init(&a.vcw, K_VEPOLL, 1);
		if (set_add(&a.vw2, a.efd, EPOLLIN | EPOLLONESHOT, 0) ||
		    set_add(&a.vcw, a.efd, EPOLLIN | EPOLLONESHOT, 0))
			die("re-arm ADD: %s", strerror(errno));
	}
	set_init(&a.ep, K_EPOLL, 1);
	if (set_add(&a.ep, a.efd, EPOLLIN | EPOLLONESHOT, 0))
		die("re-arm epoll ADD: %s", strerror(errno));
	measure(rearm_sample, &a, NR, skip, false, 1L << 24, s);

	r = row_new("rearm", "", "ONESHOT re-arm: WAIT2 with the MOD",
		    "ns/rearm", false);
	row_set(r, K_VEPOLL, &s[R_WAIT2]);
	row_set(r, K_EPOLL, &s[R_EPOLL]);
	r->note = "epoll column: epoll_ctl(MOD) + epoll_wait, t=0";
	row_ratio(r);
	r = row_new("rearm", "", "ONESHOT re-arm: CTL(MOD) + WAIT",
		    "ns/rearm", false);
	row_set(r, K_VEPOLL, &s[R_CTL_WAIT]);
	row_set(r, K_EPOLL, &s[R_EPOLL]);
	row_ratio(r);
	if (s[R_WAIT2].n && s[R_CTL_WAIT].n) {
		r = row_new("rearm", "", "CTL+WAIT / WAIT2", "ratio", false);
		row_set_value(r, K_VEPOLL,
			      s[R_CTL_WAIT].med / s[R_WAIT2].med);
	}

	if (have(K_VEPOLL)) {
		set_free(&a.vw2);
		set_free(&a.vcw);
	}
	set_free(&a.ep);
	close(a.efd);
}

/* ---- 7. the ladder: where the time of one call goes -------------------- */

/*
 * Each rung stops the call at a later point of its path; the difference
 * between two rungs is the cost of what lies between them.
 *   L0  vepoll: ioctl(dev, unknown request) -> ENOTTY: syscall entry,
 *       fdget of /dev/vepoll, security hook, dispatch;
 *       epoll: getppid(), the syscall floor
 *   L1  WAIT with maxevents = 0 -> EINVAL: + copy of the 40-byte
 *       argument (epoll: arguments in registers, no copy)
 *   L2  WAIT with epfd = -1 -> EBADF: + access_ok + a failed fdget
 *   L3  WAIT on an empty set, timeout 0: + fdget of the instance,
 *       the wait set-up and, for vepoll, the mutex and the closed-target
 *       sweep of its (zero) watches
 *   L4  WAIT with 1 watch, ready: + harvesting one event (wait-hot N=1)
 *   C1  CTL with epfd = -1 -> EBADF (epoll copies the event first too)
 *   C2  CTL DEL of an fd not watched -> ENOENT: two fdgets, the mutex,
 *       a tree lookup
 */
enum rung { L0, L1, L2, L3, L4, C1, C2, NRUNG };

static const char *const rung_label[NRUNG] = {
	"L0 null call: ioctl ENOTTY | getppid",
	"L1 WAIT maxevents=0 -> EINVAL",
	"L2 WAIT epfd=-1 -> EBADF",
	"L3 WAIT empty set, t=0",
	"L4 WAIT 1 watch ready, t=0",
	"C1 CTL epfd=-1 -> EBADF",
	"C2 CTL DEL unwatched -> ENOENT",
};

struct ladder {
	enum rung rung;
	int p[2];
	struct evset empty[NKIND], one[NKIND];
	struct vepoll_event vev[1];
	struct epoll_event eev[1];
};

static int ladder_call(struct ladder *l, int var)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct vepoll_ctl_args ca = {
		.epfd = -1, .op = VEPOLL_CTL_ADD, .fd = l->p[0],
		.event = { .events = VEPOLLIN },
	};
	struct vepoll_wait_args wa = {
		.epfd = l->empty[K_VEPOLL].fd, .timeout_ms = 0,
		.maxevents = 1, .events = (uintptr_t)l->vev,
	};

	switch (l->rung) {
	case L0:
		if (var == K_VEPOLL)
			return ioctl(devfd, _IO(VEPOLL_IOC_MAGIC, 0x7f), 0) < 0 ?
			       -errno : 0;
		return syscall(SYS_getppid) > 0 ? 0 : -1;
	case L1:
		if (var == K_VEPOLL) {
			wa.maxevents = 0;
			return ioctl(devfd, VEPOLL_IOC_WAIT, &wa) < 0 ?
			       -errno : 0;
		}
		return epoll_wait(l->empty[K_EPOLL].fd, l->eev, 0, 0) < 0 ?
		       -errno : 0;
	case L2:
		if (var == K_VEPOLL) {
			wa.epfd = -1;
			return ioctl(devfd, VEPOLL_IOC_WAIT, &wa) < 0 ?
			       -errno : 0;
		}
		return epoll_wait(-1, l->eev, 1, 0) < 0 ? -errno : 0;
	case L3:
		return set_wait(&l->empty[var], 1, 0);
	case L4:
		return set_wait(&l->one[var], 1, 0);
	case C1:
		if (var == K_VEPOLL)
			return ioctl(devfd, VEPOLL_IOC_CTL, &ca) < 0 ?
			       -errno : 0;
		return epoll_ctl(-1, EPOLL_CTL_ADD, l->p[0], &ev) ? -errno : 0;
	case C2:
		return set_del(&l->empty[var], l->p[0]);
	default:
		abort();
	}
}

static const int rung_expect[NRUNG] = {
	[L0] = -ENOTTY, [L1] = -EINVAL, [L2] = -EBADF, [L3] = 0, [L4] = 1,
	[C1] = -EBADF, [C2] = -ENOENT,
};

static struct sample ladder_sample(void *ctx, int var, long iters)
{
	struct ladder *l = ctx;
	double t0, t1;
	long i;
	int r, want;

	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		r = ladder_call(l, var);
		want = rung_expect[l->rung];
		if (l->rung == L0 && var != K_VEPOLL)
			want = 0;
		if (r != want)
			die("ladder %s %s: got %d, want %d",
			    rung_label[l->rung], kind_name[var], r, want);
	}
	t1 = now_ns();
	return (struct sample){ t1 - t0, iters };
}

static void ladder_setup(struct ladder *l)
{
	int k;

	memset(l, 0, sizeof(*l));
	make_pipe(l->p);
	if (write(l->p[1], "x", 1) != 1)
		die("write: %s", strerror(errno));
	for (k = 0; k < NKIND; k++) {
		if (!have(k))
			continue;
		set_init(&l->empty[k], k, 1);
		set_init(&l->one[k], k, 1);
		if (set_add(&l->one[k], l->p[0], EPOLLIN, 7))
			die("%s ladder ADD: %s", kind_name[k], strerror(errno));
	}
}

static void ladder_teardown(struct ladder *l)
{
	int k;

	for (k = 0; k < NKIND; k++)
		if (have(k)) {
			set_free(&l->empty[k]);
			set_free(&l->one[k]);
		}
	close(l->p[0]);
	close(l->p[1]);
}

static void bench_ladder(void)
{
	struct ladder l;
	struct series s[NKIND];
	int rung, k;

	progress("ladder");
	ladder_setup(&l);
	for (rung = 0; rung < NRUNG; rung++) {
		bool skip[NKIND];
		struct row *r;

		l.rung = rung;
		skip_missing(skip);
		/* poll(2) only has the wait rungs with a set. */
		skip[K_POLL] = rung != L3 && rung != L4;
		measure(ladder_sample, &l, NKIND, skip, false, 1L << 26, s);
		r = row_new("ladder", "", rung_label[rung], "ns/call", false);
		for (k = 0; k < NKIND; k++)
			row_set(r, k, &s[k]);
		row_ratio(r);
	}
	ladder_teardown(&l);
}

/* ---- --loop: one inner loop, for perf ----------------------------------- */

struct loop_opts {
	const char *name;
	enum kind kind;
	int n;
	double seconds;
};

/* Run chunks of @fn until @seconds have passed; print ns per unit. */
static void loop_run(sample_fn fn, void *ctx, int var, double seconds,
		     const char *what)
{
	double end = now_ns() + seconds * 1e9, ns = 0, units = 0;
	long chunk = 1;
	struct sample s;

	do {
		s = fn(ctx, var, chunk);
		ns += s.ns;
		units += s.units;
		if (s.ns < 20e6 && chunk < (1L << 24))
			chunk *= 2;
	} while (now_ns() < end);
	printf("loop %s: %.0f units in %.2f s: %.1f ns/unit, %.4g units/s\n",
	       what, units, ns / 1e9, ns / units, units * 1e9 / ns);
}

static void run_loop(const struct loop_opts *o)
{
	if (!have(o->kind))
		die("--loop with --impl vepoll needs %s", DEV_PATH);
	if (!strcmp(o->name, "wait-hot")) {
		struct hot h;

		hot_setup(&h, o->n);
		loop_run(hot_sample, &h, o->kind, o->seconds, o->name);
		hot_teardown(&h);
	} else if (!strcmp(o->name, "ctl-churn")) {
		struct churn c;
		int var = o->kind == K_VEPOLL ? 0 : 1;

		if (o->kind == K_POLL)
			die("ctl-churn: vepoll or epoll");
		make_pipe(c.p);
		set_init(&c.set[var], o->kind, 1);
		loop_run(churn_sample, &c, var, o->seconds, o->name);
		set_free(&c.set[var]);
		close(c.p[0]);
		close(c.p[1]);
	} else if (!strcmp(o->name, "ping-pong")) {
		struct pingpong pp;

		pp.efd_a = make_eventfd(0);
		pp.efd_b = make_eventfd(0);
		set_init(&pp.set_a[o->kind], o->kind, 1);
		set_init(&pp.set_b[o->kind], o->kind, 1);
		if (set_add(&pp.set_a[o->kind], pp.efd_a, EPOLLIN, 1) ||
		    set_add(&pp.set_b[o->kind], pp.efd_b, EPOLLIN, 2))
			die("ADD: %s", strerror(errno));
		loop_run(pingpong_sample, &pp, o->kind, o->seconds, o->name);
		set_free(&pp.set_a[o->kind]);
		set_free(&pp.set_b[o->kind]);
		close(pp.efd_a);
		close(pp.efd_b);
	} else if (!strcmp(o->name, "mass-ready")) {
		struct mass *m = calloc(1, sizeof(*m));
		int i;

		for (i = 0; i < MASS_N; i++)
			m->fds[i] = make_eventfd(1);
		set_init(&m->set[o->kind], o->kind, MASS_N);
		for (i = 0; i < MASS_N; i++)
			if (set_add(&m->set[o->kind], m->fds[i], EPOLLIN, i))
				die("ADD: %s", strerror(errno));
		loop_run(mass_sample, m, o->kind, o->seconds, o->name);
		set_free(&m->set[o->kind]);
		for (i = 0; i < MASS_N; i++)
			close(m->fds[i]);
		free(m);
	} else if (!strcmp(o->name, "batch") ||
		   !strcmp(o->name, "batch-single")) {
		struct batch *b = calloc(1, sizeof(*b));
		int i, var = o->kind == K_EPOLL ? B_EPOLL :
			     !strcmp(o->name, "batch") ? B_BATCH : B_SINGLE;

		for (i = 0; i < BATCH_N; i++)
			b->fds[i] = make_eventfd(0);
		if (have(K_VEPOLL)) {
			set_init(&b->vb, K_VEPOLL, 1);
			set_init(&b->vs, K_VEPOLL, 1);
		}
		set_init(&b->ep, K_EPOLL, 1);
		loop_run(batch_sample, b, var, o->seconds, o->name);
		if (have(K_VEPOLL)) {
			set_free(&b->vb);
			set_free(&b->vs);
		}
		set_free(&b->ep);
		for (i = 0; i < BATCH_N; i++)
			close(b->fds[i]);
		free(b);
	} else {
		static const char *const names[NRUNG] = {
			"null", "wait-einval", "wait-ebadf", "wait-empty",
			"wait-one", "ctl-ebadf", "ctl-enoent",
		};
		struct ladder l;
		int rung;

		for (rung = 0; rung < NRUNG; rung++)
			if (!strcmp(o->name, names[rung]))
				break;
		if (rung == NRUNG)
			die("unknown --loop %s (wait-hot, ctl-churn, ping-pong,"
			    " mass-ready,"
			    " batch, batch-single, null, wait-einval,"
			    " wait-ebadf, wait-empty, wait-one, ctl-ebadf,"
			    " ctl-enoent)", o->name);
		ladder_setup(&l);
		l.rung = rung;
		loop_run(ladder_sample, &l, o->kind, o->seconds, o->name);
		ladder_teardown(&l);
	}
}

/* ---- main ------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "wait-hot", bench_wait_hot },
	{ "ctl-churn", bench_ctl_churn },
	{ "fresh-close", bench_fresh },
	{ "ping-pong", bench_pingpong },
	{ "mass-ready", bench_mass_ready },
	{ "idle", bench_idle },
	{ "batch", bench_batch },
	{ "rearm", bench_rearm },
	{ "ladder", bench_ladder },
};

/* Is @name in the comma-separated list @only (NULL: every test)? */
static bool test_selected(const char *only, const char *name)
{
	size_t len = strlen(name);
	const char *p;

	if (!only)
		return true;
	for (p = only; (p = strstr(p, name)); p += len)
		if ((p == only || p[-1] == ',') &&
		    (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: vepoll_bench [--quick] [--reps N] [--sample-ms MS]"
		" [--idle-ms MS] [--only TEST,...] [--allow-missing]\n"
		"       TEST: wait-hot ctl-churn fresh-close ping-pong mass-ready"
		" idle batch rearm ladder\n"
		"       vepoll_bench --loop NAME [--impl vepoll|epoll|poll]"
		" [--n N] [--seconds S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct loop_opts lo = { .kind = K_VEPOLL, .n = 1000, .seconds = 5 };
	bool reps_set = false, idle_set = false, sample_set = false;
	const char *only = NULL;
	int ran = 0;
	double t0;
	int i, k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quick")) {
			cfg.quick = true;
		} else if (!strcmp(a, "--only") && v) {
			only = v;
			i++;
		} else if (!strcmp(a, "--allow-missing")) {
			cfg.allow_missing = true;
		} else if (!strcmp(a, "--reps") && v) {
			cfg.reps = atoi(v);
			reps_set = true;
			i++;
		} else if (!strcmp(a, "--sample-ms") && v) {
			cfg.sample_ns = atof(v) * 1e6;
			sample_set = true;
			i++;
		} else if (!strcmp(a, "--idle-ms") && v) {
			cfg.idle_ms = atoi(v);
			idle_set = true;
			i++;
		} else if (!strcmp(a, "--loop") && v) {
			lo.name = v;
			i++;
		} else if (!strcmp(a, "--impl") && v) {
			for (k = 0; k < NKIND; k++)
				if (!strcmp(v, kind_name[k]))
					break;
			if (k == NKIND)
				print_usage();
			lo.kind = k;
			i++;
		} else if (!strcmp(a, "--n") && v) {
			lo.n = atoi(v);
			i++;
		} else if (!strcmp(a, "--seconds") && v) {
			lo.seconds = atof(v);
			i++;
		} else {
			print_usage();
		}
	}
	if (cfg.quick) {
		if (!reps_set)
			cfg.reps = 3;
		if (!sample_set)
			cfg.sample_ns = 4e6;
		if (!idle_set)
			cfg.idle_ms = 200;
		cfg.idle_reps = 1;
	}
	if (cfg.reps < 1 || cfg.reps > MAX_REPS || cfg.sample_ns <= 0 ||
	    cfg.idle_ms < 1 || lo.n < 1 || lo.seconds <= 0)
		print_usage();

	devfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		if (!cfg.allow_missing)
			die("%s: %s (is vepoll.ko loaded?)", DEV_PATH,
			    strerror(errno));
		progress("%s: %s: vepoll columns left empty", DEV_PATH,
			 strerror(errno));
	}
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (lo.name) {
		run_loop(&lo);
		return 0;
	}

	t0 = now_ns();
	for (i = 0; i < (int)ARRAY_SIZE(tests); i++) {
		if (!test_selected(only, tests[i].name))
			continue;
		/*
		 * Let the kernel's deferred work from the previous test's
		 * teardown (RCU callbacks, fput and reaper work queues) run
		 * now, not inside the next test's samples.
		 */
		if (ran++)
			usleep(SETTLE_MS * 1000);
		tests[i].fn();
	}
	if (!nrows)
		die("--only %s: no such test", only);
	print_table();
	print_json((now_ns() - t0) / 1e9);
	print_csv();
	if (sink == 42)		/* never; keeps the harvest honest */
		printf("\n");
	return 0;
}
