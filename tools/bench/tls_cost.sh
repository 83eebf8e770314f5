#!/usr/bin/env bash
# Server CPU time per request over TLS, and per handshake, at fixed open-loop rates: shoal vs
# nginx with the same certificate (EC P-256, tools/tls/make-certs.sh) and the same suite, pinned by
# the client (loadgen --tls_version --tls_ciphers), so both servers negotiate it: by default
# TLS 1.3 TLS_AES_128_GCM_SHA256 (--suite=tls12: TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256). The
# negotiated suite is printed beside each figure. Measured the way cost.sh measures: server on
# CPU 0 (1 worker), tools/loadgen on CPU 1, contenders alternating (the order flips every round),
# a 1 s warm-up run, then the measured run; server CPU (user + system, all threads and children,
# from schedstat) over the measured run divided by the requests answered (keep-alive) or the
# handshakes completed (handshake mode).
# A done/s column below the offered rate means someone fell behind (on a busy 2-CPU machine,
# usually loadgen: a client handshake costs more CPU than the server's).
#   keep-alive: --connections connections, GET /plaintext (13-byte body), --rates req/s.
#   handshake:  --reconnect_every=1 (a new connection and a full handshake per request) at
#               --handshake_rates req/s over --handshake_connections connections (--resume:
#               resumed handshakes instead, session tickets).
# --profile: after the measured rounds, one more keep-alive and one handshake run per contender
# under `perf record -g` on the server; prints the top symbols of each (what dominates).
#
# Usage: tools/bench/tls_cost.sh [--rates=20000,40000] [--connections=100] [--duration=5s]
#          [--handshake_rates=1000] [--handshake_connections=20] [--resume] [--rounds=2]
#          [--suite=tls13|tls12] [--profile] [--out=DIR] [CONTENDER...]
# Contenders: nginx, shoal (the tree's //server:shoal, optimised), shoal@PATH; default both.
# A shoal without TLS support rejects its config: the script stops and says so (run `nginx` alone).
# Writes tls_cost.tsv, every loadgen JSON, server logs and profiles to DIR. Manual; not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh

rates=20000,40000 connections=100 duration=5s handshake_rates=1000 handshake_connections=20
resume=false rounds=2 suite=tls13 profile=false out="" contenders=()
for arg in "$@"; do
  case "$arg" in
    --rates=*) rates=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --handshake_rates=*) handshake_rates=${arg#*=} ;;
    --handshake_connections=*) handshake_connections=${arg#*=} ;;
    --resume) resume=true ;;
    --rounds=*) rounds=${arg#*=} ;;
    --suite=*) suite=${arg#*=} ;;
    --profile) profile=true ;;
    --out=*) out=${arg#*=} ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    -*) echo "tls_cost.sh: unknown flag $arg" >&2; exit 2 ;;
    *) contenders+=("$arg") ;;
  esac
done
[ "${#contenders[@]}" -gt 0 ] || contenders=(nginx shoal)
case "$suite" in
  tls13) tls_flags=(--tls_version=1.3 --tls_ciphers=TLS_AES_128_GCM_SHA256) ;;
  tls12) tls_flags=(--tls_version=1.2 --tls_ciphers=ECDHE-ECDSA-AES128-GCM-SHA256) ;;
  *) echo "tls_cost.sh: --suite must be tls13 or tls12" >&2; exit 2 ;;
esac
[ "$resume" = false ] || tls_flags+=(--tls_resume)
IFS=, read -r -a rate_list <<<"$rates"
IFS=, read -r -a handshake_rate_list <<<"$handshake_rates"
out=${out:-$(mktemp -d /tmp/shoal-bench-tls.XXXXXX)}
mkdir -p "$out"

bash tools/install-deps.sh jq nginx openssl linux-perf >&2
bench_build //server:shoal //tools/loadgen:loadgen
bash tools/tls/make-certs.sh "$out/tls" --key=ec >&2
ulimit -n "$(ulimit -Hn)"
trap bench_cleanup EXIT

# shoal binary $1 on CPU 0 with one TLS http listener on $server_port.
start_shoal() {
  cat >"$out/shoal.yaml" <<YAML
workers: 1
listeners:
  - name: web
    address: 127.0.0.1:$server_port
    protocol: http
    tls:
      certificate: $out/tls/server-chain.crt
      private_key: $out/tls/server.key
      min_version: "1.2"
      alpn: [http/1.1]
admin:
  address: 127.0.0.1:0
logging:
  level: warn
YAML
  taskset -c 0 "$1" --config="$out/shoal.yaml" >"$out/server.log" 2>&1 &
  server_pid=$!
}

# nginx (1 worker) on CPU 0 from tools/bench/http/nginx-tls.conf, on $server_port.
start_nginx() {
  mkdir -p "$out/nginx"
  cp -r "$out/tls" "$out/nginx/"
  sed -e "s/127\.0\.0\.1:18443/127.0.0.1:$server_port/" -e "s#/tmp/peer-nginx#$out/nginx#g" \
    tools/bench/http/nginx-tls.conf >"$out/nginx.conf"
  taskset -c 0 nginx -p "$out/nginx" -e "$out/nginx/error.log" -c "$out/nginx.conf" \
    -g 'worker_processes 1;' >"$out/server.log" 2>&1 &
  server_pid=$!
}

# Starts contender $1 on a free port; sets $server_pid and $server_port.
start_contender() {
  server_port=$(bench_free_port $((18300 + RANDOM % 2000)))
  case "$1" in
    nginx) start_nginx ;;
    shoal) start_shoal "$BENCH_BIN/shoal" ;;
    shoal@*) start_shoal "${1#shoal@}" ;;
    *) echo "tls_cost.sh: unknown contender $1" >&2; exit 2 ;;
  esac
  BENCH_PIDS+=("$server_pid")
  if ! bench_wait_port "$server_port"; then
    echo "tls_cost.sh: $1 did not start (a shoal without listeners[].tls rejects the config):" >&2
    tail -n 5 "$out/server.log" >&2
    exit 1
  fi
}

# loadgen on CPU 1 over TLS to the contender; mode keepalive or handshake, then loadgen flags.
run_load() {
  local mode=$1
  shift
  local shape=(--connections="$connections")
  [ "$mode" = keepalive ] || shape=(--connections="$handshake_connections" --reconnect_every=1)
  taskset -c 1 "$BENCH_BIN/loadgen" --target="127.0.0.1:$server_port" --protocol=http \
    --tls --tls_ca="$out/tls/ca.crt" "${tls_flags[@]}" "${shape[@]}" --quiet "$@"
}

declare -A costs=() p99s=() suites=() rates_done=()

# One measured run of contender $2 in mode $1 at rate $3 (round $4).
measure() {
  local mode=$1 c=$2 rate=$3 round=$4 label before after units p99 errors negotiated cost key done
  start_contender "$c"
  run_load "$mode" --rate="$rate" --duration=1s >/dev/null || true
  label=$(echo "$mode-$rate-r$round-$c" | tr '/@' '__')
  before=$(bench_cpu_ns "$server_pid")
  run_load "$mode" --rate="$rate" --duration="$duration" --json="$out/$label.json" || true
  after=$(bench_cpu_ns "$server_pid")
  bench_stop "$server_pid"
  # Keep-alive: per request answered; handshake: per handshake completed in the window (p99 of
  # the handshake latency).
  if [ "$mode" = keepalive ]; then
    read -r units p99 errors negotiated < <(jq -r '[.requests, .latency_ns.corrected.p99 / 1000,
      .errors.total, (.tls.negotiated | gsub(" "; "/"))] | @tsv' "$out/$label.json")
  else
    read -r units p99 errors negotiated < <(jq -r '[.tls.handshakes_measured,
      .tls.handshake_latency_ns.p99 / 1000, .errors.total, (.tls.negotiated | gsub(" "; "/"))]
      | @tsv' "$out/$label.json")
  fi
  cost=$(awk -v c=$((after - before)) -v n="$units" 'BEGIN { printf "%.3f", (n > 0 ? c / n / 1000 : 0) }')
  # What was achieved: below the offered rate, the client (or the server) fell behind.
  done=$(jq -r --argjson n "$units" '$n / .duration_s | floor' "$out/$label.json")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\n' "$mode" "$rate" "$round" "$c" "$units" \
    $((after - before)) "$cost" "$p99" "$errors" "$negotiated" >>"$out/tls_cost.tsv"
  echo "$mode $rate round $round: $c: $cost us per ${mode/keepalive/request} ($units, $done/s, p99 ${p99} us, errors $errors, $negotiated)" >&2
  key="$mode/$rate/$c"
  costs[$key]="${costs[$key]:-} $cost"
  p99s[$key]="${p99s[$key]:-} $p99"
  rates_done[$key]="${rates_done[$key]:-} $done"
  suites[$key]=$negotiated
}

# Every contender at every rate of mode $1, $rounds rounds, alternating.
measure_mode() {
  local mode=$1 rate round i order
  shift
  for rate in "$@"; do
    echo "tls_cost: $mode, $rate req/s offered, $duration measured, $rounds rounds, suite $suite; out: $out"
    for round in $(seq 1 "$rounds"); do
      order=("${contenders[@]}")
      if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#contenders[@]} - 1; i >= 0; i--)); do order+=("${contenders[$i]}"); done
      fi
      for c in "${order[@]}"; do measure "$mode" "$c" "$rate" "$round"; done
    done
  done
}

# perf record -g on contender $2 during one run of mode $1 at rate $3; prints its top symbols.
profile_run() {
  local mode=$1 c=$2 rate=$3 label pids
  start_contender "$c"
  run_load "$mode" --rate="$rate" --duration=1s >/dev/null || true
  label=$(echo "profile-$mode-$c" | tr '/@' '__')
  pids=$( (echo "$server_pid"; pgrep -P "$server_pid" || true) | paste -sd, -)
  perf record -q -g -p "$pids" -o "$out/$label.perf" 2>"$out/$label.perf.log" &
  local perf_pid=$!
  run_load "$mode" --rate="$rate" --duration="$duration" >/dev/null || true
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" || true
  bench_stop "$server_pid"
  # (awk, not head: head would stop reading, and pipefail would end the script)
  {
    echo "== $c, $mode at $rate req/s: CPU by library, then the top symbols (self) =="
    perf report -i "$out/$label.perf" --stdio --no-children -g none --sort dso 2>/dev/null \
      | awk '/^ +[0-9]/ && ++n <= 6'
    perf report -i "$out/$label.perf" --stdio --no-children -g none --sort dso,symbol 2>/dev/null \
      | sed -E 's/( +-)+ *$//' | awk '/^ +[0-9]/ && ++n <= 15'
  } | tee "$out/$label.top"
}

printf 'mode\trate\tround\tcontender\tunits\tcpu_ns\tus_per_unit\tp99_us\terrors\tnegotiated\n' \
  >"$out/tls_cost.tsv"
bench_machine | tee "$out/machine.txt"
measure_mode keepalive "${rate_list[@]}"
measure_mode handshake "${handshake_rate_list[@]}"

# The medians as a Markdown table; ratio to the first contender.
print_table() {
  local mode list rate first c key median p99 range done_median
  echo "| mode | contender | req/s offered | done/s | server CPU µs per unit (range) | p99 µs | ratio | negotiated |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
  for mode in keepalive handshake; do
    list=("${rate_list[@]}")
    [ "$mode" = keepalive ] || list=("${handshake_rate_list[@]}")
    for rate in "${list[@]}"; do
      first=""
      for c in "${contenders[@]}"; do
        key="$mode/$rate/$c"
        # shellcheck disable=SC2086
        median=$(bench_median ${costs[$key]})
        # shellcheck disable=SC2086
        p99=$(bench_median ${p99s[$key]})
        [ -n "$first" ] || first=$median
        # shellcheck disable=SC2086
        range=$(printf '%s\n' ${costs[$key]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
        # shellcheck disable=SC2086
      done_median=$(bench_median ${rates_done[$key]})
      printf '| %s | %s | %s | %.0f | %.2f (%s) | %.0f | %.3f | %s |\n' "$mode" "$c" "$rate" \
        "$done_median" "$median" \
          "$range" "$p99" "$(awk -v a="$median" -v b="$first" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
          "${suites[$key]//\// }"
      done
    done
  done
}

echo
print_table | tee "$out/tls_cost.md"

if [ "$profile" = true ]; then
  for c in "${contenders[@]}"; do
    profile_run keepalive "$c" "${rate_list[0]}"
    profile_run handshake "$c" "${handshake_rate_list[0]}"
  done
fi
