// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Compiled (never run) as C11 and as C++11/17, pedantic: vepoll.h and
 * vepoll_uapi.h are usable from both languages.
 */
#include <stddef.h>

#include "vepoll.h"

int main(void)
{
	struct vepoll_event ev = { VEPOLLIN | VEPOLLET, 0, 42 };
	struct vepoll_ctl_args ctl[1] = { { 3, VEPOLL_CTL_ADD, 0, 0, { VEPOLLIN, 0, 1 } } };
	int results[1];
	sigset_t set;
	int ep = vepoll_create1(VEPOLL_CLOEXEC);
	const char *why = vepoll_device_error();

	sigemptyset(&set);
	if (ep < 0)
		return why != NULL;
	vepoll_ctl(ep, VEPOLL_CTL_ADD, 0, &ev);
	vepoll_ctl(ep, VEPOLL_CTL_DEL, 0, NULL);
	vepoll_ctl_batch(ep, ctl, 1, results);
	vepoll_wait(ep, &ev, 1, 0);
	return vepoll_pwait(ep, &ev, 1, 0, &set);
}
