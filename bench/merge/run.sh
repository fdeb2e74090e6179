#!/usr/bin/env bash
# Merge benchmark: three generated ~1 GB BF16 models; I/O baseline vs linear, ties, sce.
# Usage: bench/merge/run.sh [workdir (default /tmp)] [threads (default: all cores)] [layers (default 7; 0 = smoke)]
#        [methods (default linear,ties,sce)]; BENCH_HEAP (default 8g) and BENCH_JAVA_OPTS set JVM options.
# BENCH_JAVA: the java binary that runs the benchmark (default: java on the PATH), e.g. a JDK 25's.
# BENCH_DEPS: the dependency jars (':'-separated) where maven-dependency-plugin cannot run (offline, not cached).
# The heap is fixed and pre-touched, so no phase pays for growing it (a phase after a small-heap phase would).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -n "${BENCH_DEPS:-}" ]; then
    mvn -o -q -B -pl merge -am test-compile -DskipTests >/dev/null
    DEPS="$BENCH_DEPS"
else
    mvn -o -q -B -pl merge -am test-compile -DskipTests dependency:build-classpath \
        -Dmdep.outputFile="$PWD/merge/target/bench.classpath" -Dmdep.includeScope=test >/dev/null
    DEPS="$(cat merge/target/bench.classpath)"
fi
CP="merge/target/test-classes:merge/target/classes:model-io/target/classes:$DEPS"
exec "${BENCH_JAVA:-java}" -Xms${BENCH_HEAP:-8g} -Xmx${BENCH_HEAP:-8g} -XX:+AlwaysPreTouch ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.amalgam.merge.bench.MergeBench "${1:-/tmp}" ${2:-$(nproc)} ${3:-7} ${4:-linear,ties,sce}
