#!/usr/bin/env bash
# Compiles bpf-src/src/main/bpf/*.bpf.c into the committed objects under
# bpf-src/src/main/resources/dev/panbpf/bpf/ (the jar's resources dev/panbpf/bpf/<name>.bpf.o).
#
#   build-bpf.sh           rebuild; an object is rewritten only when its bytes change. Without clang (or
#                          llvm-strip) it leaves the committed objects alone, so the Java build works anyway.
#   build-bpf.sh --check   compile into a temporary directory and fail when a committed object differs from
#                          what its source compiles to (CI runs this), or when an object has no source.
#
# Objects are reproducible: source paths are mapped to "." (-ffile-prefix-map), DWARF is stripped
# (llvm-strip -g), and .BTF/.BTF.ext (types and line info for the verifier log) are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/src/main/bpf"
out="$here/src/main/resources/dev/panbpf/bpf"
mode=${1:-build}
CLANG=${CLANG:-clang}
STRIP=${LLVM_STRIP:-llvm-strip}
ARCH_INCLUDE=${ARCH_INCLUDE:-/usr/include/$(uname -m)-linux-gnu}
# panbpf.bpf.h, the header the generator ships (its macros keep structs in BTF and tag typed rings).
header=$(cd "$here/../codegen/src/main/resources/dev/panbpf/codegen" && pwd)

if ! command -v "$CLANG" >/dev/null || ! command -v "$STRIP" >/dev/null; then
    if [ "$mode" = --check ]; then
        echo "build-bpf.sh: $CLANG or $STRIP is missing, cannot check the committed BPF objects;" \
             "install clang and llvm" >&2
        exit 1
    fi
    echo "build-bpf.sh: $CLANG or $STRIP not found; using the committed BPF objects in $out" >&2
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cd "$src"
stale=()
for c in *.bpf.c; do
    name=${c%.c}.o
    "$CLANG" -O2 -g -target bpf -mcpu=v3 -Wall -Werror \
        -I "$ARCH_INCLUDE" -I "$header" -ffile-prefix-map="$src"=. -ffile-prefix-map="$header"=panbpf \
        -c "$c" -o "$tmp/$name"
    "$STRIP" -g "$tmp/$name"
    if ! cmp -s "$tmp/$name" "$out/$name"; then
        if [ "$mode" = --check ]; then
            stale+=("$name")
        else
            cp "$tmp/$name" "$out/$name"
            echo "build-bpf.sh: rebuilt $name"
        fi
    fi
done
for o in "$out"/*.bpf.o; do
    [ -e "$o" ] || continue
    base=$(basename "$o" .o)
    [ -e "$src/$base.c" ] || stale+=("$(basename "$o") (no source $base.c)")
done

if [ ${#stale[@]} -gt 0 ]; then
    echo "build-bpf.sh: committed BPF objects do not match their sources: ${stale[*]}" >&2
    echo "  built here with: $("$CLANG" --version | head -n 1)" >&2
    echo "  fix: run bpf-src/build-bpf.sh (or the Maven build) and commit src/main/resources/dev/panbpf/bpf/" >&2
    exit 1
fi
[ "$mode" = --check ] && echo "build-bpf.sh: committed BPF objects match their sources"
exit 0
