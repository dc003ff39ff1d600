#!/usr/bin/env bash
# The main job on the built-in example shelf, on this machine and with no hardware:
# picluster-switchsim on 127.0.0.1 is the PoE switch, this machine is the fileserver (everything
# under a folder), and picluster adds eight Pis, checks that a second apply changes nothing,
# power-cycles one Pi, rebuilds another's root, and shows the shelf's status.
# The switch simulator is left running (`example --keep`), and the demo ends with the
# `export PICLUSTER_INVENTORY=...` line and the commands to try next; `picluster example --stop
# DIR` stops it. PICLUSTER_DEMO_KEEP=0 stops it at the end instead.
# PICLUSTER_DEMO_BINARY=PATH uses that picluster (beside its picluster-switchsim) and skips the
# package setup and the release build (the demo test does this).
# Run as root on Debian 12. Usage: scripts/demo.sh [EXAMPLE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

pic=${PICLUSTER_DEMO_BINARY:-}
if [[ -z $pic ]]; then
  ./scripts/setup-debian.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$(nproc)" --target picluster picluster-switchsim
  pic=./build/release/orchestrator/picluster
fi

dir=${1:-$(mktemp -d /tmp/picluster-example.XXXXXX)}
keep=(--keep)
if [[ ${PICLUSTER_DEMO_KEEP:-1} == 0 ]]; then keep=(); fi
exec "$pic" example --dir "$dir/shelf" "${keep[@]}"
