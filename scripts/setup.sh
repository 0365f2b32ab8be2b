#!/usr/bin/env bash
# Prepares this machine for panbpf and prints the JAVA_HOME to use on its last line.
#
#   scripts/setup.sh                    everything the tests, the benchmarks and CI need (./panbpf test, bench)
#   scripts/setup.sh COMMAND            only what ./panbpf COMMAND needs; --help, check and gen need nothing
#   scripts/setup.sh --build COMMAND    that, and Maven to build the CLI first
#
# Idempotent: it installs (apt-get) or mounts only what is missing, and only then needs root. As another user it
# says what is missing, which command needs it and what to run as root; for a sample it carries on, so the CLI's
# own check can explain the rest, while for the tests, the benchmarks and a build it stops.
set -euo pipefail

log() { echo "panbpf setup: $*" >&2; }

again="sudo scripts/setup.sh${*:+ $*}"
build=0
if [ "${1:-}" = --build ]; then
    build=1
    shift
fi
command=${1:-all}

# What each command needs from the machine. The JDK is always needed and never installed here.
packages=()   # apt packages to have, each checked by the probe of the same index
probes=()
tracefs=0
fatal=0       # 1: stop when something needed cannot be had (nothing would work without it)
need() { packages+=("$1"); probes+=("$2"); }
case "$command" in
    all|test|bench)
        need clang "command -v clang"
        need llvm "command -v llvm-strip"
        need libbpf-dev "test -f /usr/include/bpf/libbpf.h"
        need bpftool "command -v bpftool"
        need iproute2 "command -v ip || test -x /usr/sbin/ip || test -x /sbin/ip"
        need gcc "command -v gcc"
        need maven "command -v mvn"
        tracefs=1
        fatal=1
        ;;
    compare|fizzbuzz)
        need libbpf1 libbpf_loads
        ;;
    deletions|printk)
        need libbpf1 libbpf_loads
        tracefs=1
        ;;
    xdp-events)
        need libbpf1 libbpf_loads
        need iproute2 "command -v ip || test -x /usr/sbin/ip || test -x /sbin/ip"
        ;;
    *)
        # --help, check, gen and anything unknown: the CLI itself needs nothing from the machine (check reports).
        ;;
esac
if [ "$build" = 1 ]; then
    need maven "command -v mvn"
    fatal=1
fi
who="./panbpf $command"
[ "$command" = all ] && who="the tests and the benchmarks (./panbpf test, ./panbpf bench)"
[ "$build" = 1 ] && who="$who (building the CLI first)"

# libbpf.so.1 is what the samples load at run time; ldconfig's cache knows whether it is installed.
libbpf_loads() {
    local ldconfig
    for ldconfig in /sbin/ldconfig /usr/sbin/ldconfig ldconfig; do
        if command -v "$ldconfig" >/dev/null; then
            [[ $("$ldconfig" -p) == *"libbpf.so.1 "* ]]
            return
        fi
    done
    return 1
}

# tracefs is found in the mount table: its directory is mode 700, so listing it says nothing to other users.
tracefs_mounted() {
    local dev dir type rest
    while read -r dev dir type rest; do
        [ "$dir" = /sys/kernel/tracing ] && [ "$type" = tracefs ] && return 0
    done </proc/self/mounts
    return 1
}

jdk_major() {
    local line
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]*java\.specification\.version\ =\ ([0-9]+) ]]; then
            echo "${BASH_REMATCH[1]}"
        fi
    done < <("$1/bin/java" -XshowSettings:properties -version 2>&1)
}

pick_jdk() {
    local c
    for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
        [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
        local v; v=$(jdk_major "$c")
        if [ -n "$v" ] && [ "$v" -ge 22 ]; then echo "$c"; return 0; fi
    done
    return 1
}

missing=()
for i in "${!packages[@]}"; do
    eval "${probes[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
mount_tracefs=0
if [ "$tracefs" = 1 ] && ! tracefs_mounted; then
    mount_tracefs=1
fi

unmet=0
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$EUID" = 0 ]; then
        log "installing ${missing[*]} for $who"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2
        apt-get install -y -q "${missing[@]}" >&2
    else
        log "$who needs packages that are not installed: ${missing[*]}; installing them needs root:" \
            "sudo apt-get install ${missing[*]} (or $again)"
        unmet=1
    fi
fi
if [ "$mount_tracefs" = 1 ]; then
    if [ "$EUID" = 0 ]; then
        log "mounting tracefs at /sys/kernel/tracing for $who"
        mount -t tracefs nodev /sys/kernel/tracing
    else
        log "$who needs tracefs at /sys/kernel/tracing, which is not mounted; mounting it needs root:" \
            "sudo mount -t tracefs nodev /sys/kernel/tracing (or $again)"
        unmet=1
    fi
fi
if [ "$unmet" = 1 ] && [ "$fatal" = 1 ]; then
    exit 1
fi

if ! jdk=$(pick_jdk); then
    log "no JDK 22+ found; install one (e.g. apt-get install openjdk-25-jdk or Temurin) and set JAVA_HOME"
    exit 1
fi
echo "$jdk"
