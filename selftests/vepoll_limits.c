// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_limits - SPEC §5: module parameters, the per-user instance limit
 * and the reserve no unprivileged user can take, and rmmod, refused while
 * any /dev/vepoll or instance fd is open and clean after the last close.
 *
 * Runs last: it unloads and reloads the module (VEPOLL_KO), and every test
 * that did so restores the parameters vm.sh loaded it with (VEPOLL_PARAMS).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define NOBODY		65534
#define NOBODY2		65533

static const char *const params[] = {
	"max_instances", "max_watches", "wait_cap_ms", "max_user_instances",
	"reserved_instances",
};

/* The defaults vepoll_main.c derives from max_instances. */
static long default_per_user(long max)
{
	return max / 8 > 0 ? max / 8 : 1;
}

static long default_reserve(long max)
{
	long r = max / 16 > 0 ? max / 16 : 1;

	return r < max - 1 ? r : max - 1;
}

TEST(parameters_have_spec_defaults)
{
	long max = vp_param_expected("max_instances", 256);

	EXPECT_EQ(max, vp_param("max_instances"));
	EXPECT_EQ(vp_param_expected("max_watches", 1024),
		  vp_param("max_watches"));
	EXPECT_EQ(vp_param_expected("wait_cap_ms", 30000),
		  vp_param("wait_cap_ms"));
	/* An eighth of the table per user, a sixteenth kept in reserve. */
	EXPECT_EQ(vp_param_expected("max_user_instances",
				    default_per_user(max)),
		  vp_param("max_user_instances"));
	EXPECT_EQ(vp_param_expected("reserved_instances",
				    default_reserve(max)),
		  vp_param("reserved_instances"));
}

TEST(parameters_are_read_only)
{
	char path[256];
	unsigned int i;
	struct stat st;

	for (i = 0; i < ARRAY_SIZE(params); i++) {
		snprintf(path, sizeof(path), VP_PARAM_DIR "%s", params[i]);
		ASSERT_EQ(0, stat(path, &st)) {
			TH_LOG("%s: %s", path, strerror(errno));
		}
		EXPECT_EQ(0U, st.st_mode & 0222) {
			TH_LOG("%s has mode %o", path, st.st_mode & 07777);
		}
		/* Not even root may write it. */
		EXPECT_GT(0, open(path, O_WRONLY | O_CLOEXEC));
	}
}

/* ---- tests that reload the module ---------------------------------------- */

FIXTURE(mod) {
	bool touched;
};

FIXTURE_SETUP(mod)
{
}

FIXTURE_TEARDOWN(mod)
{
	if (self->touched) {
		EXPECT_EQ(0, vp_module_put_back());
		EXPECT_TRUE(vp_module_loaded());
	}
}

/* rmmod refused now: EWOULDBLOCK (O_NONBLOCK with users) or EBUSY. */
#define EXPECT_RMMOD_REFUSED() do {					\
	int __r = vp_delete_module();					\
									\
	EXPECT_TRUE(__r == -EWOULDBLOCK || __r == -EBUSY) {		\
		TH_LOG("delete_module: %d (%s)", __r, strerror(-__r));	\
	}								\
	EXPECT_TRUE(vp_module_loaded());				\
} while (0)

/* The last user gone, rmmod works at the first try and removes it all. */
#define EXPECT_RMMOD_SUCCEEDS() do {					\
	int __r = vp_delete_module();					\
	struct stat __st;						\
									\
	EXPECT_EQ(0, __r) {						\
		TH_LOG("delete_module: %s", strerror(-__r));		\
	}								\
	EXPECT_FALSE(vp_module_loaded());				\
	EXPECT_NE(0, stat(VP_DEV_PATH, &__st));				\
} while (0)

TEST_F(mod, rmmod_refused_while_device_fd_open)
{
	const char *why;
	int dev;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_restore());
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	EXPECT_RMMOD_REFUSED();
	close(dev);
	EXPECT_RMMOD_SUCCEEDS();
}

TEST_F(mod, rmmod_refused_while_instance_fd_open)
{
	const char *why;
	int dev, ep;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_restore());
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	close(dev);
	/* Only the instance fd is left. */
	EXPECT_RMMOD_REFUSED();
	close(ep);
	EXPECT_RMMOD_SUCCEEDS();
}

/* Held through a watch in another instance: still a user. */
TEST_F(mod, rmmod_refused_while_instance_held_by_a_watch)
{
	const char *why;
	int dev, ep, inner, efd;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_restore());
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	inner = vp_create(dev, 0);
	ASSERT_LE(0, inner);
	efd = vp_eventfd(0);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, efd, VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, inner, VEPOLLIN, 2));
	close(dev);
	close(inner);
	EXPECT_RMMOD_REFUSED();
	close(ep);
	EXPECT_RMMOD_SUCCEEDS();
	close(efd);
}

TEST_F(mod, rmmod_refused_while_a_child_holds_an_instance)
{
	const char *why;
	int dev, ep, sync[2], status;
	pid_t pid;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_restore());
	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	close(dev);
	pid = vp_fork_holder(sync, -1);
	ASSERT_LE(0, pid);
	close(ep);
	EXPECT_RMMOD_REFUSED();
	close(sync[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_RMMOD_SUCCEEDS();
}

/* After real use - watches, nesting, pending events - all goes. */
TEST_F(mod, rmmod_succeeds_after_busy_instances_are_closed)
{
	const char *why;
	struct vepoll_event ev[8];
	int dev, inner, outer, p[2], sv[2], efd, tfd;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_restore());
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	inner = vp_create(dev, 0);
	ASSERT_LE(0, inner);
	outer = vp_create(dev, VEPOLL_CLOEXEC);
	ASSERT_LE(0, outer);
	ASSERT_EQ(0, vp_pipe(p));
	ASSERT_EQ(0, vp_socketpair(sv));
	efd = vp_eventfd(1);
	ASSERT_LE(0, efd);
	tfd = vp_timerfd(10);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1));
	ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, p[1],
			    VEPOLLOUT | VEPOLLET, 2));
	ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, sv[0],
			    VEPOLLIN | VEPOLLONESHOT, 3));
	ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, efd, VEPOLLIN, 4));
	ASSERT_EQ(0, vp_ctl(dev, inner, VEPOLL_CTL_ADD, tfd, VEPOLLIN, 5));
	ASSERT_EQ(0, vp_ctl(dev, outer, VEPOLL_CTL_ADD, inner, VEPOLLIN, 6));
	ASSERT_EQ(0, vp_ctl(dev, outer, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 7));
	EXPECT_LT(0, vp_wait(dev, outer, ev, 8, 1000));
	EXPECT_LT(0, vp_wait(dev, inner, ev, 8, 1000));
	/* Leave events ready and unreported. */
	ASSERT_EQ(1, vp_write_bytes(p[1], 1));
	ASSERT_EQ(1, vp_write_bytes(sv[1], 1));
	close(dev);
	EXPECT_RMMOD_REFUSED();
	/* The outer instance still holds the inner one. */
	close(inner);
	EXPECT_RMMOD_REFUSED();
	close(outer);
	EXPECT_RMMOD_SUCCEEDS();
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	close(efd);
	close(tfd);
}

/* ---- the per-user limit -------------------------------------------------- */

/* What a user_child tells its parent once it holds its instances. */
struct user_report {
	int made;
	int err;
};

/*
 * In a child that becomes @uid (and so loses every capability): create
 * @nr instances, check the next gets @want_err (0: do not try), tell the
 * parent through @report and hold them until @hold is closed. With @nr
 * negative, create until the first error and report how many and which.
 */
static pid_t user_child(uid_t uid, int nr, int want_err, int report[2],
			int hold[2])
{
	struct user_report r = { 0, 0 };
	pid_t pid = fork();
	int dev, i, ret;
	char c;

	if (pid)
		return pid;
	/*
	 * Drop everything else, the other children's hold pipes included:
	 * an inherited write end would keep them from ever seeing EOF.
	 */
	for (i = 3; i < 1024; i++)
		if (i != report[1] && i != hold[0])
			close(i);
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid))
		_exit(20);
	/* Mode 0666: anybody may open it. */
	dev = vp_open_dev();
	if (dev < 0)
		_exit(21);
	for (i = 0; nr < 0 || i < nr; i++) {
		ret = vp_create(dev, 0);
		if (ret >= 0) {
			r.made++;
			continue;
		}
		if (nr < 0) {
			r.err = ret;
			break;
		}
		_exit(22 + i);
	}
	if (nr >= 0 && want_err) {
		ret = vp_create(dev, 0);
		if (ret != want_err)
			_exit(ret == -ENFILE ? 40 : ret == -EMFILE ? 41 :
			      ret >= 0 ? 42 : 43);
	}
	if (write(report[1], &r, sizeof(r)) != sizeof(r))
		_exit(44);
	while (read(hold[0], &c, 1) > 0)
		;
	_exit(0);
}

struct held {
	pid_t pid;
	int hold_wr;
};

/*
 * Start a user_child and wait until it holds its instances; *@r (if not
 * NULL) gets what it reported.
 */
static int start_user_report(struct __test_metadata *_metadata,
			     struct held *h, uid_t uid, int nr, int want_err,
			     struct user_report *r)
{
	int report[2], hold[2], status;
	struct user_report c;

	if (pipe2(report, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		return -1;
	h->pid = user_child(uid, nr, want_err, report, hold);
	if (h->pid < 0)
		return -1;
	close(report[1]);
	close(hold[0]);
	h->hold_wr = hold[1];
	if (read(report[0], &c, sizeof(c)) == sizeof(c)) {
		close(report[0]);
		if (r)
			*r = c;
		return 0;
	}
	close(report[0]);
	waitpid(h->pid, &status, 0);
	TH_LOG("uid %d child failed: exit %d", uid,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

static int start_user(struct __test_metadata *_metadata, struct held *h,
		      uid_t uid, int nr, int want_err)
{
	return start_user_report(_metadata, h, uid, nr, want_err, NULL);
}

static int stop_user(struct held *h)
{
	int status;

	close(h->hold_wr);
	if (waitpid(h->pid, &status, 0) != h->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * Two users fill what they may of a table of 16 with a share of 8: the
 * first stops at its share (EMFILE), the second at the reserve (ENFILE),
 * and root still gets the reserved slot.
 */
TEST_F(mod, unprivileged_users_stop_at_share_and_reserve)
{
	struct held a, b, c;
	int dev, fds[16], i, n;
	const char *why;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_reload("max_instances=16 max_user_instances=8 "
				      "reserved_instances=1"));
	if (vp_param("max_instances") != 16 ||
	    vp_param("max_user_instances") != 8 ||
	    vp_param("reserved_instances") != 1)
		SKIP(return, "VEPOLL_PARAMS overrides the limits under test");

	/* One user: its share of 8, then EMFILE. */
	ASSERT_EQ(0, start_user(_metadata, &a, NOBODY, 8, -EMFILE));
	/* Another: 7 more, then the reserve's ENFILE, not EMFILE. */
	ASSERT_EQ(0, start_user(_metadata, &b, NOBODY2, 7, -ENFILE));
	/* Root, with CAP_SYS_RESOURCE, takes the reserved slot: 16. */
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	fds[0] = vp_create(dev, 0);
	EXPECT_LE(0, fds[0]) {
		TH_LOG("root past two users: %s", strerror(-fds[0]));
	}
	/* Then the table is full for everyone. */
	EXPECT_EQ(-ENFILE, vp_create(dev, 0));
	close(fds[0]);
	/*
	 * The first user's count drops with its instances. Refilling, it
	 * meets both limits at once (8 + 7 = 15): EMFILE wins.
	 */
	EXPECT_EQ(0, stop_user(&a));
	ASSERT_EQ(0, start_user(_metadata, &c, NOBODY, 8, -EMFILE));
	EXPECT_EQ(0, stop_user(&c));
	EXPECT_EQ(0, stop_user(&b));
	/* CAP_SYS_RESOURCE lifts both: root gets all 16. */
	for (n = 0; n < 16; n++) {
		fds[n] = vp_create(dev, 0);
		ASSERT_LE(0, fds[n]) {
			TH_LOG("root's instance %d: %s", n + 1,
			       strerror(-fds[n]));
		}
	}
	EXPECT_EQ(-ENFILE, vp_create(dev, 0));
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(dev);
}

/*
 * With the default limits, as many users as it takes (one after the
 * other, each holding what it got) fill the table: each gets its share,
 * an eighth, until the unprivileged part is full; the last one meets
 * ENFILE; root still gets the whole reserve.
 */
TEST_F(mod, many_users_leave_the_reserve_to_root)
{
	long max, per_user, reserve, total = 0, want;
	struct user_report r;
	struct held users[64];
	int dev, *fds, i, n, nr_users = 0;
	const char *why;

	why = vp_reload_unsupported();
	if (why)
		SKIP(return, "%s", why);
	self->touched = true;
	ASSERT_EQ(0, vp_module_restore());
	max = vp_param("max_instances");
	per_user = vp_param("max_user_instances");
	reserve = vp_param("reserved_instances");
	if (per_user != default_per_user(max) ||
	    reserve != default_reserve(max))
		SKIP(return, "VEPOLL_PARAMS overrides the default limits");
	ASSERT_LT(0, reserve);
	if ((max - reserve) / per_user + 1 > (long)ARRAY_SIZE(users))
		SKIP(return, "max_instances %ld: too many users to fork", max);
	ksft_print_msg("max_instances %ld, max_user_instances %ld, reserved_instances %ld\n",
		       max, per_user, reserve);

	for (;;) {
		ASSERT_EQ(0, start_user_report(_metadata, &users[nr_users],
					       NOBODY - 1 - nr_users, -1, 0,
					       &r));
		nr_users++;
		want = max - reserve - total;
		if (want > per_user)
			want = per_user;
		EXPECT_EQ(want, r.made) {
			TH_LOG("user %d got %d with %ld held by the others",
			       nr_users, r.made, total);
		}
		total += r.made;
		if (r.err != -EMFILE)
			break;
		ASSERT_GT(max - reserve, total);
	}
	EXPECT_EQ(-ENFILE, r.err) {
		TH_LOG("user %d stopped with %s", nr_users, strerror(-r.err));
	}
	EXPECT_EQ(max - reserve, total);
	ksft_print_msg("%d users hold %ld instances\n", nr_users, total);

	/* The reserve is root's, whole. */
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	fds = calloc(reserve + 1, sizeof(*fds));
	ASSERT_TRUE(!!fds);
	for (n = 0; n < reserve; n++) {
		fds[n] = vp_create(dev, 0);
		ASSERT_LE(0, fds[n]) {
			TH_LOG("root's reserved instance %d of %ld: %s", n + 1,
			       reserve, strerror(-fds[n]));
		}
	}
	EXPECT_EQ(-ENFILE, vp_create(dev, 0));
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	close(dev);
	for (i = 0; i < nr_users; i++)
		EXPECT_EQ(0, stop_user(&users[i]));
}

/*
 * The last test (fixtures run in the order they are declared): whatever
 * happened above, the module is as vm.sh left it.
 */
FIXTURE(last) {
};

FIXTURE_SETUP(last)
{
}

FIXTURE_TEARDOWN(last)
{
}

TEST_F(last, module_is_loaded_with_original_parameters)
{
	unsigned int i;
	struct stat st;
	long max;

	if (vp_ko_path() && !geteuid() && !vp_module_loaded())
		EXPECT_EQ(0, vp_module_load(getenv("VEPOLL_PARAMS") ?: ""));
	ASSERT_TRUE(vp_module_loaded());
	ASSERT_EQ(0, stat(VP_DEV_PATH, &st));
	EXPECT_EQ(0666U, st.st_mode & 07777);
	max = vp_param_expected("max_instances", 256);
	EXPECT_EQ(max, vp_param("max_instances"));
	EXPECT_EQ(vp_param_expected("max_watches", 1024),
		  vp_param("max_watches"));
	EXPECT_EQ(vp_param_expected("wait_cap_ms", 30000),
		  vp_param("wait_cap_ms"));
	EXPECT_EQ(vp_param_expected("max_user_instances",
				    default_per_user(max)),
		  vp_param("max_user_instances"));
	EXPECT_EQ(vp_param_expected("reserved_instances",
				    default_reserve(max)),
		  vp_param("reserved_instances"));
	for (i = 0; i < ARRAY_SIZE(params); i++)
		EXPECT_LE(0, vp_param(params[i]));
}

TEST_HARNESS_MAIN
