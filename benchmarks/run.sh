#!/usr/bin/env bash
# Builds a Release convex-importd, installs its peers (nginx, wrk, Node's csv-parse and the
# convex package), runs every benchmark side by side with the peer it is compared to, and
# prints one markdown table: figure, peer, ratio, target. Loopback only; every server it
# starts is stopped on exit, and every command runs under a time limit.
#
# usage: benchmarks/run.sh [--quick] [--keep] [--only LIST]
#   --quick  small inputs, one run each, to try the harness in two minutes (rough figures)
#   --keep   keep the work folder (inputs, results, logs) and print where it is
#   --only   a comma list of reader, pipeline, latency, memory, pacing, real (default: all)
# environment: BENCH_REPEAT (runs per figure, the best is kept; default 2)
#
# The machines are shared: compare the ratios, which are measured in one run, rather than
# the absolute figures, and look at the load average printed with the table.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/benchmarks"
build="$root/build-bench"
repeat=${BENCH_REPEAT:-2}
quick=false
keep=false
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=true ;;
        --keep) keep=true ;;
        --only)
            if [ $# -lt 2 ]; then
                echo "benchmarks/run.sh: --only needs a comma list of benchmarks" >&2
                exit 2
            fi
            only=",$2,"
            shift
            ;;
        *) echo "usage: benchmarks/run.sh [--quick] [--keep] [--only LIST]" >&2; exit 2 ;;
    esac
    shift
done
for name in ${only//,/ }; do
    case "$name" in
        reader | pipeline | latency | memory | pacing | real) ;;
        *)
            echo "benchmarks/run.sh: --only: unknown benchmark \"$name\" (known: reader," \
                "pipeline, latency, memory, pacing, real)" >&2
            exit 2
            ;;
    esac
done
if [ "$only" = ",," ]; then
    echo "benchmarks/run.sh: --only needs a comma list of benchmarks" >&2
    exit 2
fi

if $quick; then
    reader_bytes=$((64 << 20)) csv_parse_bytes=$((8 << 20)) pipeline_rows=20000
    node_seconds=8 latency_rows=960 pacing_rows=160 memory_rows=(20000 200000) real_rows=16
    repeat=1
else
    reader_bytes=$((1 << 30)) csv_parse_bytes=$((128 << 20)) pipeline_rows=200000
    node_seconds=30 latency_rows=3200 pacing_rows=640 memory_rows=(100000 5000000)
    real_rows=96
fi
concurrency=64
latency_concurrency=32
pacing_limit=16
# Long enough that the test backend's own CPU (a few ms per sign-up, one Node thread) is not
# what limits the run: the figure is about our pacing, not the backend's speed.
pacing_latency_ms=400
real_concurrency=16
run_limit=900  # seconds for any one command

work=$(mktemp -d /tmp/convex-importd-bench.XXXXXX)
table="$work/table.tsv"
nginx_pid=""
backend_pid=""

say() { echo "bench: $*" >&2; }

# --- servers -------------------------------------------------------------------------------

free_port() {
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
        console.log(s.address().port); s.close(); });'
}

# Waits (at most 10 s) until something accepts connections on 127.0.0.1:$1.
wait_for_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

start_nginx() {
    fast_port=$(free_port)
    slow_port=$(free_port)
    mkdir -p "$work/nginx"
    sed -e "s#@WORK@#$work/nginx#g" -e "s#@FAST_PORT@#$fast_port#g" \
        -e "s#@SLOW_PORT@#$slow_port#g" "$bench/nginx.conf.in" >"$work/nginx/nginx.conf"
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
    nginx_pid=$!
    wait_for_port "$fast_port"
    wait_for_port "$slow_port"
    fast_url="http://127.0.0.1:$fast_port"
    slow_url="http://127.0.0.1:$slow_port"
}

stop_nginx() {
    if [ -n "$nginx_pid" ]; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
    fi
}

# Runs while this script does (at most an hour), for a child to notice when it is gone.
watch_parent() {
    for _ in $(seq 3600); do
        kill -0 $$ 2>/dev/null || return 0
        sleep 1
    done
}

# Starts tests/convex-backend with the given flags; sets backend_url.
start_backend() {
    local out="$work/backend.out"
    : >"$out"
    # --exit-with-stdin: should this script be killed outright, the backend's standard input
    # closes when the watchdog loop sees it gone, and the backend exits too.
    node "$root/tests/convex-backend/server.mjs" --exit-with-stdin "$@" \
        < <(watch_parent) >"$out" 2>>"$work/backend.log" &
    backend_pid=$!
    for _ in $(seq 300); do
        if grep -q '^listening ' "$out"; then
            backend_url=$(sed -n 's/^listening //p' "$out")
            return 0
        fi
        sleep 0.1
    done
    echo "the test backend did not start; see $work/backend.log" >&2
    return 1
}

stop_backend() {
    if [ -n "$backend_pid" ]; then
        kill -TERM "$backend_pid" 2>/dev/null || true
        wait "$backend_pid" 2>/dev/null || true
        backend_pid=""
    fi
}

cleanup() {
    stop_backend
    stop_nginx
    if $keep; then
        say "work folder kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Should this script be killed outright, so that no trap runs, nginx and the work folder go
# when it does (the test backend watches for itself).
reap_when_gone() {
    watch_parent
    if [ -f "$work/nginx/nginx.pid" ]; then
        kill -TERM "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
    fi
    $keep || rm -rf "$work"
}
reap_when_gone >/dev/null 2>&1 &

# --- set-up --------------------------------------------------------------------------------

install_peers() {
    local missing=()
    for package in nginx libnginx-mod-http-echo wrk time; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' \
            || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        local sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >&2
    fi
    (cd "$bench/peers" && npm ci --no-audit --no-fund --loglevel=error >&2)
    if [ ! -d "$root/tests/convex-backend/node_modules" ]; then
        (cd "$root/tests/convex-backend" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
}

build_release() {
    say "building Release in $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
        -DCONVEX_IMPORTD_BUILD_TESTS=OFF >"$work/cmake.log"
    cmake --build "$build" -j2 --target convex-importd generate-users read-rows \
        >>"$work/cmake.log"
    importd="$build/daemon/convex-importd"
}

describe_machine() {
    local cpu
    cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
    echo "machine: $(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB," \
        "$(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- measuring -----------------------------------------------------------------------------

# The value of key=value field $1 in the text $2.
field() {
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1
}

# Runs a command under a time limit and /usr/bin/time; prints its stdout followed by
# elapsed=, cpu= (user + system seconds) and rss_mb= (peak resident set).
measured() {
    local times="$work/time.txt"
    local out
    # --foreground: in a process group of its own, the command would miss a terminal's ^C.
    out=$(/usr/bin/time -f '%e %U %S %M' -o "$times" timeout --foreground "$run_limit" "$@" \
        2>>"$work/run.log") || {
        # A failed or interrupted command is no figure: the whole run stops (this runs in a
        # subshell, which cannot end the script by exiting itself).
        echo "bench: failed ($?): $*; see $work/run.log" >&2
        kill -TERM $$
        return 1
    }
    # The last line: for a command that failed, time writes its exit status first.
    read -r elapsed user system rss_kb < <(tail -n 1 "$times")
    echo "$out elapsed=$elapsed cpu=$(awk "BEGIN {print $user + $system}")" \
        "rss_mb=$(awk "BEGIN {printf \"%.1f\", $rss_kb / 1024}")"
}

# Of two lines of fields, the one with the larger numeric field $1 (an empty line loses).
better() {
    local a=${2:-} b=${3:-}
    local va vb
    va=$(field "$1" "$a")
    vb=$(field "$1" "$b")
    if [ -z "$a" ] || awk "BEGIN {exit !(${vb:-0} > ${va:-0})}"; then
        echo "$b"
    else
        echo "$a"
    fi
}

# The best of $repeat runs of a measured command, by the numeric field $1.
best_of() {
    local key=$1
    shift
    local best=""
    for _ in $(seq "$repeat"); do
        best=$(better "$key" "$best" "$("$@")")
    done
    echo "$best"
}

# Extra arguments after the first three go to the import as they are.
import_file() {
    local file=$1 url=$2 workers=$3
    shift 3
    measured "$importd" import "$file" --url "$url" --concurrency "$workers" \
        --min-password-length 0 --results "$file.results.csv" --log-level warn --keep-processed \
        "$@"
}

# As a service runs it: progress committed to a state directory (SQLite in WAL mode) and
# the file's emails sealed into the ledger at the end. A new directory each time, or the
# ledger would skip every row of the second run.
import_file_durably() {
    import_file "$@" --state-dir "$(mktemp -d "$work/state.XXXXXX")"
}

wrk_rate() {
    local url=$1 connections=$2
    local out
    out=$(timeout --foreground 60 wrk -t1 -c"$connections" -d5s -s "$bench/signup.lua" "$url/api/action")
    echo "requests_per_s=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
}

ratio() {
    awk "BEGIN {printf \"%.2f\", $1 / $2}"
}

# Appends a table row. $6 is the target as an awk condition on r (the ratio), e.g. "r >= 0.7";
# $8, when given, replaces the verdict (for a figure whose feature is not there yet).
row() {
    local number=$1 figure=$2 ours=$3 peer=$4 theirs=$5 target=$6 r=$7
    local met=missed
    if [ -n "${8:-}" ]; then
        met=$8
    elif [ "$r" = "-" ]; then
        met="-"
    elif awk -v r="$r" "BEGIN {exit !($target)}"; then
        met=met
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$number" "$figure" "$ours" "$peer" "$theirs" \
        "$r" "${target//r /}" "$met" >>"$table"
}

generate() {
    timeout --foreground "$run_limit" "$build/benchmarks/generate-users" "$@" >/dev/null
}

# --- the benchmarks ------------------------------------------------------------------------

bench_reader() {
    say "1. reader: $((reader_bytes >> 20)) MiB, against wc -l and csv-parse"
    generate "$work/reader.csv" --bytes "$reader_bytes"
    generate "$work/csv-parse.csv" --bytes "$csv_parse_bytes"
    cat "$work/reader.csv" "$work/csv-parse.csv" >/dev/null  # into the page cache

    local wc_line ours dup theirs
    wc_line=$(best_of mb_per_s wc_speed "$work/reader.csv")
    ours=$(best_of mb_per_s measured "$build/benchmarks/read-rows" "$work/reader.csv")
    dup=$(best_of mb_per_s measured "$build/benchmarks/read-rows" "$work/csv-parse.csv" \
        --duplicates)
    theirs=$(measured node "$bench/peers/csv-parse-reader.mjs" "$work/csv-parse.csv")
    echo "reader: ours $ours | with duplicates $dup | wc $wc_line | csv-parse $theirs" \
        >>"$work/figures.log"

    local mb
    mb=$(field mb_per_s "$ours")
    row 1a "reader MB/s (rows/s), $((reader_bytes >> 20)) MiB file" \
        "$mb ($(field rows_per_s "$ours"))" "wc -l" "$(field mb_per_s "$wc_line")" "r >= 0.15" \
        "$(ratio "$mb" "$(field mb_per_s "$wc_line")")"
    row 1b "reader MB/s (rows/s)" "$mb ($(field rows_per_s "$ours"))" \
        "csv-parse, $((csv_parse_bytes >> 20)) MiB" \
        "$(field mb_per_s "$theirs") ($(field rows_per_s "$theirs"))" "r >= 20" \
        "$(ratio "$mb" "$(field mb_per_s "$theirs")")"
    row 1c "reader with duplicate set, $((csv_parse_bytes >> 20)) MiB (as \`check\`)" \
        "$(field mb_per_s "$dup") ($(field rows_per_s "$dup"))" "csv-parse" \
        "$(field mb_per_s "$theirs") ($(field rows_per_s "$theirs"))" "r >= 20" \
        "$(ratio "$(field mb_per_s "$dup")" "$(field mb_per_s "$theirs")")"
}

wc_speed() {
    local bytes started seconds
    bytes=$(stat -c %s "$1")
    started=$(date +%s.%N)
    wc -l "$1" >/dev/null
    seconds=$(awk "BEGIN {print $(date +%s.%N) - $started}")
    echo "mb_per_s=$(awk "BEGIN {printf \"%.1f\", $bytes / $seconds / 1e6}")"
}

bench_pipeline() {
    say "2-3. pipeline: $pipeline_rows rows, concurrency $concurrency, against wrk and Node"
    generate "$pipeline_csv" --rows "$pipeline_rows"

    local ours durable wrk_line node_line
    ours=$(best_of rows_per_s import_file "$pipeline_csv" "$fast_url" "$concurrency")
    durable=$(best_of rows_per_s import_file_durably "$pipeline_csv" "$fast_url" "$concurrency")
    wrk_line=$(best_of requests_per_s wrk_rate "$fast_url" "$concurrency")
    node_line=$(measured node "$bench/peers/signup-pool.mjs" "$pipeline_csv" "$fast_url" \
        "$concurrency" "$node_seconds")
    echo "pipeline: ours $ours | with state $durable | wrk $wrk_line | node $node_line" \
        >>"$work/figures.log"

    local rate cpu_per_10k
    rate=$(field rows_per_s "$ours")
    cpu_per_10k=$(awk "BEGIN {printf \"%.3f\", $(field cpu "$ours") * 10000 / $pipeline_rows}")
    row 2a "import rows/s, nginx, c=$concurrency" "$rate" "wrk -t1 -c$concurrency req/s" \
        "$(field requests_per_s "$wrk_line")" "r >= 0.7" \
        "$(ratio "$rate" "$(field requests_per_s "$wrk_line")")"
    row 2b "CPU seconds per 10,000 rows" "$cpu_per_10k" "-" "-" "-" "-"
    row 2c "import rows/s with --state-dir (durable progress, ledger), c=$concurrency" \
        "$(field rows_per_s "$durable")" "wrk, as 2a" "$(field requests_per_s "$wrk_line")" "-" \
        "$(ratio "$(field rows_per_s "$durable")" "$(field requests_per_s "$wrk_line")")" "-"
    row 3a "import rows/s vs the Node script" "$rate" \
        "ConvexHttpClient pool of $concurrency" "$(field rows_per_s "$node_line")" "r >= 20" \
        "$(ratio "$rate" "$(field rows_per_s "$node_line")")"
    row 3b "peak RSS MB (Node's / ours)" "$(field rss_mb "$ours")" "same script" \
        "$(field rss_mb "$node_line")" "r >= 5" \
        "$(ratio "$(field rss_mb "$node_line")" "$(field rss_mb "$ours")")"
}

bench_latency() {
    say "4. latency-bound: 100 ms answers, concurrency $latency_concurrency"
    generate "$work/latency.csv" --rows "$latency_rows"
    local ours wrk_line ideal
    ours=$(best_of rows_per_s import_file "$work/latency.csv" "$slow_url" "$latency_concurrency")
    wrk_line=$(wrk_rate "$slow_url" "$latency_concurrency")
    echo "latency: ours $ours | wrk $wrk_line" >>"$work/figures.log"
    ideal=$((latency_concurrency * 10))
    row 4 "import rows/s, 100 ms answers, c=$latency_concurrency" "$(field rows_per_s "$ours")" \
        "ideal (wrk: $(field requests_per_s "$wrk_line"))" "$ideal" "r >= 0.95" \
        "$(ratio "$(field rows_per_s "$ours")" "$ideal")"
}

# One pacing run against a backend that allows $pacing_limit calls at once; `queue_ms` is how
# long a call beyond the limit waits for a slot before it is answered 429.
pacing_run() {
    local queue_ms=$1
    start_backend --fast --max-concurrent "$pacing_limit" --queue-ms "$queue_ms" \
        --latency-ms "$pacing_latency_ms"
    import_file "$work/pacing.csv" "$backend_url" "$concurrency"
    stop_backend
}

# Convex queues an action up to 10 s for a slot before answering 429 (PROTOCOL.md): that is
# the case the target is for. A backend that refuses at once is measured too, for the record.
bench_pacing() {
    say "5. pacing: a backend allowing $pacing_limit calls, 429 beyond them"
    generate "$work/pacing.csv" --rows "$pacing_rows"
    local queued refused ideal
    queued=$(pacing_run 10000)
    refused=$(pacing_run 0)
    echo "pacing: queued $queued; refused $refused" >>"$work/figures.log"

    ideal=$((pacing_limit * 1000 / pacing_latency_ms))
    row 5a "import rows/s, limit $pacing_limit queued 10 s then 429, c=$concurrency" \
        "$(field rows_per_s "$queued")" "ideal $pacing_limit / ${pacing_latency_ms} ms" \
        "$ideal" "r >= 0.9" "$(ratio "$(field rows_per_s "$queued")" "$ideal")"
    row 5b "rows failed, same run" "$(field failed "$queued")" "-" "0" "r == 0" \
        "$(field failed "$queued")"
    row 5c "import rows/s, limit $pacing_limit, 429 at once, c=$concurrency" \
        "$(field rows_per_s "$refused")" "ideal $pacing_limit / ${pacing_latency_ms} ms" \
        "$ideal" "r >= 0.9" "$(ratio "$(field rows_per_s "$refused")" "$ideal")"
    row 5d "rows failed, same run" "$(field failed "$refused")" "-" "0" "r == 0" \
        "$(field failed "$refused")"
}

bench_memory() {
    local small=${memory_rows[0]} large=${memory_rows[1]}
    say "6. memory: $small and $large rows"
    generate "$work/small.csv" --rows "$small"
    generate "$work/large.csv" --rows "$large"
    local small_run large_run
    small_run=$(import_file "$work/small.csv" "$fast_url" "$concurrency")
    large_run=$(import_file "$work/large.csv" "$fast_url" "$concurrency")
    echo "memory: small $small_run | large $large_run" >>"$work/figures.log"
    row 6a "peak RSS MB, $large rows" "$(field rss_mb "$large_run")" "limit" "64" "r < 1" \
        "$(ratio "$(field rss_mb "$large_run")" 64)"
    row 6b "peak RSS MB, $large / $small rows" "$(field rss_mb "$large_run")" \
        "$small rows" "$(field rss_mb "$small_run")" "r <= 1.1" \
        "$(ratio "$(field rss_mb "$large_run")" "$(field rss_mb "$small_run")")"
}

# One sign-up run against a fresh real backend, so that every run signs up the same new users.
real_run() {
    start_backend
    local line
    if [ "$1" = ours ]; then
        line=$(import_file "$work/real.csv" "$backend_url" "$real_concurrency")
    else
        line=$(measured node "$bench/peers/signup-pool.mjs" "$work/real.csv" "$backend_url" \
            "$real_concurrency")
    fi
    stop_backend
    echo "$line"
}

bench_real_backend() {
    say "7. the real Convex Auth backend (scrypt): $real_rows rows, concurrency $real_concurrency"
    generate "$work/real.csv" --rows "$real_rows"
    # Taking turns, best of each, at least three turns: the backend is one Node thread
    # hashing, and the machine's load moves it more than either client does.
    local ours="" theirs="" line
    for _ in $(seq "$((repeat > 3 ? repeat : 3))"); do
        line=$(real_run ours)
        ours=$(better rows_per_s "$ours" "$line")
        line=$(real_run node)
        theirs=$(better rows_per_s "$theirs" "$line")
    done
    echo "real: ours $ours | node $theirs" >>"$work/figures.log"
    row 7 "import rows/s, real scrypt backend, c=$real_concurrency" \
        "$(field rows_per_s "$ours") (created $(field created "$ours"))" \
        "ConvexHttpClient pool of $real_concurrency" \
        "$(field rows_per_s "$theirs") (created $(field created "$theirs"))" "r >= 0.95" \
        "$(ratio "$(field rows_per_s "$ours")" "$(field rows_per_s "$theirs")")"
}

wanted() {
    [ -z "$only" ] || [[ "$only" == *",$1,"* ]]
}

print_table() {
    echo "| # | figure | convex-importd | peer | peer's figure | ratio | target | |"
    echo "| --- | --- | ---: | --- | ---: | ---: | --- | --- |"
    while IFS=$'\t' read -r number figure ours peer theirs r target met; do
        echo "| $number | $figure | $ours | $peer | $theirs | $r | $target | $met |"
    done < <(sort -t$'\t' -k1,1V "$table")
}

main() {
    install_peers
    build_release
    describe_machine
    : >"$table"
    pipeline_csv="$work/pipeline.csv"

    wanted reader && bench_reader
    if wanted pipeline || wanted latency || wanted memory; then
        start_nginx
        wanted pipeline && bench_pipeline
        wanted latency && bench_latency
        wanted memory && bench_memory
        stop_nginx
    fi
    wanted pacing && bench_pacing
    wanted real && bench_real_backend

    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    print_table
    echo
    echo "raw figures:"
    cat "$work/figures.log"
}

main
