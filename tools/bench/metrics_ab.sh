#!/usr/bin/env bash
# Issue 6's benchmark: echo throughput with the per-worker statistics compiled in (the default),
# compiled out (-DSHOAL_STATS_DISABLED), and compiled in while /metrics is scraped every 100 ms.
# Same loadgen command for all three, alternating, N rounds; prints medians and ratios.
# Usage: bash tools/bench/metrics_ab.sh [--rounds=3] [--duration=5s]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh
rounds=3
duration=5s
for arg in "$@"; do
  case "$arg" in
    --rounds=*) rounds=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    *) echo "usage: $0 [--rounds=N] [--duration=D]" >&2; exit 2 ;;
  esac
done
bash tools/install-deps.sh >&2
tmp=$(mktemp -d /tmp/shoal-metrics-ab.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

bazel build -c opt //server:shoal //tools/loadgen:loadgen >&2
cp bazel-bin/server/shoal "$tmp/shoal-on"
cp bazel-bin/tools/loadgen/loadgen "$tmp/loadgen"
# The stats-off build gets its own output base so it does not evict the normal build's objects.
bazel --output_base="$HOME/.cache/bazel-shoal-stats-off" build -c opt \
  --copt=-DSHOAL_STATS_DISABLED //server:shoal >&2
cp "$(bazel --output_base="$HOME/.cache/bazel-shoal-stats-off" info -c opt \
  --copt=-DSHOAL_STATS_DISABLED bazel-bin 2>/dev/null)/server/shoal" "$tmp/shoal-off"

bench_shoal_config "$tmp/shoal.yaml" 0 2 level=info
# run MODE -> prints req/s
run() {
  local mode=$1 binary="$tmp/shoal-on"
  [ "$mode" = off ] && binary="$tmp/shoal-off"
  "$binary" --config="$tmp/shoal.yaml" 2>"$tmp/server.log" &
  local server=$!
  pids+=("$server")
  bench_listening_ports "$tmp/server.log" "$server"
  local port=$BENCH_PORT admin=$BENCH_ADMIN_PORT
  local scraper=""
  if [ "$mode" = scraped ]; then
    (while :; do curl -s "http://127.0.0.1:$admin/metrics" >/dev/null; sleep 0.1; done) &
    scraper=$!
  fi
  "$tmp/loadgen" --target="127.0.0.1:$port" --connections=100 --threads=2 --pipeline=16 \
    --size=64 --warmup=1s --duration="$duration" --verify --quiet --json="$tmp/run.json"
  [ -z "$scraper" ] || kill "$scraper"
  kill "$server"
  wait "$server" 2>/dev/null || true
  python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["requests_per_second"]))' \
    "$tmp/run.json"
}

declare -A results=([on]="" [off]="" [scraped]="")
for round in $(seq "$rounds"); do
  order="on off scraped"
  [ $((round % 2)) -eq 0 ] && order="scraped off on"
  for mode in $order; do
    rps=$(run "$mode")
    results[$mode]="${results[$mode]} $rps"
    echo "round $round $mode: $rps req/s" >&2
  done
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
on=$(median "${results[on]}")
off=$(median "${results[off]}")
scraped=$(median "${results[scraped]}")
echo
echo "| build | req/s (median of $rounds) | vs stats compiled out |"
echo "| --- | ---: | ---: |"
echo "| stats compiled out | $off | 1.000 |"
echo "| stats on (default) | $on | $(python3 -c "print(f'{$on/$off:.3f}')") |"
echo "| stats on, /metrics scraped every 100 ms | $scraped | $(python3 -c "print(f'{$scraped/$off:.3f}')") |"
echo "rounds: on=[${results[on]} ] off=[${results[off]} ] scraped=[${results[scraped]} ]"
