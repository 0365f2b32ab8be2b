#!/usr/bin/env bash
# Prepares this machine for panbpf and prints the JAVA_HOME to use on its last line.
# Idempotent: installs only what is missing (clang, llvm, libbpf-dev, bpftool, iproute2) and mounts tracefs.
set -euo pipefail

log() { echo "panbpf setup: $*" >&2; }

jdk_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }

pick_jdk() {
    local c
    for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
        [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
        local v; v=$(jdk_major "$c")
        if [ -n "$v" ] && [ "${v%%.*}" -ge 22 ]; then echo "$c"; return 0; fi
    done
    return 1
}

need_root() {
    if [ "$(id -u)" != 0 ]; then
        log "$1 needs root; run as root (sudo) or install/mount it yourself"
        exit 1
    fi
}

missing=()
command -v clang >/dev/null || missing+=(clang)
command -v llvm-strip >/dev/null || missing+=(llvm)
[ -f /usr/include/bpf/libbpf.h ] || missing+=(libbpf-dev)
command -v bpftool >/dev/null || missing+=(bpftool)
command -v ip >/dev/null || missing+=(iproute2)
command -v gcc >/dev/null || missing+=(gcc)
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
    need_root "installing ${missing[*]}"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q "${missing[@]}" >&2
fi

if [ ! -d /sys/kernel/tracing/events ]; then
    need_root "mounting tracefs"
    log "mounting tracefs at /sys/kernel/tracing"
    mount -t tracefs nodev /sys/kernel/tracing
fi

if ! jdk=$(pick_jdk); then
    log "no JDK 22+ found; install one (e.g. apt-get install openjdk-25-jdk or Temurin) and set JAVA_HOME"
    exit 1
fi
echo "$jdk"
