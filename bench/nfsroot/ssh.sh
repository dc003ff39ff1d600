#!/bin/sh
# Milliseconds per SshHost operation against a throwaway sshd on a free 127.0.0.1 port (the same
# setup as tests/support's LoopbackSshd). Needs root and openssh-server.
# Usage: bench/nfsroot/ssh.sh [BUILD_DIR] [ROUNDS]
# NO_RC=1 adds `SetEnv SHLVL=1` to the sshd config: bash then skips ~/.bashrc for the commands
# sshd runs (it sources it when SSH_CLIENT is set and SHLVL < 2), which separates picluster's own
# cost from the remote login shell's startup files.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build/bench}
ROUNDS=${2:-50}
cmake --build "$BUILD" --target ssh_bench >/dev/null
WORK=$(mktemp -d /tmp/picluster-sshbench-XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/client_key"
cp "$WORK/client_key.pub" "$WORK/authorized_keys"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 22922)
mkdir -p /run/sshd
cat > "$WORK/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
PidFile $WORK/sshd.pid
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
CFG
if [ "${NO_RC:-0}" = 1 ]; then echo "SetEnv SHLVL=1" >> "$WORK/sshd_config"; fi
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.log" &
PID=$!
i=0
until ssh-keyscan -p "$PORT" -t ed25519 127.0.0.1 >"$WORK/known_hosts" 2>/dev/null && [ -s "$WORK/known_hosts" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "sshd did not start" >&2; exit 1; }
  sleep 0.1
done
mkdir -p "$WORK/files"
"$BUILD/bench/nfsroot/ssh_bench" "$PORT" "$WORK/client_key" "$WORK/known_hosts" "$WORK/files" "$ROUNDS"
