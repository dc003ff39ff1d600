#!/bin/sh
# Ansible dynamic inventory source: every shelf, fileserver, switch and Pi that picluster knows.
# The picluster inventory file comes from $PICLUSTER_INVENTORY (default: ./inventory.json), and
# the picluster binary from $PICLUSTER_BIN (default: picluster on PATH). Ansible calls this with
# --list (and, in principle, --host NAME); both are passed straight through.
set -eu
: "${PICLUSTER_INVENTORY:=inventory.json}"
export PICLUSTER_INVENTORY
exec "${PICLUSTER_BIN:-picluster}" --inventory "$PICLUSTER_INVENTORY" ansible-inventory "$@"
