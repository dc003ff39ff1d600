#!/bin/sh
# Builds the switch benchmark (Release) and the simulator, then prints the figures.
# Usage: bench/switchctl/run.sh [build-dir]   (default: build/switchctl-bench)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-"$root/build/switchctl-bench"}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPICLUSTER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target switchctl_bench picluster-switchsim -j2 >/dev/null
exec "$build/bench/switchctl/switchctl_bench"
