#!/usr/bin/env bash
# User-space memory per idle connection: the server's resident memory (VmRSS: user space only;
# socket buffers are kernel memory and not in it) before and after a loadgen process opens
# --connections idle connections to it, divided by the connections. Two states are measured:
# "fresh" (connected, nothing sent) and "used" (each connection exchanged one 64-byte echo frame,
# then went idle). Shoal (1 worker, default config but a long idle timeout) and the floor
# alternate, --rounds times, each run on a fresh server process. For scale, the kernel's
# unreclaimable slab growth (/proc/meminfo SUnreclaim: sockets, files, epoll items of both ends of
# every connection; system-wide, so other activity on the machine shows in it) is given too.
#
# The per-process file limit here is 20000: the soft limit is raised to the hard one, and client
# and server are separate processes.
#
# Usage: tools/bench/idle.sh [--connections=15000] [--rounds=3] [--out=DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/loadgen_bench_lib.sh

connections=15000 rounds=3 out=""
bench_flags 2,15 connections rounds out -- "$@"
out=${out:-$(mktemp -d /tmp/shoal-bench-idle.XXXXXX)}
mkdir -p "$out"

bash tools/install-deps.sh >&2
bench_build //server:shoal //tools/loadgen:loadgen //tools/bench/floor:floor_echo
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((connections + 100)) ]; then
  echo "idle.sh: the file limit $(ulimit -n) is below $connections connections" >&2
  exit 1
fi
trap bench_cleanup EXIT
bench_machine | tee "$out/machine.txt"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
slab_kib() { awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo; }

# measure SERVER STATE ROUND: prints "server state round conns rss_before rss_after per_conn kernel_per_conn"
measure() {
  local server=$1 state=$2 round=$3 port pid requests
  port=$(bench_free_port $((20000 + RANDOM % 10000)))
  if [ "$server" = shoal ]; then
    bench_shoal_config "$out/shoal.yaml" "$port" 1 "timeouts:" "  idle: 10m"
    "$BENCH_BIN/shoal" --config="$out/shoal.yaml" >"$out/shoal.log" 2>&1 &
  else
    "$BENCH_BIN/floor_echo" --port="$port" >"$out/floor.log" 2>&1 &
  fi
  pid=$!
  BENCH_PIDS+=("$pid")
  bench_wait_port "$port"
  local before pages_before
  before=$(rss_kib "$pid")
  pages_before=$(slab_kib)
  requests=0
  [ "$state" = used ] && requests=$connections
  local log="$out/loadgen-$server-$state-$round.log"
  "$BENCH_BIN/loadgen" --target="127.0.0.1:$port" --connections="$connections" --threads=1 \
    --requests="$requests" --size=64 --hold=10m --connect_timeout=30s --quiet 2>"$log" &
  local client=$!
  BENCH_PIDS+=("$client")
  local i
  for i in $(seq 1 1200); do
    grep -q "holding" "$log" && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "holding" "$log"; then
    echo "idle.sh: loadgen did not reach the hold:" >&2
    cat "$log" >&2
    exit 1
  fi
  local held after pages_after fds
  held=$(sed -n 's/.*holding \([0-9]*\) connections.*/\1/p' "$log")
  after=$(rss_kib "$pid")
  pages_after=$(slab_kib)
  fds=$(ls "/proc/$pid/fd" | wc -l)
  bench_stop "$client"
  bench_stop "$pid"
  awk -v s="$server" -v st="$state" -v r="$round" -v n="$held" -v b="$before" -v a="$after" \
      -v pb="$pages_before" -v pa="$pages_after" -v f="$fds" 'BEGIN {
    per = n > 0 ? (a - b) * 1024 / n : 0
    kernel = n > 0 ? (pa - pb) * 1024 / n : 0
    printf "%s\t%s\t%s\t%d\t%d\t%d\t%.0f\t%.0f\t%d\n", s, st, r, n, b, a, per, kernel, f }'
}

printf 'server\tstate\tround\tconnections\trss_before_kib\trss_after_kib\tbytes_per_conn\tkernel_slab_bytes_per_conn\tserver_fds\n' | tee "$out/results.tsv"
for round in $(seq 1 "$rounds"); do
  order=(shoal floor)
  [ $((round % 2)) = 0 ] && order=(floor shoal)
  for state in fresh used; do
    for server in "${order[@]}"; do
      measure "$server" "$state" "$round" | tee -a "$out/results.tsv"
    done
  done
done

echo
echo "idle: user-space memory per idle connection at $connections connections (median of $rounds rounds)"
printf '%-6s %-6s %14s %14s %22s\n' server state "RSS delta" "bytes/conn" "kernel slab bytes/conn"
for state in fresh used; do
  for server in shoal floor; do
    awk -F'\t' -v s="$server" -v st="$state" '$1 == s && $2 == st { print $7, ($6 - $5), $8 }' "$out/results.tsv" |
      sort -g | awk -v s="$server" -v st="$state" '{ v[NR] = $1; d[NR] = $2; k[NR] = $3 }
        END { m = int((NR + 1) / 2); printf "%-6s %-6s %11d KiB %14d %22d\n", s, st, d[m], v[m], k[m] }'
  done
done
echo "(target: shoal at most 1024 bytes/conn; all runs: $out/results.tsv)"
