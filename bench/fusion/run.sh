#!/usr/bin/env bash
# WRPO training throughput on the CPU vs DJL's matmul FLOP/s in the same run.
# Usage: bench/fusion/run.sh [hidden (512)] [layers (4)] [response tokens (96)] [rounds (3)]
# One thread: OMP_NUM_THREADS=1 BENCH_JAVA_OPTS=-Dai.djl.pytorch.num_threads=1 bench/fusion/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -B -pl fusion -am test-compile -DskipTests dependency:build-classpath \
    -Dmdep.outputFile="$PWD/fusion/target/bench.classpath" -Dmdep.includeScope=test >/dev/null
CP="fusion/target/test-classes:fusion/target/classes:model-engine/target/classes:model-io/target/classes:$(cat fusion/target/bench.classpath)"
exec java -Xmx${BENCH_HEAP:-4g} -Dai.djl.offline=true ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.amalgam.fusion.bench.TrainingThroughputBenchmark "$@"
