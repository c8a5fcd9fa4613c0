#!/usr/bin/env bash
# Builds the CSV fuzz target with clang (ASan, UBSan, libFuzzer) and runs it for a while,
# seeded from tests/data and, when present, ../shared/cases. Fails on any crash, leak,
# sanitizer report or hang.
# usage: tests/fuzz/run.sh [SECONDS] (default 60)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-60}
build="$root/build-fuzz"

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j2 >/dev/null

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
# Each seed gets the option byte 0 prepended: default options.
for seed in "$root"/tests/data/cases/*.csv "$root"/../shared/cases/*.csv; do
    [ -f "$seed" ] || continue
    { printf '\0'; cat "$seed"; } >"$corpus/$(basename "$seed")"
done

"$build/csv_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
    -max_len=4096 -print_final_stats=1 "$corpus"
