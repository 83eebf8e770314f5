#!/usr/bin/env bash
# Server CPU time per request at a fixed open-loop rate: the figure that does not depend on the
# client's speed. On this 2-core machine requests/s mostly measures the client; pinning the server
# to CPU 0 and tools/loadgen to CPU 1 and offering the same rate to every contender separates them.
#
# For each rate and round the contenders run one after the other (the order flips every round);
# each gets a warm-up run, then a measured run; the server's CPU time (user + system, all threads,
# from /proc/PID/task/*/schedstat in ns) over the measured run is divided by the requests completed,
# and the run's p99 (corrected) is kept beside it.
#
# Usage: tools/bench/cost.sh [--protocol=echo|http|resp|all] [--rates=30000,60000] [--connections=100]
#                            [--size=64] [--duration=5s] [--rounds=2] [--out=DIR] CONTENDER...
# --protocol=all runs echo (floor shoal), http (nginx shoal) and resp (redis shoal) in one go and
# ignores CONTENDERs: `cost.sh --protocol=all --duration=3s` is the table of BENCHMARKS.md (about
# 3 minutes after the build). --rate=R is --rates=R.
# Contenders:
#   shoal         the tree's //server:shoal (built optimised), 1 worker
#   shoal@PATH    another shoal binary (e.g. main's, for a same-run A/B of a change)
#   floor         tools/bench/floor (bare epoll echo loop, echo only)
#   uring_floor   tools/bench/floor/uring_floor_echo (bare io_uring echo loop, echo only);
#                 uring_floor_fixed: the same with registered files (docs/bench/io_uring.md)
#   nginx         nginx `return 200 "Hello, World!"` on /plaintext (http only)
#   redis         redis-server (resp only)
# Prints one line per protocol, contender and rate: median CPU us/request over the rounds, the
# range, the median p99, and the ratio to the first contender of the protocol (then the same as a
# Markdown table); writes cost.tsv and every loadgen JSON to DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh

protocol=echo rates=30000,60000 connections=100 size=64 duration=5s rounds=2 out="" contenders=()
for arg in "$@"; do
  case "$arg" in
    --protocol=*) protocol=${arg#*=} ;;
    --rate=*|--rates=*) rates=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --size=*) size=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    -*) echo "cost.sh: unknown flag $arg" >&2; exit 2 ;;
    *) contenders+=("$arg") ;;
  esac
done
# Groups to measure: "PROTOCOL CONTENDER..." each.
groups=()
if [ "$protocol" = all ]; then
  groups=("echo floor shoal" "http nginx shoal" "resp redis shoal")
else
  [ "${#contenders[@]}" -gt 0 ] || contenders=(shoal floor)
  groups=("$protocol ${contenders[*]}")
fi
IFS=, read -r -a rate_list <<<"$rates"
out=${out:-$(mktemp -d /tmp/shoal-bench-cost.XXXXXX)}
mkdir -p "$out"

extra=()
for group in "${groups[@]}"; do
  for c in $group; do
    case "$c" in nginx) extra+=(nginx) ;; redis) extra+=(redis-server) ;; esac
  done
done
bash tools/install-deps.sh jq "${extra[@]}" >&2
bench_build //server:shoal //tools/loadgen:loadgen //tools/bench/floor:floor_echo \
  //tools/bench/floor:uring_floor_echo
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
    uring_floor|uring_floor_fixed)
      local files=()
      [ "$name" = uring_floor ] || files=(--registered_files)
      taskset -c 0 "$BENCH_BIN/uring_floor_echo" --port="$server_port" --threads=1 "${files[@]}" \
        >"$out/server.log" 2>&1 &
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

run_load() {
  taskset -c 1 "$BENCH_BIN/loadgen" --target="127.0.0.1:$server_port" --protocol="$protocol" \
    --connections="$connections" --size="$size" --rate="$rate" --quiet "$@"
}

# Medians over the rounds, keyed "protocol/rate/contender".
declare -A results=() p99s=()

# Measures group "$@" = PROTOCOL CONTENDER... at every rate, $rounds alternating rounds each.
measure_group() {
  protocol=$1
  shift
  local contenders=("$@") round order c i label before after requests p99 errors cost key
  for rate in "${rate_list[@]}"; do
    echo "cost: $protocol, $size B, $connections connections, $rate req/s offered, $duration measured, $rounds rounds; out: $out"
    for round in $(seq 1 "$rounds"); do
      order=("${contenders[@]}")
      if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#contenders[@]} - 1; i >= 0; i--)); do order+=("${contenders[$i]}"); done
      fi
      for c in "${order[@]}"; do
        start_contender "$c"
        run_load --duration=1s >/dev/null || true
        label=$(echo "$protocol-$rate-r$round-$c" | tr '/@' '__')
        before=$(bench_cpu_ns "$server_pid")
        run_load --duration="$duration" --json="$out/$label.json" || true
        after=$(bench_cpu_ns "$server_pid")
        bench_stop "$server_pid"
        read -r requests p99 errors < <(jq -r '[.requests, .latency_ns.corrected.p99 / 1000, .errors.total] | @tsv' \
          "$out/$label.json")
        cost=$(awk -v c=$((after - before)) -v n="$requests" 'BEGIN { printf "%.3f", (n > 0 ? c / n / 1000 : 0) }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\n' "$protocol" "$rate" "$round" "$c" "$requests" \
          $((after - before)) "$cost" "$p99" "$errors" >>"$out/cost.tsv"
        echo "$protocol $rate round $round: $c: $cost us/request ($requests requests, p99 ${p99} us, errors $errors)" >&2
        key="$protocol/$rate/$c"
        results[$key]="${results[$key]:-} $cost"
        p99s[$key]="${p99s[$key]:-} $p99"
      done
    done
  done
}

printf 'protocol\trate\tround\tcontender\trequests\tcpu_ns\tus_per_request\tp99_us\terrors\n' >"$out/cost.tsv"
bench_machine | tee "$out/machine.txt"
for group in "${groups[@]}"; do
  # shellcheck disable=SC2086
  measure_group $group
done

# One row per protocol, contender and rate; $1 = text or markdown.
print_table() {
  local format=$1 group protocol c rate key median range p99 first
  if [ "$format" = markdown ]; then
    echo "| protocol | contender | req/s offered | CPU µs/req (range) | p99 µs | ratio |"
    echo "| --- | --- | ---: | ---: | ---: | ---: |"
  else
    printf '%-6s %-34s %8s %10s %15s %9s %8s\n' protocol contender rate "us/req" range "p99 us" ratio
  fi
  for group in "${groups[@]}"; do
    read -r protocol contenders_text <<<"$group"
    for rate in "${rate_list[@]}"; do
      first=""
      for c in $contenders_text; do
        key="$protocol/$rate/$c"
        # shellcheck disable=SC2086
        median=$(bench_median ${results[$key]})
        # shellcheck disable=SC2086
        p99=$(bench_median ${p99s[$key]})
        [ -n "$first" ] || first=$median
        range=$(printf '%s\n' ${results[$key]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
        ratio=$(awk -v a="$median" -v b="$first" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
        if [ "$format" = markdown ]; then
          printf '| %s | %s | %s | %.2f (%s) | %.0f | %s |\n' "$protocol" "$c" "$rate" "$median" "$range" "$p99" "$ratio"
        else
          printf '%-6s %-34s %8s %10.2f %15s %9.0f %8s\n' "$protocol" "$c" "$rate" "$median" "$range" "$p99" "$ratio"
        fi
      done
    done
  done
}

echo
print_table text
echo
print_table markdown | tee "$out/cost.md"
