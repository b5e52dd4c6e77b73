#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET ...]
#
# Builds the libFuzzer targets into build-fuzz/ (clang, -DDNSD_FUZZ=ON) and runs
# each for SECONDS (default 30) on a copy of its seed corpus (the committed one
# never grows), with a 10 s per-input timeout and a 2 GB RSS limit. Prints one
# line per target: executions, exec/s, final cov/ft, corpus size. Exits non-zero
# when any target finds a crash, leak, timeout or broken invariant; the input
# is kept in build-fuzz/fuzz-artifacts/ and the log's tail is printed.
#
#   FUZZ_KEEP=DIR   keep the grown corpora and logs in DIR/<target>/ (campaigns)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-30}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_query fuzz_snapshot fuzz_config fuzz_ctl_frame fuzz_master fuzz_http fuzz_xdp_pkt)
build=$root/build-fuzz
artifacts=$build/fuzz-artifacts

[[ $secs =~ ^[0-9]+$ ]] && ((secs > 0)) || {
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET ...]" >&2
    exit 2
}
command -v clang >/dev/null || {
    echo "run.sh: clang is missing (scripts/setup --tests installs it)" >&2
    exit 1
}
if [[ ! -f $build/CMakeCache.txt ]]; then
    CC=clang cmake -S "$root" -B "$build" -DDNSD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >/dev/null
fi
cmake --build "$build" --target "${targets[@]}" -j "$(nproc)" >/dev/null

work=${FUZZ_KEEP:-$(mktemp -d /tmp/dnsd-fuzz-XXXXXX)}
[[ -n ${FUZZ_KEEP:-} ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
# Leaks fail a run too; libFuzzer reports them after the input that leaked.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export DNSD_SOURCE_DIR=$root

failed=0
for t in "${targets[@]}"; do
    corpus=$work/$t/corpus log=$work/$t/log
    rm -rf "${work:?}/$t"
    mkdir -p "$corpus"
    cp "$root/tests/fuzz/corpus/$t/"* "$corpus/"
    rc=0
    "$build/bin/$t" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" >"$log" 2>&1 || rc=$?
    stats=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
    files=$(find "$corpus" -type f | wc -l)
    if ((rc == 0)); then
        status=ok
    else
        status="FAILED (exit $rc)"
        failed=1
    fi
    printf '%-15s %4ss  execs %-10s exec/s %-7s cov %-5s ft %-6s corpus %-5s %s\n' \
        "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files" "$status"
    if ((rc != 0)); then
        grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written' "$log" | head -n 20 >&2
        tail -n 40 "$log" >&2
    fi
done
exit "$failed"
