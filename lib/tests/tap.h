/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A few lines of TAP (the Test Anything Protocol, as kselftest prints it)
 * for the library and shim tests.
 */
#ifndef _VEPOLL_TAP_H
#define _VEPOLL_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_skipped;

static inline __attribute__((format(printf, 2, 3)))
int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline __attribute__((format(printf, 1, 2)))
void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - # SKIP ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_skipped++;
}

static inline __attribute__((format(printf, 1, 2)))
void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A call that must fail with @err: "name: -1/EBADF". */
#define TAP_ERR(call, err, name) do {					\
	long __ret;							\
	int __e;							\
	errno = 0;							\
	__ret = (call);							\
	__e = errno;							\
	tap_ok(__ret == -1 && __e == (err), "%s: %s (got %ld, %s)",	\
	       (name), #err, __ret, strerrorname_np(__e) ?: "0");	\
} while (0)

/* A call that must return @want. */
#define TAP_RET(call, want, name) do {					\
	long __ret, __want = (want);					\
	int __e;							\
	errno = 0;							\
	__ret = (call);							\
	__e = errno;							\
	tap_ok(__ret == __want, "%s: returns %ld (got %ld, errno %s)",	\
	       (name), __want, __ret, strerrorname_np(__e) ?: "0");	\
} while (0)

/* The plan last, and the kselftest-style totals the scripts count. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       tap_n - tap_failed - tap_skipped, tap_failed, tap_skipped);
	return tap_failed ? 1 : 0;
}

#endif /* _VEPOLL_TAP_H */
