#!/bin/sh
# Records habits/NAME.snmprec from picluster-switchsim set up with habits/NAME.json (one vendor
# habit each, issue 12), with Debian's snmprec (package snmpsim). The community of each recording
# is its base name when snmpsimd serves it. A habit with per-VLAN BRIDGE-MIB contexts (Cisco IOS,
# bridge_tables_per_vlan) also gets NAME@VLAN.snmprec per VLAN, recorded with community@VLAN,
# which snmpsimd serves to community NAME@VLAN. Usage: capture.sh BUILD_DIR [NAME...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sim="${1:?usage: capture.sh BUILD_DIR [NAME...]}/lab/switchsim/picluster-switchsim"
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=16199
if [ $# -eq 0 ]; then
  set -- $(cd "$here" && ls *.json | sed 's/\.json$//')
fi
for name in "$@"; do
  knobs="$here/$name.json"
  mode=qbridge
  case "$name" in cisco_*|no_bridge_port_table|bridge_tables_per_vlan) mode=cisco ;; esac
  rm -f "$work/state.json"
  "$sim" --listen "udp:127.0.0.1:$port" --ports 24 --state "$work/state.json" --config "$knobs" \
    --mode "$mode" --community private >"$work/sim.out" 2>"$work/sim.err" &
  pid=$!
  for _ in $(seq 100); do grep -q '^ready' "$work/sim.out" && break; sleep 0.1; done
  snmprec --agent-udpv4-endpoint="127.0.0.1:$port" --protocol-version=2c --community=private \
    --output-file="$here/$name.snmprec" --start-object=1.0 --stop-object=1.3.6.2 2>"$work/rec.err" ||
    { cat "$work/rec.err"; kill "$pid"; exit 1; }
  if grep -q '"bridge_tables_per_vlan": *true' "$knobs"; then
    # The VLANs VTP lists (vtpVlanState.1.V), each one's BRIDGE-MIB from its own context.
    for vlan in $(sed -n 's/^1\.3\.6\.1\.4\.1\.9\.9\.46\.1\.3\.1\.1\.2\.1\.\([0-9]*\)|.*/\1/p' "$here/$name.snmprec"); do
      snmprec --agent-udpv4-endpoint="127.0.0.1:$port" --protocol-version=2c --community="private@$vlan" \
        --output-file="$here/$name@$vlan.snmprec" --start-object=1.3.6.1.2.1.17 \
        --stop-object=1.3.6.1.2.1.18 2>"$work/rec.err" || { cat "$work/rec.err"; kill "$pid"; exit 1; }
    done
  fi
  kill "$pid"
  wait "$pid" || true
  # sysUpTime changes every run; keep the recordings stable.
  sed -i 's/^\(1\.3\.6\.1\.2\.1\.1\.3\.0|67|\).*/\10/' "$here/$name.snmprec"
  echo "recorded $name ($mode): $(wc -l <"$here/$name.snmprec") objects"
done
