#!/usr/bin/env bash
# Closed-loop throughput of the epoll floor, the io_uring floor and shoal (echo): the second half
# of docs/bench/io_uring.md (tools/bench/cost.sh gives the CPU per request at fixed rates).
#
# Server pinned to CPU 0, tools/loadgen to CPU 1, closed loop (every connection keeps --pipeline
# requests in flight). Per case and round the contenders run one after the other (the order flips
# every round); each gets a 1 s warm-up, then a measured run. Reported per case and contender:
# median requests/s, median server CPU us/request (loadgen --server_pid), median p99.
#
# Usage: tools/bench/floor/uring_throughput.sh [--cases=64:16,16384:1,16384:4] [--connections=100]
#                                              [--duration=5s] [--rounds=2] [--out=DIR]
#                                              [--contenders=floor,uring_floor,shoal]
#   A case is SIZE:PIPELINE. Writes throughput.tsv and every loadgen JSON to DIR.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source tools/bench/loadgen_bench_lib.sh

cases=64:16,16384:1,16384:4 connections=100 duration=5s rounds=2 out="" contenders=floor,uring_floor,shoal
bench_flags 2,13 cases connections duration rounds out contenders -- "$@"
IFS=, read -r -a case_list <<<"$cases"
IFS=, read -r -a contender_list <<<"$contenders"
out=${out:-$(mktemp -d /tmp/shoal-bench-uring.XXXXXX)}
mkdir -p "$out"

bash tools/install-deps.sh jq >&2
bench_build //server:shoal //tools/loadgen:loadgen //tools/bench/floor:floor_echo \
  //tools/bench/floor:uring_floor_echo
ulimit -n "$(ulimit -Hn)"
trap bench_cleanup EXIT

# Starts contender $1 pinned to CPU 0; sets $server_pid and $server_port.
start_contender() {
  server_port=$(bench_free_port $((18300 + RANDOM % 2000)))
  case "$1" in
    floor) taskset -c 0 "$BENCH_BIN/floor_echo" --port="$server_port" >"$out/server.log" 2>&1 & ;;
    uring_floor) taskset -c 0 "$BENCH_BIN/uring_floor_echo" --port="$server_port" >"$out/server.log" 2>&1 & ;;
    shoal)
      bench_shoal_config "$out/echo.yaml" "$server_port" 1
      taskset -c 0 "$BENCH_BIN/shoal" --config="$out/echo.yaml" >"$out/server.log" 2>&1 &
      ;;
    *) echo "uring_throughput.sh: unknown contender $1" >&2; exit 2 ;;
  esac
  server_pid=$!
  BENCH_PIDS+=("$server_pid")
  bench_wait_port "$server_port"
}

run_load() {
  taskset -c 1 "$BENCH_BIN/loadgen" --target="127.0.0.1:$server_port" --protocol=echo \
    --connections="$connections" --size="$size" --pipeline="$pipeline" --quiet "$@"
}

declare -A rps=() cpu=() p99=()
printf 'size\tpipeline\tround\tcontender\trequests_per_second\tserver_cpu_us_per_request\tp99_us\terrors\n' \
  >"$out/throughput.tsv"
bench_machine | tee "$out/machine.txt"
for case in "${case_list[@]}"; do
  size=${case%%:*} pipeline=${case#*:}
  for round in $(seq 1 "$rounds"); do
    order=("${contender_list[@]}")
    if [ $((round % 2)) = 0 ]; then
      order=()
      for ((i = ${#contender_list[@]} - 1; i >= 0; i--)); do order+=("${contender_list[$i]}"); done
    fi
    for c in "${order[@]}"; do
      start_contender "$c"
      run_load --duration=1s >/dev/null || true
      json="$out/$size-$pipeline-r$round-$c.json"
      run_load --duration="$duration" --server_pid="$server_pid" --json="$json" || true
      bench_stop "$server_pid"
      read -r r u p e < <(jq -r '[.requests_per_second, .server_cpu_us_per_request,
        .latency_ns.corrected.p99 / 1000, .errors.total] | @tsv' "$json")
      printf '%s\t%s\t%s\t%s\t%.0f\t%.3f\t%.0f\t%s\n' "$size" "$pipeline" "$round" "$c" "$r" "$u" "$p" "$e" \
        >>"$out/throughput.tsv"
      echo "$size B x$pipeline round $round: $c: $r req/s, $u us/request, p99 $p us, errors $e" >&2
      key="$case/$c"
      rps[$key]="${rps[$key]:-} $r" cpu[$key]="${cpu[$key]:-} $u" p99[$key]="${p99[$key]:-} $p"
    done
  done
done

echo
echo "| size | pipeline | contender | req/s | server CPU µs/req | p99 µs |"
echo "| ---: | ---: | --- | ---: | ---: | ---: |"
for case in "${case_list[@]}"; do
  for c in "${contender_list[@]}"; do
    key="$case/$c"
    # shellcheck disable=SC2086
    printf '| %s | %s | %s | %.0f | %.2f | %.0f |\n' "${case%%:*}" "${case#*:}" "$c" \
      "$(bench_median ${rps[$key]})" "$(bench_median ${cpu[$key]})" "$(bench_median ${p99[$key]})"
  done
done | tee "$out/throughput.md"
