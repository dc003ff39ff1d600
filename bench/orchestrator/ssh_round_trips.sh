#!/usr/bin/env bash
# Issue 16: round trips and wall time of the fileserver over SSH against the local transport.
#
# picluster-switchsim on 127.0.0.1, this machine as the fileserver under a root_prefix (a plain
# folder, a small golden image, rsync clones), reached either directly (transport local) or through
# a throwaway sshd on a free 127.0.0.1 port with LogLevel DEBUG (transport ssh). For shelves of
# SIZES Pis (added with `add --offline`, then one local `apply` builds their roots), both
# transports run `plan`, `status --probe none`, `fileserver show` and a no-change `apply`; printed
# per verb: picluster's own round-trip counter ("fileserver_round_trips", or the -v notes for
# apply), its SSH channel counter ("fileserver_channels", or the notes' "(N SSH channel opened)"),
# the SSH channels sshd's log shows for it, and the wall times. Then one more Pi is added over SSH
# to the largest shelf (-v: its round trips and channels too).
# Targets: round trips constant and <= 4 per verb; at most one SSH channel per verb (0 for one
# that reuses a connection master), picluster's counter equal to sshd's log; ssh/local wall time <= 2x at 96 Pis; add of one Pi to a 96-Pi shelf over
# ssh < 2 s; status --probe none of 96 Pis locally < 1 s.
#
# Needs root (sshd), openssh-server, rsync, snmp. Usage: bench/orchestrator/ssh_round_trips.sh [BUILD_DIR]
#   SIZES="8 24 48 96"
#   NO_RC=1   sshd's SetEnv SHLVL=1: bash then skips root's ~/.bashrc (bench/nfsroot/ssh.sh), which
#             separates picluster's own cost from the login shell's start-up files
#   PERSIST=N the ssh inventory's fileserver.ssh_persist_seconds; unset: the field is left out, so
#             the inventory's default applies (60 s: the first ssh verb leaves a connection master
#             that the later ones reuse); PERSIST=0: every verb connects ("cold")
#   WARM=1    with reuse on: one unmeasured `fileserver show` over ssh before each shelf size's verbs,
#             so every measured verb finds a live master (the "warm" figures; without it the first
#             ssh verb of a size, or of the run, pays the connection and the login shell: "cold")
#   LATENCY_MS=N  picluster reaches sshd through bench/orchestrator/latency_proxy.py, which delays
#             every chunk by N/2 ms each way (about N ms more per round trip, a WAN-like link; the
#             kernel here has no sch_netem); the local transport is not delayed
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build/bench}
SIZES=${SIZES:-8 24 48 96}
MAX=$(echo $SIZES | tr ' ' '\n' | sort -n | tail -1)
PORTS=$((MAX + 3))  # the Pis, two more for the timed adds (local, ssh), the trunk
export LC_ALL=C
if [[ $(id -u) != 0 ]]; then echo "ssh_round_trips.sh: needs root (sshd)" >&2; exit 1; fi
if [[ ! -x $BUILD/orchestrator/picluster || ! -x $BUILD/lab/switchsim/picluster-switchsim ]]; then
  cmake --build "$BUILD" --target picluster picluster-switchsim >/dev/null
fi
PIC="$BUILD/orchestrator/picluster"
SIM="$BUILD/lab/switchsim/picluster-switchsim"
WORK=$(mktemp -d /tmp/picluster-rt-bench-XXXXXX)
SIM_PID= SSHD_PID= PROXY_PID=
cleanup() {
  # The connection master a verb left (reuse is on unless PERSIST=0) ends now, not 60 s later.
  [[ -n $SSHD_PID && -f $WORK/inventory.json ]] && use ssh && "$PIC" fileserver disconnect >/dev/null 2>&1
  [[ -n $PROXY_PID ]] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  [[ -n $SIM_PID ]] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  [[ -n $SSHD_PID ]] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.$1); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }

FS="$WORK/fileserver"
G="$FS/srv/golden/raspios"
mkdir -p "$G/etc/ssh" "$G/usr/share" "$FS/srv/nfsroot" "$FS/srv/tftp"
printf 'raspberrypi\n' >"$G/etc/hostname"
printf '0123456789abcdef0123456789abcdef\n' >"$G/etc/machine-id"
for i in $(seq 40); do head -c 2048 /dev/zero >"$G/usr/share/f$i"; done

mac() { printf 'b8:27:eb:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
{
  printf '{"ports": {'
  for ((p = 1; p < PORTS; p++)); do printf '"%d": {"device": true, "mac": "%s"}, ' "$p" "$(mac "$p")"; done
  printf '"%d": {"device": true, "external_power": true}}}\n' "$PORTS"
} >"$WORK/knobs.json"
SNMP_PORT=$(free_port SOCK_DGRAM)
"$SIM" --listen "udp:127.0.0.1:$SNMP_PORT" --ports "$PORTS" --state "$WORK/switchsim-state.json" \
  --config "$WORK/knobs.json" --community bench >"$WORK/switchsim.out" 2>"$WORK/switchsim.log" &
SIM_PID=$!
for _ in $(seq 100); do grep -q '^ready ' "$WORK/switchsim.out" && break; sleep 0.1; done

# sshd with LogLevel DEBUG: every channel opened is a "server_input_channel_open: ctype session" line.
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/client_key"
cp "$WORK/client_key.pub" "$WORK/authorized_keys"
SSH_PORT=$(free_port SOCK_STREAM)
mkdir -p /run/sshd
cat >"$WORK/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
PidFile $WORK/sshd.pid
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel DEBUG
CFG
if [[ ${NO_RC:-0} == 1 ]]; then echo "SetEnv SHLVL=1" >>"$WORK/sshd_config"; fi
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null && break; sleep 0.1; done
CONNECT_PORT=$SSH_PORT
if [[ ${LATENCY_MS:-0} != 0 ]]; then
  CONNECT_PORT=$(free_port SOCK_STREAM)
  python3 "$SRC/bench/orchestrator/latency_proxy.py" "$CONNECT_PORT" "$SSH_PORT" \
    "$(awk -v n="$LATENCY_MS" 'BEGIN { print n / 2 }')" >"$WORK/proxy.out" 2>"$WORK/proxy.log" &
  PROXY_PID=$!
  for _ in $(seq 100); do grep -q '^ready' "$WORK/proxy.out" && break; sleep 0.1; done
fi
echo "[127.0.0.1]:$CONNECT_PORT $(cut -d' ' -f1,2 "$WORK/host_key.pub")" >"$WORK/known_hosts"

printf '{"community": "bench"}\n' >"$WORK/switch-secrets.json"
chmod 600 "$WORK/switch-secrets.json"
fileserver() {  # transport -> the inventory's fileserver object
  local extra=
  [[ $1 == ssh ]] && extra="\"host\": \"127.0.0.1\", \"ssh_port\": $CONNECT_PORT, \"user\": \"root\",
    \"identity_file\": \"$WORK/client_key\", \"known_hosts\": \"$WORK/known_hosts\",
    ${PERSIST:+\"ssh_persist_seconds\": $PERSIST,}"
  [[ $1 == local ]] && extra='"host": "localhost",'
  printf '{"transport": "%s", %s "trunk_interface": "eth0", "trunk_port": %d, "nfs_root": "/srv/nfsroot",
    "golden_image": "/srv/golden/raspios", "clone_method": "rsync", "tftp_root": "/srv/tftp", "root_prefix": "%s"}' \
    "$1" "$extra" "$PORTS" "$FS"
}
cat >"$WORK/inventory.json" <<JSON
{"version": 1, "shelves": [{"name": "bench", "fileserver": $(fileserver local),
  "switch": {"host": "127.0.0.1", "snmp_port": $SNMP_PORT, "version": "v2c",
             "secrets_file": "switch-secrets.json", "profile": "qbridge", "port_count": $PORTS,
             "timeout_ms": 1000, "retries": 1, "poe_off_seconds": 1},
  "pis": []}]}
JSON
export PICLUSTER_INVENTORY="$WORK/inventory.json"
use() {  # transport: rewrites the inventory's fileserver
  python3 - "$WORK/inventory.json" "$(fileserver "$1")" <<'PY'
import json, sys
inv = json.load(open(sys.argv[1])); inv["shelves"][0]["fileserver"] = json.loads(sys.argv[2])
json.dump(inv, open(sys.argv[1], "w"), indent=2)
PY
}
channels() { grep -c 'server_input_channel_open: ctype session' "$WORK/sshd.log" || true; }
now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo MET; else echo MISSED; fi; }

declare -A TIME_LOCAL TIME_SSH
noted() {  # -v output, pattern -> the sum of the numbers before it in the notes
  { grep -o "[0-9]* $2" <<<"$1" || true; } | awk '{ s += $1 } END { print s + 0 }'
}
run_verb() {  # transport label args... -> "trips counted_channels sshd_channels seconds"
  local t=$1 label=$2; shift 2
  local c0 a b out trips counted
  c0=$(channels); a=$(now)
  out=$("$PIC" "$@" 2>"$WORK/stderr") || true
  b=$(now)
  if [[ $label == apply || $label == add ]]; then
    out=$(cat "$WORK/stderr"; echo "$out")
    trips=$(noted "$out" 'fileserver round trips')
    counted=$(noted "$out" 'SSH channels\? opened')
  else
    trips=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get("fileserver_round_trips", "?"))' <<<"$out" 2>/dev/null || echo '?')
    counted=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get("fileserver_channels", "?"))' <<<"$out" 2>/dev/null || echo '?')
  fi
  sleep 0.2
  echo "$trips $counted $(( $(channels) - c0 )) $(secs "$a" "$b")"
}

added=0
printf '%-5s %-8s %-6s %-9s %-9s %-9s %-9s %-7s %s\n' pis verb trips counted sshd_ch local_s ssh_s ratio target
for n in $SIZES; do
  use local
  for ((i = added + 1; i <= n; i++)); do
    "$PIC" add "$(printf 'pi%02d' "$i")" --port "$i" --mac "$(mac "$i")" --offline >/dev/null
  done
  added=$n
  "$PIC" apply >/dev/null
  if [[ ${WARM:-0} == 1 ]]; then use ssh; "$PIC" fileserver show --json >/dev/null; fi
  for spec in "plan|plan --json" "status|status --json --probe none" "show|fileserver show --json" "apply|-v apply"; do
    label=${spec%%|*}; read -r -a args <<<"${spec#*|}"
    use local; read -r _ _ _ tl < <(run_verb local "$label" "${args[@]}")
    use ssh; read -r trips counted ch ts < <(run_verb ssh "$label" "${args[@]}")
    ratio=$(awk -v a="$tl" -v b="$ts" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }')
    ok=$(verdict "$counted == $ch && $ch <= 1 && $trips <= 4")
    [[ $n == "$MAX" ]] && ok="$ok, ratio $(verdict "$ratio <= 2")"
    [[ $n == "$MAX" && $label == status ]] && ok="$ok, local $(verdict "$tl < 1")"
    printf '%-5s %-8s %-6s %-9s %-9s %-9s %-9s %-7s %s\n' "$n" "$label" "$trips" "$counted" "$ch" "$tl" "$ts" "$ratio" "$ok"
  done
done
next=$((MAX + 1))
use local
read -r _ _ _ tl < <(run_verb local add -v add "$(printf 'pi%02d' "$next")" --port "$next" --mac "$(mac "$next")")
echo "add of one Pi to a $MAX-Pi shelf locally: $tl s"
next=$((MAX + 2))
use ssh
if [[ ${ADD_TRACE:-0} == 1 ]]; then  # the ssh add's -v lines, each with the seconds since it started
  a=$(now)
  "$PIC" -v add "$(printf 'pi%02d' "$next")" --port "$next" --mac "$(mac "$next")" 2>&1 |
    while IFS= read -r line; do echo "  $(secs "$a" "$(now)") $line"; done
  exit 0
fi
read -r trips counted ch ts < <(run_verb ssh add -v add "$(printf 'pi%02d' "$next")" --port "$next" --mac "$(mac "$next")")
[[ -d $FS/srv/nfsroot/$(printf 'pi%02d' "$next") ]] || { cat "$WORK/stderr"; echo "add over ssh failed" >&2; }
echo "add of one Pi to a $MAX-Pi shelf over ssh: $ts s (target < 2 s): $(verdict "$ts < 2");" \
  "$trips round trips, $counted SSH channels (sshd's log: $ch)"
echo "(PERSIST=${PERSIST:-unset (the inventory default, 60)} WARM=${WARM:-0} NO_RC=${NO_RC:-0} LATENCY_MS=${LATENCY_MS:-0}; build: $BUILD; a Debug build is several times slower than Release; the machine's load: $(cut -d' ' -f1-3 /proc/loadavg))"
