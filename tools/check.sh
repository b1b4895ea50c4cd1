#!/usr/bin/env bash
# make check: userspace unit tests (ctest), then the kernel selftests inside
# a VM on each kernel, then one closing line over everything:
#   N passed, N failed, N skipped
# MACHIO_KERNELS picks the kernels (default: "6.1 6.12 debug").
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
kernels=${MACHIO_KERNELS:-6.1 6.12 debug}
# shellcheck source=tools/kernels.env
. "$top/tools/kernels.env"

mkdir -p "$build"
passed=0 failed=0 skipped=0
problems=()
stage_start=$SECONDS

note_stage() {
	echo "check: $1 took $((SECONDS - stage_start)) s"
	stage_start=$SECONDS
}

fail_stage() {
	failed=$((failed + 1))
	problems+=("$1")
	echo "check: FAILED: $1" >&2
}

# --- 1. userspace build and unit tests ---------------------------------
if cmake -S "$top" -B "$build/cmake" >"$build/cmake-configure.log" 2>&1 &&
	cmake --build "$build/cmake" -j"$(nproc)" 2>&1 | tail -n 30; then
	ctest --test-dir "$build/cmake" --output-on-failure 2>&1 | tee "$build/ctest.log"
	summary=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$build/ctest.log" | tail -n 1)
	if [ -n "$summary" ]; then
		f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$summary")
		t=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$summary")
		s=$(grep -c '\*\*\*Skipped' "$build/ctest.log")
		passed=$((passed + t - f - s))
		failed=$((failed + f))
		skipped=$((skipped + s))
		[ "$f" -eq 0 ] || problems+=("ctest: $f failed")
	else
		fail_stage "ctest produced no summary"
	fi
else
	cat "$build/cmake-configure.log" >&2
	fail_stage "userspace build"
fi
note_stage "userspace build + ctest"

# --- 2. kernel coding style -----------------------------------------------
if "$top/tools/checkpatch.sh"; then
	passed=$((passed + 1))
else
	fail_stage "checkpatch"
fi
note_stage "checkpatch"

# --- 3. kernel selftests in the VM, per kernel --------------------------
mkdir -p "$build/vm-logs"
for k in $kernels; do
	case $k in
	6.1) kdir=/usr/src/linux-headers-$K61_RELEASE release=$K61_RELEASE ;;
	6.12) kdir=/usr/src/linux-headers-$K612_RELEASE release=$K612_RELEASE ;;
	debug)
		if ! dkdir=$("$top/tools/debug-kernel/build.sh" | tail -n 1); then
			fail_stage "debug kernel build"
			continue
		fi
		note_stage "debug kernel (build or cache)"
		kdir=$(cat "$dkdir/kdir") release=$(cat "$dkdir/release")
		;;
	*) fail_stage "unknown kernel '$k'"; continue ;;
	esac

	if ! ko=$("$top/tools/build-module.sh" "$kdir" "$build/kmod/$release" | tail -n 1); then
		fail_stage "module build for $k"
		continue
	fi
	log=$build/vm-logs/check-$k.log
	# The debug kernel's run takes about 7 minutes; a slow emulated CPU
	# can double that, past run.sh's default of 10.
	"$top/tools/vm/run.sh" --kernel "$k" --module "$ko" --log "$log" --timeout 1500 \
		--null-blk "nr_devices=1 memory_backed=1 gb=1 irqmode=1" -- \
		"$top/selftests/run-in-vm.sh" "$build/cmake"
	vmrc=$?
	counted_fail=0
	while read -r _ name rc p f s; do
		p=${p#pass=} f=${f#fail=} s=${s#skip=}
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
		counted_fail=$((counted_fail + f))
		[ "$f" -eq 0 ] || problems+=("$k: $name ($rc, $f failed)")
	done < <(tr -d '\r' <"$log" | grep -E '^MACHIO-RESULT ')
	if [ "$vmrc" -ne 0 ] && [ "$counted_fail" -eq 0 ]; then
		# Every test passed but the kernel log shows a bug, or the VM
		# timed out: that is a failure of its own.
		fail_stage "$k: VM run failed with status $vmrc (kernel log: $log)"
	fi
	note_stage "selftests on $k"
done

for p in "${problems[@]}"; do
	echo "check: problem: $p"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
