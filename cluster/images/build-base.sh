#!/usr/bin/env bash
# Build sparklab/base:bookworm with no container registry: a Debian bookworm
# root file system made by debootstrap from the mirror that the host's apt
# already uses (JRE 17, Python 3.11, procps, tini), imported into Docker.
#   cluster/images/build-base.sh [TAG]
set -euo pipefail

tag=${1:-sparklab/base:bookworm}
packages=openjdk-17-jre-headless,python3,python3-venv,procps,ca-certificates,tini
say() { printf 'base: %s\n' "$*" >&2; }

if ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing debootstrap"
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
  else
    say "debootstrap is missing: install it (Debian: sudo apt-get install debootstrap), or use a public base: ./lab image --base debian:bookworm-slim"
    exit 1
  fi
fi
[ "$(id -u)" = 0 ] || { say "debootstrap needs root: run this script with sudo, or ./lab image --base debian:bookworm-slim"; exit 1; }

# The host's own Debian mirrors (deb822 .sources files or sources.list): the
# archive for bookworm, the security archive for bookworm-security.
mirror_for() {  # $1 = suite
  {
    awk -v suite="$1" '
      /^URIs:/ {uris=$2} /^Suites:/ {for (i=2;i<=NF;i++) if ($i==suite) print uris}
      /^$/ {uris=""}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk -v suite="$1" '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {u=$i; if ($(i+1)==suite) print u}}' \
      /etc/apt/sources.list 2>/dev/null || true
  } | head -n1 || true   # a missing sources file is not an error here
}
main_mirror=$(mirror_for bookworm)
security_mirror=$(mirror_for bookworm-security)
[ -n "$main_mirror" ] || { say "no bookworm mirror in the host's apt sources; use ./lab image --base debian:bookworm-slim"; exit 1; }

rootfs=$(mktemp -d /tmp/sparklab-rootfs.XXXXXX)
cleanup() { umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs"; }
trap cleanup EXIT

say "debootstrap bookworm ($packages), about a minute"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$main_mirror" >/dev/null

# Current Java and Python fixes from the security suite, when the host has one.
echo "deb $main_mirror bookworm main" > "$rootfs/etc/apt/sources.list"
if [ -n "$security_mirror" ]; then
  echo "deb $security_mirror bookworm-security main" >> "$rootfs/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
printf '127.0.0.1 localhost\n' > "$rootfs/etc/hosts"   # Docker writes its own at run time
mount -t proc proc "$rootfs/proc"
say "security updates, user spark (uid 1000)"
chroot "$rootfs" /bin/sh -ec '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get upgrade -y -qq >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/*
  groupadd --gid 1000 spark
  useradd --uid 1000 --gid 1000 --create-home --home-dir /home/spark --shell /bin/sh spark
'
umount "$rootfs/proc"
: > "$rootfs/etc/resolv.conf"
rm -f "$rootfs/etc/hosts"

java_home=$(dirname "$(dirname "$(readlink -f "$rootfs/usr/bin/java" | sed "s|^$rootfs||")")")
say "importing as $tag (JAVA_HOME $java_home)"
tar -C "$rootfs" -c . | docker import \
  --change "ENV LANG=C.UTF-8" \
  --change "ENV JAVA_HOME=$java_home" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'CMD ["/bin/sh"]' \
  - "$tag" >/dev/null
say "done: $tag"
