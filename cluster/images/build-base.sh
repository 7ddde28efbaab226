#!/usr/bin/env bash
# Build sparklab/base:bookworm with no container registry: a Debian bookworm
# root file system made by debootstrap from the mirror that the host's apt
# already uses (JRE 17, Python 3.11, procps, tini), imported into Docker.
#   cluster/images/build-base.sh [TAG]        (root; about a minute)
# With internet, Dockerfile.base-public makes the same image from a public one.
set -euo pipefail

tag=${1:-sparklab/base:bookworm}
packages=openjdk-17-jre-headless,python3,python3-venv,procps,ca-certificates,tini
say() { printf 'base: %s\n' "$*" >&2; }
public_hint="or, with internet: ./lab image --base debian:bookworm-slim"

[ "$(id -u)" = 0 ] || { say "debootstrap and chroot need root: run this script as root, $public_hint"; exit 1; }
if ! command -v debootstrap >/dev/null; then
  if command -v apt-get >/dev/null; then
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  else
    say "debootstrap is missing: install the debootstrap package, $public_hint"
    exit 1
  fi
fi
# Fail now, not after a minute of debootstrap.
docker info >/dev/null 2>&1 || { say "Docker engine not reachable: start it, or run the jobs on local[*]"; exit 1; }

# The first mirror URI the host's apt uses for a suite, from deb822 .sources
# files (fields in any order, stanzas split by blank lines) or sources.list.
# No mirror name is written anywhere: the image follows the host's choice.
mirror_for() {  # $1 = suite
  local sources=(/etc/apt/sources.list.d/*.sources)
  {
    [ -e "${sources[0]}" ] && awk -v suite="$1" '
      function flush() { if (deb && enabled && hit && uri != "") print uri; deb=0; enabled=1; hit=0; uri="" }
      BEGIN { enabled=1 }
      /^[ \t]*$/ { flush(); next }
      tolower($1)=="types:"   { for (i=2;i<=NF;i++) if ($i=="deb") deb=1 }
      tolower($1)=="uris:"    { uri=$2 }
      tolower($1)=="suites:"  { for (i=2;i<=NF;i++) if ($i==suite) hit=1 }
      tolower($1)=="enabled:" { enabled=(tolower($2)!="no") }
      END { flush() }' "${sources[@]}"
    # One-line format: deb [options] URI SUITE COMPONENTS...
    [ -r /etc/apt/sources.list ] && awk -v suite="$1" '
      $1=="deb" { for (i=2;i<NF;i++) if ($i ~ /^[a-z+]+:\/\//) { if ($(i+1)==suite) print $i; break } }' \
      /etc/apt/sources.list
  } | head -n1
}
main_mirror=$(mirror_for bookworm || true)
security_mirror=$(mirror_for bookworm-security || true)
[ -n "$main_mirror" ] || { say "the host's apt sources name no bookworm mirror; $public_hint"; exit 1; }

work=$(mktemp -d /tmp/sparklab-base.XXXXXX)
rootfs=$work/rootfs log=$work/log
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  # --one-file-system: never descend into a mount a failed step left behind.
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
# Run a step with its chatter (dpkg triggers, tzdata, certificates) in the
# log, shown only when the step fails.
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; say "failed: $1"; return 1; }; }

say "debootstrap bookworm from the host's mirror ($packages), about a minute"
quiet debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$main_mirror"

# The security suite carries the current JRE and Python fixes; upgrading
# from it costs a few seconds.
echo "deb $main_mirror bookworm main" > "$rootfs/etc/apt/sources.list"
if [ -n "$security_mirror" ]; then
  echo "deb $security_mirror bookworm-security main" >> "$rootfs/etc/apt/sources.list"
fi
# apt and useradd in the chroot need name resolution and a localhost; Docker
# bind-mounts its own /etc/hosts and resolv.conf into every container.
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
printf '127.0.0.1 localhost\n' > "$rootfs/etc/hosts"
mount -t proc proc "$rootfs/proc"
say "security updates${security_mirror:+ (bookworm-security)}, user spark (uid 1000)"
quiet chroot "$rootfs" /bin/sh -ec '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get upgrade -y -qq
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /usr/share/doc/* /usr/share/man/*
  groupadd --gid 1000 spark
  useradd --uid 1000 --gid 1000 --create-home --home-dir /home/spark --shell /bin/sh spark
'
umount "$rootfs/proc"
: > "$rootfs/etc/resolv.conf"
rm -f "$rootfs/etc/hosts"

# JAVA_HOME from the installed JRE itself (the directory name carries the
# architecture: java-17-openjdk-amd64, -arm64, ...). Resolved inside the
# chroot: /usr/bin/java links through the absolute /etc/alternatives/java.
java_bin=$(chroot "$rootfs" readlink -f /usr/bin/java)
java_home=${java_bin%/bin/java}
say "importing as $tag (JAVA_HOME $java_home)"
tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change "ENV LANG=C.UTF-8" \
  --change "ENV JAVA_HOME=$java_home" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'CMD ["/bin/sh"]' \
  - "$tag" >/dev/null
say "done: $tag"
