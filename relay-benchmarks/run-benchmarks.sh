#!/usr/bin/env bash
# Runs the full benchmark set of BENCHMARKS.md and keeps the raw results (JSON and console text) in
# relay-benchmarks/results/. Run from the repository root after
#   mvn -pl relay-benchmarks -am package -DskipTests
# Takes about 8 minutes. Forks, warmup and measurement come from each class's annotations.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=relay-benchmarks/target/benchmarks.jar
OUT=relay-benchmarks/results
mkdir -p "$OUT"
{
  date -u
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  uptime
  java -version 2>&1
} > "$OUT/machine.txt"

run() { # name, then JMH arguments
  local name=$1; shift
  echo "== $name: java -jar $JAR $*"
  java -jar "$JAR" "$@" -rf json -rff "$OUT/$name.json" > "$OUT/$name.txt" 2>&1
  uptime >> "$OUT/machine.txt"
}

run decision-cost        DecisionCostBenchmark -prof gc
run engine-throughput    EngineThroughputBenchmark -prof gc
run fairness-under-flood FairnessUnderFloodBenchmark
# diagnostics of the engine's gap (not baselined results)
run engine-permits-32    EngineThroughputBenchmark -p impl=relay -p permitsPerThread=32 -f 1
run engine-relay-stack   EngineThroughputBenchmark -p impl=relay -f 1 -prof stack:lines=4
