#!/usr/bin/env bash
# Run the test programs listed in BUILD_DIR/vm-tests.list inside the VM
# (or the ones named after BUILD_DIR).  kselftest programs print TAP;
# GoogleTest programs print their own summary.  After each program one line
#   MACHIO-RESULT <program> rc=<exit> pass=<n> fail=<n> skip=<n>
# is printed for tools/check.sh to add up.  The counts are taken here, from
# the program's own output, so kernel messages interleaved on the console
# cannot corrupt them.
set -uo pipefail
dir=${1:?usage: run-in-vm.sh BUILD_DIR [PROGRAM...]}
shift
if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests <"$dir/vm-tests.list"
fi

# count_gtest FILE: pass fail skip from a GoogleTest summary.
count_gtest() {
	local n
	n() { sed -nE "s/^\[  $1 *\] ([0-9]+) tests?.*/\1/p" "$2" | tail -n 1; }
	echo "$(n PASSED "$1") $(n FAILED "$1") $(n SKIPPED "$1")"
}

status=0
for t in "${tests[@]}"; do
	[ -n "$t" ] || continue
	out=$(mktemp)
	"$dir/$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if grep -q '^\[==========\]' "$out"; then
		read -r pass fail skip <<<"$(count_gtest "$out")"
		pass=${pass:-0} fail=${fail:-0} skip=${skip:-0}
	elif ! grep -qE '^(TAP version|1\.\.[0-9])' "$out"; then
		# A plain program: one test, judged by its exit status.
		pass=$((rc == 0)) fail=0 skip=0
	else
		pass=$(grep -E '^ok [0-9]+ ' "$out" | grep -vc '# SKIP')
		skip=$(grep -Ec '^ok [0-9]+ .*# SKIP' "$out")
		fail=$(grep -Ec '^not ok [0-9]+ ' "$out")
		if [ "$rc" -eq 4 ] && grep -q '^1\.\.0 # SKIP' "$out"; then
			skip=1	# the whole binary was skipped
			rc=0
		fi
	fi
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1	# crashed or timed out without reporting a failure
	fi
	echo "MACHIO-RESULT $t rc=$rc pass=$pass fail=$fail skip=$skip"
	[ "$fail" -eq 0 ] || status=1
	rm -f "$out"
done
exit $status
