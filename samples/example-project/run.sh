#!/usr/bin/env bash
# Builds this project with Maven and runs its main as root (BPF needs it): ./run.sh [--self-test]
# PANBPF_M2 names a local Maven repository holding the panbpf artifacts (CI installs them there first).
set -euo pipefail
cd "$(dirname "$0")"
repo=()
[ -n "${PANBPF_M2:-}" ] && repo=(-Dmaven.repo.local="$PANBPF_M2")
mvn -B -ntp -q ${MVN_FLAGS:-} "${repo[@]}" package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec "${JAVA_HOME:-/usr}/bin/java" --enable-native-access=ALL-UNNAMED \
    -cp "target/classes:$(cat target/classpath.txt)" org.example.execsnoop.Main "$@"
