#!/usr/bin/env bash
# shoal vs the floor (tools/bench/floor: a minimal epoll echo server, one loop per thread, no
# timers, no metrics, no framing) on the echo protocol, driven by tools/loadgen on 127.0.0.1.
#
# For every case (workers x frame size x connections x pipeline depth) the two servers are run
# alternately, --rounds times (the order flips every round), and the table gives the medians and
# shoal/floor ratios (median, and the range over the rounds). Shoal runs its default
# configuration: timeouts, watermarks, metrics, admin endpoint, all on.
#
# CPU placement (2-core machine): loadgen runs as many threads as the server has workers, and
# by default nothing is pinned, so client and server share both CPUs. With --pin and 1 worker,
# the server is pinned to CPU 0 and loadgen to CPU 1 (cleaner on an idle machine, worse when
# other work competes for CPU 0).
#
# Usage: tools/bench/echo.sh [--quick] [--pin] [--rounds=3] [--duration=5s] [--warmup=1s]
#                            [--rate=20000] [--out=DIR]
#   --quick: 64 B and 16 KiB, 1 and 100 connections, pipeline 1 and 16, 1 and 2 workers, 1 s
#            runs (about 4 minutes). Default: also 1000 connections, 5 s runs (about 25 minutes).
# Then, per worker count, an open-loop latency comparison: 64 B frames, 100 connections, --rate
# requests/s in total (default 20000), latency from the intended send times (coordinated omission
# corrected), plotted from the last round's .hgrm files.
# Writes every run's JSON and .hgrm, results.tsv, open_loop.tsv, table.md and the plots to DIR
# (default a new /tmp/shoal-bench-echo.*), and prints the tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh

quick=0 pin=0 rounds=3 duration="" warmup="" out="" rate=20000
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --pin) pin=1 ;;
    --rounds=*) rounds=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --warmup=*) warmup=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --rate=*) rate=${arg#*=} ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "echo.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  duration=${duration:-1s} warmup=${warmup:-300ms}
  sizes=(64 16384) conns_list=(1 100) pipelines=(1 16) workers_list=(1 2)
else
  duration=${duration:-5s} warmup=${warmup:-1s}
  sizes=(64 16384) conns_list=(1 100 1000) pipelines=(1 16) workers_list=(1 2)
fi
out=${out:-$(mktemp -d /tmp/shoal-bench-echo.XXXXXX)}
mkdir -p "$out"

bash tools/install-deps.sh jq >&2
bench_build //server:shoal //tools/loadgen:loadgen //tools/bench/floor:floor_echo
ulimit -n "$(ulimit -Hn)"
trap bench_cleanup EXIT

bench_machine | tee "$out/machine.txt"
echo "runs: ${duration} each after ${warmup} warm-up, ${rounds} rounds, contenders alternating, pinning $([ "$pin" = 1 ] && echo on || echo off); out: $out"

# Starts a contender with W workers/threads; sets $server_pid and $server_port.
start_server() {
  local name=$1 workers=$2 pin_cmd=()
  if [ "$workers" = 1 ] && [ "$pin" = 1 ]; then pin_cmd=(taskset -c 0); fi
  server_port=$(bench_free_port $((17300 + RANDOM % 2000)))
  if [ "$name" = shoal ]; then
    bench_shoal_config "$out/shoal-$workers.yaml" "$server_port" "$workers"
    "${pin_cmd[@]}" "$BENCH_BIN/shoal" --config="$out/shoal-$workers.yaml" >"$out/shoal-$workers.log" 2>&1 &
  else
    "${pin_cmd[@]}" "$BENCH_BIN/floor_echo" --port="$server_port" --threads="$workers" >"$out/floor-$workers.log" 2>&1 &
  fi
  server_pid=$!
  BENCH_PIDS+=("$server_pid")
  bench_wait_port "$server_port"
}

# The contenders in the order round $1 runs them: alternating, so neither always goes first.
round_order() { if [ $(($1 % 2)) = 0 ]; then echo floor shoal; else echo shoal floor; fi; }

# The port of contender $1 (shoal or floor) in the current workers' pass.
port_of() { if [ "$1" = floor ]; then echo "$floor_port"; else echo "$shoal_port"; fi; }

printf 'workers\tsize\tconns\tpipeline\tround\tserver\treq_per_s\tp50_us\tp99_us\terrors\n' >"$out/results.tsv"
printf 'workers\tround\tserver\treq_per_s\tp50_us\tp99_us\tp999_us\tmax_us\tuncorrected_p99_us\terrors\n' >"$out/open_loop.tsv"
table=() markdown=() open_table=() open_markdown=()
for workers in "${workers_list[@]}"; do
  start_server shoal "$workers"; shoal_pid=$server_pid shoal_port=$server_port
  start_server floor "$workers"; floor_pid=$server_pid floor_port=$server_port
  client=() threads=$workers
  if [ "$workers" = 1 ] && [ "$pin" = 1 ]; then client=(taskset -c 1); fi
  for size in "${sizes[@]}"; do
    for conns in "${conns_list[@]}"; do
      for pipeline in "${pipelines[@]}"; do
        declare -A rps=() p99=()
        ratios=()
        for round in $(seq 1 "$rounds"); do
          for server in $(round_order "$round"); do
            port=$(port_of "$server")
            name="w${workers}-s${size}-c${conns}-p${pipeline}-r${round}-${server}"
            "${client[@]}" "$BENCH_BIN/loadgen" --target="127.0.0.1:$port" --protocol=echo \
              --connections="$conns" --threads="$threads" --size="$size" --pipeline="$pipeline" \
              --duration="$duration" --warmup="$warmup" --quiet \
              --json="$out/$name.json" --hgrm="$out/$name.hgrm" || true
            r=$(jq -r '.requests_per_second' "$out/$name.json")
            p50=$(jq -r '.latency_ns.corrected.p50 / 1000' "$out/$name.json")
            q=$(jq -r '.latency_ns.corrected.p99 / 1000' "$out/$name.json")
            errors=$(jq -r '.errors.total' "$out/$name.json")
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%s\n' "$workers" "$size" "$conns" \
              "$pipeline" "$round" "$server" "$r" "$p50" "$q" "$errors" >>"$out/results.tsv"
            rps[$server]="${rps[$server]:-} $r"
            p99[$server]="${p99[$server]:-} $q"
            eval "last_$server=$r"
          done
          ratios+=("$(awk -v a="$last_shoal" -v b="$last_floor" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
        done
        # shellcheck disable=SC2086
        shoal_median=$(bench_median ${rps[shoal]}) floor_median=$(bench_median ${rps[floor]})
        # shellcheck disable=SC2086
        shoal_p99=$(bench_median ${p99[shoal]}) floor_p99=$(bench_median ${p99[floor]})
        ratio=$(awk -v a="$shoal_median" -v b="$floor_median" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
        range=$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
        row=$(printf '%7s %6s %6s %4s %12.0f %12.0f %6s %11s %10.0f %10.0f' "$workers" "$size" "$conns" \
          "$pipeline" "$shoal_median" "$floor_median" "$ratio" "$range" "$shoal_p99" "$floor_p99")
        table+=("$row")
        echo "$row" >&2
        frame="$size B"
        [ "$size" = 16384 ] && frame="16 KiB"
        markdown+=("$(printf '| %s | %s | %s | %s | %.0f | %.0f | **%s** | %s | %.0f | %.0f |' "$workers" "$frame" \
          "$conns" "$pipeline" "$shoal_median" "$floor_median" "$ratio" "${range/-/–}" "$shoal_p99" "$floor_p99")")
        unset rps p99
      done
    done
  done
  # Open loop: the same rate offered to each, latency from the intended send times.
  declare -A open_p50=() open_p99=() open_p999=() open_rps=()
  for round in $(seq 1 "$rounds"); do
    for server in $(round_order "$round"); do
      port=$(port_of "$server")
      name="open-w${workers}-r${round}-${server}"
      "${client[@]}" "$BENCH_BIN/loadgen" --target="127.0.0.1:$port" --protocol=echo \
        --connections=100 --threads="$threads" --size=64 --rate="$rate" \
        --duration="$duration" --warmup="$warmup" --quiet --json="$out/$name.json" \
        --hgrm="$out/$name.hgrm" --hgrm_uncorrected="$out/$name.uncorrected.hgrm" || true
      read -r r p50 q q3 mx uq errors < <(jq -r '[.requests_per_second, .latency_ns.corrected.p50 / 1000,
        .latency_ns.corrected.p99 / 1000, .latency_ns.corrected.p99_9 / 1000,
        .latency_ns.corrected.max / 1000, .latency_ns.uncorrected.p99 / 1000, .errors.total] | @tsv' "$out/$name.json")
      printf '%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\n' "$workers" "$round" "$server" "$r" "$p50" \
        "$q" "$q3" "$mx" "$uq" "$errors" >>"$out/open_loop.tsv"
      open_rps[$server]="${open_rps[$server]:-} $r"
      open_p50[$server]="${open_p50[$server]:-} $p50"
      open_p99[$server]="${open_p99[$server]:-} $q"
      open_p999[$server]="${open_p999[$server]:-} $q3"
    done
  done
  for server in shoal floor; do
    # shellcheck disable=SC2086
    row=$(printf '%7s %6s %10.0f %10.1f %10.1f %10.1f' "$workers" "$server" "$(bench_median ${open_rps[$server]})" \
      "$(bench_median ${open_p50[$server]})" "$(bench_median ${open_p99[$server]})" "$(bench_median ${open_p999[$server]})")
    open_table+=("$row")
    echo "$row" >&2
    # shellcheck disable=SC2086
    open_markdown+=("$(printf '| %s | %s | %.0f | %.1f | %.1f | %.1f |' "$workers" "$server" "$(bench_median ${open_rps[$server]})" \
      "$(bench_median ${open_p50[$server]})" "$(bench_median ${open_p99[$server]})" "$(bench_median ${open_p999[$server]})")")
  done
  unset open_p50 open_p99 open_p999 open_rps
  bash tools/bench/plot.sh --title="echo, 64 B, 100 connections, open loop at $rate req/s" \
    "$out/echo-open-loop-w${workers}.png" \
    "shoal, ${workers} worker(s), corrected=$out/open-w${workers}-r${rounds}-shoal.hgrm" \
    "floor, ${workers} thread(s), corrected=$out/open-w${workers}-r${rounds}-floor.hgrm" \
    "shoal, uncorrected (from the actual send)=$out/open-w${workers}-r${rounds}-shoal.uncorrected.hgrm" >&2 || echo "echo.sh: plot failed" >&2

  # One closed-loop latency plot per worker count: 64 B, the most connections, pipeline 1.
  last="w${workers}-s64-c${conns_list[-1]}-p1-r${rounds}"
  bash tools/bench/plot.sh --title="echo, 64 B frames, ${conns_list[-1]} connections, pipeline 1, closed loop" \
    "$out/echo-latency-w${workers}.png" \
    "shoal, ${workers} worker(s)=$out/$last-shoal.hgrm" \
    "floor, ${workers} thread(s)=$out/$last-floor.hgrm" >&2 || echo "echo.sh: plot failed" >&2
  bench_stop "$shoal_pid"
  bench_stop "$floor_pid"
done

echo
echo "echo: shoal vs floor, requests/s (median of $rounds), ratio shoal/floor (median, range), p99 in us"
printf '%7s %6s %6s %4s %12s %12s %6s %11s %10s %10s\n' workers size conns pipe shoal floor ratio range shoal_p99 floor_p99
printf '%s\n' "${table[@]}"
echo
echo "open loop: 64 B, 100 connections, $rate req/s offered; latency in us from the intended send time (median of $rounds)"
printf '%7s %6s %10s %10s %10s %10s\n' workers server "req/s" p50 p99 p99.9
printf '%s\n' "${open_table[@]}"
{
  echo "| workers | frame | conns | pipeline | shoal req/s | floor req/s | ratio | range | shoal p99 µs | floor p99 µs |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
  printf '%s\n' "${markdown[@]}"
  echo
  echo "| workers | server | req/s | p50 µs | p99 µs | p99.9 µs |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${open_markdown[@]}"
} >"$out/table.md"
echo "(all runs: $out/results.tsv, $out/open_loop.tsv; Markdown: $out/table.md; plots: $out/*.png)"
