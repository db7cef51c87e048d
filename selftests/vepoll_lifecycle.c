// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_lifecycle - an instance lives exactly as long as its
 * file and releases every target when it goes; a target whose last
 * descriptor is closed leaves the set; fork shares instances; fdinfo.
 *
 * "vepoll released its reference to a pipe's write end" is observed as EOF
 * on the read end: a pipe reader sees EOF only once no write-end file is
 * left at all.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

FIXTURE(life) {
	int dev, ep, p[2];
};

FIXTURE_SETUP(life)
{
	vp_setup_dev_ep_pipe(_metadata, &self->dev, &self->ep, self->p);
	/* Writes into a pipe whose reader is gone must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(life)
{
	vp_close_dev_ep_pipe(self->dev, self->ep, self->p);
}

/* 0 at EOF, -EAGAIN while a writer exists, else bytes read. */
static int read_state(int fd)
{
	char c;

	return vp_ret(read(fd, &c, 1));
}

TEST_F(life, closing_instance_releases_watched_files)
{
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 1));
	close(self->ep);
	self->ep = -1;
	EXPECT_EQ(-EAGAIN, read_state(self->p[0]));
	close(self->p[1]);
	self->p[1] = -1;
	EXPECT_EQ(0, read_state(self->p[0]));
}

TEST_F(life, instance_survives_until_its_last_dup_is_closed)
{
	struct vepoll_event ev;
	int d = dup(self->ep);

	ASSERT_LE(0, d);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 1));
	close(self->ep);
	self->ep = -1;
	/* Still there, with its watch, through the dup. */
	ASSERT_EQ(1, vp_wait(self->dev, d, &ev, 1, 0));
	EXPECT_EQ(1U, ev.data);
	close(self->p[1]);
	self->p[1] = -1;
	/* Its last fd gone, the write end goes at the latest with the instance. */
	close(d);
	EXPECT_EQ(0, read_state(self->p[0]));
}

/* The watched write end's last fd closed: gone by the next wait. */
TEST_F(life, closed_write_end_released_by_next_wait)
{
	struct vepoll_event ev;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	close(self->p[1]);
	self->p[1] = -1;
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0, read_state(self->p[0]));
	/* The instance itself is fine and empty. */
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* Gone means gone: a reader blocked on the instance is not told either. */
TEST_F(life, closed_target_is_never_reported_again)
{
	struct vepoll_event ev;
	int fdnum = self->p[0];
	int q[2], ret;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	close(self->p[0]);
	self->p[0] = -1;
	/* The read end is still referenced by vepoll only: writing works. */
	ret = vp_write_bytes(self->p[1], 1);
	EXPECT_TRUE(ret == 1 || ret == -EPIPE);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 200));
	/* The number is free; a new file under it is a new key. */
	ASSERT_EQ(0, vp_pipe(q));
	/* Descriptors are allocated lowest first. */
	ASSERT_EQ(fdnum, q[0]);
	EXPECT_EQ(-ENOENT, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, q[0],
				  0, 0));
	EXPECT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, q[0],
			    VEPOLLIN, 2));
	ASSERT_EQ(1, vp_write_bytes(q[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(2U, ev.data);
	close(q[0]);
	close(q[1]);
}

/* Closed target while its event is ready and unreported: dropped. */
TEST_F(life, closed_ready_target_is_dropped_from_ready_list)
{
	struct vepoll_event ev[4];
	int efd = vp_eventfd(1);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd,
			    VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 2));
	close(efd);
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, ev, 4, 0));
	EXPECT_EQ(2U, ev[0].data);
}

/* A watch whose file is still open through a dup stays (as in Linux). */
TEST_F(life, target_open_through_dup_stays_watched)
{
	struct vepoll_event ev;
	int d = dup(self->p[0]);

	ASSERT_LE(0, d);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x77));
	close(self->p[0]);
	self->p[0] = -1;
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(VEPOLLIN, ev.events);
	EXPECT_EQ(0x77U, ev.data);
	/* Closing the dup too makes it go. */
	close(d);
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* A watch whose file is still open in another process stays. */
TEST_F(life, target_open_in_child_stays_watched)
{
	struct vepoll_event ev;
	int sync[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x78));
	/* It holds the read end until the parent says so. */
	pid = vp_fork_holder(sync, -1);
	ASSERT_LE(0, pid);
	close(self->p[0]);
	self->p[0] = -1;
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	EXPECT_EQ(0x78U, ev.data);
	close(sync[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
}

/* ---- fork ---------------------------------------------------------------- */

static int child_check(int dev, int ep, int rfd, int wfd, int sync_rd)
{
	struct vepoll_event ev;
	char c;

	/* The inherited instance and its watch, seen from the child. */
	if (vp_wait(dev, ep, &ev, 1, 0) != 1 || ev.data != 0x1001)
		return 10;
	/* Wait for the parent to close its instance and device fds. */
	if (read(sync_rd, &c, 1) != 1)
		return 11;
	if (vp_wait(dev, ep, &ev, 1, 0) != 1 || ev.data != 0x1001)
		return 12;
	/* The child can change the shared instance. */
	if (vp_ctl(dev, ep, VEPOLL_CTL_ADD, wfd, VEPOLLOUT, 0x1002))
		return 13;
	if (vp_ctl(dev, ep, VEPOLL_CTL_DEL, rfd, 0, 0))
		return 14;
	if (vp_wait(dev, ep, &ev, 1, 0) != 1 || ev.data != 0x1002)
		return 15;
	return 0;
}

TEST_F(life, fork_child_shares_instance_and_keeps_it_alive)
{
	int sync[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x1001));
	ASSERT_EQ(1, vp_write_bytes(self->p[1], 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[1]);
		_exit(child_check(self->dev, self->ep, self->p[0], self->p[1],
				  sync[0]));
	}
	close(sync[0]);
	close(self->ep);
	self->ep = -1;
	close(self->dev);
	self->dev = -1;
	ASSERT_EQ(1, write(sync[1], "go", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sync[1]);
}

/*
 * An instance shared with a child, closed by both: it never kept its
 * target open. A watch holds no reference on its file, so while
 * the child still holds the instance, the parent's close of the write end,
 * its last descriptor, releases it at once (EOF on the read end), and it
 * stays released once the child has closed the instance too.
 */
TEST_F(life, instance_released_after_parent_and_child_close)
{
	int sync[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[1],
			    VEPOLLOUT, 1));
	/* Returns once the child has closed its copy of the write end. */
	pid = vp_fork_holder(sync, self->p[1]);
	ASSERT_LE(0, pid);
	close(self->ep);
	self->ep = -1;
	/* The parent's descriptor is the write end's last one. */
	EXPECT_EQ(-EAGAIN, read_state(self->p[0]));
	close(self->p[1]);
	self->p[1] = -1;
	/* The child holds the instance, which holds no write end. */
	EXPECT_EQ(0, read_state(self->p[0]));
	close(sync[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, read_state(self->p[0]));
}

/* ---- fdinfo -------------------------------------------------------------- */

struct fdinfo_watch {
	int tfd;
	unsigned int events;
	unsigned long long data;
	int et, oneshot, disarmed;
};

struct fdinfo {
	long id;
	long wakeups, reports, waits, sleeps;	/* vepoll-stats: */
	int nr;
	struct fdinfo_watch w[8];
	bool kernel_address;
	char text[4096];
};

/* Value after the word @key (e.g. "data:") in @line, parsed in @base. */
static bool field(const char *line, const char *key, int base,
		  unsigned long long *val)
{
	const char *s = line;
	char *end;

	while ((s = strstr(s, key)) && s != line && !isspace((unsigned char)s[-1]))
		s++;
	if (!s)
		return false;
	s += strlen(key);
	*val = strtoull(s, &end, base);
	return end != s;
}

/* A value that looks like a kernel pointer: 0xffff... or ffff8.../ffffc... */
static bool looks_like_kernel_address(const char *text)
{
	const char *s;

	for (s = text; *s; s++) {
		int n = 0;

		if (s != text && isxdigit((unsigned char)s[-1]))
			continue;
		if (!strncasecmp(s, "0x", 2))
			s += 2;
		while (isxdigit((unsigned char)s[n]))
			n++;
		if (n >= 12 && !strncasecmp(s, "ffff", 4))
			return true;
	}
	return false;
}

static int read_fdinfo(int fd, struct fdinfo *fi)
{
	char path[64], line[512];
	unsigned long long v;
	FILE *f;

	memset(fi, 0, sizeof(*fi));
	fi->id = -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		strncat(fi->text, line, sizeof(fi->text) - strlen(fi->text) - 1);
		if (!strncmp(line, "vepoll-id:", 10)) {
			fi->id = strtol(line + 10, NULL, 10);
		} else if (!strncmp(line, "vepoll-stats:", 13)) {
			fi->wakeups = field(line, "wakeups", 10, &v) ? (long)v : -1L;
			fi->reports = field(line, "reports", 10, &v) ? (long)v : -1L;
			fi->waits = field(line, "waits", 10, &v) ? (long)v : -1L;
			fi->sleeps = field(line, "sleeps", 10, &v) ? (long)v : -1L;
		} else if (!strncmp(line, "tfd:", 4) && fi->nr < 8) {
			struct fdinfo_watch *w = &fi->w[fi->nr++];

			w->tfd = strtol(line + 4, NULL, 10);
			w->events = field(line, "events:", 16, &v) ? v : ~0U;
			w->data = field(line, "data:", 16, &v) ? v : ~0ULL;
			w->et = field(line, "et:", 10, &v) ? (int)v : -1;
			w->oneshot = field(line, "oneshot:", 10, &v) ? (int)v : -1;
			w->disarmed = field(line, "disarmed:", 10, &v) ? (int)v : -1;
		}
	}
	fclose(f);
	fi->kernel_address = looks_like_kernel_address(fi->text);
	return 0;
}

static struct fdinfo_watch *fdinfo_find(struct fdinfo *fi, int tfd)
{
	int i;

	for (i = 0; i < fi->nr; i++)
		if (fi->w[i].tfd == tfd)
			return &fi->w[i];
	return NULL;
}

TEST_F(life, fdinfo_shows_id_and_one_line_per_watch)
{
	static struct fdinfo fi;
	struct fdinfo_watch *w;
	struct vepoll_event ev;
	int efd = vp_eventfd(1);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, read_fdinfo(self->ep, &fi));
	EXPECT_LT(0, fi.id) {
		TH_LOG("fdinfo:\n%s", fi.text);
	}
	EXPECT_EQ(0, fi.nr);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN | VEPOLLRDHUP | VEPOLLET,
			    0x1122334455667788ULL));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, efd,
			    VEPOLLIN | VEPOLLONESHOT, 0x0123456789abcdefULL));
	ASSERT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(0, read_fdinfo(self->ep, &fi));
	TH_LOG("fdinfo:\n%s", fi.text);
	EXPECT_EQ(2, fi.nr);

	w = fdinfo_find(&fi, self->p[0]);
	ASSERT_TRUE(!!w);
	/* Whether the mode bits are in events: is the format's business. */
	EXPECT_EQ(VEPOLLIN | VEPOLLRDHUP, w->events & ~VP_MODE_BITS);
	EXPECT_EQ(0x1122334455667788ULL, w->data);
	EXPECT_EQ(1, w->et);
	EXPECT_EQ(0, w->oneshot);
	EXPECT_EQ(0, w->disarmed);

	w = fdinfo_find(&fi, efd);
	ASSERT_TRUE(!!w);
	EXPECT_EQ(VEPOLLIN, w->events & ~VP_MODE_BITS);
	EXPECT_EQ(0x0123456789abcdefULL, w->data);
	EXPECT_EQ(0, w->et);
	EXPECT_EQ(1, w->oneshot);
	/* The wait above reported it: disarmed until MOD. */
	EXPECT_EQ(1, w->disarmed);

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_MOD, efd,
			    VEPOLLIN | VEPOLLONESHOT, 5));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_DEL, self->p[0],
			    0, 0));
	ASSERT_EQ(0, read_fdinfo(self->ep, &fi));
	EXPECT_EQ(1, fi.nr);
	w = fdinfo_find(&fi, efd);
	ASSERT_TRUE(!!w);
	EXPECT_EQ(0, w->disarmed);
	EXPECT_EQ(5U, w->data);
	close(efd);
}

TEST_F(life, fdinfo_has_no_kernel_addresses)
{
	static struct fdinfo fi;
	int other = vp_create(self->dev, 0);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 0x42));
	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, other,
			    VEPOLLIN, 0x43));
	ASSERT_EQ(0, read_fdinfo(self->ep, &fi));
	EXPECT_FALSE(fi.kernel_address) {
		TH_LOG("fdinfo:\n%s", fi.text);
	}
	EXPECT_EQ(2, fi.nr);
	close(other);
}

TEST_F(life, instance_ids_increase)
{
	static struct fdinfo fa, fb;
	int b = vp_create(self->dev, 0);

	ASSERT_LE(0, b);
	ASSERT_EQ(0, read_fdinfo(self->ep, &fa));
	ASSERT_EQ(0, read_fdinfo(b, &fb));
	EXPECT_LT(0, fa.id);
	EXPECT_LT(fa.id, fb.id);
	close(b);
}

/* A dup shows the same instance. */
TEST_F(life, fdinfo_of_dup_shows_same_id)
{
	static struct fdinfo fa, fb;
	int d = dup(self->ep);

	ASSERT_LE(0, d);
	ASSERT_EQ(0, read_fdinfo(self->ep, &fa));
	ASSERT_EQ(0, read_fdinfo(d, &fb));
	EXPECT_LT(0, fa.id);
	EXPECT_EQ(fa.id, fb.id);
	close(d);
}

/*
 * The counters of fdinfo's vepoll-stats line: a wait that sleeps until a
 * write wakes it, then one that finds nothing at once.
 */
TEST_F(life, fdinfo_counts_wakeups_reports_waits_sleeps)
{
	static struct fdinfo fi;
	struct vepoll_event ev;
	pid_t pid;

	ASSERT_EQ(0, vp_ctl(self->dev, self->ep, VEPOLL_CTL_ADD, self->p[0],
			    VEPOLLIN, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		vp_msleep(200);
		_exit(write(self->p[1], "x", 1) != 1);
	}
	EXPECT_EQ(1, vp_wait(self->dev, self->ep, &ev, 1, 5000));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_EQ(1, vp_drain(self->p[0]));
	EXPECT_EQ(0, vp_wait(self->dev, self->ep, &ev, 1, 0));
	ASSERT_EQ(0, read_fdinfo(self->ep, &fi));
	TH_LOG("%s", fi.text);
	EXPECT_LE(1, fi.wakeups);
	EXPECT_EQ(1, fi.reports);
	EXPECT_EQ(2, fi.waits);
	EXPECT_LE(1, fi.sleeps);
}

TEST_HARNESS_MAIN
