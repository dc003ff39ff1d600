#!/bin/sh
# picluster image figures, on a btrfs loop image as the fileserver's store (transport local):
#   - import time of a ~2 GB Raspberry-Pi-OS-shaped image (MBR, FAT32 boot with raspi-firmware,
#     ext4 root of busybox + 1.9 GB of data), made here like the import tests make theirs
#   - `image exec` new-version cost before CMD runs (target: O(1) in image size on btrfs, < 0.1 s)
#   - with BUILD=1: `image build` of arm64 bookworm, cold package cache, then warm (long: under
#     qemu-user the configure step takes most of an hour or more on a 2-core machine)
# Needs root, btrfs-progs, dosfstools, mtools, fdisk, e2fsprogs, rsync, the Debian mirror once.
# Usage: bench/image/run.sh [BUILD_DIR]   (BUILD_DIR as bench/run.sh configures it)
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-$SRC/build/bench}
DATA_MIB=${DATA_MIB:-1900}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPICLUSTER_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" --target picluster >/dev/null
PIC="$BUILD_DIR/orchestrator/picluster"

WORK=$(mktemp -d /tmp/picluster-bench-image-XXXXXX)
FS="$WORK/fs"
cleanup() {
  if mountpoint -q "$FS"; then umount -d "$FS"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
mkdir -p "$FS"
truncate -s 16G "$WORK/fs.btrfs"
mkfs.btrfs -q "$WORK/fs.btrfs"
mount -o loop "$WORK/fs.btrfs" "$FS"
mkdir -p "$FS/srv/nfsroot"
cat > "$WORK/inventory.json" <<JSON
{"version": 1, "shelves": [{"name": "bench",
  "fileserver": {"transport": "local", "root_prefix": "$FS"}, "pis": []}]}
JSON
pic() { PICLUSTER_STATE_DIR="$WORK/state" "$PIC" --inventory "$WORK/inventory.json" "$@"; }

# The two .debs, shared with the import tests' cache.
DEBS=/var/cache/picluster-tests/debs
if ! ls "$DEBS"/raspi-firmware_*.deb "$DEBS"/busybox-static_*.deb >/dev/null 2>&1; then
  mkdir -p "$DEBS/apt/lists/partial" "$DEBS/apt/cache/archives/partial"
  echo "deb http://deb.debian.org/debian bookworm main non-free-firmware" > "$DEBS/apt/sources.list"
  set -- -o "Dir::Etc::SourceList=$DEBS/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o "Dir::State::Lists=$DEBS/apt/lists" -o "Dir::Cache=$DEBS/apt/cache" \
    -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root
  apt-get -q "$@" update >/dev/null
  (cd "$DEBS" && apt-get -q "$@" download raspi-firmware busybox-static >/dev/null)
fi

echo "making a Pi image with $DATA_MIB MiB of data in its root ..."
mkdir -p "$WORK/root/data" "$WORK/boot" "$WORK/fw"
dpkg-deb -x "$DEBS"/busybox-static_*.deb "$WORK/root"
ln -s busybox "$WORK/root/bin/sh"
mkdir -p "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/etc"
printf 'proc /proc proc defaults 0 0\nPARTUUID=1-02 / ext4 defaults 0 1\n' > "$WORK/root/etc/fstab"
i=0
while [ $i -lt "$DATA_MIB" ]; do
  head -c 1048576 /dev/urandom > "$WORK/root/data/f$i"
  i=$((i + 1))
done
ROOT_MIB=$((DATA_MIB + 200))
mkfs.ext4 -q -F -d "$WORK/root" "$WORK/root.ext4" "${ROOT_MIB}M"
dpkg-deb -x "$DEBS"/raspi-firmware_*.deb "$WORK/fw"
cp -r "$WORK/fw/usr/lib/raspi-firmware/." "$WORK/boot/"
printf 'arm_64bit=1\nkernel=kernel8.img\n' > "$WORK/boot/config.txt"
head -c 8M /dev/urandom > "$WORK/boot/kernel8.img"
mkfs.vfat -F 32 -n bootfs -C "$WORK/boot.fat" 262144 >/dev/null
mcopy -s -i "$WORK/boot.fat" "$WORK/boot"/* ::/
IMG="$WORK/pios.img"
truncate -s $(((1 + 256 + ROOT_MIB) * 1048576)) "$IMG"
printf 'label: dos\nstart=2048, size=524288, type=c\nstart=526336, type=83\n' | sfdisk --quiet "$IMG"
dd if="$WORK/boot.fat" of="$IMG" bs=1M seek=1 conv=notrunc status=none
dd if="$WORK/root.ext4" of="$IMG" bs=1M seek=257 conv=notrunc status=none
rm -rf "$WORK/root" "$WORK/root.ext4" "$WORK/boot.fat"
echo "image: $(du -h --apparent-size "$IMG" | cut -f1)"

sync
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
start=$(date +%s.%N)
pic image import "$IMG" base >/dev/null
end=$(date +%s.%N)
echo "import of $(du -h --apparent-size "$IMG" | cut -f1) image: $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"

best=""
for n in 1 2 3; do
  line=$(pic image exec base -- /bin/busybox true | grep 'CMD started')
  t=$(echo "$line" | sed -n 's/.*CMD started \([0-9.]*\) s after.*/\1/p')
  echo "image exec #$n: ${line#*(}"
  if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
done
if awk "BEGIN{exit !($best < 0.1)}"; then verdict=MET; else verdict=MISSED; fi
echo "image exec before CMD (btrfs, best of 3): $best s  target < 0.1 s: $verdict"

if [ "${BUILD:-0}" = 1 ]; then
  for pass in cold warm; do
    start=$(date +%s)
    pic image build "b$pass" --arch arm64 --suite bookworm >/dev/null
    echo "arm64 bookworm build, $pass package cache: $(( $(date +%s) - start )) s"
  done
fi
