#!/usr/bin/env bash
# Builds the libFuzzer target for the inventory parser with clang-16 and runs it.
#   scripts/fuzz.sh smoke     a short run for CI (default 30 s)
#   scripts/fuzz.sh [SECONDS] a longer run
# libstdc++ 12 gates std::expected on __cpp_concepts >= 202002L, which clang 16 implements
# but does not advertise; the define below tells libstdc++ so.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
[[ $seconds == smoke ]] && seconds=${PICLUSTER_FUZZ_SECONDS:-30}

cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCMAKE_CXX_FLAGS="-D__cpp_concepts=202002L -Wno-builtin-macro-redefined -Wno-macro-redefined" \
  -DPICLUSTER_FUZZ=ON -DPICLUSTER_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz --target picluster_inventory_fuzz -j"$(nproc)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/inventory/* "$work"/
./build/fuzz/tests/fuzz/picluster_inventory_fuzz -max_total_time="$seconds" -max_len=16384 \
  -timeout=10 -print_final_stats=1 "$work" 2>&1 | tail -n 12
echo "fuzz: inventory parser ran ${seconds}s without a crash"
