# SPDX-License-Identifier: GPL-2.0
#
# make            build vepoll.ko against KDIR
# make lint       W=1 build, sparse (C=2) and checkpatch --strict: all clean
# make check      the whole test suite (lint, build, selftests in the VM on
#                 Debian's kernel and on the debug kernel): scripts/test.sh,
#                 which, as scripts/demo.sh (make demo), needs no make to
#                 start (it installs it: scripts/deps.sh)
# make check-debug  only the debug-kernel lane (KASAN, lockdep, kmemleak)
# make demo       the demo, in the VM
# make bench      vepoll against epoll and poll(2), in the VM
# make lib        libvepoll (.a, .so.0), the epoll preload shim, their tests
# make lib-check  the library and shim tests, in the VM
# make install-lib  install them (PREFIX=/usr/local DESTDIR= LIBDIR=)
# make realprograms  Python's epoll/selectors/asyncio suites and redis on
#                 the shim, in the VM
# make clean

# The running kernel's build tree; on a host without one (a machine that
# only builds for the VM), the newest installed linux-headers.
KDIR ?= $(shell scripts/kdir.sh)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lint:
	scripts/lint.sh $(KDIR)

check:
	scripts/test.sh

check-debug:
	scripts/test.sh --debug-only

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

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C lib clean

.PHONY: all modules lint check check-debug demo bench lib lib-check install-lib \
	realprograms clean
