#!/usr/bin/env bash
# Builds the libFuzzer targets (one per parser of outside input: inventory, power holds, journal,
# simulator knobs and state) with clang-16 and runs each, starting from its corpus in
# tests/fuzz/corpus/<name>/.
#   scripts/fuzz.sh smoke     a short run of every target for CI (default 15 s each)
#   scripts/fuzz.sh [SECONDS] a longer run of every target
#   FUZZ_TARGETS="holds journal" scripts/fuzz.sh 600   only some targets
# libstdc++ 12 gates std::expected on __cpp_concepts >= 202002L, which clang 16 implements
# but does not advertise; the define below tells libstdc++ so.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
[[ $seconds == smoke ]] && seconds=${PICLUSTER_FUZZ_SECONDS:-15}
targets=${FUZZ_TARGETS:-inventory holds journal knobs}

cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCMAKE_CXX_FLAGS="-D__cpp_concepts=202002L -Wno-builtin-macro-redefined -Wno-macro-redefined" \
  -DPICLUSTER_FUZZ=ON -DPICLUSTER_BUILD_TESTS=OFF >/dev/null
build_targets=()
for t in $targets; do build_targets+=("picluster_${t}_fuzz"); done
cmake --build build/fuzz --target "${build_targets[@]}" -j"$(nproc)"

for t in $targets; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$t"/* "$work"/
  ./build/fuzz/tests/fuzz/picluster_${t}_fuzz -max_total_time="$seconds" -max_len=16384 \
    -timeout=10 -print_final_stats=1 "$work" 2>&1 | tail -n 12
  rm -rf "$work"
  echo "fuzz: $t parser ran ${seconds}s without a crash"
done
