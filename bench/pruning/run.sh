#!/usr/bin/env bash
# BlockPruner search benchmark: activation-cached search vs plain search on one tiny random model.
# Usage: bench/pruning/run.sh [layers hidden intermediate seqLen chunks blocks repeats device]
#   defaults: 16 64 172 128 8 8 3 cpu  (device: cpu, gpu, gpu:0/fp32 ...)
# PyTorch threads: PRUNE_BENCH_THREADS (default 1, stable numbers on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -B -pl pruning -am test-compile -DskipTests dependency:build-classpath \
    -Dmdep.outputFile="$PWD/pruning/target/bench.classpath" -Dmdep.includeScope=test >/dev/null
CP="pruning/target/test-classes:pruning/target/classes:model-engine/target/classes:model-io/target/classes:$(cat pruning/target/bench.classpath)"
T=${PRUNE_BENCH_THREADS:-1}
exec java -Xmx2g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=$T -Dai.djl.pytorch.num_interop_threads=1 \
    -cp "$CP" dev.amalgam.pruning.bench.SearchBenchmark "$@"
