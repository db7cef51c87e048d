// SPDX-License-Identifier: GPL-2.0
/*
 * vepoll_abi - SPEC §1: the ABI header's layout and values, the device
 * node, and how the ioctl dispatcher treats requests and argument pointers
 * it does not like.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "vepoll_test.h"

#ifdef VEPOLL_IOC_WAIT2
static const struct vepoll_wait2_args wait2_negative = { .timeout_ns = -1 };
#endif

TEST(struct_sizes_and_field_offsets)
{
	EXPECT_EQ(16U, sizeof(struct vepoll_event));
	EXPECT_EQ(0U, offsetof(struct vepoll_event, events));
	EXPECT_EQ(4U, offsetof(struct vepoll_event, __pad));
	EXPECT_EQ(8U, offsetof(struct vepoll_event, data));

	EXPECT_EQ(32U, sizeof(struct vepoll_ctl_args));
	EXPECT_EQ(0U, offsetof(struct vepoll_ctl_args, epfd));
	EXPECT_EQ(4U, offsetof(struct vepoll_ctl_args, op));
	EXPECT_EQ(8U, offsetof(struct vepoll_ctl_args, fd));
	EXPECT_EQ(12U, offsetof(struct vepoll_ctl_args, __pad));
	EXPECT_EQ(16U, offsetof(struct vepoll_ctl_args, event));

	EXPECT_EQ(40U, sizeof(struct vepoll_wait_args));
	EXPECT_EQ(0U, offsetof(struct vepoll_wait_args, epfd));
	EXPECT_EQ(4U, offsetof(struct vepoll_wait_args, timeout_ms));
	EXPECT_EQ(8U, offsetof(struct vepoll_wait_args, maxevents));
	EXPECT_EQ(12U, offsetof(struct vepoll_wait_args, flags));
	EXPECT_EQ(16U, offsetof(struct vepoll_wait_args, events));
	EXPECT_EQ(24U, offsetof(struct vepoll_wait_args, sigmask));
	EXPECT_EQ(32U, offsetof(struct vepoll_wait_args, sigsetsize));
#ifdef VEPOLL_IOC_CTL_BATCH
	EXPECT_EQ(32U, sizeof(struct vepoll_ctl_batch));
	EXPECT_EQ(0U, offsetof(struct vepoll_ctl_batch, epfd));
	EXPECT_EQ(4U, offsetof(struct vepoll_ctl_batch, count));
	EXPECT_EQ(8U, offsetof(struct vepoll_ctl_batch, flags));
	EXPECT_EQ(12U, offsetof(struct vepoll_ctl_batch, __pad));
	EXPECT_EQ(16U, offsetof(struct vepoll_ctl_batch, ctls));
	EXPECT_EQ(24U, offsetof(struct vepoll_ctl_batch, results));
#endif
#ifdef VEPOLL_IOC_WAIT2
	EXPECT_EQ(64U, sizeof(struct vepoll_wait2_args));
	EXPECT_EQ(0U, offsetof(struct vepoll_wait2_args, epfd));
	EXPECT_EQ(4U, offsetof(struct vepoll_wait2_args, maxevents));
	EXPECT_EQ(8U, offsetof(struct vepoll_wait2_args, flags));
	EXPECT_EQ(12U, offsetof(struct vepoll_wait2_args, nchanges));
	EXPECT_EQ(16U, offsetof(struct vepoll_wait2_args, timeout_ns));
	EXPECT_EQ(24U, offsetof(struct vepoll_wait2_args, events));
	EXPECT_EQ(32U, offsetof(struct vepoll_wait2_args, changes));
	EXPECT_EQ(40U, offsetof(struct vepoll_wait2_args, results));
	EXPECT_EQ(48U, offsetof(struct vepoll_wait2_args, sigmask));
	EXPECT_EQ(56U, offsetof(struct vepoll_wait2_args, sigsetsize));
	EXPECT_EQ(8U, sizeof(((struct vepoll_wait2_args *)0)->timeout_ns));
	/* Signed: a negative timeout is the capped infinite wait. */
	EXPECT_GT(0, wait2_negative.timeout_ns);
#endif
}

/* The condition bits are poll(2)'s and epoll(7)'s, bit for bit. */
TEST(event_bits_match_poll_and_epoll)
{
	EXPECT_EQ((__u32)POLLIN, VEPOLLIN);
	EXPECT_EQ((__u32)POLLPRI, VEPOLLPRI);
	EXPECT_EQ((__u32)POLLOUT, VEPOLLOUT);
	EXPECT_EQ((__u32)POLLERR, VEPOLLERR);
	EXPECT_EQ((__u32)POLLHUP, VEPOLLHUP);
	EXPECT_EQ((__u32)POLLRDNORM, VEPOLLRDNORM);
	EXPECT_EQ((__u32)POLLRDBAND, VEPOLLRDBAND);
	EXPECT_EQ((__u32)POLLWRNORM, VEPOLLWRNORM);
	EXPECT_EQ((__u32)POLLWRBAND, VEPOLLWRBAND);
	EXPECT_EQ((__u32)POLLMSG, VEPOLLMSG);
	EXPECT_EQ((__u32)POLLRDHUP, VEPOLLRDHUP);
	EXPECT_EQ((__u32)EPOLLONESHOT, VEPOLLONESHOT);
	EXPECT_EQ((__u32)EPOLLET, VEPOLLET);
	EXPECT_EQ(1U << 30, VEPOLLONESHOT);
	EXPECT_EQ(1U << 31, VEPOLLET);
	EXPECT_EQ((__u32)EPOLLEXCLUSIVE, VEPOLLEXCLUSIVE);
	EXPECT_EQ((__u32)EPOLLWAKEUP, VEPOLLWAKEUP);
	EXPECT_EQ(1U << 28, VEPOLLEXCLUSIVE);
	EXPECT_EQ(1U << 29, VEPOLLWAKEUP);
}

TEST(ops_and_create_flag_values)
{
	EXPECT_EQ(1, VEPOLL_CTL_ADD);
	EXPECT_EQ(2, VEPOLL_CTL_DEL);
	EXPECT_EQ(3, VEPOLL_CTL_MOD);
	EXPECT_EQ(O_CLOEXEC, VEPOLL_CLOEXEC);
	EXPECT_EQ(0x80000, VEPOLL_CLOEXEC);
}

/* One magic, distinct numbers, direction and size encoded (SPEC §1). */
TEST(ioctl_numbers_encode_type_direction_and_size)
{
	EXPECT_EQ(_IOC_TYPE(VEPOLL_IOC_CREATE), _IOC_TYPE(VEPOLL_IOC_CTL));
	EXPECT_EQ(_IOC_TYPE(VEPOLL_IOC_CREATE), _IOC_TYPE(VEPOLL_IOC_WAIT));
	EXPECT_NE(_IOC_NR(VEPOLL_IOC_CREATE), _IOC_NR(VEPOLL_IOC_CTL));
	EXPECT_NE(_IOC_NR(VEPOLL_IOC_CREATE), _IOC_NR(VEPOLL_IOC_WAIT));
	EXPECT_NE(_IOC_NR(VEPOLL_IOC_CTL), _IOC_NR(VEPOLL_IOC_WAIT));

	EXPECT_EQ(_IOC_NONE, _IOC_DIR(VEPOLL_IOC_CREATE));
	EXPECT_EQ(0U, _IOC_SIZE(VEPOLL_IOC_CREATE));
	EXPECT_NE(0U, _IOC_DIR(VEPOLL_IOC_CTL) & _IOC_WRITE);
	EXPECT_EQ(sizeof(struct vepoll_ctl_args), _IOC_SIZE(VEPOLL_IOC_CTL));
	EXPECT_NE(0U, _IOC_DIR(VEPOLL_IOC_WAIT) & _IOC_WRITE);
	EXPECT_EQ(sizeof(struct vepoll_wait_args), _IOC_SIZE(VEPOLL_IOC_WAIT));
#ifdef VEPOLL_IOC_CTL_BATCH
	/* The project's extension: the same magic, a number of its own. */
	EXPECT_EQ(_IOC_TYPE(VEPOLL_IOC_CREATE), _IOC_TYPE(VEPOLL_IOC_CTL_BATCH));
	EXPECT_NE(_IOC_NR(VEPOLL_IOC_CREATE), _IOC_NR(VEPOLL_IOC_CTL_BATCH));
	EXPECT_NE(_IOC_NR(VEPOLL_IOC_CTL), _IOC_NR(VEPOLL_IOC_CTL_BATCH));
	EXPECT_NE(_IOC_NR(VEPOLL_IOC_WAIT), _IOC_NR(VEPOLL_IOC_CTL_BATCH));
	EXPECT_EQ(sizeof(struct vepoll_ctl_batch),
		  _IOC_SIZE(VEPOLL_IOC_CTL_BATCH));
#endif
#ifdef VEPOLL_IOC_WAIT2
	/* _IOW(0xB8, 0x05, struct vepoll_wait2_args), on every ABI. */
	EXPECT_EQ(0xB8U, _IOC_TYPE(VEPOLL_IOC_WAIT2));
	EXPECT_EQ(0x05U, _IOC_NR(VEPOLL_IOC_WAIT2));
	EXPECT_EQ((unsigned int)_IOC_WRITE, _IOC_DIR(VEPOLL_IOC_WAIT2));
	EXPECT_EQ(64U, _IOC_SIZE(VEPOLL_IOC_WAIT2));
	EXPECT_EQ(0x4040b805UL, (unsigned long)VEPOLL_IOC_WAIT2);
#endif
}

/* A misc device (major 10) anybody may open read-write. */
TEST(device_node_is_misc_char_device_mode_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat(VP_DEV_PATH, &st)) {
		TH_LOG("stat %s: %s (is the module loaded?)", VP_DEV_PATH,
		       strerror(errno));
	}
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666U, st.st_mode & 07777);
	EXPECT_EQ(10U, major(st.st_rdev));
}

TEST(device_opens_read_write)
{
	int dev = vp_open_dev();

	ASSERT_LE(0, dev);
	EXPECT_EQ(0, close(dev));
}

/* Foreign requests, and ours with another size or direction, are unknown. */
TEST(unknown_ioctl_request_is_enotty)
{
	const unsigned long reqs[] = {
		_IO(_IOC_TYPE(VEPOLL_IOC_CREATE), 0x7f),
		_IO(_IOC_TYPE(VEPOLL_IOC_CREATE), 0x00),
		_IO(_IOC_TYPE(VEPOLL_IOC_CREATE), _IOC_NR(VEPOLL_IOC_CTL)),
		_IOW(_IOC_TYPE(VEPOLL_IOC_CREATE), _IOC_NR(VEPOLL_IOC_CTL), int),
		_IOR(_IOC_TYPE(VEPOLL_IOC_CREATE), _IOC_NR(VEPOLL_IOC_WAIT),
		     struct vepoll_wait_args),
		_IOW(_IOC_TYPE(VEPOLL_IOC_CREATE) + 1, _IOC_NR(VEPOLL_IOC_CTL),
		     struct vepoll_ctl_args),
		0x5401,	/* TCGETS */
		FIONREAD,
	};
	struct vepoll_ctl_args buf[4];
	unsigned int i;
	int dev;

	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		EXPECT_EQ(-ENOTTY, vp_ret(ioctl(dev, reqs[i], buf))) {
			TH_LOG("request %#lx", reqs[i]);
		}
	}
	close(dev);
}

TEST(ctl_with_unmapped_argument_is_efault)
{
	void *bad = vp_unmapped();
	int dev;

	ASSERT_TRUE(!!bad);
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	EXPECT_EQ(-EFAULT, vp_ctl_args(dev, bad));
	EXPECT_EQ(-EFAULT, vp_ctl_args(dev, NULL));
	close(dev);
}

TEST(wait_with_unmapped_argument_is_efault)
{
	void *bad = vp_unmapped();
	int dev;

	ASSERT_TRUE(!!bad);
	dev = vp_open_dev();
	ASSERT_LE(0, dev);
	EXPECT_EQ(-EFAULT, vp_wait_args(dev, bad));
	EXPECT_EQ(-EFAULT, vp_wait_args(dev, NULL));
	close(dev);
}

/* An argument that straddles into an unmapped page is not readable either. */
TEST(ctl_argument_running_into_unmapped_page_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vepoll_ctl_args *a;
	char *map;
	int dev, ep, p[2];

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	ASSERT_EQ(0, munmap(map + page, page));
	vp_setup_dev_ep_pipe(_metadata, &dev, &ep, p);
	/* All but the last 8 bytes (event.data) are mapped and valid. */
	a = (struct vepoll_ctl_args *)(map + page - sizeof(*a) + 8);
	a->epfd = ep;
	a->op = VEPOLL_CTL_ADD;
	a->fd = p[0];
	a->__pad = 0;
	a->event.events = VEPOLLIN;
	a->event.__pad = 0;
	EXPECT_EQ(-EFAULT, vp_ctl_args(dev, a));
	/* Nothing was added: the same ADD from a good copy succeeds. */
	EXPECT_EQ(0, vp_ctl(dev, ep, VEPOLL_CTL_ADD, p[0], VEPOLLIN, 1));
	vp_close_dev_ep_pipe(dev, ep, p);
	munmap(map, page);
}

TEST_HARNESS_MAIN
