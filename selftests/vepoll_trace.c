// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_trace - the tracepoints (Documentation.rst, "Tracepoints"): with
 * events/vepoll enabled in tracefs, one small scenario (create, ADD of a
 * pipe, a write, a WAIT that reports it, the close) leaves one line per
 * step in the trace, naming the instance by its fdinfo id and the watch
 * by its fd. Needs root and a kernel with tracefs (SKIP otherwise).
 */
#define _GNU_SOURCE
#include <sys/mount.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#define TRACEFS		"/sys/kernel/tracing"

/* Write @val to the tracefs file @name; 0 or -errno. */
static int tracefs_write(const char *name, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The instance's registry id, from its fdinfo, or -1. */
static long instance_id(int ep)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	if (vp_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "vepoll-id:");
	return p ? strtol(p + strlen("vepoll-id:"), NULL, 10) : -1;
}

FIXTURE(trace) {
	char *buf;
};

FIXTURE_SETUP(trace)
{
	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	self->buf = malloc(1 << 20);
	ASSERT_TRUE(!!self->buf);
}

FIXTURE_TEARDOWN(trace)
{
	tracefs_write("events/vepoll/enable", "0");
	free(self->buf);
}

/* Does the trace hold a line with event @event and every one of @want? */
static bool traced(const char *trace, const char *event, const char *want)
{
	const char *line, *end;
	char needle[64];

	snprintf(needle, sizeof(needle), " %s: ", event);
	for (line = trace; (line = strstr(line, needle)); line = end) {
		end = strchrnul(line, '\n');
		if (!want || (memmem(line, end - line, want, strlen(want))))
			return true;
	}
	return false;
}

TEST_F(trace, one_line_per_step)
{
	struct vepoll_event ev;
	char want[96];
	int dev, ep, p[2], err;
	long id;

	err = tracefs_write("events/vepoll/enable", "1");
	if (err == -ENOENT)
		SKIP(return, "no %s/events/vepoll (tracefs or CONFIG_TRACEPOINTS missing)",
		     TRACEFS);
	ASSERT_EQ(0, err) TH_LOG("enable: %s", strerror(-err));
	ASSERT_EQ(0, tracefs_write("trace", ""));

	dev = vp_assert_open_dev(_metadata);
	ep = vp_create(dev, 0);
	ASSERT_LE(0, ep);
	id = instance_id(ep);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, vp_pipe(p));
	ASSERT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 7));
	EXPECT_EQ(-EEXIST, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 7));
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(1, vp_wait(dev, ep, &ev, 1, 1000));
	close(ep);
	ASSERT_EQ(0, tracefs_write("events/vepoll/enable", "0"));
	ASSERT_LT(0, vp_read_file(TRACEFS "/trace", self->buf, 1 << 20));

	snprintf(want, sizeof(want), "id=%ld ", id);
	EXPECT_TRUE(traced(self->buf, "vepoll_instance_create", want));
	snprintf(want, sizeof(want), "id=%ld op=ADD fd=%d events=0x1 result=0",
		 id, p[0]);
	EXPECT_TRUE(traced(self->buf, "vepoll_ctl", want));
	snprintf(want, sizeof(want), "id=%ld op=ADD fd=%d events=0x1 result=-17",
		 id, p[0]);
	EXPECT_TRUE(traced(self->buf, "vepoll_ctl", want));
	snprintf(want, sizeof(want), "id=%ld fd=%d key=0x", id, p[0]);
	EXPECT_TRUE(traced(self->buf, "vepoll_wakeup", want));
	snprintf(want, sizeof(want), "id=%ld fd=%d events=0x", id, p[0]);
	EXPECT_TRUE(traced(self->buf, "vepoll_report", want));
	snprintf(want, sizeof(want), "id=%ld timeout_ns=1000000000 maxevents=1",
		 id);
	EXPECT_TRUE(traced(self->buf, "vepoll_wait_begin", want));
	snprintf(want, sizeof(want), "id=%ld result=1", id);
	EXPECT_TRUE(traced(self->buf, "vepoll_wait_end", want));
	snprintf(want, sizeof(want), "id=%ld watches=1", id);
	EXPECT_TRUE(traced(self->buf, "vepoll_instance_destroy", want));
	if (_metadata->passed == 0)
		TH_LOG("trace:\n%.2000s", self->buf);
	vp_close_all(p, 2);
	close(dev);
}

TEST_HARNESS_MAIN
