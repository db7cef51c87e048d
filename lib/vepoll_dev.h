/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to libvepoll and the preload shim: the shared /dev/vepoll
 * descriptor. Not installed.
 */
#ifndef _VEPOLL_DEV_H
#define _VEPOLL_DEV_H

/* The kernel's sigset_t: what VEPOLL_IOC_WAIT wants in sigsetsize. */
#define VEPOLL_KSIGSET_SIZE	8

#define VEPOLL_HIDDEN	__attribute__((visibility("hidden")))

/*
 * ioctl(2) on the device, opened on first use. Returns what the ioctl
 * returns, or -1 with errno; when the device cannot be opened, errno is
 * ENODEV (no such device: the module is not loaded) or the open's errno.
 */
VEPOLL_HIDDEN long vepoll_dev_ioctl(unsigned long req, unsigned long arg);

/* The device descriptor, opening it if needed; -1 and errno if it cannot. */
VEPOLL_HIDDEN int vepoll_dev_fd(void);

#endif /* _VEPOLL_DEV_H */
