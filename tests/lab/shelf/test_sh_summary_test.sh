#!/usr/bin/env bash
# scripts/test.sh prints the lab e2e timing summary (a file the test writes) even when ctest,
# run with --output-on-failure, drops a passing test's output; and ctest's closing block stays
# the last thing printed. Usage: test_sh_summary_test.sh PATH/TO/scripts/test.sh
set -euo pipefail
script=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

grep -q '^with_lab_summary()' "$script" || fail "$script has no with_lab_summary"
# shellcheck source=/dev/null
source "$script"  # defines the function; main runs only when executed

cat > "$tmp/ctest.out" <<'OUT'
Test project /x/build/ci
1/2 Test #1: Unit.Thing ........................   Passed    0.01 sec
2/2 Test #2: LabEndToEnd.ShelfNetboots .........   Passed  602.00 sec

100% tests passed, 0 tests failed out of 2

Label Time Summary:
lab     = 602.00 sec*proc (1 test)
unit    =   0.01 sec*proc (1 test)

Total Test time (real) = 602.02 sec
OUT
printf '  lab up (images + fileserver boot): 112\n  pi01 power-on to SSH: 54\n' > "$tmp/summary.txt"

with_lab_summary "$tmp/summary.txt" < "$tmp/ctest.out" > "$tmp/with.out"
grep -q '^  pi01 power-on to SSH: 54$' "$tmp/with.out" || fail "summary missing:$(cat "$tmp/with.out")"
summary_line=$(grep -n 'pi01 power-on to SSH' "$tmp/with.out" | cut -d: -f1)
passed_line=$(grep -n '% tests passed' "$tmp/with.out" | cut -d: -f1)
last_test_line=$(grep -n 'LabEndToEnd' "$tmp/with.out" | cut -d: -f1)
((last_test_line < summary_line && summary_line < passed_line)) || fail "summary not between the tests and ctest's summary"
[[ $(tail -n 1 "$tmp/with.out") == 'Total Test time (real) = 602.02 sec' ]] || fail "ctest's closing line is not last"
# Everything ctest printed is still there, in order.
grep -v -F -x -f "$tmp/summary.txt" "$tmp/with.out" | grep -v '^lab end-to-end timing summary' | sed '/^$/d' > "$tmp/rest"
sed '/^$/d' "$tmp/ctest.out" | diff - "$tmp/rest" || fail "ctest's own output changed"

# No summary file (lab skipped): ctest's output unchanged.
with_lab_summary "$tmp/missing.txt" < "$tmp/ctest.out" | diff "$tmp/ctest.out" - || fail "output changed without a summary"
echo "ok"
