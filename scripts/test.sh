#!/usr/bin/env bash
# Builds picluster with the `ci` preset and runs the whole test suite: unit, integration
# (real sshd, SNMP agent, btrfs/xfs loop images, Ansible), the libFuzzer smoke run and, unless
# PICLUSTER_SKIP_LAB=1, the virtual-shelf end-to-end test (label `lab`). Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh

jobs=$(nproc)
cmake --preset ci
cmake --build --preset ci -j"$jobs"

# A short libFuzzer run on the inventory parser first, so ctest's summary is the last word.
./scripts/fuzz.sh smoke

labels='unit|integration'
if [[ ${PICLUSTER_SKIP_LAB:-0} != 1 && -d tests/lab ]]; then
  labels='unit|integration|lab'
fi
ctest --test-dir build/ci -L "$labels" --output-on-failure --timeout 1800 -j1
