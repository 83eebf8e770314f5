#!/usr/bin/env bash
# Well-behaved clients' latency under each attack, next to the same run without one.
#
# One shoal (2 workers, an echo and an HTTP listener, the admin endpoint; default limits otherwise)
# serves tools/loadgen at a fixed open-loop rate on the echo listener while one hostile client from
# tools/bench/attackers.py runs: non_readers, chunked (on the HTTP listener), idle, bad_frames,
# churn, admin_flood. "none" is the same run without an attack. For each, prints the good
# clients' p50/p99/max, their errors, the server's resident memory at the end, and the slowest
# /healthz answer seen during the run (polled every 200 ms).
#
# Usage: tools/bench/attack.sh [--rate=2000] [--connections=20] [--duration=10s] [--rounds=1]
#                              [--attacks=none,non_readers,...] [--out=DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh

rate=2000 connections=20 duration=10s rounds=1 out=""
attacks=none,non_readers,chunked,idle,bad_frames,churn,admin_flood
bench_flags 2,13 rate connections duration rounds attacks out -- "$@"
out=${out:-$(mktemp -d /tmp/shoal-bench-attack.XXXXXX)}
trap bench_cleanup EXIT

bench_build //server:shoal //tools/loadgen:loadgen
echo_port=$(bench_free_port 17300)
http_port=$(bench_free_port $((echo_port + 1)))
admin_port=$(bench_free_port $((http_port + 1)))
config="$out/shoal.yaml"
cat >"$config" <<EOF
workers: 2
listeners:
  - name: echo
    address: 127.0.0.1:$echo_port
    protocol: echo
  - name: web
    address: 127.0.0.1:$http_port
    protocol: http
admin:
  address: 127.0.0.1:$admin_port
logging:
  level: warn
EOF

healthz_worst_ms() {  # polls /healthz every 200 ms until $1 exists; prints the slowest answer
  local stop=$1 worst=0 t
  while [ ! -e "$stop" ]; do
    t=$(curl -s -o /dev/null -m 5 -w '%{time_total}' "http://127.0.0.1:$admin_port/healthz" || echo 5)
    worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b * 1000 > a) ? b * 1000 : a }')
    sleep 0.2
  done
  echo "$worst"
}

printf 'round\tattack\tp50_us\tp99_us\tmax_us\tcompleted\terrors\trss_mib\thealthz_worst_ms\n' >"$out/attack.tsv"
echo "$(bench_machine)"
for round in $(seq 1 "$rounds"); do
  for attack in ${attacks//,/ }; do
    taskset -c 0 "$BENCH_BIN/shoal" --config="$config" 2>"$out/r$round-$attack.log" &
    server=$!
    BENCH_PIDS+=("$server")
    bench_wait_port "$echo_port"
    bench_wait_port "$admin_port"
    attacker=""
    case "$attack" in
      none) ;;
      chunked) python3 tools/bench/attackers.py chunked "$http_port" & attacker=$! ;;
      admin_flood) python3 tools/bench/attackers.py admin_flood "$admin_port" & attacker=$! ;;
      *) python3 tools/bench/attackers.py "$attack" "$echo_port" & attacker=$! ;;
    esac
    [ -n "$attacker" ] && BENCH_PIDS+=("$attacker")
    sleep 2
    rm -f "$out/stop"
    healthz_worst_ms "$out/stop" >"$out/r$round-$attack.healthz" &
    poller=$!
    taskset -c 1 "$BENCH_BIN/loadgen" --target="127.0.0.1:$echo_port" --protocol=echo \
      --connections="$connections" --rate="$rate" --duration="$duration" --warmup=1s --verify \
      --quiet --json="$out/r$round-$attack.json" || true
    touch "$out/stop"
    wait "$poller"
    rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status")
    [ -n "$attacker" ] && bench_stop "$attacker"
    bench_stop "$server"
    read -r p50 p99 max completed errors < <(jq -r '[.latency_ns.corrected.p50 / 1000,
      .latency_ns.corrected.p99 / 1000, .latency_ns.corrected.max / 1000, .requests,
      .errors.total] | @tsv' "$out/r$round-$attack.json")
    printf '%s\t%s\t%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t%.0f\n' "$round" "$attack" "$p50" "$p99" "$max" \
      "$completed" "$errors" "$rss" "$(cat "$out/r$round-$attack.healthz")" | tee -a "$out/attack.tsv"
  done
done
echo "results: $out/attack.tsv" >&2
