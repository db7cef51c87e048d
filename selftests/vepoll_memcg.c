// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_memcg - what vepoll allocates for a process is charged to its
 * memory cgroup, and a cgroup at its limit makes ADD fail with ENOMEM and
 * leaves nothing behind.
 *
 * A child in a memory cgroup with a 1 MiB limit adds watches (one eventfd
 * under many fd numbers, in many instances) until an ADD fails. That ADD
 * must fail with ENOMEM, neither ENOSPC (there are instances to spare) nor
 * anything else, and leave no watch; once a few watches are deleted, an
 * ADD works again. After the child exits, the cgroup's usage is back to
 * (nearly) nothing: every watch, wait-queue entry and instance was
 * uncharged, so freed.
 *
 * The cgroup is a cgroup-v1 memory hierarchy with the OOM killer disabled
 * for it (memory.oom_control): there a charge over the limit fails, as
 * the allocation then must. Under cgroup v2 the same charge invokes the
 * memcg OOM killer, which kills the task and prints a stack dump instead
 * of failing the allocation, so v2 cannot show the ENOMEM. The child
 * locks its memory first: a page fault at the limit would sleep until
 * memory is freed, not fail. Skipped when the memory controller cannot be
 * mounted as v1 (it is bound to a v2 hierarchy) or when not root.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define LIMIT		(1 << 20)
#define NR_INSTANCES	32
#define NR_FDS		1024
/*
 * What may stay charged once drained: a partly used page of charged
 * bytes. (vepoll's superblock marks, which outlive the child, are not
 * charged.)
 */
#define USAGE_SLACK	(16 << 10)

struct report {
	int added;	/* watches added before the failure */
	int err;	/* the errno of the failed ADD */
	int del_err;	/* DEL of the failed key: must be ENOENT */
	int readd;	/* ADD after freeing some: must be 0 */
	int step;	/* 0, or the step of the child that went wrong */
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -errno;
}

static long read_long(const char *path)
{
	char buf[64];

	if (vp_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/* Everything before joining the cgroup, so that nothing after faults. */
static void child(const char *procs, int out)
{
	static int eps[NR_INSTANCES], fds[NR_FDS];
	struct report r = { 0 };
	char pid[32], stack[64 << 10];
	int dev, i, j, ret, nr_eps, fi = -1, fj = -1;

	/* Touch the stack a wait may use, before locking it in. */
	memset(stack, 0, sizeof(stack));
	__asm__ volatile("" : : "r"(stack) : "memory");
	r.step = 1;
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		goto out;
	r.step = 2;
	dev = vp_open_dev();
	fds[0] = vp_eventfd(0);
	if (dev < 0 || fds[0] < 0)
		goto out;
	r.step = 3;
	for (j = 1; j < NR_FDS; j++) {
		fds[j] = dup(fds[0]);
		if (fds[j] < 0)
			goto out;
	}
	r.step = 4;
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(procs, pid))
		goto out;
	/* From here on, what vepoll allocates is charged to the cgroup. */
	r.step = 5;
	for (nr_eps = 0; nr_eps < NR_INSTANCES; nr_eps++) {
		eps[nr_eps] = vp_create(dev, VEPOLL_CLOEXEC);
		if (eps[nr_eps] < 0)
			break;
	}
	if (!nr_eps)
		goto out;
	r.step = 0;
	for (i = 0; i < nr_eps && fi < 0; i++) {
		for (j = 0; j < NR_FDS; j++) {
			ret = vp_ctl(dev, eps[i], VEPOLL_CTL_ADD, fds[j],
				     VEPOLLIN, j);
			/* This instance is full: on to the next. */
			if (ret == -ENOSPC)
				break;
			if (ret < 0) {
				r.err = -ret;
				fi = i;
				fj = j;
				break;
			}
			r.added++;
		}
	}
	if (fi < 0) {
		/* Every instance filled up and the limit was never hit. */
		r.err = ENOSPC;
		goto out;
	}
	/* The failed ADD left nothing. */
	r.del_err = -vp_ctl(dev, eps[fi], VEPOLL_CTL_DEL, fds[fj], 0, 0);
	/* Room again once some are gone. */
	for (j = fj; j > 0 && j > fj - 64; )
		vp_ctl(dev, eps[fi], VEPOLL_CTL_DEL, fds[--j], 0, 0);
	r.readd = vp_ctl(dev, eps[fi], VEPOLL_CTL_ADD, fds[fj], VEPOLLIN, 1);
out:
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	_exit(0);
}

TEST(charged_watches_fail_with_enomem_at_the_limit)
{
	char dir[] = "/tmp/vepoll-memcg.XXXXXX", path[256], procs[256];
	char limit[32];
	struct report r = { 0 };
	int out[2], status, i;
	long usage, failcnt, before;
	pid_t pid;

	if (geteuid())
		SKIP(return, "not root");
	ASSERT_TRUE(!!mkdtemp(dir));
	if (mount("vepoll_memcg", dir, "cgroup", 0, "memory")) {
		int err = errno;

		rmdir(dir);
		SKIP(return, "cannot mount a cgroup-v1 memory hierarchy: %s",
		     strerror(err));
	}
	snprintf(path, sizeof(path), "%s/vepoll", dir);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(procs, sizeof(procs), "%s/vepoll/cgroup.procs", dir);
	snprintf(path, sizeof(path), "%s/vepoll/memory.oom_control", dir);
	ASSERT_EQ(0, write_str(path, "1"));
	snprintf(path, sizeof(path), "%s/vepoll/memory.limit_in_bytes", dir);
	snprintf(limit, sizeof(limit), "%d", LIMIT);
	ASSERT_EQ(0, write_str(path, limit));
	ASSERT_EQ(0, vp_want_nofile(NR_FDS + 64));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(out[0]);
		child(procs, out[1]);
	}
	close(out[1]);
	EXPECT_EQ((ssize_t)sizeof(r), read(out[0], &r, sizeof(r)));
	close(out[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));

	snprintf(path, sizeof(path), "%s/vepoll/memory.failcnt", dir);
	failcnt = read_long(path);
	/*
	 * The usage counts what the CPUs' charge caches hold for the cgroup
	 * (up to 64 pages each): force_empty drains them, and reclaims what
	 * can be. Files and file records are freed after an RCU grace
	 * period, and only then uncharged: give them a few seconds.
	 */
	snprintf(path, sizeof(path), "%s/vepoll/memory.usage_in_bytes", dir);
	before = read_long(path);
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/vepoll/memory.force_empty",
			 dir);
		write_str(path, "0");
		snprintf(path, sizeof(path),
			 "%s/vepoll/memory.usage_in_bytes", dir);
		usage = read_long(path);
		if (usage >= 0 && usage <= USAGE_SLACK)
			break;
		vp_msleep(100);
	}
	ksft_print_msg("%d watches under a %d KiB limit, then %s; "
		       "failcnt %ld, usage afterwards %ld bytes, %ld once drained\n",
		       r.added, LIMIT >> 10, strerror(r.err), failcnt, before,
		       usage);
	EXPECT_EQ(0, r.step) {
		TH_LOG("the child's step %d failed", r.step);
	}
	EXPECT_EQ(ENOMEM, r.err);
	EXPECT_LT(0, r.added);
	EXPECT_EQ(ENOENT, r.del_err) {
		TH_LOG("a half-made watch after the failed ADD");
	}
	EXPECT_EQ(0, r.readd) {
		TH_LOG("ADD after freeing: %s", strerror(-r.readd));
	}
	EXPECT_LT(0, failcnt);
	/* Everything the child's watches and instances held was given back. */
	EXPECT_LE(0, usage);
	EXPECT_GE(USAGE_SLACK, usage);

	snprintf(path, sizeof(path), "%s/vepoll", dir);
	EXPECT_EQ(0, rmdir(path));
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
}

int main(int argc, char **argv)
{
	/* The test runs in a child that ends with _exit(): no lost lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
