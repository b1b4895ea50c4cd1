#!/usr/bin/env bash
# Run every machio selftest binary listed in BUILD_DIR/selftests.list, in the
# VM.  Each binary prints TAP; after it, one summary line
#   MACHIO-RESULT <binary> rc=<exit> pass=<n> fail=<n> skip=<n>
# is printed for tools/check.sh to add up.  The counts are taken here, from
# the binary's own output, so kernel messages interleaved on the console
# cannot corrupt them.
set -uo pipefail
dir=${1:?usage: run-in-vm.sh SELFTEST_BUILD_DIR [TEST...]}
shift
if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests <"$dir/selftests.list"
fi

status=0
for t in "${tests[@]}"; do
	[ -n "$t" ] || continue
	out=$(mktemp)
	"$dir/$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	pass=$(grep -E '^ok [0-9]+ ' "$out" | grep -vc '# SKIP')
	skip=$(grep -Ec '^ok [0-9]+ .*# SKIP' "$out")
	fail=$(grep -Ec '^not ok [0-9]+ ' "$out")
	if [ "$rc" -eq 4 ] && grep -q '^1\.\.0 # SKIP' "$out"; then
		skip=1	# the whole binary was skipped
	elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1	# crashed or timed out without reporting a failure
	fi
	echo "MACHIO-RESULT $t rc=$rc pass=$pass fail=$fail skip=$skip"
	[ "$fail" -eq 0 ] || status=1
	rm -f "$out"
done
exit $status
