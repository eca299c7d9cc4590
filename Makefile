# SPDX-License-Identifier: GPL-2.0
#
# ksf: a kernel sockets framework in Rust for Linux.
#
#   make demo      install, build, boot the guest, load and drive the modules
#                  (summary in build/demo/; PUBLISH=1 also in Documentation/results/)
#   make check     the whole test suite; the last line is "N passed, N failed"
#                  ARGS='--list' (its steps), '--only kunit,e2e' (those steps and
#                  what they need), '--no-build' (use what is built);
#                  logs in build/check/ (Documentation/testing.rst)
#   make bench     krpc2 and kecho against knfsd, user space and the floor
#                  (build/bench/results.md; BENCH_QUICK=1 for a short run;
#                  PUBLISH=1 copies the tables to Documentation/results/)
#   make stress    reliability campaigns on the debug kernel, as make check
#                  runs them; STRESS_LONG=1 for the long campaign; ARGS as
#                  for check (ARGS='--only faults')
#   make fuzz      codec fuzzing on the host [FUZZ_SECONDS=20 per target]
#   make lint      clippy (modules and tools), checkpatch, shellcheck, rustfmt
#
# Building blocks:
#   make deps                  Debian packages and cargo tools (as root)
#   make kernel [FLAVOR=fast|debug]
#   make modules [KDIR=...]    every module, against KDIR (default: our kernel)
#   make tools                 user-space tools into build/bin
#   make vm-start | vm-exec CMD='...' | vm-stop
#
# FLAVOR selects the guest kernel: "fast" (default; demo, benchmarks) or
# "debug" (KASAN, lockdep, kmemleak; what `make check` uses). KDIR=<tree>
# builds the modules against any other CONFIG_RUST kernel tree.

FLAVOR ?= fast
BUILD := $(CURDIR)/build
SCRIPTS := $(CURDIR)/tools/scripts
KSFVM := python3 $(CURDIR)/tools/vm/ksfvm.py --dir $(BUILD)/vm

ifneq ($(filter fast debug,$(FLAVOR)),$(FLAVOR))
$(error FLAVOR must be fast or debug, not '$(FLAVOR)')
endif

ifdef KDIR
MODDIR := $(BUILD)/modules/custom
KERNEL_DEP :=
else
MODDIR := $(BUILD)/modules/$(FLAVOR)
KERNEL_DEP := kernel
endif
KERNEL_DIR = $(shell $(SCRIPTS)/kernel.sh dir $(FLAVOR))
INITRD := $(BUILD)/vm/initramfs-$(FLAVOR).cpio

# Services the guest loads at boot when they exist.
SERVICES ?= kecho krpc2

.PHONY: all deps kernel modules tools initramfs vm-start vm-exec vm-stop \
	check bench stress fuzz lint demo host-test fmt clean help

all: modules tools

help:
	@sed -n '3,29p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(SCRIPTS)/deps.sh

kernel: deps
	@$(SCRIPTS)/kernel.sh build $(FLAVOR)

modules: $(KERNEL_DEP)
	@KDIR=$(or $(KDIR),$(KERNEL_DIR)) $(SCRIPTS)/modules.sh $(MODDIR)

tools: deps
	@cargo build --release --workspace --target-dir $(BUILD)/target -q
	@mkdir -p $(BUILD)/bin
	@$(SCRIPTS)/install-bins.sh $(BUILD)/target/release $(BUILD)/bin

initramfs: modules tools
	@$(CURDIR)/tools/vm/mkinitramfs.sh $(INITRD) $(MODDIR)/ko $(BUILD)/bin \
		$(if $(filter fast,$(FLAVOR)),--perf)

vm-start: initramfs
	@$(KSFVM) start --kernel $(KERNEL_DIR)/bzImage --initrd $(INITRD) \
		--load "$(SERVICES)"

vm-exec:
	@test -n "$$CMD" || { echo "usage: make vm-exec CMD='command'" >&2; exit 2; }
	@$(KSFVM) exec -- "$$CMD"

vm-stop:
	@$(KSFVM) stop

host-test: deps
	@cargo test --workspace --target-dir $(BUILD)/target

fmt:
	@/usr/bin/rustfmt --edition 2021 $$(git ls-files '*.rs')

check: deps
	@python3 $(SCRIPTS)/check.py $(ARGS)

bench: deps
	@python3 $(SCRIPTS)/bench.py

stress: deps
	@python3 $(SCRIPTS)/stress.py $(if $(filter-out 0,$(STRESS_LONG)),--long) $(ARGS)

fuzz: deps
	@$(SCRIPTS)/fuzz.sh $(FUZZ_SECONDS)

# The host lints, then the modules built with KSF_CLIPPY=1 and their warnings.
lint: deps
	@python3 $(SCRIPTS)/lint.py --modules $(MODDIR) FLAVOR=$(FLAVOR) $(if $(KDIR),KDIR=$(KDIR))

demo: deps
	@$(SCRIPTS)/demo.sh

clean:
	rm -rf $(BUILD)
	find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f
