#!/usr/bin/env bash
# Builds the Debian packages from this tree with CPack's DEB generator (packaging/CMakeLists.txt):
#   picluster_<version>-1_amd64.deb      the CLI, watch unit, man pages, completions, Ansible, docs
#   picluster-lab_<version>-1_amd64.deb  the switch simulator and the lab's switch agent
# <version> is the project version and the git description (cmake/PiclusterVersion.cmake).
# Then runs lintian on both; every tag it reports must be explained in docs/packaging.md.
# Usage: scripts/package.sh [OUTDIR]   (default: build/package/out). Prints the .deb paths last.
# PICLUSTER_PACKAGE_BUILD_DIR overrides the build folder (default build/package).
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(realpath -m "${1:-build/package/out}")
build=$(realpath -m "${PICLUSTER_PACKAGE_BUILD_DIR:-build/package}")
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# A release build of the packaged programs only (no tests, no benches): `install` does not
# build everything first (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY), the targets below are built here.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPICLUSTER_BUILD_TESTS=OFF \
  -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON -DPICLUSTER_ANSIBLE_DIR=/usr/share/picluster/ansible \
  "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target picluster picluster-switchsim picluster-lab-switch \
  picluster_package_files

rm -rf "$out"
mkdir -p "$out"
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"

# lintian: print every tag; fail on one that docs/packaging.md does not explain.
status=0
for deb in "$out"/*.deb; do
  while read -r line; do
    [[ -z $line ]] && continue
    echo "lintian: $line"
    tag=$(awk '{print $3}' <<<"$line")
    if ! grep -q -- "\`$tag\`" docs/packaging.md; then
      echo "lintian tag $tag is not explained in docs/packaging.md" >&2
      status=1
    fi
  done < <(lintian --no-tag-display-limit "$deb" 2>&1 | grep -E '^[EWI]: ' || true)
done
ls -1 "$out"/*.deb
exit "$status"
