#!/usr/bin/env bash
# Cluster scenarios under load (root; a fresh cluster per scenario, see cluster.sh / lib.sh):
#
#   tools/cluster/run.sh [--scenario=NAME|all] [--balancer=haproxy|nftables|both]
#                        [--shoal=PATH] [--loadgen=PATH] [--out=DIR] [--nft_mode=random|inc]
#   (--nft_mode: the nftables DNAT choice; default random, round-robin `inc` for scaleout)
#
#   rolling   every host replaced one by one, the Kubernetes way: endpoint removed, a preStop wait
#             longer than max_connection_age (+ jitter) so its connections end at a request
#             boundary, SIGTERM (drain), a new process, /readyz, back in the set. Zero errors.
#   upgrade   the same with an in-place SIGUSR2 upgrade instead of a new process. Zero errors.
#   inplace   SIGUSR2 on every host with no endpoint removal: nothing refused or reset, and the
#             old process's drain answers each busy keep-alive connection's next request last
#             (`Connection: close`), so the client reconnects to the successor. Zero errors.
#   kill9     kill -9 of one host under load: errors at most its connections' requests in flight,
#             removal by the balancer within check interval x fall.
#   scaleout  3 -> 4 hosts with max_connection_age 3s: within age + jitter + check interval the
#             new host carries its share: per-host active connections max/min <= 1.3.
#   per_source  (HAProxy send-proxy-v2 -> hosts with proxy_protocol v2, trusted_proxies = the
#             balancer): two client addresses, one over limits.max_connections_per_source is
#             refused, the other is served. Behind HAProxy it needs a shoal with the PROXY
#             protocol (not in "all"); behind nftables DNAT the hosts see the client address.
#   per_source_control  HAProxy without the PROXY protocol: the limit sees the balancer's
#             address, so the client under its limit is refused as well (asserted).
#
# NAME may be a comma-separated list; all = rolling upgrade inplace kill9 scaleout. Each scenario
# prints one result line, also kept in OUT/results.txt (default /tmp/shoalc-results) next to each
# run's loadgen JSON and timeline. Without --shoal/--loadgen the binaries are built with
# bazel -c opt. Exit 0 when every scenario passed. Runs are serialized by a lock.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

scenario=all
balancers=haproxy
SHOAL=${SHOAL:-}
LOADGEN=${LOADGEN:-}
out=/tmp/${PREFIX}results
NFT_MODE=
for arg in "$@"; do
  case $arg in
    --scenario=*) scenario=${arg#*=} ;;
    --balancer=*) balancers=${arg#*=} ;;
    --shoal=*) SHOAL=${arg#*=} ;;
    --loadgen=*) LOADGEN=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --nft_mode=*) NFT_MODE=${arg#*=} ;;
    *) die "unknown argument $arg (see the header of $0)" ;;
  esac
done
[ "$balancers" = both ] && balancers="haproxy nftables"
scenario=" ${scenario//,/ } "
scenario=${scenario// all / rolling upgrade inplace kill9 scaleout }
for s in $scenario; do
  case $s in
    rolling | upgrade | inplace | kill9 | scaleout | per_source | per_source_control) ;;
    *) die "unknown scenario $s (see the header of $0)" ;;
  esac
done
export NFT_MODE

if [ -z "$SHOAL" ] || [ -z "$LOADGEN" ]; then
  root=$(cd "$CLUSTER_LIB_DIR/../.." && pwd)
  (cd "$root" && bazel build -c opt //server:shoal //tools/loadgen >&2) || die "bazel build failed"
  bin=$(cd "$root" && bazel info -c opt bazel-bin 2>/dev/null)
  mkdir -p "/tmp/${PREFIX}bin"
  cp "$bin/server/shoal" "$bin/tools/loadgen/loadgen" "/tmp/${PREFIX}bin/"
  SHOAL=/tmp/${PREFIX}bin/shoal
  LOADGEN=/tmp/${PREFIX}bin/loadgen
fi
SHOAL=$(readlink -f "$SHOAL")
LOADGEN=$(readlink -f "$LOADGEN")
export SHOAL

if ! reason=$(netns_available); then
  echo "SKIP: cluster scenarios need network namespaces: $reason"
  exit 0
fi

exec 9>"/run/${PREFIX}cluster.lock"
flock -w 300 9 || die "another cluster run holds /run/${PREFIX}cluster.lock"
mkdir -p "$out"
: >"$out/results.txt"
trap 'cluster_down' EXIT
trap 'exit 130' INT TERM

TOOL="$CLUSTER_LIB_DIR/cluster_tool.py"
# Per connection one request every 50 ms, well under the 250 ms "recent input" rule, so a
# connection reaching its age ends with an answered last request (HTTP `Connection: close`), which
# loadgen's http client follows without an error, even when the client stalls for 200 ms on a busy
# machine. A connection idle at its age is closed without that mark: an `eof` (and the request it
# sends at that instant is lost), as with any server closing idle keep-alive connections.
PER_CONNECTION_RATE=20

result() { echo "$*" | tee -a "$out/results.txt"; }

# start_load NAME CONNECTIONS DURATION: verified http load on the service from the client
# namespace, open loop, per-second timeline; sets LOAD_PID; returns once every connection is up.
start_load() {
  local name=$1 connections=$2 duration=$3
  rm -f "$out/$name.json" "$out/$name.timeline"
  ip netns exec "$CLIENT_NS" "$LOADGEN" --target="$VIP:$SERVICE_PORT" --protocol=http --verify \
    --connections="$connections" --threads=1 --rate=$((connections * PER_CONNECTION_RATE)) \
    --duration="$duration" --timeout=5s --mark_signal --quiet \
    --json="$out/$name.json" --timeline="$out/$name.timeline" 2>"$out/$name.loadgen.log" &
  LOAD_PID=$!
  # loadgen writes its timeline at the end: wait until the hosts hold every connection.
  local deadline=$((SECONDS + 10)) hosts
  hosts=$(seq 1 "$(cat "$CLUSTER_DIR/hosts")" | while read -r i; do [ -n "$(host_pid "$i")" ] && echo "$i"; done)
  until [ "$(active_on $hosts | awk '{for (i = 1; i < NF; i++) s += $i} END {print s + 0}')" -ge "$connections" ]; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$LOAD_PID" 2>/dev/null; then
      echo "FAIL  $name: the hosts did not get all $connections connections within 10s"
      cat "$out/$name.loadgen.log"
      return 1
    fi
    sleep 0.1
  done
}

# wait_load NAME SECONDS: the load ends on its own within SECONDS, else it is killed (a failure).
wait_load() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$LOAD_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if kill -0 "$LOAD_PID" 2>/dev/null; then
    kill -KILL "$LOAD_PID"
    echo "FAIL  $1: loadgen did not finish in time"
    return 1
  fi
  wait "$LOAD_PID"
  local code=$?
  [ "$code" -le 1 ] || { echo "FAIL  $1: loadgen exited $code"; cat "$out/$1.loadgen.log"; return 1; }
}

# still_loading NAME: the scenario's actions must end inside the load window.
still_loading() {
  kill -0 "$LOAD_PID" 2>/dev/null || { echo "FAIL  $1: the load ended before the scenario's actions"; return 1; }
}

active_on() {
  local urls=() i
  for i in "$@"; do urls+=("http://$(host_addr "$i"):$ADMIN_PORT/metrics"); done
  in_ns "$LB_NS" "$PY" "$TOOL" active "${urls[@]}"
}

mark_load() { kill -USR1 "$LOAD_PID" 2>/dev/null; }

# The preStop wait: long enough for the balancer to stop routing (it already has: lb_wait) and for
# every connection to reach max_connection_age + jitter, plus the 250 ms recent-input rule and a
# margin. This is what deploy/k8s's preStop must cover too.
prestop_seconds() { "$PY" -c "print(${MAX_AGE%s} * 1.1 + 0.25 + 0.5)"; }

scenario_rolling() {
  local balancer=$1 mode=$2 name="rolling-$2-$1" i left removal=- t0 t_host pid
  export MAX_AGE=2s
  cluster_up 3 3 "$balancer" || return 1
  local prestop
  prestop=$(prestop_seconds)s
  [ "$mode" = inplace ] && prestop="none (no endpoint removal)"
  start_load "$name" 60 "$([ "$mode" = inplace ] && echo 8s || echo 17s)" || return 1
  sleep 1
  local hold_max=0 replaced=0
  t0=$SECONDS
  for i in 1 2 3; do
    still_loading "$name" || return 1
    t_host=$SECONDS
    if [ "$mode" != inplace ]; then
      lb_remove "$i" >/dev/null
      removal=$(lb_wait "$i" out 5) || return 1
      sleep "${prestop%s}"
      left=$(active_on "$i" | awk '{print $1}')
      [ "$left" -gt "$hold_max" ] && hold_max=$left
    fi
    if [ "$mode" = restart ]; then
      host_stop "$i" 10 || return 1
      host_start "$i" || return 1
    else
      pid=$(host_pid "$i")
      host_signal "$i" USR2
      local deadline=$((SECONDS + 10))
      while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
      ! kill -0 "$pid" 2>/dev/null || { echo "FAIL  $name: host $i's old process did not exit"; return 1; }
      [ "$(host_pid "$i")" != "$pid" ] || { echo "FAIL  $name: host $i's pid file not rewritten"; return 1; }
      host_wait_ready "$i" 5 || return 1
    fi
    if [ "$mode" != inplace ]; then
      lb_add "$i" >/dev/null
      lb_wait "$i" in 5 >/dev/null || return 1
    fi
    replaced=$((replaced + 1))
    echo "  host $i: out of the balancer in ${removal}s, replaced ($mode) in $((SECONDS - t_host))s"
  done
  local actions=$((SECONDS - t0))
  still_loading "$name" || return 1
  wait_load "$name" 40 || return 1
  # In place (no endpoint removal) too: the old process's drain answers the next request of a
  # connection that sent within the last 250 ms (every one at this load) with `Connection: close`.
  local bounds=(--max_errors 0 --max_lost 0) report ok
  report=$("$PY" "$TOOL" report --name "$name" --json "$out/$name.json" --timeline "$out/$name.timeline" "${bounds[@]}")
  ok=$?
  result "$name: $replaced hosts replaced in ${actions}s, preStop $prestop, connections left at SIGTERM max $hold_max; $report"
  [ $ok -eq 0 ] || return 1
  [ "$hold_max" -eq 0 ] || { echo "FAIL  $name: a host still had $hold_max connections when it was stopped"; return 1; }
}

scenario_kill9() {
  local balancer=$1 name="kill9-$1" victim=2 active removal bound kill_t
  export MAX_AGE=0s
  cluster_up 3 3 "$balancer" || return 1
  start_load "$name" 90 7s || return 1
  sleep 2
  active=$(active_on "$victim" | awk '{print $1}')
  local killed_at logged
  killed_at=$(date +%s.%N)
  kill -KILL "$(host_pid "$victim")"
  mark_load
  removal=$(lb_wait "$victim" out 10) || return 1
  logged=$("$PY" "$TOOL" log-removal --server "h$victim" --since "$killed_at" \
    --log "$CLUSTER_DIR/$([ "$balancer" = haproxy ] && echo haproxy.log || echo nft-controller.log)") || return 1
  bound=$("$PY" -c "print($CHECK_INTER_MS * $CHECK_FALL / 1000)")
  wait_load "$name" 30 || return 1
  kill_t=$(grep '"mark"' "$out/$name.timeline" | head -1 | sed -E 's/.*"t": *([0-9.]+).*/\1/')
  # Requests lost (in flight when their connection failed) <= the victim's connections (pipeline
  # 1). loadgen also counts an idle connection's close as an `eof` error event with nothing lost;
  # a reconnect racing the dying listener (handshake done, then reset) may add one more per
  # connection: events <= 2 x connections.
  # HAProxy redispatches a connect to the dead host (retries + redispatch): no connect error. The
  # nftables set is plain DNAT: until the controller drops the host, a new connection may be sent
  # there and refused (kube-proxy behaves the same); those connect errors must lie in the removal
  # window.
  local kinds=reset,eof,timeout
  local report
  report=$("$PY" "$TOOL" report --name "$name" --json "$out/$name.json" --timeline "$out/$name.timeline" \
    --kinds "$kinds" --max_errors $((2 * active)) --max_lost "$active" $([ "$balancer" = haproxy ] && echo --others_zero))
  local ok=$?
  result "$name: host $victim killed at t=${kill_t}s with $active connections (1 request in flight each at most)," \
    "out of the balancer ${logged}s after the kill (its log; polling saw it ${removal}s after it started);" \
    "bound ${CHECK_INTER_MS}ms x $CHECK_FALL = ${bound}s; $report"
  [ $ok -eq 0 ] || return 1
  # The log line's time counts from the kill itself (polling starts a process later).
  "$PY" -c "import sys; sys.exit(0 if $logged <= $bound + 0.2 else 1)" ||
    { echo "FAIL  $name: removal ${logged}s after the kill > ${bound}s + 0.2s"; return 1; }
  if [ "$balancer" = nftables ]; then
    "$PY" - "$out/$name.timeline" "$kill_t" "$removal" <<'EOF' || return 1
import json, math, sys
kill_t, removal = float(sys.argv[2]), float(sys.argv[3])
late = []
for line in open(sys.argv[1]):
    row = json.loads(line)
    if "mark" not in row and row.get("errors", {}).get("connect", 0) and row["t"] > kill_t + removal + 1:
        late.append(row["t"])
if late:
    print(f"FAIL  connect errors after the removal window: seconds {late}")
    sys.exit(1)
EOF
  fi
}

scenario_scaleout() {
  local balancer=$1 name="scaleout-$1" age=3 connections spread settle t_in
  connections=200
  # kube-proxy's random choice spreads N connections over 4 hosts with a binomial error: max/min
  # exceeds 1.3 with 600 connections about one run in ten. The scenario balances round-robin
  # (numgen inc, like IPVS rr) unless --nft_mode=random asks for the statistical figure.
  local mode=${NFT_MODE:-inc}
  [ "$balancer" = nftables ] && [ "$mode" = random ] && connections=600
  export MAX_AGE=${age}s
  NFT_MODE=$mode cluster_up 4 3 "$balancer" || return 1
  start_load "$name" "$connections" 16s || return 1
  sleep 2
  echo "  before (h1..h3, max/min): $(active_on 1 2 3)"
  host_start 4 || return 1
  lb_add 4 >/dev/null
  t_in=$SECONDS
  lb_wait 4 in 5 >/dev/null || return 1
  # age + 10 % jitter + one check interval (+ 0.5 s for the closes' request boundary and a scrape).
  settle=$("$PY" -c "print(round($age * 1.1 + $CHECK_INTER_MS / 1000 + 0.5, 2))")
  sleep "$settle"
  still_loading "$name" || return 1
  spread=$(active_on 1 2 3 4)
  local samples="$spread" s
  for s in 1 2; do sleep 1; samples="$samples | $(active_on 1 2 3 4)"; done
  wait_load "$name" 30 || return 1
  local report ok ratio
  report=$("$PY" "$TOOL" report --name "$name" --json "$out/$name.json" --timeline "$out/$name.timeline" --max_errors 0 --max_lost 0)
  ok=$?
  ratio=${spread##* }
  result "$name: $connections connections$([ "$balancer" = nftables ] && echo " (numgen $mode)"), max_connection_age ${age}s+10%; ${settle}s after host 4 joined," \
    "active per host (h1..h4, max/min) = $spread; later: $samples; $report"
  [ $ok -eq 0 ] || return 1
  "$PY" -c "import sys; sys.exit(0 if $ratio <= 1.3 else 1)" ||
    { echo "FAIL  $name: per-host max/min $ratio > 1.3"; return 1; }
}

# scenario_per_source BALANCER [control]: control = HAProxy without the PROXY protocol, where every
# connection reaches the host from the balancer's address: the client under its limit is refused
# too (what the PROXY protocol is for; it also shows the check can fail).
scenario_per_source() {
  local balancer=$1 control=${2:-} name="per_source-$1${2:+-control}" limit=5 over under
  if [ "$balancer" = haproxy ] && [ -z "$control" ]; then
    export PROXY_PROTOCOL=v2 SEND_PROXY=1
    host_config 1 "$out/proxy-check.yaml"
    if ! "$SHOAL" --check_config --config="$out/proxy-check.yaml" >"$out/proxy-check.log" 2>&1; then
      echo "FAIL  $name: this shoal rejects listeners[].proxy_protocol / trusted_proxies (built without the PROXY protocol?):"
      cat "$out/proxy-check.log"
      unset PROXY_PROTOCOL SEND_PROXY
      return 1
    fi
  fi
  PER_SOURCE_LIMIT=$limit MAX_AGE=0s cluster_up 1 1 "$balancer" || { unset PROXY_PROTOCOL SEND_PROXY; return 1; }
  unset PROXY_PROTOCOL SEND_PROXY
  # One host, so each client's connections all meet the same per-source count.
  in_ns "$CLIENT_NS" "$PY" "$TOOL" per-source --target "$VIP:$SERVICE_PORT" --source "${CLIENT_ADDRS[0]}" \
    --connections $((limit + 3)) --hold 3 >"$out/$name.over" &
  local over_pid=$!
  sleep 1
  under=$(in_ns "$CLIENT_NS" "$PY" "$TOOL" per-source --target "$VIP:$SERVICE_PORT" --source "${CLIENT_ADDRS[1]}" \
    --connections "$limit")
  wait "$over_pid"
  over=$(cat "$out/$name.over")
  local refused
  refused=$(host_metrics 1 | awk '/^shoal_connections_closed_total\{.*reason="source_limit"/ {s += $2} END {print s + 0}')
  result "$name: limit $limit per source; ${CLIENT_ADDRS[0]} opened $((limit + 3)), $over answered;" \
    "${CLIENT_ADDRS[1]} opened $limit, $under answered; closed with source_limit: $refused"
  [ "$over" -eq "$limit" ] || { echo "FAIL  $name: the client over its limit got $over answers, want $limit"; return 1; }
  if [ -n "$control" ]; then
    [ "$under" -eq 0 ] || { echo "FAIL  $name: without the PROXY protocol the other client got $under answers, want 0"; return 1; }
    return 0
  fi
  [ "$under" -eq "$limit" ] || { echo "FAIL  $name: the other client got $under answers, want $limit (the limit saw the balancer, not the client?)"; return 1; }
  [ "$refused" -ge 3 ] || { echo "FAIL  $name: $refused closes with reason source_limit, want >= 3"; return 1; }
}

failed=0
passed=0
for balancer in $balancers; do
  for s in $scenario; do
    echo "== $s ($balancer)"
    start=$SECONDS
    case $s in
      rolling) scenario_rolling "$balancer" restart ;;
      upgrade) scenario_rolling "$balancer" sigusr2 ;;
      inplace) scenario_rolling "$balancer" inplace ;;
      kill9) scenario_kill9 "$balancer" ;;
      scaleout) scenario_scaleout "$balancer" ;;
      per_source) scenario_per_source "$balancer" ;;
      per_source_control) scenario_per_source "$balancer" control ;;
    esac
    if [ $? -eq 0 ]; then
      echo "PASS  $s ($balancer) in $((SECONDS - start))s"
      passed=$((passed + 1))
    else
      echo "FAIL  $s ($balancer) in $((SECONDS - start))s (logs: $CLUSTER_DIR, $out)"
      cp -r "$CLUSTER_DIR" "$out/cluster-$s-$balancer" 2>/dev/null
      failed=$((failed + 1))
    fi
    cluster_down
  done
done
echo "cluster: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
