#!/usr/bin/env bash
# Installs everything picluster needs to build, test, run the example shelf and the virtual
# shelf on a fresh Debian 12 (bookworm). Run as root. Safe to run again: apt-get skips what is
# already installed.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-debian.sh: run as root (apt-get install needs it)" >&2
  exit 1
fi

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  libssh-dev libsnmp-dev libboost-dev libboost-filesystem-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev
  # fuzzing (libFuzzer runtime)
  clang-16 libclang-rt-16-dev
  # integration tests: real sshd, SNMP tools, switch recordings, filesystems, copies
  openssh-server openssh-client snmp snmpsim btrfs-progs xfsprogs rsync e2fsprogs util-linux
  nftables iproute2 iputils-ping procps psmisc python3
  # the virtual shelf (lab) and the Ansible integration
  qemu-system-x86 qemu-utils vde2 mmdebstrap ansible ansible-lint
  # packages (scripts/package.sh, label package), man pages and completions
  dpkg-dev lintian man-db bash-completion zsh gzip
  # watch --listen (HTTP server) and its tests: promtool checks /metrics, Chromium loads the page
  libcpp-httplib-dev prometheus chromium
  # picluster image: building arm64 roots (qemu-user + binfmt_misc), reading and making Pi images
  qemu-user-static binfmt-support arch-test dosfstools mtools fdisk xz-utils cpio
  # zero-touch enrollment's integration test: a real dnsmasq in a network namespace
  dnsmasq-base
  # the arm64 lab (lab up --arch arm64, label lab-arm64): aarch64 Pi VMs
  qemu-system-arm
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-debian.sh: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup-debian.sh: all ${#packages[@]} packages already installed"
fi
