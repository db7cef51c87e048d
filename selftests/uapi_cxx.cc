// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI header on its own, as strict C++11 (SPEC §1: it builds as C and
 * as C++). Compiled with -fsyntax-only.
 */
#include "vepoll_uapi.h"

static_assert(sizeof(vepoll_event) == 16, "vepoll_event");
static_assert(sizeof(vepoll_ctl_args) == 32, "vepoll_ctl_args");
static_assert(sizeof(vepoll_wait_args) == 40, "vepoll_wait_args");
static_assert(VEPOLLET == 0x80000000U, "VEPOLLET");

unsigned long vepoll_uapi_cxx()
{
	const unsigned long reqs[] = {
		VEPOLL_IOC_CREATE, VEPOLL_IOC_CTL, VEPOLL_IOC_WAIT,
	};
	vepoll_ctl_args a = {};

	a.event.events = VEPOLLIN | VEPOLLET | VEPOLLONESHOT;
	return reqs[0] + a.event.events;
}
