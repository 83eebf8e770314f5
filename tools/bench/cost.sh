#!/usr/bin/env bash
# Server CPU time per request at a fixed open-loop rate: the figure that does not depend on the
# client's speed. On this 2-core machine requests/s mostly measures the client; pinning the server
# to CPU 0 and tools/loadgen to CPU 1 and offering the same rate to every contender separates them.
#
# For each round the contenders run one after the other (the order flips every round); each gets a
# warm-up run, then a measured run; the server's CPU time (user + system, all threads, from
# /proc/PID/task/*/schedstat in ns) over the measured run is divided by the requests completed.
#
# Usage: tools/bench/cost.sh [--protocol=echo|http|resp] [--rate=60000] [--connections=100]
#                            [--size=64] [--duration=5s] [--rounds=2] [--out=DIR] CONTENDER...
# Contenders:
#   shoal         the tree's //server:shoal (built optimised), 1 worker
#   shoal@PATH    another shoal binary (e.g. main's, for a same-run A/B of a change)
#   floor         tools/bench/floor (bare epoll echo loop, echo only)
#   nginx         nginx `return 200 "Hello, World!"` on /plaintext (http only)
#   redis         redis-server (resp only)
# Prints one line per contender: median CPU us/request over the rounds, the range, and the ratio
# to the first contender; writes cost.tsv and every loadgen JSON to DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh

protocol=echo rate=60000 connections=100 size=64 duration=5s rounds=2 out="" contenders=()
for arg in "$@"; do
  case "$arg" in
    --protocol=*) protocol=${arg#*=} ;;
    --rate=*) rate=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --size=*) size=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "cost.sh: unknown flag $arg" >&2; exit 2 ;;
    *) contenders+=("$arg") ;;
  esac
done
[ "${#contenders[@]}" -gt 0 ] || contenders=(shoal floor)
out=${out:-$(mktemp -d /tmp/shoal-bench-cost.XXXXXX)}
mkdir -p "$out"

extra=()
for c in "${contenders[@]}"; do
  case "$c" in nginx) extra+=(nginx) ;; redis) extra+=(redis-server) ;; esac
done
bash tools/install-deps.sh jq "${extra[@]}" >&2
bench_build //server:shoal //tools/loadgen:loadgen //tools/bench/floor:floor_echo
ulimit -n "$(ulimit -Hn)"
trap bench_cleanup EXIT

# Starts contender $1 pinned to CPU 0; sets $server_pid and $server_port.
start_contender() {
  local name=$1 binary
  server_port=$(bench_free_port $((18300 + RANDOM % 2000)))
  case "$name" in
    shoal|shoal@*)
      binary="$BENCH_BIN/shoal"
      [ "$name" = shoal ] || binary=${name#shoal@}
      bench_shoal_config "$out/$protocol.yaml" "$server_port" 1
      sed -i "s/protocol: echo/protocol: $protocol/" "$out/$protocol.yaml"
      taskset -c 0 "$binary" --config="$out/$protocol.yaml" >"$out/server.log" 2>&1 &
      ;;
    floor)
      taskset -c 0 "$BENCH_BIN/floor_echo" --port="$server_port" --threads=1 >"$out/server.log" 2>&1 &
      ;;
    nginx)
      mkdir -p "$out/nginx"
      sed -e "s/127\.0\.0\.1:18081/127.0.0.1:$server_port/" -e "s#/tmp/peer-nginx#$out/nginx#g" \
        tools/bench/http/nginx.conf >"$out/nginx.conf"
      taskset -c 0 nginx -p "$out/nginx" -e "$out/nginx/error.log" -c "$out/nginx.conf" \
        -g 'worker_processes 1;' >"$out/server.log" 2>&1 &
      ;;
    redis)
      taskset -c 0 redis-server --bind 127.0.0.1 --port "$server_port" --save '' --appendonly no \
        >"$out/server.log" 2>&1 &
      ;;
    *) echo "cost.sh: unknown contender $name" >&2; exit 2 ;;
  esac
  server_pid=$!
  BENCH_PIDS+=("$server_pid")
  bench_wait_port "$server_port"
}

# CPU nanoseconds used so far by every thread of process $1 (and, for nginx, its children).
cpu_ns() {
  local pids=("$1") total=0 pid task
  mapfile -t -O 1 pids < <(pgrep -P "$1" || true)
  for pid in "${pids[@]}"; do
    for task in /proc/"$pid"/task/*/schedstat; do
      [ -r "$task" ] && total=$((total + $(cut -d' ' -f1 "$task" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}

run_load() {
  taskset -c 1 "$BENCH_BIN/loadgen" --target="127.0.0.1:$server_port" --protocol="$protocol" \
    --connections="$connections" --size="$size" --rate="$rate" --quiet "$@"
}

printf 'round\tcontender\trequests\tcpu_ns\tus_per_request\tp99_us\terrors\n' >"$out/cost.tsv"
bench_machine | tee "$out/machine.txt"
echo "cost: $protocol, $size B, $connections connections, $rate req/s offered, $duration measured, $rounds rounds; out: $out"
declare -A results=()
for round in $(seq 1 "$rounds"); do
  order=("${contenders[@]}")
  if [ $((round % 2)) = 0 ]; then
    order=()
    for ((i = ${#contenders[@]} - 1; i >= 0; i--)); do order+=("${contenders[$i]}"); done
  fi
  for c in "${order[@]}"; do
    start_contender "$c"
    run_load --duration=1s >/dev/null || true
    label=$(echo "$c" | tr '/@' '__')
    before=$(cpu_ns "$server_pid")
    run_load --duration="$duration" --json="$out/r$round-$label.json" || true
    after=$(cpu_ns "$server_pid")
    bench_stop "$server_pid"
    read -r requests p99 errors < <(jq -r '[.requests, .latency_ns.corrected.p99 / 1000, .errors.total] | @tsv' \
      "$out/r$round-$label.json")
    cost=$(awk -v c=$((after - before)) -v n="$requests" 'BEGIN { printf "%.3f", (n > 0 ? c / n / 1000 : 0) }')
    printf '%s\t%s\t%s\t%s\t%s\t%.0f\t%s\n' "$round" "$c" "$requests" $((after - before)) "$cost" "$p99" \
      "$errors" >>"$out/cost.tsv"
    echo "round $round: $c: $cost us/request ($requests requests, p99 ${p99} us, errors $errors)" >&2
    results[$c]="${results[$c]:-} $cost"
  done
done

echo
printf '%-40s %10s %15s %8s\n' contender "us/req" range "ratio"
first=""
for c in "${contenders[@]}"; do
  # shellcheck disable=SC2086
  median=$(bench_median ${results[$c]})
  [ -n "$first" ] || first=$median
  range=$(printf '%s\n' ${results[$c]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
  printf '%-40s %10.2f %15s %8.3f\n' "$c" "$median" "$range" "$(awk -v a="$median" -v b="$first" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
