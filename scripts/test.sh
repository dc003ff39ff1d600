#!/usr/bin/env bash
# Builds picluster with the `ci` preset and runs the whole test suite: unit, integration
# (real sshd, SNMP agent, btrfs/xfs loop images, Ansible), the libFuzzer smoke run and, unless
# PICLUSTER_SKIP_LAB=1, the virtual-shelf end-to-end test (label `lab`). Run as root on Debian 12.
set -euo pipefail

# with_lab_summary FILE: copies ctest's output (stdin) to stdout line by line, but holds back
# ctest's closing block (from "N% tests passed" on) and prints FILE before it. FILE is the lab
# end-to-end test's timing summary, which ctest drops when the test passes (--output-on-failure);
# this way it reaches the CI log either way, and ctest's own summary still closes the output.
# With no FILE (the lab test did not run), the output is ctest's, unchanged.
with_lab_summary() {
  awk -v summary="$1" '
    !held && /^[0-9]+% tests passed/ { held = 1 }
    held { tail = tail $0 "\n"; next }
    { print; fflush() }
    END {
      if ((getline line < summary) > 0) {
        print "lab end-to-end timing summary (" summary "):"
        do print line; while ((getline line < summary) > 0)
        print ""
      }
      printf "%s", tail
    }'
}

main() {
  cd "$(dirname "$0")/.."
  ./scripts/setup-debian.sh

  jobs=$(nproc)
  cmake --preset ci
  cmake --build --preset ci -j"$jobs"

  # A short libFuzzer run on the inventory parser first, so ctest's summary is the last word.
  ./scripts/fuzz.sh smoke

  # browser: headless Chromium loads watch's shelf page (tests/integration/browser, ~30 s).
  labels='unit|integration|browser'
  if [[ ${PICLUSTER_SKIP_LAB:-0} != 1 && -d tests/lab ]]; then
    labels="$labels|lab"
  fi
  # The Debian packages, installed into a clean Debian 12 root (tests/package).
  if [[ ${PICLUSTER_SKIP_PACKAGE:-0} != 1 && -d tests/package ]]; then
    labels="$labels|package"
  fi
  # The lab e2e test writes its timing summary here (tests/lab/shelf/lab_e2e_test.cpp).
  local summary=build/ci/lab-timing-summary.txt
  rm -f "$summary"
  local status=0
  # -L is a regex, so `lab` also matches `lab-arm64` (arm64 Pi VMs, about an hour): left out here,
  # run alone (docs/lab.md).
  ctest --test-dir build/ci -L "$labels" -LE 'lab-arm64' --output-on-failure --timeout 1800 -j1 2>&1 |
    with_lab_summary "$summary" || status=$?
  exit "$status"
}

# tests/lab/shelf/test_sh_summary_test.sh sources this file for with_lab_summary alone.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
