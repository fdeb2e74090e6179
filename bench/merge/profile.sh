#!/usr/bin/env bash
# The merge benchmark under JFR, then where the I/O baseline and the merge spend their CPU time (execution samples
# by the method at the top of the stack).
# Usage: bench/merge/profile.sh [workdir (default /tmp)] [threads (default: all cores)] [layers (default 7)]
#        [method: linear, ties or sce (default ties)]
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-/tmp}
METHOD=${4:-ties}
case "$METHOD" in
  linear) FILTER=LinearMerge ;;
  ties) FILTER=GeneralizedTaskArithmeticMerge ;;
  sce) FILTER=SceMerge ;;
  *) echo "method must be linear, ties or sce" >&2; exit 2 ;;
esac
JFR="$WORK/amalgam-merge-$METHOD.jfr"
BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS:-} -XX:StartFlightRecording=filename=$JFR,settings=profile" \
    bench/merge/run.sh "$WORK" "${2:-$(nproc)}" "${3:-7}" "$METHOD"
CP="merge/target/test-classes:merge/target/classes:model-io/target/classes:$(cat merge/target/bench.classpath)"
echo
echo "I/O baseline (warm-up + 6 runs):"
java -cp "$CP" dev.amalgam.merge.bench.ProfileSummary "$JFR" ioBaseline
echo
echo "$METHOD (warm-up + 3 runs):"
java -cp "$CP" dev.amalgam.merge.bench.ProfileSummary "$JFR" "$FILTER"
