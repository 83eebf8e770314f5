#!/usr/bin/env bash
# Soak test: runs tools/loadgen --verify against a real shoal for a fixed
# time, samples the server's RSS (/proc/PID/status VmRSS) and open descriptors (/proc/PID/fd) every
# second, and fails unless both are flat after the warm-up.
#
#   bash tools/soak/soak.sh [--duration=60s] [--out=FILE] [--samples=FILE] [--warmup=S]
#                           [--rate=20000] [--connections=50] [--pipeline=4] [--size=1KiB]
#                           [--workers=2] [--churn_every=5] [--keep]
#
# Load (moderate on purpose: the CI machine has 2 shared cores):
#   - steady: one loadgen, --connections (50) x --pipeline (4), --size (1 KiB) echo frames,
#     open loop at --rate (20000 req/s), --verify, for the whole --duration;
#   - churn: every --churn_every (5) seconds a short loadgen (20 new connections, 0.5 s, --verify)
#     whose frame size cycles 16 B, 4 KiB, 64 KiB, so connection setup/teardown and several
#     buffer sizes are exercised too. It runs in the foreground of the sampling loop and its
#     connections are closed before the next sample, so the fd samples see only the steady set.
#
# Checks (each counts once in the final line "soak: N passed, N failed", parsed by CI):
#   build; server started; steady loadgen exit 0 with 0 errors, 0 lost, verified == requests > 0;
#   every churn run verified with 0 errors; server alive through the run; RSS slope after warm-up
#   < 1024 KiB/min (or total growth after warm-up <= 512 KiB); |fd slope| after warm-up < 1/min;
#   idle fds after the load == idle fds before it (+-2); server exits 0 on SIGTERM.
# Slopes are least-squares fits over the samples taken after the warm-up (default: the larger of
# 20 s and 20 % of the duration; 20 s so the first churn cycle, whose 64 KiB frames at 15 s make
# the allocator grow its buffers once by ~300 KiB, is inside the warm-up). In short runs (CI, 60 s)
# one such step inside a 40 s window could look like a slope, so the RSS check also passes when
# RSS grew by at most 512 KiB in total after the warm-up: a real 1 MiB/min leak fails both.
# The script is bounded: loadgen gets --duration + 60 s before it is killed, a churn run 20 s,
# and every process it started is killed on exit (trap).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
source tools/bench/loadgen_bench_lib.sh

duration=60s
out=""
samples_out=""
warmup=""
rate=20000
connections=50
pipeline=4
size=1KiB
workers=2
churn_every=5
keep=0
rss_limit_kib_per_min=1024
rss_step_kib=512
fd_limit_per_min=1
fd_tolerance=2

for arg in "$@"; do
  case "$arg" in
    --duration=*) duration=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --samples=*) samples_out=${arg#*=} ;;
    --warmup=*) warmup=${arg#*=} ;;
    --rate=*) rate=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --pipeline=*) pipeline=${arg#*=} ;;
    --size=*) size=${arg#*=} ;;
    --workers=*) workers=${arg#*=} ;;
    --churn_every=*) churn_every=${arg#*=} ;;
    --keep) keep=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "soak: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

# Duration to whole seconds: 90, 90s, 10m, 1h.
to_seconds() {
  case "$1" in
    *h) echo $(( ${1%h} * 3600 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo $(( ${1%s} )) ;;
    *) echo $(( $1 )) ;;
  esac
}
if ! dur_s=$(to_seconds "$duration" 2>/dev/null) || [ "$dur_s" -lt 5 ]; then
  echo "soak: --duration must be at least 5s (e.g. 60s, 10m), not '$duration'" >&2
  exit 2
fi
if [ -z "$warmup" ]; then
  warmup_s=$(( dur_s / 5 ))
  [ "$warmup_s" -ge 20 ] || warmup_s=20
  [ "$warmup_s" -lt "$dur_s" ] || warmup_s=$(( dur_s / 2 ))
else
  warmup_s=$(to_seconds "$warmup") || exit 2
fi

passed=0
failed=0
summary=()
note() { summary+=("$*"); echo "$*"; }
check() {  # check NAME OK(0/1) DETAIL
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); note "PASS  $1: $3"
  else
    failed=$((failed + 1)); note "FAIL  $1: $3"
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
server_pid=""
steady_pid=""
churn_pid=""
cleanup() {
  for p in $churn_pid $steady_pid $server_pid; do
    kill "$p" 2>/dev/null
  done
  sleep 0.2
  for p in $churn_pid $steady_pid $server_pid; do
    kill -9 "$p" 2>/dev/null
  done
  if [ "$keep" -eq 1 ]; then echo "soak: files kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
  echo "soak: $passed passed, $failed failed" | tee -a "$tmp/summary"
  if [ -n "$out" ]; then
    { printf '%s\n' "${summary[@]}"; echo "soak: $passed passed, $failed failed"; } > "$out"
  fi
  [ -n "$samples_out" ] && [ -f "$tmp/samples.tsv" ] && cp "$tmp/samples.tsv" "$samples_out"
  [ "$failed" -eq 0 ] && exit 0 || exit 1
}

# --- build ---------------------------------------------------------------------------------------
echo "== bazel build -c opt //server:shoal //tools/loadgen:loadgen" >&2
if timeout 1800 bazel build -c opt //server:shoal //tools/loadgen:loadgen >"$tmp/build.log" 2>&1; then
  bin=$(bazel info -c opt bazel-bin 2>/dev/null)
  # Private copies: a concurrent build in this workspace cannot replace them mid-run.
  cp "$bin/server/shoal" "$bin/tools/loadgen/loadgen" "$tmp/" && check build 0 "shoal and loadgen (-c opt)"
else
  tail -20 "$tmp/build.log" >&2
  check build 1 "bazel build failed"
  finish
fi
shoal=$tmp/shoal
loadgen=$tmp/loadgen

# --- server --------------------------------------------------------------------------------------
bench_shoal_config "$tmp/shoal.yaml" 0 "$workers" level=info "  format: text"
"$shoal" --config="$tmp/shoal.yaml" 2>"$tmp/server.log" &
server_pid=$!
bench_listening_ports "$tmp/server.log" "$server_pid"
port=$BENCH_PORT
admin=127.0.0.1:$BENCH_ADMIN_PORT
if [ -z "$port" ] || ! kill -0 "$server_pid" 2>/dev/null; then
  cat "$tmp/server.log" >&2
  check server_start 1 "no 'listening:' line within 10 s"
  finish
fi
check server_start 0 "pid $server_pid, echo 127.0.0.1:$port, admin $admin, $workers workers"
target=127.0.0.1:$port

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null; }
fd_count() { ls "/proc/$server_pid/fd" 2>/dev/null | wc -l; }

sleep 0.5
idle_fds_before=$(fd_count)
idle_rss_before=$(rss_kib)

# --- load + sampling -----------------------------------------------------------------------------
echo "== soak: ${dur_s}s against $target: $connections connections x pipeline $pipeline, $size, rate $rate/s, churn every ${churn_every}s; warm-up ${warmup_s}s" >&2
"$loadgen" --target="$target" --protocol=echo --connections="$connections" --threads=1 \
  --pipeline="$pipeline" --size="$size" --rate="$rate" --duration="${dur_s}s" --verify \
  --quiet --json="$tmp/steady.json" >"$tmp/steady.out" 2>&1 &
steady_pid=$!

churn_sizes=(16 4KiB 64KiB)
churn_runs=0
churn_bad=0
churn_requests=0
server_died=0
timed_out=0
start=$(date +%s.%N)
printf 't_s\trss_kib\tfds\n' >"$tmp/samples.tsv"
i=0
while kill -0 "$steady_pid" 2>/dev/null; do
  i=$((i + 1))
  now=$(date +%s.%N)
  elapsed=$(awk -v a="$now" -v b="$start" 'BEGIN {printf "%d", a - b}')
  if [ "$elapsed" -gt $((dur_s + 60)) ]; then
    timed_out=1
    kill -9 "$steady_pid" 2>/dev/null
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then server_died=1; break; fi
  # Churn in the foreground, finished (connections closed) before the next sample.
  if [ "$churn_every" -gt 0 ] && [ $((i % churn_every)) -eq 0 ] && [ "$elapsed" -lt $((dur_s - 2)) ]; then
    csize=${churn_sizes[$((churn_runs % 3))]}
    timeout 20 "$loadgen" --target="$target" --protocol=echo --connections=20 --threads=1 \
      --pipeline=2 --size="$csize" --rate=2000 --duration=500ms --verify --quiet \
      --json="$tmp/churn.json" >"$tmp/churn.out" 2>&1
    code=$?
    churn_runs=$((churn_runs + 1))
    errs=$(sed -n 's/.*"errors": {"total": \([0-9]*\).*/\1/p' "$tmp/churn.json" 2>/dev/null)
    reqs=$(sed -n 's/^  "requests": \([0-9]*\),/\1/p' "$tmp/churn.json" 2>/dev/null)
    churn_requests=$((churn_requests + ${reqs:-0}))
    if [ "$code" -ne 0 ] || [ "${errs:-1}" != 0 ]; then
      churn_bad=$((churn_bad + 1))
      { echo "churn run $churn_runs (size $csize) exit $code:"; cat "$tmp/churn.out"; } >>"$tmp/churn-failures.log"
    fi
    rm -f "$tmp/churn.json"
    sleep 0.3
  fi
  # Sample on (roughly) whole seconds since the start.
  now=$(date +%s.%N)
  nap=$(awk -v a="$now" -v b="$start" -v i="$i" 'BEGIN {d = (b + i) - a; if (d < 0.05) d = 0.05; printf "%.3f", d}')
  sleep "$nap"
  kill -0 "$steady_pid" 2>/dev/null || break
  # The last second is loadgen closing its connections: not a steady-state sample.
  in_window=$(awk -v a="$(date +%s.%N)" -v b="$start" -v d="$dur_s" 'BEGIN {print (a - b < d - 1) ? 1 : 0}')
  [ "$in_window" -eq 1 ] || continue
  r=$(rss_kib)
  f=$(fd_count)
  [ -n "$r" ] || { server_died=1; break; }
  t=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {printf "%.3f", a - b}')
  printf '%s\t%s\t%s\n' "$t" "$r" "$f" >>"$tmp/samples.tsv"
  if [ $((i % 30)) -eq 0 ]; then echo "  t=${t}s rss=${r}KiB fds=$f churn_runs=$churn_runs" >&2; fi
done
wait "$steady_pid" 2>/dev/null
steady_code=$?
[ "$timed_out" -eq 1 ] && steady_code=124
steady_pid=""

# --- steady loadgen result -----------------------------------------------------------------------
j=$tmp/steady.json
num() { sed -n "s/^  \"$1\": \([0-9.]*\),\{0,1\}$/\1/p" "$j" 2>/dev/null | head -1; }
requests=$(num requests); verified=$(num verified); lost=$(num lost); rps=$(num requests_per_second)
errors=$(sed -n 's/.*"errors": {"total": \([0-9]*\).*/\1/p' "$j" 2>/dev/null)
errline=$(sed -n 's/.*"errors": {\(.*\)},\{0,1\}$/\1/p' "$j" 2>/dev/null)
p99=$(sed -n 's/.*"corrected": {.*"p99": \([0-9]*\),.*/\1/p' "$j" 2>/dev/null)
ok=1
if [ "$steady_code" -eq 0 ] && [ "${errors:-1}" = 0 ] && [ "${lost:-1}" = 0 ] \
   && [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ "$verified" = "$requests" ]; then ok=0; fi
[ "$ok" -eq 0 ] || cat "$tmp/steady.out" >&2
check loadgen_verify "$ok" "exit $steady_code; ${requests:-?} requests (${rps%.*} req/s), ${verified:-?} verified byte for byte, errors ${errors:-?} ($errline), lost ${lost:-?}, p99 $(awk -v n="${p99:-0}" 'BEGIN {printf "%.2f", n / 1e6}') ms"
ok=0; [ "$churn_bad" -eq 0 ] && [ "$churn_runs" -gt 0 ] || ok=1
[ "$churn_every" -gt 0 ] || ok=0
[ "$ok" -eq 0 ] || cat "$tmp/churn-failures.log" >&2 2>/dev/null
check churn_verify "$ok" "$churn_runs runs x 20 new connections (16 B / 4 KiB / 64 KiB), $churn_requests requests, $churn_bad failed"
alive=1; kill -0 "$server_pid" 2>/dev/null && [ "$server_died" -eq 0 ] && alive=0
[ "$alive" -eq 0 ] || tail -20 "$tmp/server.log" >&2
check server_alive "$alive" "$( [ "$alive" -eq 0 ] && echo "running after ${dur_s}s of load" || echo "server died during the soak")"

# --- slopes --------------------------------------------------------------------------------------
# Least squares over samples with t >= warm-up; slope in units per minute.
stats=$(awk -v w="$warmup_s" 'NR > 1 {
    n_all++; if (n_all == 1) { rss0 = $2; fd0 = $3 }
    rssN = $2; fdN = $3; if ($2 > peak) peak = $2
    if ($1 >= w) {
      n++; if (n == 1) { rssW = $2; fdW = $3 }
      sx += $1; sy += $2; sz += $3; sxx += $1 * $1; sxy += $1 * $2; sxz += $1 * $3
      if (fmin == "" || $3 < fmin) fmin = $3; if ($3 > fmax) fmax = $3; if ($2 > pa) pa = $2
    }
  }
  END {
    d = n * sxx - sx * sx
    if (n < 5 || d <= 0) { print "n=" n; exit }
    printf "n=%d rss_slope=%.1f fd_slope=%.3f rss0=%d rssW=%d rssN=%d peak=%d peak_after=%d fd0=%d fdW=%d fdN=%d fmin=%d fmax=%d\n",
      n, (n * sxy - sx * sy) / d * 60, (n * sxz - sx * sz) / d * 60, rss0, rssW, rssN, peak, pa, fd0, fdW, fdN, fmin, fmax
  }' "$tmp/samples.tsv")
for kv in $stats; do declare "s_${kv%%=*}=${kv#*=}"; done
if [ -z "${s_rss_slope:-}" ]; then
  check rss_slope 1 "only ${s_n:-0} samples after the ${warmup_s}s warm-up"
  check fd_slope 1 "only ${s_n:-0} samples after the ${warmup_s}s warm-up"
else
  growth=$((s_peak_after - s_rssW))
  ok=$(awk -v s="$s_rss_slope" -v l="$rss_limit_kib_per_min" -v g="$growth" -v m="$rss_step_kib" \
    'BEGIN {print (s < l || g <= m) ? 0 : 1}')
  check rss_slope "$ok" "$s_rss_slope KiB/min over $s_n samples after ${warmup_s}s (limit < $rss_limit_kib_per_min, or growth after warm-up <= $rss_step_kib KiB: it was $growth KiB); RSS idle $idle_rss_before KiB, first sample $s_rss0, at warm-up end $s_rssW, last $s_rssN, peak $s_peak KiB"
  ok=$(awk -v s="$s_fd_slope" -v l="$fd_limit_per_min" 'BEGIN {if (s < 0) s = -s; print (s < l) ? 0 : 1}')
  check fd_slope "$ok" "$s_fd_slope fds/min (limit |slope| < $fd_limit_per_min); fds under load: first $s_fd0, at warm-up end $s_fdW, last $s_fdN, min $s_fmin, max $s_fmax"
fi

# --- idle fds after the load, shutdown -----------------------------------------------------------
idle_fds_after=-1
if [ "$alive" -eq 0 ]; then
  for _ in $(seq 20); do  # the server closes each connection once it sees the client's FIN
    idle_fds_after=$(fd_count)
    [ $((idle_fds_after - idle_fds_before)) -le "$fd_tolerance" ] && break
    sleep 0.25
  done
fi
idle_rss_after=$(rss_kib)
d=$((idle_fds_after - idle_fds_before)); [ "$d" -ge 0 ] || d=$((-d))
ok=1; [ "$idle_fds_after" -ge 0 ] && [ "$d" -le "$fd_tolerance" ] && ok=0
check idle_fds "$ok" "idle fds before the load $idle_fds_before, after $idle_fds_after (tolerance +-$fd_tolerance); idle RSS before ${idle_rss_before:-?} KiB, after ${idle_rss_after:-?} KiB"

if [ "$alive" -eq 0 ]; then
  kill -TERM "$server_pid"
  code=124
  for _ in $(seq 150); do
    if ! kill -0 "$server_pid" 2>/dev/null; then wait "$server_pid"; code=$?; break; fi
    sleep 0.1
  done
  server_pid_done=$server_pid
  [ "$code" -eq 124 ] || server_pid=""
  check shutdown "$([ "$code" -eq 0 ] && echo 0 || echo 1)" "SIGTERM: exit $code (pid $server_pid_done)"
else
  check shutdown 1 "server was not running"
fi
note "soak: duration ${dur_s}s, warm-up ${warmup_s}s, $(($(wc -l <"$tmp/samples.tsv") - 1)) samples; steady load $connections connections x pipeline $pipeline, $size, rate $rate/s, $workers workers"
finish
