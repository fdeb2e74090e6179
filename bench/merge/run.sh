#!/usr/bin/env bash
# Merge benchmark: three generated ~1 GB BF16 models; I/O baseline vs linear, ties, sce.
# Usage: bench/merge/run.sh [workdir (default /tmp)] [threads (default: all cores)] [layers (default 7; 0 = smoke)]
#        [methods (default linear,ties,sce)]; BENCH_HEAP (default 8g) and BENCH_JAVA_OPTS set JVM options.
# The heap is fixed and pre-touched, so no phase pays for growing it (a phase after a small-heap phase would).
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -B -pl merge -am test-compile -DskipTests dependency:build-classpath \
    -Dmdep.outputFile="$PWD/merge/target/bench.classpath" -Dmdep.includeScope=test >/dev/null
CP="merge/target/test-classes:merge/target/classes:model-io/target/classes:$(cat merge/target/bench.classpath)"
exec java -Xms${BENCH_HEAP:-8g} -Xmx${BENCH_HEAP:-8g} -XX:+AlwaysPreTouch ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.amalgam.merge.bench.MergeBench "${1:-/tmp}" ${2:-$(nproc)} ${3:-7} ${4:-linear,ties,sce}
