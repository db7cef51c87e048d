// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI header on its own, as strict C11: it must need nothing but what
 * it includes itself (Documentation.rst, "The ABI"). Compiled with
 * -fsyntax-only.
 */
#include "vepoll_uapi.h"

/* Use every name once, so a typo in a macro body is caught too. */
const unsigned long vepoll_uapi_names[] = {
	VEPOLLIN, VEPOLLPRI, VEPOLLOUT, VEPOLLERR, VEPOLLHUP, VEPOLLRDNORM,
	VEPOLLRDBAND, VEPOLLWRNORM, VEPOLLWRBAND, VEPOLLMSG, VEPOLLRDHUP,
	VEPOLLONESHOT, VEPOLLET, VEPOLL_CTL_ADD, VEPOLL_CTL_DEL, VEPOLL_CTL_MOD,
	VEPOLL_CLOEXEC, VEPOLL_IOC_CREATE, VEPOLL_IOC_CTL, VEPOLL_IOC_WAIT,
	sizeof(struct vepoll_event), sizeof(struct vepoll_ctl_args),
	sizeof(struct vepoll_wait_args),
};
