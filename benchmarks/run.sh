#!/usr/bin/env bash
# The full benchmark run behind the README's numbers (~20 minutes, as root, on an otherwise idle machine):
# every JMH benchmark with its annotated iterations, then the memory sweep, then the report
# (benchmarks/results/: results.json, run.log, memory.md, results.md, drain.png). Extra arguments go to JMH.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
    echo "run.sh: $jar is missing; build it with ./panbpf test (mvn verify)" >&2
    exit 2
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
out=benchmarks/results
mkdir -p "$out"
"$java" -jar "$jar" -rf json -rff "$out/results.json" "$@" 2>&1 | tee "$out/run.log"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.panbpf.bench.MemorySweep "$out/memory.md" 2>&1 | tee -a "$out/run.log"
"$java" -cp "$jar" dev.panbpf.bench.Report "$out/results.json" "$out"
