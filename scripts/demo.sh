#!/usr/bin/env bash
# The main job on the built-in example shelf, on this machine and with no hardware:
# picluster-switchsim on 127.0.0.1 is the PoE switch, this machine is the fileserver (everything
# under a folder), and picluster adds eight Pis, checks that a second apply changes nothing,
# power-cycles one Pi, rebuilds another's root, and shows the shelf's status.
# Run as root on Debian 12. Usage: scripts/demo.sh [EXAMPLE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target picluster picluster-switchsim

dir=${1:-$(mktemp -d /tmp/picluster-example.XXXXXX)}
exec ./build/release/orchestrator/picluster example --dir "$dir/shelf"
