#!/usr/bin/env bash
# PyTorch CPU threads on a busy machine: a tiny BlockPruner job through the CLI, while every core is kept busy
# by another process, under three settings run in turn (A B C A B C ...):
#   baseline   PyTorch's own defaults: one intra-op thread per core, OpenMP's default (spinning) wait
#   passive    the same threads, OMP_WAIT_POLICY=PASSIVE (what the launcher and the image set)
#   sized      passive, and the threads amalgam.worker sizing gives three jobs at once (amalgam up: three
#              services' workers) on this machine: max(1, cpus / 3)
# Usage: bench/threads/run.sh [rounds] [busy processes]    defaults: 5 rounds, one busy loop per core.
# Prints each run's wall seconds and the medians with the ratios to the baseline.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
cores=$(nproc)
busy=${2:-$cores}
./amalgam --version >/dev/null
jar=cli/target/amalgam.jar
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
java -jar "$jar" tiny-model --arch llama --out "$work/model" >/dev/null
python3 - "$work/calib.jsonl" <<'PY'
import json, random, sys
random.seed(1)
words = "the a model merges prunes fuses layers blocks attention tokens data".split()
with open(sys.argv[1], "w") as f:
    for _ in range(64):
        f.write(json.dumps({"text": " ".join(random.choice(words) for _ in range(200))}) + "\n")
PY
sized=$(( cores / 3 )); [ "$sized" -lt 1 ] && sized=1
run() { # name, env, threads
  local start end
  start=$(date +%s.%N)
  env $2 java -Dai.djl.pytorch.num_threads="$3" -Dai.djl.pytorch.num_interop_threads=1 -jar "$jar" prune \
      --model "$work/model" --data "$work/calib.jsonl" --out "$work/out-$1" --blocks 2 --samples 32 --seq-len 128 \
      >/dev/null 2>&1
  end=$(date +%s.%N)
  rm -rf "$work/out-$1"
  echo "$1 $(echo "$end - $start" | bc)"
}
for _ in $(seq "$busy"); do (while :; do :; done) & done
echo "# $(date -u +%FT%TZ) cores=$cores busy=$busy rounds=$rounds sized-threads=$sized"
: > "$work/times"
for r in $(seq "$rounds"); do
  run baseline "-u OMP_WAIT_POLICY" "$cores" | tee -a "$work/times"
  run passive "OMP_WAIT_POLICY=PASSIVE" "$cores" | tee -a "$work/times"
  run sized "OMP_WAIT_POLICY=PASSIVE" "$sized" | tee -a "$work/times"
done
python3 - "$work/times" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    name, s = line.split()
    t.setdefault(name, []).append(float(s))
base = statistics.median(t["baseline"])
for name, v in t.items():
    m = statistics.median(v)
    print(f"{name:9s} median {m:6.2f} s  min {min(v):6.2f}  max {max(v):6.2f}  ratio to baseline {m / base:5.2f}")
PY
