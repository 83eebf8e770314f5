#!/usr/bin/env bash
# Side-by-side HTTP benchmark: shoal vs nginx, GET /plaintext ("Hello, World!"), with wrk.
#
#   bash tools/bench/http.sh [--quick] [--rounds N] [--duration D] [--workers "1 2"]
#                            [--depths "1 16"] [--connections C] [--out FILE] [--no-nice]
#
# From a fresh clone: installs what it needs (tools/install-deps.sh plus Debian's nginx and wrk,
# idempotently), builds //server:shoal -c opt, then for each worker count starts nginx (the peer
# config in tools/bench/http/nginx.conf) and shoal (an http listener,
# reuseport, the same worker count) on loopback, and runs the same wrk command against each, one
# after the other, alternating (nginx first in odd rounds, shoal first in even ones) for N rounds:
#   wrk -t<workers> -c100 -d<D> --latency -s <script> http://127.0.0.1:<port>/plaintext [-- 16]
# Prints a Markdown table of median req/s and p99 per server and the ratio shoal/nginx, and the
# per-round figures. Defaults: 3 rounds of 10s; --quick: 3 rounds of 3s.
#
# As root, the servers and wrk run at nice -20 (both servers alike) so that whatever else the
# machine runs disturbs the comparison less; --no-nice turns that off. With 1 worker the servers
# are pinned to CPU 0 and wrk to CPU 1 (taskset), so the client does not steal the server's core;
# --no-pin turns that off.
#
# Everything runs on 127.0.0.1 and stops by itself; the servers are stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

rounds=3
duration=10s
warmup=1s
workers_list="1 2"
depths="1 16"
connections=100
out=""
use_nice=1
use_pin=1

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=3s ;;
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --workers) workers_list="$2"; shift ;;
    --depths) depths="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --out) out="$2"; shift ;;
    --no-nice) use_nice=0 ;;
    --no-pin) use_pin=0 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "http.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
if [ "$rounds" -lt 1 ]; then echo "http.sh: --rounds must be >= 1" >&2; exit 1; fi

log() { echo "http.sh: $*" >&2; }

prio=()
if [ "$use_nice" -eq 1 ] && [ "$(id -u)" -eq 0 ]; then prio=(nice -n -20); fi

# --- Dependencies (idempotent) -------------------------------------------------------------------
bash "$root/tools/install-deps.sh" nginx wrk
command -v wrk >/dev/null || { log "wrk not found after install"; exit 1; }
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx_bin" ] || { log "nginx not found after install"; exit 1; }

# --- Build -----------------------------------------------------------------------------------------
log "building //server:shoal -c opt"
(cd "$root" && bazel build -c opt //server:shoal >&2)
shoal_src="$(cd "$root" && bazel info -c opt bazel-bin 2>/dev/null)/server/shoal"

tmp="$(mktemp -d /tmp/shoal-bench-http.XXXXXX)"
# The workspace's bazel-bin link can be repointed by another build: run a private copy.
cp "$shoal_src" "$tmp/shoal"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# --- Ports ---------------------------------------------------------------------------------------
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {
  local port="$1"
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}
nginx_port="$(pick_port 18081)"
shoal_port="$(pick_port 18090)"
[ "$shoal_port" != "$nginx_port" ] || shoal_port="$(pick_port $((nginx_port + 1)))"
admin_port="$(pick_port 19190)"

# --- Configurations ------------------------------------------------------------------------------
peer_conf="$here/http/nginx.conf"
mkdir -p "$tmp/nginx"
sed -e "s/127\.0\.0\.1:18081/127.0.0.1:$nginx_port/" -e "s#/tmp/peer-nginx#$tmp/nginx#g" \
  "$peer_conf" >"$tmp/nginx.conf"

write_shoal_config() {
  cat >"$tmp/shoal.yaml" <<EOF
workers: $1
listeners:
  - name: http
    address: 127.0.0.1:$shoal_port
    protocol: http
    backlog: 4096
    reuseport: true
timeouts:
  idle: 120s
admin:
  address: 127.0.0.1:$admin_port
logging:
  level: warn
EOF
}

# wrk scripts: our copy of the shared pipeline.lua, each with the reporting done() appended.
cat "$here/http/report.lua" >"$tmp/plain.lua"
cat "$here/http/pipeline.lua" "$here/http/report.lua" >"$tmp/pipeline.lua"

# --- Servers -------------------------------------------------------------------------------------
wait_ready() {  # url name
  local i
  for i in $(seq 1 100); do
    if curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$2 did not answer $1"
  exit 1
}

# taskset prefixes for a run with $1 workers: server on CPU 0, client on CPU 1 (1 worker only).
pin_for() {
  server_pin=() client_pin=()
  if [ "$use_pin" = 1 ] && [ "$1" = 1 ]; then server_pin=(taskset -c 0) client_pin=(taskset -c 1); fi
}

start_servers() {  # workers
  local workers="$1"
  pin_for "$workers"
  "${server_pin[@]}" "${prio[@]}" "$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx.conf" \
    -g "worker_processes $workers;" 2>>"$tmp/nginx/stderr.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  write_shoal_config "$workers"
  "${server_pin[@]}" "${prio[@]}" "$tmp/shoal" --config="$tmp/shoal.yaml" 2>>"$tmp/shoal.log" &
  shoal_pid=$!
  pids+=("$shoal_pid")
  wait_ready "http://127.0.0.1:$nginx_port/plaintext" nginx
  wait_ready "http://127.0.0.1:$shoal_port/plaintext" shoal
}

stop_servers() {
  kill "$nginx_pid" "$shoal_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  wait "$shoal_pid" 2>/dev/null || true
  pids=()
}

# --- Runs ----------------------------------------------------------------------------------------
results="$tmp/results.tsv"  # server workers depth round rps p99_us errors non2xx
: >"$results"

run_wrk() {  # server port workers depth round
  local server="$1" port="$2" workers="$3" depth="$4" round="$5"
  local script=("-s" "$tmp/plain.lua") args=()
  if [ "$depth" -gt 1 ]; then
    script=("-s" "$tmp/pipeline.lua")
    args=("--" "$depth")
  fi
  local url="http://127.0.0.1:$port/plaintext"
  pin_for "$workers"
  "${client_pin[@]}" "${prio[@]}" wrk "-t$workers" "-c$connections" "-d$warmup" "${script[@]}" "$url" "${args[@]}" >/dev/null
  local output
  output="$("${client_pin[@]}" "${prio[@]}" wrk "-t$workers" "-c$connections" "-d$duration" --latency "${script[@]}" "$url" \
    "${args[@]}")"
  echo "$output" >>"$tmp/wrk-$server-w$workers-d$depth-r$round.txt"
  local line
  line="$(grep '^BENCH ' <<<"$output" | tail -1)"
  [ -n "$line" ] || { log "no BENCH line from wrk: $output"; exit 1; }
  local rps p99 errors non2xx
  rps="$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line")"
  p99="$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")"
  errors="$(awk '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(connect|read|write|timeout)=/) {
    split($i, kv, "="); s += kv[2] } print s }' <<<"$line")"
  non2xx="$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$line")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$workers" "$depth" "$round" "$rps" "$p99" \
    "$errors" "$non2xx" >>"$results"
  log "$(printf '%-5s workers=%s depth=%-2s round=%s  %10.0f req/s  p99 %6.2f ms  errors %s non-2xx %s' \
    "$server" "$workers" "$depth" "$round" "$rps" "$(awk -v u="$p99" 'BEGIN { print u / 1000 }')" \
    "$errors" "$non2xx")"
}

log "nginx on :$nginx_port, shoal on :$shoal_port; $rounds rounds of $duration per configuration${prio[*]:+ (${prio[*]})}"
for workers in $workers_list; do
  start_servers "$workers"
  for depth in $depths; do
    for round in $(seq 1 "$rounds"); do
      if [ $((round % 2)) -eq 1 ]; then
        run_wrk nginx "$nginx_port" "$workers" "$depth" "$round"
        run_wrk shoal "$shoal_port" "$workers" "$depth" "$round"
      else
        run_wrk shoal "$shoal_port" "$workers" "$depth" "$round"
        run_wrk nginx "$nginx_port" "$workers" "$depth" "$round"
      fi
    done
  done
  stop_servers
done

# --- Report --------------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0;
  else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() {  # server workers depth column
  awk -F'\t' -v s="$1" -v w="$2" -v d="$3" -v c="$4" '$1 == s && $2 == w && $3 == d { print $c }' \
    "$results"
}

report="$tmp/report.md"
{
  echo "| workers | pipeline | nginx req/s | shoal req/s | shoal/nginx | nginx p99 | shoal p99 | errors (nginx/shoal) |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for workers in $workers_list; do
    for depth in $depths; do
      n_rps="$(column_of nginx "$workers" "$depth" 5 | median)"
      s_rps="$(column_of shoal "$workers" "$depth" 5 | median)"
      n_p99="$(column_of nginx "$workers" "$depth" 6 | median)"
      s_p99="$(column_of shoal "$workers" "$depth" 6 | median)"
      n_err="$(column_of nginx "$workers" "$depth" 7 | awk '{ s += $1 } END { print s + 0 }')"
      s_err="$(column_of shoal "$workers" "$depth" 7 | awk '{ s += $1 } END { print s + 0 }')"
      n_bad="$(column_of nginx "$workers" "$depth" 8 | awk '{ s += $1 } END { print s + 0 }')"
      s_bad="$(column_of shoal "$workers" "$depth" 8 | awk '{ s += $1 } END { print s + 0 }')"
      awk -v w="$workers" -v d="$depth" -v nr="$n_rps" -v sr="$s_rps" -v np="$n_p99" \
        -v sp="$s_p99" -v ne="$((n_err + n_bad))" -v se="$((s_err + s_bad))" 'BEGIN {
        printf "| %s | %s | %.0f | %.0f | **%.2fx** | %.2f ms | %.2f ms | %d / %d |\n",
          w, (d > 1 ? d : "none"), nr, sr, (nr > 0 ? sr / nr : 0), np / 1000, sp / 1000, ne, se }'
    done
  done
  echo
  echo "Medians of $rounds alternating rounds of \`wrk -t<workers> -c$connections -d$duration --latency\`"
  echo "(pipeline: \`-s pipeline.lua -- 16\`), each after a ${warmup} warm-up. Per round:"
  echo
  echo "| server | workers | pipeline | round | req/s | p99 |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %.0f | %.2f ms |\n", $1, $2, ($3 > 1 ? $3 : "none"),
    $4, $5, $6 / 1000 }' "$results"
} >"$report"

cat "$report"
if [ -n "$out" ]; then cp "$report" "$out"; fi
log "raw wrk output and logs in $tmp"
