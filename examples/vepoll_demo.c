// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_demo - a small event loop on top of /dev/vepoll
 *
 * One vepoll instance watches five real descriptors:
 *
 *   pipeA    a pipe, level-triggered; its writer closes it (VEPOLLHUP),
 *            then the loop DELs the watch
 *   pipeB    a pipe, edge-triggered (VEPOLLET); the loop sometimes reads
 *            only part of what is there and checks that the rest is not
 *            reported again until the writer writes more
 *   eventfd  one-shot (VEPOLLONESHOT); after each report the watch stays
 *            disarmed for a while and is re-armed with MOD
 *   timerfd  periodic, 100 ms, level-triggered; DELed after 20 ticks and
 *            must stay silent afterwards
 *   socket   one end of a socket pair, VEPOLLIN | VEPOLLRDHUP; the peer
 *            shuts down its sending side, the loop closes its end, which
 *            drops the watch
 *
 * A writer thread feeds the pipes, the eventfd and the socket on a fixed
 * schedule for about three seconds. Every event is printed; the program
 * ends with a summary and exits 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vepoll_uapi.h"

#define DEV_PATH	"/dev/vepoll"
#define DATA_MAGIC	0x7665706f00000000ULL	/* "vepo" in the high half */
#define MAX_EVENTS	16
#define DEADLINE_MS	10000	/* the run takes ~3 s; this means "stuck" */
#define TICK_MS		50	/* writer schedule granularity */
#define WRITER_END_MS	2900
#define TIMER_DEL_TICKS	20
#define REARM_DELAY_MS	300
#define MIN_REARMS	3
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum src_id { SRC_PIPE_A, SRC_PIPE_B, SRC_EVENTFD, SRC_TIMER, SRC_SOCK, NR_SRC };

struct source {
	const char *name;
	const char *mode;
	int fd;			/* the watched descriptor, -1 once closed */
	int wfd;		/* the writer's end, if any */
	__u32 mask;
	bool watched;
	unsigned long events;
	unsigned long bytes;	/* bytes (or counts) consumed */
	atomic_ulong written;	/* bytes (or counts) produced by the writer */
	atomic_ulong writes;	/* writes started: bumped before each write */
	bool hup_seen;
	bool eof;
};

static struct source src[NR_SRC] = {
	[SRC_PIPE_A]  = { .name = "pipeA",   .mode = "LT" },
	[SRC_PIPE_B]  = { .name = "pipeB",   .mode = "ET" },
	[SRC_EVENTFD] = { .name = "eventfd", .mode = "ONESHOT" },
	[SRC_TIMER]   = { .name = "timerfd", .mode = "LT" },
	[SRC_SOCK]    = { .name = "socket",  .mode = "LT+RDHUP" },
};

static int dev = -1, ep = -1;
static struct timespec t0;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool writer_done;
static int failures;

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000LL +
	       (t.tv_nsec - t0.tv_nsec) / 1000000;
}

/* One line per event or action: "  time  who  bits  what happened". */
static void __attribute__((format(printf, 3, 4)))
line(const char *who, const char *bits, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	printf("%6lld ms  %-8s %-14s ", now_ms(), who, bits);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	pthread_mutex_unlock(&out_lock);
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	printf("%6lld ms  FAIL: ", now_ms());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	pthread_mutex_unlock(&out_lock);
	failures++;
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "vepoll_demo: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int vp_ctl(unsigned int op, int fd, __u32 events, __u64 data)
{
	struct vepoll_ctl_args a = {
		.epfd = ep, .op = op, .fd = fd,
		.event = { .events = events, .data = data },
	};

	return ioctl(dev, VEPOLL_IOC_CTL, &a);
}

static int vp_wait(struct vepoll_event *evs, unsigned int max, int timeout)
{
	struct vepoll_wait_args a = {
		.epfd = ep, .timeout_ms = timeout, .maxevents = max,
		.events = (__u64)(uintptr_t)evs,
	};

	return ioctl(dev, VEPOLL_IOC_WAIT, &a);
}

static const struct { __u32 bit; const char *name; } bit_names[] = {
	{ VEPOLLIN, "IN" }, { VEPOLLPRI, "PRI" }, { VEPOLLOUT, "OUT" },
	{ VEPOLLERR, "ERR" }, { VEPOLLHUP, "HUP" },
	{ VEPOLLRDNORM, "RDNORM" }, { VEPOLLRDBAND, "RDBAND" },
	{ VEPOLLWRNORM, "WRNORM" }, { VEPOLLWRBAND, "WRBAND" },
	{ VEPOLLMSG, "MSG" }, { VEPOLLRDHUP, "RDHUP" },
	{ VEPOLLONESHOT, "ONESHOT" }, { VEPOLLET, "ET" },
};

static const char *decode(__u32 ev, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(bit_names); i++) {
		if (!(ev & bit_names[i].bit))
			continue;
		n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
			      bit_names[i].name);
		ev &= ~bit_names[i].bit;
		if (n >= len)
			return buf;
	}
	if (ev)
		snprintf(buf + n, len - n, "%s0x%x", n ? "|" : "", ev);
	return buf;
}

/* Make payloads printable: the streams carry short ASCII messages. */
static const char *show(const char *p, size_t len, char *buf, size_t blen)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 5 < blen; i++) {
		if (p[i] == '\n')
			n += snprintf(buf + n, blen - n, "\\n");
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			buf[n++] = p[i];
		else
			n += snprintf(buf + n, blen - n, "\\x%02x",
				      (unsigned char)p[i]);
	}
	buf[n] = '\0';
	return buf;
}

/* ---- the writer thread -------------------------------------------- */

static void wr(enum src_id id, const void *p, size_t len)
{
	ssize_t r;

	atomic_fetch_add(&src[id].writes, 1);
	if (id == SRC_SOCK)
		r = send(src[id].wfd, p, len, MSG_NOSIGNAL);
	else
		r = write(src[id].wfd, p, len);
	if (r != (ssize_t)len) {
		fail("writer: write to %s returned %zd (%s)", src[id].name,
		     r, r < 0 ? strerror(errno) : "short");
		return;
	}
	atomic_fetch_add(&src[id].written, id == SRC_EVENTFD ? 1 : len);
}

/*
 * A fixed schedule on a 50 ms grid, so that every run shows the same
 * story: pipeA every 200 ms, pipeB every 300 ms, the eventfd every
 * 150 ms, the socket every 250 ms; then the ends close one by one.
 */
static void *writer(void *arg)
{
	struct timespec next = t0;
	unsigned int na = 0, nb = 0, ns = 0;
	char msg[64];
	int k, t;

	(void)arg;
	for (k = 1; (t = k * TICK_MS) <= WRITER_END_MS; k++) {
		next.tv_nsec += TICK_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;

		if (k % 4 == 2 && t <= 2400) {
			snprintf(msg, sizeof(msg), "A#%u", ++na);
			wr(SRC_PIPE_A, msg, strlen(msg));
		}
		if (k % 6 == 3 && t <= 2550) {
			snprintf(msg, sizeof(msg), "B-message-%u\n", ++nb);
			wr(SRC_PIPE_B, msg, strlen(msg));
		}
		if (k % 3 == 1 && t <= 2800) {
			uint64_t one = 1;

			wr(SRC_EVENTFD, &one, sizeof(one));
		}
		if (k % 5 == 4 && t <= 2700) {
			snprintf(msg, sizeof(msg), "ping %u", ++ns);
			wr(SRC_SOCK, msg, strlen(msg));
		}
		/* A close is a wakeup too: count it like a write. */
		if (t == 2500) {
			line("writer", "", "close(pipeA write end) -> expect HUP");
			atomic_fetch_add(&src[SRC_PIPE_A].writes, 1);
			close(src[SRC_PIPE_A].wfd);
		}
		if (t == 2700) {
			line("writer", "", "close(pipeB write end) -> expect HUP");
			atomic_fetch_add(&src[SRC_PIPE_B].writes, 1);
			close(src[SRC_PIPE_B].wfd);
		}
		if (t == WRITER_END_MS) {
			line("writer", "", "shutdown(socket, SHUT_WR) -> expect RDHUP");
			shutdown(src[SRC_SOCK].wfd, SHUT_WR);
		}
	}
	atomic_store(&writer_done, true);
	return NULL;
}

/* ---- the event loop ------------------------------------------------ */

/* ET check state: a partial read of pipeB left bytes behind on purpose. */
static bool et_pending, et_partial_next = true;
static unsigned long et_writes_at_partial, et_verified;

/* ONESHOT state of the eventfd watch. */
static bool efd_disarmed, efd_expect_now;
static long long efd_rearm_at;
static unsigned long efd_rearms, efd_rearm_ready;

static unsigned long timer_ticks;
static bool timer_deleted, timer_del_enoent;
static bool bits_ok = true;

/*
 * Read what is there, without blocking. Returns the bytes read; *eof is
 * set when the writer's side is gone and everything has been read.
 */
static size_t drain(struct source *s, char *buf, size_t len, size_t limit,
		    bool *eof)
{
	size_t got = 0;
	ssize_t r;

	*eof = false;
	while (got < limit && got < len) {
		r = read(s->fd, buf + got, (limit < len ? limit : len) - got);
		if (r > 0) {
			got += r;
			continue;
		}
		if (r == 0)
			*eof = true;
		else if (errno != EAGAIN)
			fail("read(%s): %s", s->name, strerror(errno));
		break;
	}
	s->bytes += got;
	return got;
}

static void stop_watching(struct source *s, bool del)
{
	if (del) {
		if (vp_ctl(VEPOLL_CTL_DEL, s->fd, 0, 0))
			fail("DEL %s: %s", s->name, strerror(errno));
		else
			line(s->name, "", "DEL: watch removed");
	}
	close(s->fd);
	s->fd = -1;
	s->watched = false;
}

static void on_stream(struct source *s, __u32 ev, const char *bits)
{
	char buf[512], txt[256];
	size_t got;
	bool eof;

	if (ev & VEPOLLHUP)
		s->hup_seen = true;
	if (ev & VEPOLLRDHUP)
		s->hup_seen = true;

	if (s == &src[SRC_PIPE_B] && et_partial_next && !(ev & VEPOLLHUP)) {
		/* Leave bytes behind: ET must not report them again. */
		et_writes_at_partial = atomic_load(&s->writes);
		got = drain(s, buf, sizeof(buf), 3, &eof);
		et_pending = true;
		et_partial_next = false;
		line(s->name, bits, "read %zu bytes \"%s\", rest left unread on purpose",
		     got, show(buf, got, txt, sizeof(txt)));
		return;
	}
	if (s == &src[SRC_PIPE_B])
		et_partial_next = true;

	got = drain(s, buf, sizeof(buf), sizeof(buf), &eof);
	if (got)
		line(s->name, bits, "read %zu bytes \"%s\"%s", got,
		     show(buf, got, txt, sizeof(txt)), eof ? " then EOF" : "");
	else
		line(s->name, bits, "%s", eof ? "EOF" : "nothing to read");
	if (!eof)
		return;

	s->eof = true;
	if (s == &src[SRC_SOCK]) {
		/* The last close of a watched file drops the watch: no DEL. */
		line(s->name, "", "end of stream: close(), which drops the watch");
		stop_watching(s, false);
	} else {
		line(s->name, "", "end of stream");
		stop_watching(s, true);
	}
}

static void on_eventfd(struct source *s, const char *bits)
{
	uint64_t v;

	if (efd_disarmed)
		fail("eventfd reported while its ONESHOT watch was disarmed");
	if (read(s->fd, &v, sizeof(v)) != sizeof(v)) {
		if (errno != EAGAIN)
			fail("read(eventfd): %s", strerror(errno));
		v = 0;
	}
	s->bytes += v;
	efd_disarmed = true;
	efd_rearm_at = now_ms() + REARM_DELAY_MS;
	line(s->name, bits, "counter %llu; watch disarmed, re-arm in %d ms",
	     (unsigned long long)v, REARM_DELAY_MS);
}

static void rearm_eventfd(void)
{
	struct source *s = &src[SRC_EVENTFD];
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	bool ready = poll(&p, 1, 0) == 1 && (p.revents & POLLIN);

	if (vp_ctl(VEPOLL_CTL_MOD, s->fd, s->mask, DATA_MAGIC | SRC_EVENTFD)) {
		fail("MOD eventfd: %s", strerror(errno));
		return;
	}
	efd_disarmed = false;
	efd_rearms++;
	/* Ready at MOD time: the very next wait must report it. */
	efd_expect_now = ready;
	if (ready)
		efd_rearm_ready++;
	line(s->name, "", "MOD: re-armed (%s)",
	     ready ? "counter already non-zero, expect it at once"
		   : "counter zero, wait for the writer");
}

static void on_timer(struct source *s, const char *bits)
{
	uint64_t exp;

	if (timer_deleted)
		fail("timerfd reported after DEL");
	if (read(s->fd, &exp, sizeof(exp)) != sizeof(exp)) {
		if (errno != EAGAIN)
			fail("read(timerfd): %s", strerror(errno));
		exp = 0;
	}
	s->bytes += exp;
	timer_ticks++;
	line(s->name, bits, "tick %lu (%llu expiration%s)", timer_ticks,
	     (unsigned long long)exp, exp == 1 ? "" : "s");
}

static void delete_timer(void)
{
	struct source *s = &src[SRC_TIMER];

	if (vp_ctl(VEPOLL_CTL_DEL, s->fd, 0, 0)) {
		fail("DEL timerfd: %s", strerror(errno));
		return;
	}
	timer_deleted = true;
	s->watched = false;
	/* The timer keeps running: it must not be reported any more. */
	timer_del_enoent = vp_ctl(VEPOLL_CTL_DEL, s->fd, 0, 0) == -1 &&
			   errno == ENOENT;
	line(s->name, "", "DEL after %lu ticks (timer keeps running); DEL again: %s",
	     timer_ticks, timer_del_enoent ? "ENOENT, as it should" : "NOT ENOENT");
	if (!timer_del_enoent)
		fail("second DEL of the timerfd did not fail with ENOENT");
}

static bool finished(void)
{
	return atomic_load(&writer_done) && src[SRC_PIPE_A].eof &&
	       src[SRC_PIPE_B].eof && src[SRC_SOCK].eof && timer_deleted &&
	       efd_rearms >= MIN_REARMS;
}

static void loop(void)
{
	struct vepoll_event evs[MAX_EVENTS];
	unsigned long waits = 0, total = 0;
	char bits[96];
	int i, n, timeout;

	while (!finished()) {
		long long now = now_ms();
		bool saw_b = false, saw_efd = false;

		if (now > DEADLINE_MS) {
			fail("gave up after %d ms: the expected events did not all arrive",
			     DEADLINE_MS);
			break;
		}
		timeout = 500;
		if (efd_disarmed)
			timeout = efd_rearm_at > now ? (int)(efd_rearm_at - now) : 0;

		/* Poison the buffer: padding must come back zeroed. */
		memset(evs, 0xa5, sizeof(evs));
		n = vp_wait(evs, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("VEPOLL_IOC_WAIT");
		}
		waits++;
		total += n;
		if (n > MAX_EVENTS)
			fail("WAIT returned %d events for maxevents %d", n, MAX_EVENTS);

		for (i = 0; i < n && i < MAX_EVENTS; i++) {
			__u32 ev = evs[i].events;
			__u64 d = evs[i].data;
			struct source *s;

			if ((d & ~0xffULL) != DATA_MAGIC || (d & 0xff) >= NR_SRC) {
				fail("event with unknown data 0x%llx",
				     (unsigned long long)d);
				continue;
			}
			s = &src[d & 0xff];
			decode(ev, bits, sizeof(bits));
			if (evs[i].__pad || (ev & (VEPOLLET | VEPOLLONESHOT))) {
				fail("%s: bad event: events %s, __pad 0x%x",
				     s->name, bits, evs[i].__pad);
				bits_ok = false;
			}
			if (!s->watched && s != &src[SRC_TIMER]) {
				fail("%s reported after its watch was removed (%s)",
				     s->name, bits);
				continue;
			}
			s->events++;
			switch (d & 0xff) {
			case SRC_PIPE_A:
			case SRC_SOCK:
				on_stream(s, ev, bits);
				break;
			case SRC_PIPE_B:
				saw_b = true;
				if (et_pending && atomic_load(&s->writes) ==
						  et_writes_at_partial)
					fail("pipeB (ET) reported again with no new write");
				et_pending = false;
				on_stream(s, ev, bits);
				break;
			case SRC_EVENTFD:
				saw_efd = true;
				on_eventfd(s, bits);
				break;
			case SRC_TIMER:
				on_timer(s, bits);
				break;
			}
		}

		if (efd_expect_now && !saw_efd)
			fail("eventfd ready at MOD, but not in the next wait");
		efd_expect_now = false;

		/*
		 * A whole wait went by after the partial read without pipeB,
		 * and the writer did not write in between: the edge held.
		 */
		if (et_pending && !saw_b &&
		    atomic_load(&src[SRC_PIPE_B].writes) == et_writes_at_partial) {
			et_verified++;
			et_pending = false;
			line("pipeB", "", "%d bytes still unread, not reported again: ET holds",
			     ioctl(src[SRC_PIPE_B].fd, FIONREAD, &i) ? -1 : i);
		}

		if (efd_disarmed && now_ms() >= efd_rearm_at)
			rearm_eventfd();
		if (!timer_deleted && timer_ticks >= TIMER_DEL_TICKS)
			delete_timer();
	}
	line("loop", "", "done: %lu waits, %lu events", waits, total);
}

/* ---- setup, summary ------------------------------------------------ */

static void watch(enum src_id id, __u32 mask)
{
	struct source *s = &src[id];
	char bits[96];

	s->mask = mask;
	if (vp_ctl(VEPOLL_CTL_ADD, s->fd, mask, DATA_MAGIC | id)) {
		fprintf(stderr, "vepoll_demo: ADD %s: %s\n", s->name,
			strerror(errno));
		exit(2);
	}
	s->watched = true;
	line(s->name, decode(mask, bits, sizeof(bits)), "ADD fd %d (%s)",
	     s->fd, s->mode);
}

static void setup(void)
{
	struct itimerspec its = {
		.it_interval = { 0, 100 * 1000000L },
		.it_value = { 0, 100 * 1000000L },
	};
	int p[2], sv[2];

	dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "vepoll_demo: cannot open %s: %s -- is the vepoll module loaded?\n",
			DEV_PATH, strerror(errno));
		exit(1);
	}
	ep = ioctl(dev, VEPOLL_IOC_CREATE, VEPOLL_CLOEXEC);
	if (ep < 0)
		die("VEPOLL_IOC_CREATE");
	printf("vepoll_demo: /dev/vepoll fd %d, instance fd %d\n", dev, ep);

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		die("pipe2");
	src[SRC_PIPE_A].fd = p[0];
	src[SRC_PIPE_A].wfd = p[1];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		die("pipe2");
	src[SRC_PIPE_B].fd = p[0];
	src[SRC_PIPE_B].wfd = p[1];
	src[SRC_EVENTFD].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (src[SRC_EVENTFD].fd < 0)
		die("eventfd");
	src[SRC_EVENTFD].wfd = src[SRC_EVENTFD].fd;
	src[SRC_TIMER].fd = timerfd_create(CLOCK_MONOTONIC,
					   TFD_NONBLOCK | TFD_CLOEXEC);
	if (src[SRC_TIMER].fd < 0)
		die("timerfd_create");
	src[SRC_TIMER].wfd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	src[SRC_SOCK].fd = sv[0];
	src[SRC_SOCK].wfd = sv[1];

	watch(SRC_PIPE_A, VEPOLLIN);
	watch(SRC_PIPE_B, VEPOLLIN | VEPOLLET);
	watch(SRC_EVENTFD, VEPOLLIN | VEPOLLONESHOT);
	watch(SRC_TIMER, VEPOLLIN);
	watch(SRC_SOCK, VEPOLLIN | VEPOLLRDHUP);

	if (timerfd_settime(src[SRC_TIMER].fd, 0, &its, NULL))
		die("timerfd_settime");
}

static int checks, passed;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	passed += ok;
	printf("  [%s] ", ok ? " ok " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void summary(void)
{
	struct source *a = &src[SRC_PIPE_A], *b = &src[SRC_PIPE_B];
	struct source *e = &src[SRC_EVENTFD], *s = &src[SRC_SOCK];
	int i;

	printf("\nsummary after %lld ms:\n", now_ms());
	for (i = 0; i < NR_SRC; i++) {
		printf("  %-8s %-9s %3lu events, ", src[i].name, src[i].mode,
		       src[i].events);
		if (i == SRC_TIMER)
			printf("%lu expirations read\n", src[i].bytes);
		else
			printf("%lu of %lu %s read\n", src[i].bytes,
			       (unsigned long)atomic_load(&src[i].written),
			       i == SRC_EVENTFD ? "increments" : "bytes");
	}
	printf("checks:\n");
	check(a->eof && a->bytes == atomic_load(&a->written),
	      "level-triggered pipeA: all %lu bytes read", a->bytes);
	check(a->hup_seen, "pipeA reported VEPOLLHUP after its writer closed; then DEL");
	check(et_verified >= 1,
	      "edge-triggered pipeB: unread bytes not reported again without a new write (%lu time%s)",
	      et_verified, et_verified == 1 ? "" : "s");
	check(b->eof && b->bytes == atomic_load(&b->written) && b->hup_seen,
	      "pipeB: all %lu bytes read, VEPOLLHUP at the end", b->bytes);
	check(efd_rearms >= MIN_REARMS && efd_rearm_ready >= 1 &&
	      e->bytes > 0,
	      "one-shot eventfd: %lu reports, %lu MOD re-arms (%lu found it ready and were reported at once)",
	      e->events, efd_rearms, efd_rearm_ready);
	check(timer_deleted && timer_del_enoent && timer_ticks >= TIMER_DEL_TICKS,
	      "timerfd: %lu ticks, then DEL; silent afterwards; second DEL gave ENOENT",
	      timer_ticks);
	check(s->eof && s->hup_seen && s->bytes == atomic_load(&s->written),
	      "socket: %lu bytes, VEPOLLRDHUP at end of stream, watch dropped by close",
	      s->bytes);
	check(bits_ok, "no ET/ONESHOT bits and no non-zero padding in any result");
	check(failures == 0, "no unexpected event or error during the run (%d)",
	      failures);
	printf("vepoll_demo: %d of %d checks passed\n", passed, checks);
}

int main(void)
{
	pthread_t w;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setup();
	errno = pthread_create(&w, NULL, writer, NULL);
	if (errno)
		die("pthread_create");
	loop();
	pthread_join(w, NULL);
	summary();

	for (i = 0; i < NR_SRC; i++)
		if (src[i].fd >= 0)
			close(src[i].fd);
	close(ep);
	close(dev);
	return passed == checks ? 0 : 1;
}
