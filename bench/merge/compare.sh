#!/usr/bin/env bash
# Whole-process merge comparison on the same generated BF16 models and the same CPU:
#   Amalgam's linear, ties and sce (MergeBench once, one JVM per merge) on JDK 17 and on JDK 25,
#   the I/O floor (MergeBench once io: read every input, write one output) on each JDK,
#   mergekit's tensor arithmetic in PyTorch (mergekit_peer.py, one Python process per merge).
# Each process is timed from start to exit (wall and CPU seconds); the 1-minute load average at its start is
# printed beside it. Needs GNU time (/usr/bin/time).
# Usage: bench/merge/compare.sh [workdir (default /tmp)] [layers (default 2: 3 x 0.47 GB)] [methods (default
#        linear,ties,sce)] [rounds (default 2)] [threads (default: all cores)]
# JAVA17, JAVA25: java binaries (default: java on the PATH; the first /usr/lib/jvm/*25*/bin/java; JAVA25=none skips)
# PEER_PYTHON: a python3 that imports torch (default: python3, else /usr/bin/python3; none skips the peer)
# BENCH_DEPS: as in run.sh. AMALGAM_JAVA_OPTS: JVM options of the Amalgam processes (default none, as ./amalgam).
set -euo pipefail
cd "$(dirname "$0")/../.."
parent="${1:-/tmp}"
layers="${2:-2}"
IFS=, read -r -a methods <<< "${3:-linear,ties,sce}"
rounds="${4:-2}"
threads="${5:-$(nproc)}"
work="$parent/amalgam-merge-bench"

if [ -n "${BENCH_DEPS:-}" ]; then
    ./mvnw -o -q -B -pl merge -am test-compile -DskipTests >/dev/null
    DEPS="$BENCH_DEPS"
else
    ./mvnw -o -q -B -pl merge -am test-compile -DskipTests dependency:build-classpath \
        -Dmdep.outputFile="$PWD/merge/target/bench.classpath" -Dmdep.includeScope=test >/dev/null
    DEPS="$(cat merge/target/bench.classpath)"
fi
CP="merge/target/test-classes:merge/target/classes:model-io/target/classes:job-api/target/classes:$DEPS"

java17="${JAVA17:-java}"
java25="${JAVA25:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)}"
[ "$java25" = none ] && java25=""
jdks=(17)
[ -n "$java25" ] && jdks+=(25)
python="${PEER_PYTHON:-}"
if [ -z "$python" ]; then
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import torch' 2>/dev/null; then python="$p"; break; fi
    done
    [ -z "$python" ] && echo "no python3 with torch (Debian: apt-get install python3-torch): the peer is skipped" >&2
fi
[ "$python" = none ] && python=""
javabin() { if [ "$1" = 25 ]; then echo "$java25"; else echo "$java17"; fi; }
for v in "${jdks[@]}"; do echo "JDK $v: $("$(javabin "$v")" -version 2>&1 | head -n 1)"; done
[ -n "$python" ] && echo "peer: $("$python" -c 'import torch, sys; print("Python", sys.version.split()[0], "torch", torch.__version__)')"
echo "threads $threads, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

"$java17" -cp "$CP" dev.amalgam.merge.bench.MergeBench generate "$parent" "$layers"
results="$work/results.txt"
: > "$results"

# timed LABEL COMMAND...: one whole process, output in $work/out
timed() {
    local label="$1"; shift
    rm -rf "$work/out"
    local load secs cpu
    load="$(cut -d' ' -f1 /proc/loadavg)"
    # wall seconds, and the CPU seconds (user + system) of the process and its threads: on a shared machine the
    # CPU time moves less with the other tenants than the wall time does
    if ! /usr/bin/time -f '%e %U %S' -o "$work/time.txt" "$@" > "$work/log.txt" 2>&1; then
        cat "$work/log.txt" >&2
        echo "$label failed" >&2
        exit 1
    fi
    read -r secs cpu < <(awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$work/time.txt")
    echo "$label $secs $load $cpu" >> "$results"
    printf '%-14s %7s s  CPU %7s s  (load average %s)  %s\n' "$label" "$secs" "$cpu" "$load" \
        "$(grep '^peer' "$work/log.txt" || true)"
}

for ((r = 1; r <= rounds; r++)); do
    echo "round $r"
    for v in "${jdks[@]}"; do
        # shellcheck disable=SC2086
        timed "io-jdk$v" "$(javabin "$v")" ${AMALGAM_JAVA_OPTS:-} -cp "$CP" dev.amalgam.merge.bench.MergeBench once "$parent" "$threads" io
        for m in "${methods[@]}"; do
            # shellcheck disable=SC2086
            timed "$m-jdk$v" "$(javabin "$v")" ${AMALGAM_JAVA_OPTS:-} -cp "$CP" dev.amalgam.merge.bench.MergeBench once "$parent" "$threads" "$m"
            if [ "$r" = "$rounds" ] && [ "$v" = 17 ] && [ -n "$python" ]; then
                rm -rf "$work/amalgam-$m" && mv "$work/out" "$work/amalgam-$m"
            fi
        done
    done
    if [ -n "$python" ]; then
        for m in "${methods[@]}"; do
            # OpenMP threads that spin while they wait would count as CPU time here; ./amalgam sets the same
            timed "$m-peer" env OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" "$python" bench/merge/mergekit_peer.py "$m" "$work" "$work/out" "$threads"
            if [ "$r" = "$rounds" ]; then
                echo "  $m, Amalgam against the peer: $("$python" bench/merge/mergekit_peer.py compare "$work/amalgam-$m" "$work/out")"
            fi
        done
    fi
done

echo
echo "best of $rounds (every run, with the load average at its start, is in the lines above)"
awk -v methods="${methods[*]}" -v jdks="${jdks[*]}" '
    { if (!($1 in best) || $2 < best[$1]) best[$1] = $2; if (!($1 in cpu) || $4 < cpu[$1]) cpu[$1] = $4 }
    END {
        nm = split(methods, m, " "); nj = split(jdks, j, " ")
        printf "| method | JDK | Amalgam s | peer s | peer / Amalgam | I/O floor s | Amalgam / floor |"
        if (nj > 1) printf " JDK 17 / JDK 25 |"
        printf "\n|---|---|---|---|---|---|---|"; if (nj > 1) printf "---|"; printf "\n"
        for (a = 1; a <= nm; a++) for (b = 1; b <= nj; b++) {
            k = m[a] "-jdk" j[b]; p = m[a] "-peer"; io = "io-jdk" j[b]
            printf "| %s | %s | %.2f | %s | %s | %.2f | %.2fx |", m[a], j[b], best[k],
                (p in best) ? sprintf("%.2f", best[p]) : "-", (p in best) ? sprintf("%.1fx", best[p] / best[k]) : "-",
                best[io], best[k] / best[io]
            if (nj > 1) printf " %.2fx |", best[m[a] "-jdk17"] / best[k]
            printf "\n"
        }
        if (nj > 1) printf "| io | 17 / 25 | %.2f / %.2f | | | | | %.2fx |\n", best["io-jdk17"], best["io-jdk25"], best["io-jdk17"] / best["io-jdk25"]
        printf "\nthe same from CPU seconds (user + system, least of the runs)\n"
        printf "| method | JDK | Amalgam CPU s | peer CPU s | peer / Amalgam | I/O floor CPU s | Amalgam / floor |"
        if (nj > 1) printf " JDK 17 / JDK 25 |"
        printf "\n|---|---|---|---|---|---|---|"; if (nj > 1) printf "---|"; printf "\n"
        for (a = 1; a <= nm; a++) for (b = 1; b <= nj; b++) {
            k = m[a] "-jdk" j[b]; p = m[a] "-peer"; io = "io-jdk" j[b]
            printf "| %s | %s | %.2f | %s | %s | %.2f | %.2fx |", m[a], j[b], cpu[k],
                (p in cpu) ? sprintf("%.2f", cpu[p]) : "-", (p in cpu) ? sprintf("%.1fx", cpu[p] / cpu[k]) : "-",
                cpu[io], cpu[k] / cpu[io]
            if (nj > 1) printf " %.2fx |", cpu[m[a] "-jdk17"] / cpu[k]
            printf "\n"
        }
        if (nj > 1) printf "| io | 17 / 25 | %.2f / %.2f | | | | | %.2fx |\n", cpu["io-jdk17"], cpu["io-jdk25"], cpu["io-jdk17"] / cpu["io-jdk25"]
    }' "$results"
cp "$results" "$parent/merge-compare-results.txt"
rm -rf "$work"
