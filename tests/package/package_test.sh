#!/usr/bin/env bash
# The package test (ctest label `package`):
#   1. scripts/package.sh builds picluster_*.deb and picluster-lab_*.deb (lintian tags checked
#      against docs/packaging.md there);
#   2. a clean Debian 12 root from mmdebstrap (minbase + apt, man-db, bash-completion), cached as
#      a tarball in $PICLUSTER_PACKAGE_CACHE (default /var/cache/picluster-package) because it
#      takes a while; a cold run builds it;
#   3. in a copy of that root: apt-get install ./picluster_*.deb (Depends resolved from the
#      mirror), then picluster --version, picluster init, man -w picluster, the bash completion
#      completing a verb and a Pi name;
#   4. apt-get remove: nothing of the package is left but its conffiles; purge removes those too.
# Usage: package_test.sh SOURCE_DIR WORK_DIR. Exit 77 (skipped) without root or mmdebstrap.
set -euo pipefail
src=$1
work=$2
start=$SECONDS
step() { printf '== %s (%ds)\n' "$*" $((SECONDS - start)); }

if [[ $(id -u) != 0 ]]; then echo "skipped: needs root (chroot)"; exit 77; fi
if ! command -v mmdebstrap >/dev/null; then echo "skipped: needs mmdebstrap"; exit 77; fi

rm -rf "$work"
mkdir -p "$work"
root=$work/root
cleanup() {
  for m in proc dev/pts dev; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  rm -rf "$root"
}
trap cleanup EXIT

# PICLUSTER_PACKAGE_DEBS=DIR: packages scripts/package.sh already built there (manual runs only;
# ctest builds them).
debs=${PICLUSTER_PACKAGE_DEBS:-$work/debs}
if [[ -z ${PICLUSTER_PACKAGE_DEBS:-} ]]; then
  step "build the packages"
  "$src/scripts/package.sh" "$debs"
fi
main_deb=$(ls "$debs"/picluster_*_amd64.deb)
lab_deb=$(ls "$debs"/picluster-lab_*_amd64.deb)
echo "built: $(basename "$main_deb") $(basename "$lab_deb")"

# The mirror this machine's apt uses (mmdebstrap can reach nothing else).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
cache=${PICLUSTER_PACKAGE_CACHE:-/var/cache/picluster-package}
base=$cache/bookworm-base.tar
mkdir -p "$cache"
if [[ ! -s $base ]]; then
  step "make the Debian 12 base root (cold: mmdebstrap)"
  mmdebstrap --variant=minbase --include=apt,man-db,bash-completion,ca-certificates \
    --aptopt='Acquire::Retries "3"' bookworm "$cache/bookworm-base.tmp.tar" "deb $mirror bookworm main" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log"; exit 1; }
  mv "$cache/bookworm-base.tmp.tar" "$base"  # mmdebstrap picks its output format by the suffix
fi
step "unpack the base root"
mkdir -p "$root"
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$main_deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

step "apt-get install ./$(basename "$main_deb")"
in_root apt-get update -q >/dev/null
in_root bash -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/$(basename "$main_deb")" >"$work/apt.log" 2>&1 ||
  { tail -30 "$work/apt.log"; exit 1; }
in_root dpkg-query -W -f='${Package} ${Version} ${Depends}\n' picluster
in_root dpkg -L picluster | sort >"$work/files"
in_root bash -c 'cat /var/lib/dpkg/info/picluster.conffiles' >"$work/conffiles"

step "use it"
fail() { echo "FAIL: $*" >&2; exit 1; }
version=$(in_root picluster --version)
echo "$version"
[[ $version == "picluster $(dpkg-deb -f "$main_deb" Version | sed 's/-1$//')" ]] || fail "--version says '$version'"
in_root bash -c 'mkdir -p /root/site && cd /root/site && picluster init && picluster add pi07 --port 7 --offline >/dev/null' ||
  fail "picluster init / add"
[[ -f $root/root/site/inventory.json ]] || fail "init wrote no inventory"
manpage=$(in_root man -w picluster) || fail "man -w picluster"
echo "man page: $manpage"
in_root man -w 5 picluster-inventory >/dev/null || fail "man -w 5 picluster-inventory"
complete_line() {
  in_root bash -c '
    source /usr/share/bash-completion/bash_completion
    source /usr/share/bash-completion/completions/picluster
    cd /root/site
    read -ra COMP_WORDS <<<"$1"
    [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE=$1; COMP_POINT=${#1}
    _picluster
    printf "%s\n" "${COMPREPLY[@]}"' bash "$1"
}
verbs=$(complete_line "picluster pow")
[[ $verbs == power ]] || fail "completing 'picluster pow' gave '$verbs'"
pis=$(complete_line "picluster power cycle pi")
[[ $pis == pi07 ]] || fail "completing 'picluster power cycle pi' gave '$pis'"
echo "completion: pow -> $verbs, power cycle pi -> $pis"

step "apt-get remove"
in_root bash -c 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q picluster' >>"$work/apt.log" 2>&1 || fail "remove"
state=$(in_root dpkg-query -W -f='${db:Status-Status}' picluster)
[[ $state == config-files ]] || fail "after remove, dpkg says '$state'"
left=0
while read -r f; do
  [[ -z $f || -d $root$f ]] && continue
  if [[ -e $root$f || -L $root$f ]]; then
    if grep -qx -- "$f" "$work/conffiles"; then echo "kept conffile: $f"; else echo "left behind: $f"; left=1; fi
  fi
done <"$work/files"
[[ $left == 0 ]] || fail "files of the package are left after remove"
in_root bash -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q picluster' >>"$work/apt.log" 2>&1 || fail "purge"
while read -r f; do
  [[ -e $root$f ]] && fail "purge left $f"
done <"$work/conffiles"
step "package test passed"
