#!/usr/bin/env bash
# The Debian base image every SparkLab image starts from (JRE, Python 3.11,
# procps, tini, user spark), made in the first of these ways that works here,
# with one line saying which and why:
#   1. the engine already has TAG: nothing to do;
#   2. a public Debian image (PUBLIC, default debian:bookworm-slim) that the
#      engine has or pulls from the registry it is configured for; the
#      packages are installed in the build (Dockerfile.base-public);
#   3. a root file system made here by debootstrap (root needed), from the
#      host's own Debian mirror on a Debian host, else from debootstrap's
#      default mirror, imported into Docker.
# Where none works: one line on stdout naming each way out, exit 2, within
# seconds (progress goes to stderr).
#   cluster/images/build-base.sh [--force] [--public-only] TAG [PUBLIC]
#     --force: make it even if the engine has TAG; --public-only: PUBLIC or
#     nothing (`--base IMAGE` on the command line), no debootstrap instead.
# `./lab` starts it beside its first set-up; cluster/images.py waits for it
# or runs it (build_base). Exit 2 = no way here; 1 = a way failed.
set -euo pipefail

force="" public_only=""
while [ $# -gt 0 ]; do
  case $1 in
    --force) force=1 ;;
    --public-only) public_only=1 ;;
    *) break ;;
  esac
  shift
done
tag=${1:-sparklab/base:bookworm}
public=${2:-debian:bookworm-slim}
packages=openjdk-17-jre-headless,python3,python3-venv,procps,ca-certificates,tini
here=$(cd "$(dirname "$0")" && pwd)
say() { printf 'base: %s\n' "$*" >&2; }
refuse() { printf '%s\n' "$*"; exit 2; }

docker info >/dev/null 2>&1 || refuse "the Docker engine does not answer: start it, or run the jobs on local[*]"

if [ -z "$force" ] && docker image inspect "$tag" >/dev/null 2>&1; then
  say "$tag (already on the engine)"
  exit 0
fi

# Way 2. A pull that prints nothing for 20 s is taken as no registry; one
# that has started is left to finish (a slow link still gets its image).
pull_reason=""
pull() {
  local log pid waited=0
  log=$(mktemp)
  docker pull "$public" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ ! -s "$log" ] && [ "$waited" -lt 40 ]; do
    sleep 0.5
    waited=$((waited + 1))
  done
  if [ ! -s "$log" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    pull_reason="no answer in 20 s"
  elif wait "$pid"; then
    rm -f "$log"
    return 0
  else
    pull_reason=$(tail -n1 "$log")
  fi
  rm -f "$log"
  return 1
}
from_public() {
  local arch
  arch=$(docker version --format '{{.Server.Arch}}')
  docker build --build-arg "BASE=$public" --build-arg "JRE=/usr/lib/jvm/java-17-openjdk-$arch" \
    -t "$tag" -f "$here/Dockerfile.base-public" "$here" >&2
  say "done: $tag"
  exit 0
}
if docker image inspect "$public" >/dev/null 2>&1; then
  say "$tag from $public (on the engine), the packages installed in the build"
  from_public
fi
if pull; then
  say "$tag from $public (pulled from the engine's registry), the packages installed in the build"
  from_public
fi
ways_out="sudo ./lab image (debootstrap), ./lab image --load FILE (images that \`./lab image --save FILE\` wrote on another machine), or a registry the engine reaches (docker pull $public, or --base IMAGE)"
if [ -n "$public_only" ]; then
  refuse "$public is not on the engine and its registry did not give it ($pull_reason). Ways out: $ways_out"
fi

# Way 3.
if [ "$(id -u)" != 0 ]; then
  refuse "no base image here: $tag and $public are not on the engine, the registry did not give $public ($pull_reason), and debootstrap needs root. Ways out: $ways_out"
fi
if ! command -v debootstrap >/dev/null; then
  if command -v apt-get >/dev/null; then
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  else
    refuse "no base image here: the registry did not give $public ($pull_reason) and debootstrap is not installed (install it from your distribution). Ways out: $ways_out"
  fi
fi

# The host's Debian mirror, where the host runs Debian: the URI of its first
# main-archive source (any suite: a Debian 13 host's mirror serves bookworm
# too), and of its security source. Elsewhere (Ubuntu, Fedora, ...) the
# host's mirror carries no Debian: debootstrap's default mirror serves.
# deb822 .sources files (fields in any order) or one-line sources.list.
apt_sources() {  # URI SUITE per line
  local sources=(/etc/apt/sources.list.d/*.sources)
  [ -e "${sources[0]}" ] && awk '
    function flush() { if (deb && enabled && uri != "") for (s in suites) print uri, s; deb=0; enabled=1; uri=""; delete suites }
    BEGIN { enabled=1 }
    /^[ \t]*$/ { flush(); next }
    tolower($1)=="types:"   { for (i=2;i<=NF;i++) if ($i=="deb") deb=1 }
    tolower($1)=="uris:"    { uri=$2 }
    tolower($1)=="suites:"  { for (i=2;i<=NF;i++) suites[$i]=1 }
    tolower($1)=="enabled:" { enabled=(tolower($2)!="no") }
    END { flush() }' "${sources[@]}"
  [ -r /etc/apt/sources.list ] && awk '
    $1=="deb" { for (i=2;i<NF;i++) if ($i ~ /^[a-z+]+:\/\//) { print $i, $(i+1); break } }' /etc/apt/sources.list
  return 0
}
main_mirror="" security_mirror=""
if [ -r /etc/os-release ] && [ "$(. /etc/os-release && echo "${ID:-}")" = debian ]; then
  main_mirror=$(apt_sources | awk '$2 !~ /-/ { print $1; exit }')
  security_mirror=$(apt_sources | awk '$2 ~ /-security$/ { print $1; exit }')
fi

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

mirror_said="debootstrap's default mirror"
[ -z "$main_mirror" ] || mirror_said="the host's Debian mirror"
say "$tag by debootstrap from $mirror_said, about a minute (the engine has no $public and its registry did not give it: $pull_reason)"
quiet debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" ${main_mirror:+"$main_mirror"}
main_mirror=${main_mirror:-$(awk '$1=="deb" { print $2; exit }' "$rootfs/etc/apt/sources.list")}

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
