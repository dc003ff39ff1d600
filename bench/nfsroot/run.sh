#!/bin/sh
# Provisions one Pi root from a synthetic golden image (>= 1 GiB, 40,000 files) with each clone
# method, side by side on one btrfs loop image, and prints the times and the ratio to rsync.
# Target: btrfs-snapshot and reflink at least 50x faster than rsync and under 1 s.
# Needs root, btrfs-progs, rsync. Usage: bench/nfsroot/run.sh [BUILD_DIR]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build/nfsroot}
FILES=${FILES:-40000}
MIB=${MIB:-1100}
cmake --build "$BUILD" --target nfsroot_bench >/dev/null
BENCH="$BUILD/bench/nfsroot/nfsroot_bench"

WORK=$(mktemp -d /tmp/picluster-bench-XXXXXX)
MNT="$WORK/mnt"
cleanup() {
  if mountpoint -q "$MNT"; then umount -d "$MNT"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
mkdir -p "$MNT"
truncate -s 4G "$WORK/image"
mkfs.btrfs -q "$WORK/image"
mount -o loop "$WORK/image" "$MNT"
btrfs subvolume create "$MNT/golden" >/dev/null
mkdir -p "$MNT/nfsroot"
echo "building golden image: $FILES files, $MIB MiB ..."
"$BENCH" make-golden "$MNT/golden" "$FILES" "$MIB"
sync
echo "golden: $(du -sh "$MNT/golden" | cut -f1), $(find "$MNT/golden" -type f | wc -l) files"

run() {  # method name
  sync
  echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  "$BENCH" provision "$MNT/nfsroot" "$MNT/golden" "$1" "$2"
}
SNAP=$(run btrfs-snapshot pi-snapshot)
REFL=$(run reflink pi-reflink)
RSYN=$(run rsync pi-rsync)

clone_s() { echo "$1" | sed 's/.*clone_s=\([0-9.]*\).*/\1/'; }
total_s() { echo "$1" | sed 's/.*total_s=\([0-9.]*\).*/\1/'; }
R=$(clone_s "$RSYN")
printf '%-16s %12s %12s %14s\n' method clone_s total_s rsync/clone
for line in "$SNAP" "$REFL" "$RSYN"; do
  m=${line%% *}
  c=$(clone_s "$line")
  t=$(total_s "$line")
  ratio=$(awk -v r="$R" -v c="$c" 'BEGIN { if (c > 0) printf "%.0fx", r / c; else print "inf" }')
  printf '%-16s %12s %12s %14s\n' "$m" "$c" "$t" "$ratio"
done
echo "(total_s adds installing files, machine-id and ssh-keygen -A for the new root)"
