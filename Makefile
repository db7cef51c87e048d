# SPDX-License-Identifier: GPL-2.0
#
# make            build vepoll.ko against KDIR
# make lint       W=1 build, sparse (C=2) and checkpatch --strict: all clean
# make check      the whole test suite (lint, build, selftests in the VM on
#                 Debian's kernel and on the debug kernel): scripts/test.sh,
#                 which, as scripts/demo.sh (make demo), needs no make to
#                 start (it installs it: scripts/deps.sh)
# make check-debug  only the debug-kernel lane (KASAN, lockdep, kmemleak)
# make check-kcsan  the stress and nesting selftests on a KCSAN debug
#                 kernel: scripts/kcsan-check.sh (fails on any data race)
# make demo       the demo, in the VM
# make bench      vepoll against epoll and poll(2), in the VM
# make lib        libvepoll (.a, .so.0), the epoll preload shim, their tests
# make lib-check  the library and shim tests, in the VM
# make install-lib  install them (PREFIX=/usr/local DESTDIR= LIBDIR=)
# make install    the module for a kernel (KDIR, or KVER=VER for
#                 /lib/modules/VER/build; INSTALL_MOD_DIR=extra), depmod,
#                 the udev rule for /dev/vepoll, the library and headers
#                 (PREFIX=/usr/local, DESTDIR=): scripts/install.sh, which
#                 writes a manifest; make uninstall removes what it lists
# make dkms       register, build and install with DKMS for every kernel
#                 with headers: scripts/dkms.sh (make dkms-remove undoes it)
# make deb        build/deb/vepoll-dkms_VERSION_all.deb: scripts/deb.sh
# make doc        build/doc/Documentation.html (also part of make lint)
# make realprograms  Python's epoll/selectors/asyncio suites and redis on
#                 the shim, in the VM
# make clean

# The running kernel's build tree; on a host without one (a machine that
# only builds for the VM), the newest installed linux-headers. KVER=VER
# picks /lib/modules/VER/build.
ifdef KVER
KDIR ?= /lib/modules/$(KVER)/build
endif
KDIR ?= $(shell scripts/kdir.sh)
PREFIX ?= /usr/local
INSTALL_MOD_DIR ?= extra

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lint:
	scripts/lint.sh $(KDIR)

check:
	scripts/test.sh

check-debug:
	scripts/test.sh --debug-only

check-kcsan:
	scripts/kcsan-check.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

lib:
	$(MAKE) -C lib

lib-check: lib
	scripts/vm.sh -- make -s -C lib check

install-lib:
	$(MAKE) -C lib install

realprograms:
	scripts/realprograms.sh

install: modules
	KDIR=$(KDIR) DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) scripts/install.sh install

uninstall:
	DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) scripts/install.sh uninstall

dkms:
	scripts/dkms.sh

dkms-remove:
	scripts/dkms.sh remove

deb:
	scripts/deb.sh

doc:
	scripts/doc.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C lib clean

.PHONY: all modules lint check check-debug check-kcsan demo bench lib \
	lib-check install-lib realprograms install uninstall dkms dkms-remove \
	deb doc clean
