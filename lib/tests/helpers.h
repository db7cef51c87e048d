/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the library and shim tests: a monotonic clock in ms,
 * and a signal sent to a blocked thread a moment later.
 */
#ifndef _VEPOLL_TEST_HELPERS_H
#define _VEPOLL_TEST_HELPERS_H

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Set by on_signal(), read once the signal has been handled. */
static int got_signal;

static inline void on_signal(int sig)
{
	__atomic_store_n(&got_signal, sig, __ATOMIC_RELAXED);
}

/* Thread body: SIGUSR1 to the thread *@arg (a pthread_t) after 100 ms. */
static inline void *signal_later(void *arg)
{
	usleep(100000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

#endif /* _VEPOLL_TEST_HELPERS_H */
