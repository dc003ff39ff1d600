#!/usr/bin/env bash
# Builds the benchmarks (Release) and prints every figure. Needs root for the parts that mount
# loop images or start agents. Usage: bench/run.sh [inventory|switchctl|nfsroot|orchestrator]...
set -euo pipefail
cd "$(dirname "$0")/.."
areas=("$@")
((${#areas[@]})) || areas=(inventory switchctl nfsroot orchestrator)

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPICLUSTER_BUILD_TESTS=OFF >/dev/null
for area in "${areas[@]}"; do
  echo "== $area"
  case $area in
    inventory)
      cmake --build build/bench --target picluster_inventory_bench >/dev/null
      ./build/bench/bench/inventory/picluster_inventory_bench ;;
    *)
      if [[ -x bench/$area/run.sh ]]; then
        bench/$area/run.sh build/bench  # every area script takes the build folder configured above
      else
        echo "(no benchmark for $area yet)"
      fi ;;
  esac
done
