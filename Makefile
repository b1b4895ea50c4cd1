# machio top-level Makefile.
#
#   make                 module (against KDIR) + libmachio, tools, selftests
#   make deps            install build/test dependencies (Debian packages)
#   make check           unit tests, then kselftests in VMs on 6.1, 6.12, debug
#   make demo            the demo program in a 6.1 VM, on a 1 GiB null_blk disk
#   make bench           machio vs io_uring, AIO, pread/pwrite in a 6.1 VM (BENCH_ARGS)
#   make vm-shell        a shell in a 6.1 VM with machio.ko loaded
#   make debug-kernel    build (or find in the cache) the debug kernel
#
# On a dev box, build the module against the running kernel with
#   make KDIR=/lib/modules/$(uname -r)/build

include tools/kernels.env

KDIR ?= /usr/src/linux-headers-$(K61_RELEASE)
BUILD ?= build
KERNEL ?= 6.1

.PHONY: all module userspace deps check debug-kernel kmod-6.1 vm-shell demo bench clean format

all: module userspace

# Built in place: module/machio.ko.
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

userspace:
	cmake -S . -B $(BUILD)/cmake
	cmake --build $(BUILD)/cmake -j$$(nproc)

deps:
	tools/install-deps.sh

check:
	tools/check.sh

debug-kernel:
	tools/debug-kernel/build.sh

# The module for a VM kernel is built in its own tree under build/kmod/.
DEMO_NULL_BLK := nr_devices=1 memory_backed=1 gb=1 irqmode=1

kmod-6.1:
	tools/build-module.sh /usr/src/linux-headers-$(K61_RELEASE) $(BUILD)/kmod/$(K61_RELEASE)

demo: userspace kmod-6.1
	tools/vm/run.sh --kernel 6.1 --null-blk "$(DEMO_NULL_BLK)" -- $(BUILD)/cmake/tools/machio-demo

# Figures, not a test (tools/bench/README.md). memory_backed=0 stores no data:
# for --verify, pass BENCH_NULL_BLK with memory_backed=1.
BENCH_NULL_BLK ?= nr_devices=1 gb=1 irqmode=1 memory_backed=0 submit_queues=2 hw_queue_depth=128 poll_queues=1
BENCH_ARGS ?= --time 5 --workload randread:4k:1 --workload randread:4k:32 \
	--workload randwrite:4k:32 --workload read:128k:8 --ipc

bench: userspace kmod-6.1
	tools/vm/run.sh --kernel 6.1 --null-blk "$(BENCH_NULL_BLK)" -- $(BUILD)/cmake/tools/machio-bench $(BENCH_ARGS)

vm-shell: userspace kmod-6.1
	tools/vm/run.sh --kernel 6.1 --null-blk "$(DEMO_NULL_BLK)" --shell

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' 'libmachio/*.h' 'tools/*.h')

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
