#!/usr/bin/env bash
# Times `picluster add` on the example-style shelf: picluster-switchsim on 127.0.0.1 (97 ports:
# 96 Pis and the fileserver's trunk), this machine as the fileserver under a root_prefix that is a
# btrfs loop image, the golden image a btrfs subvolume (so each root is a snapshot).
#
# Prints, step by step (allocate, switch, network, root, exports, boot, power), the wall time of
# adding one Pi to an empty shelf, then of adding 95 more (96 in all), then a full no-change
# `apply`, `plan`, `switch apply` and `fileserver apply` on the 96-Pi shelf.
# Target (issue 5): one Pi in under 2 s wall.
#
# Needs root (loop mount), btrfs-progs, snmp. Usage: bench/orchestrator/run.sh [BUILD_DIR]
#   GOLDEN_FROM=/usr/share/doc  a folder copied into the golden image as usr/share (its size)
#   PIS=96                      how many Pis to add in all (at most 96)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build/bench}
GOLDEN_FROM=${GOLDEN_FROM:-/usr/share/doc}
PIS=${PIS:-96}
PORTS=97
STEPS="$SRC/bench/orchestrator/time_steps.sh"
export LC_ALL=C

if [[ $(id -u) != 0 ]]; then echo "run.sh: needs root (loop mount)" >&2; exit 1; fi
if [[ ! -x $BUILD/orchestrator/picluster || ! -x $BUILD/lab/switchsim/picluster-switchsim ]]; then
  cmake --build "$BUILD" --target picluster picluster-switchsim >/dev/null
fi
PIC="$BUILD/orchestrator/picluster"
SIM="$BUILD/lab/switchsim/picluster-switchsim"

WORK=$(mktemp -d /tmp/picluster-orch-bench-XXXXXX)
FS="$WORK/fileserver"
SIM_PID=
cleanup() {
  [[ -n $SIM_PID ]] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  if mountpoint -q "$FS"; then umount -d "$FS"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The fileserver: a btrfs loop image, the golden image a subvolume on it.
mkdir -p "$FS"
truncate -s 4G "$WORK/image"
mkfs.btrfs -q "$WORK/image"
mount -o loop "$WORK/image" "$FS"
mkdir -p "$FS/srv/golden" "$FS/srv/nfsroot" "$FS/srv/tftp"
btrfs subvolume create "$FS/srv/golden/raspios" >/dev/null
G="$FS/srv/golden/raspios"
mkdir -p "$G/etc/ssh" "$G/usr"
printf 'raspberrypi\n' >"$G/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 raspberrypi\n' >"$G/etc/hosts"
printf '0123456789abcdef0123456789abcdef\n' >"$G/etc/machine-id"
cp -a "$GOLDEN_FROM" "$G/usr/share"
sync
echo "golden image: $(du -sh "$G" | cut -f1), $(find "$G" -type f | wc -l) files (btrfs subvolume)"

# The switch: 97 ports, a device with a known MAC on each Pi port, the trunk on the last.
mac() { printf 'b8:27:eb:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
{
  printf '{"ports": {'
  for ((p = 1; p < PORTS; p++)); do printf '"%d": {"device": true, "mac": "%s"}, ' "$p" "$(mac "$p")"; done
  printf '"%d": {"device": true, "external_power": true}}}\n' "$PORTS"
} >"$WORK/knobs.json"
# A new switch with the Pi ports unpowered (the simulator's state file format, docs/switchsim.md),
# as the lab's: add's power step then really switches PoE on instead of finding it on.
{
  printf '{"version": 1, "port_count": %d, "vlans": [{"id": 1, "name": "default", ' "$PORTS"
  printf '"egress": [%s], "untagged": [%s]}], "ports": [' "$(seq -s, 1 $PORTS)" "$(seq -s, 1 $PORTS)"
  for ((p = 1; p < PORTS; p++)); do
    printf '{"port": %d, "pvid": 1, "poe": false}%s' "$p" "$([[ $p -lt $((PORTS - 1)) ]] && echo ,)"
  done
  printf ']}\n'
} >"$WORK/switchsim-state.json"
SNMP_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$SIM" --listen "udp:127.0.0.1:$SNMP_PORT" --ports "$PORTS" --state "$WORK/switchsim-state.json" \
  --config "$WORK/knobs.json" --community bench >"$WORK/switchsim.out" 2>"$WORK/switchsim.log" &
SIM_PID=$!
for _ in $(seq 100); do grep -q '^ready ' "$WORK/switchsim.out" && break; sleep 0.1; done
grep -q '^ready ' "$WORK/switchsim.out" || { echo "switchsim did not start" >&2; exit 1; }

printf '{"community": "bench"}\n' >"$WORK/switch-secrets.json"
chmod 600 "$WORK/switch-secrets.json"
cat >"$WORK/inventory.json" <<JSON
{
  "version": 1,
  "shelves": [
    {
      "name": "bench",
      "fileserver": {"transport": "local", "host": "localhost", "trunk_interface": "eth0",
                     "trunk_port": $PORTS, "nfs_root": "/srv/nfsroot",
                     "golden_image": "/srv/golden/raspios", "clone_method": "auto",
                     "tftp_root": "/srv/tftp", "root_prefix": "$FS"},
      "switch": {"host": "127.0.0.1", "snmp_port": $SNMP_PORT, "version": "v2c",
                 "secrets_file": "switch-secrets.json", "profile": "qbridge",
                 "port_count": $PORTS, "timeout_ms": 1000, "retries": 1, "poe_off_seconds": 1},
      "pis": []
    }
  ]
}
JSON
export PICLUSTER_INVENTORY="$WORK/inventory.json"
"$PIC" validate >/dev/null

add() {  # i -> step times in $WORK/add-i.tsv
  "$STEPS" "$PIC" add "$(printf 'pi%02d' "$1")" --port "$1" --mac "$(mac "$1")" >"$WORK/add-$1.tsv" ||
    { cat "$WORK/add-$1.tsv"; echo "add pi$1 failed" >&2; exit 1; }
}

echo
echo "== add one Pi to an empty shelf (step: seconds)"
add 1
column -t "$WORK/add-1.tsv"
"$PIC" log pi01 | grep -Eq 'power +ok' ||
  echo "warning: add's power step did not switch PoE on (was the port already on?)"
ONE=$(awk '$1 == "total" { print $2 }' "$WORK/add-1.tsv")
root_detail=$("$PIC" log pi01 | awk '$5 == "root" { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print; exit }' || true)
echo "root: $root_detail"
awk -v t="$ONE" 'BEGIN { printf "target: one Pi under 2 s wall -> %.3f s: %s\n", t, (t < 2 ? "MET" : "MISSED") }'

echo
echo "== add Pis 2..$PIS one by one (each add also re-renders shelf-wide files)"
for ((i = 2; i <= PIS; i++)); do add "$i"; done
# mean over the times a step ran (a step may run more than once per add, or not at all)
cat "$WORK"/add-*.tsv | awk '
  { sum[$1] += $2; n[$1]++; if ($2 > max[$1]) max[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END {
    printf "%-10s %6s %10s %10s %10s\n", "step", "runs", "mean_s", "max_s", "sum_s"
    for (i = 1; i <= k; i++) { s = order[i]; printf "%-10s %6d %10.3f %10.3f %10.3f\n", s, n[s], sum[s] / n[s], max[s], sum[s] }
  }'
echo "last add (pi$(printf '%02d' "$PIS") onto $((PIS - 1)) Pis): $(awk '$1 == "total" { print $2 }' "$WORK/add-$PIS.tsv") s"

echo
echo "== whole-shelf runs on $PIS Pis (nothing to change)"
timed() {  # label command...
  local label=$1 a=$EPOCHREALTIME
  shift
  "$@" >/dev/null
  local b=$EPOCHREALTIME us
  us=$(( ${b/./} - ${a/./} ))
  printf '%-18s %d.%03d s\n' "$label" $((us / 1000000)) $((us % 1000000 / 1000))
}
timed plan "$PIC" plan
timed apply "$PIC" apply
timed "switch apply" "$PIC" switch apply
timed "fileserver apply" "$PIC" fileserver apply
echo "(build: $BUILD; a Debug build is several times slower than Release)"
