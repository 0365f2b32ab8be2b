#!/usr/bin/env bash
# Quick mode: every benchmark once, with short iterations, as a smoke test (CI runs it after the tests). It checks
# that each benchmark runs and that its correctness checks hold (the drains get every record produced, the
# ordering counts add up); it never looks at timings. Needs root and benchmarks/target/benchmarks.jar
# (built by ./panbpf test, i.e. mvn verify). Extra arguments go to JMH (e.g. a benchmark name pattern).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
    echo "quick.sh: $jar is missing; build it with ./panbpf test (mvn verify)" >&2
    exit 2
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "quick.sh: the benchmarks put producers and the consumer on CPUs 0 and 1; this machine has $(nproc) CPU" >&2
    exit 2
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -foe: fail on error, so JMH exits non-zero when a benchmark throws (a failed correctness check throws).
status=0
"$java" -jar "$jar" -f 1 -wi 1 -i 1 -w 500ms -r 500ms -foe true "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ] || grep -q '<failure>' "$log"; then
    echo "quick.sh: a benchmark failed (see above)" >&2
    exit 1
fi
# The memory sweep with 0.2 s runs: its check is that every event the kernel stored reached Java.
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.panbpf.bench.MemorySweep "$log.memory.md" 0.2 \
    || { echo "quick.sh: the memory sweep failed (see above)" >&2; exit 1; }
rm -f "$log.memory.md"
# The consumer CPU comparison with one 0.3 s run: its check is that every record stored reached the consumer.
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.panbpf.bench.ConsumerCpu "$log.cpu.md" 0.3 1 \
    || { echo "quick.sh: the consumer CPU comparison failed (see above)" >&2; exit 1; }
rm -f "$log.cpu.md"
echo "quick.sh: every benchmark ran and its checks held"
