#!/usr/bin/env bash
# The full benchmark run behind the README's numbers (~20 minutes, as root, on an otherwise idle machine):
# every JMH benchmark with its annotated iterations, then the memory sweep, the consumer CPU comparison, then the
# report. It works in a temporary directory and replaces benchmarks/results/ (environment.txt, results.json, run.log,
# memory.md, cpu.md, results.md, drain.png) only when everything succeeded. Extra arguments go to JMH.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
    echo "run.sh: $jar is missing; build it with ./panbpf test (mvn verify)" >&2
    exit 2
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "run.sh: the benchmarks put producers and the consumer on CPUs 0 and 1; this machine has $(nproc) CPU" >&2
    exit 2
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
out=benchmarks/results
work=$(mktemp -d)
# On success the work directory goes; on failure it stays, with run.log, for a look at what went wrong.
trap 'if [ -n "${finished:-}" ]; then rm -rf "$work"; else echo "run.sh: stopped; its output is in $work" >&2; fi' EXIT
# Where and when, written before the run so the report says where the numbers were measured, not where it was made.
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) CPUs)"
    echo "kernel: Linux $(uname -r)"
} > "$work/environment.txt"
# -foe: a benchmark whose correctness check throws fails the run instead of leaving a gap in the tables.
"$java" -jar "$jar" -rf json -rff "$work/results.json" -foe true "$@" 2>&1 | tee "$work/run.log"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.panbpf.bench.MemorySweep "$work/memory.md" 2>&1 \
    | tee -a "$work/run.log"
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.panbpf.bench.ConsumerCpu "$work/cpu.md" 2>&1 \
    | tee -a "$work/run.log"
"$java" -cp "$jar" dev.panbpf.bench.Report "$work/results.json" "$work"
mkdir -p "$out"
rm -f "$out"/{environment.txt,results.json,run.log,memory.md,cpu.md,results.md,drain.png}  # one run's files, no older ones
cp "$work"/* "$out"/
finished=1
echo "run.sh: results in $out"
