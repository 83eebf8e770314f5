# shellcheck shell=bash
# The cluster's building blocks, sourced by cluster.sh and run.sh (root only).
#
# Layout (every address lives inside the namespaces below; the host's own stack is not touched):
#   ${PREFIX}lb      the balancer: bridge br0 10.77.0.1/24 (hosts), link vc 10.77.1.1/24 (client),
#                    the service address (VIP) 10.77.9.1/32 on lo, ip_forward on. HAProxy or the
#                    nftables DNAT table + its controller run here.
#   ${PREFIX}client  10.77.1.2 and 10.77.1.3 (two client addresses), default route via the lb.
#   ${PREFIX}hI      host I: 10.77.0.(10+I)/24 on eth0 (a veth whose peer is a bridge port in the
#                    lb namespace), default route via the lb; shoal serves http on :7000 and its
#                    admin endpoint on :9100.
# State (configs, pids, logs, the HAProxy runtime socket) is in $CLUSTER_DIR.
# Every wait is bounded by a deadline; cleanup kills only the processes inside our namespaces.

PREFIX=${SHOAL_CLUSTER_PREFIX:-shoalc-}
CLUSTER_DIR=${SHOAL_CLUSTER_DIR:-/tmp/${PREFIX}cluster}
LB_NS=${PREFIX}lb
CLIENT_NS=${PREFIX}client
VIP=10.77.9.1
SERVICE_PORT=7000
ADMIN_PORT=9100
LB_HOST_SIDE=10.77.0.1
CLIENT_ADDRS=(10.77.1.2 10.77.1.3)
MAX_HOSTS=8
CLUSTER_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

# Balancer reaction: HAProxy checks /readyz every CHECK_INTER_MS, a host is out after CHECK_FALL
# failures and back after CHECK_RISE successes. The nftables controller uses the same numbers.
CHECK_INTER_MS=${CHECK_INTER_MS:-500}
CHECK_FALL=${CHECK_FALL:-2}
CHECK_RISE=${CHECK_RISE:-1}

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: error: $*" >&2; exit 1; }

host_ns() { echo "${PREFIX}h$1"; }
host_addr() { echo "10.77.0.$((10 + $1))"; }
host_pid_file() { echo "$CLUSTER_DIR/h$1.pid"; }
host_pid() { cat "$(host_pid_file "$1")" 2>/dev/null || true; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

our_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^${PREFIX}" || true; }

# Kills every process inside one of our namespaces (TERM, then KILL after 2 s) and deletes the
# namespaces: removing a namespace removes its veths, bridge, addresses and nft tables with it.
cluster_down() {
  local ns pids deadline
  for ns in $(our_namespaces); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
  done
  deadline=$((SECONDS + 2))
  for ns in $(our_namespaces); do
    while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  done
  for ns in $(our_namespaces); do
    deadline=$((SECONDS + 3))
    while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
  done
  return 0
}

# Can this process create network namespaces? (Not in an unprivileged container or sandbox.)
netns_available() {
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }
  command -v ip >/dev/null || { echo "iproute2 (ip) not found"; return 1; }
  local probe="${PREFIX}probe$$"
  ip netns add "$probe" 2>/dev/null || { echo "cannot create a network namespace (ip netns add)"; return 1; }
  if ! ip link add eth0 netns "$probe" type veth peer name eth1 netns "$probe" 2>/dev/null; then
    ip netns del "$probe"
    echo "cannot create a veth pair in a network namespace"
    return 1
  fi
  ip netns del "$probe"
}

network_up() {
  local hosts=$1 i
  ip netns add "$LB_NS"
  ip netns add "$CLIENT_NS"
  in_ns "$LB_NS" ip link set lo up
  in_ns "$LB_NS" ip addr add "$VIP/32" dev lo
  in_ns "$LB_NS" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$LB_NS" ip link add br0 type bridge
  in_ns "$LB_NS" ip addr add "$LB_HOST_SIDE/24" dev br0
  in_ns "$LB_NS" ip link set br0 up

  ip link add eth0 netns "$CLIENT_NS" type veth peer name vc netns "$LB_NS"
  in_ns "$LB_NS" ip addr add 10.77.1.1/24 dev vc
  in_ns "$LB_NS" ip link set vc up
  in_ns "$CLIENT_NS" ip link set lo up
  for a in "${CLIENT_ADDRS[@]}"; do in_ns "$CLIENT_NS" ip addr add "$a/24" dev eth0; done
  in_ns "$CLIENT_NS" ip link set eth0 up
  in_ns "$CLIENT_NS" ip route add default via 10.77.1.1 src "${CLIENT_ADDRS[0]}"

  for ((i = 1; i <= hosts; i++)); do host_network_up "$i"; done
}

host_network_up() {
  local i=$1 ns
  ns=$(host_ns "$i")
  ip netns add "$ns"
  ip link add eth0 netns "$ns" type veth peer name "vh$i" netns "$LB_NS"
  in_ns "$LB_NS" ip link set "vh$i" master br0 up
  in_ns "$ns" ip link set lo up
  in_ns "$ns" ip addr add "$(host_addr "$i")/24" dev eth0
  in_ns "$ns" ip link set eth0 up
  in_ns "$ns" ip route add default via "$LB_HOST_SIDE"
}

# host_config I FILE: the shoal config of host I (environment: MAX_AGE, PROXY_PROTOCOL,
# PER_SOURCE_LIMIT).
host_config() {
  local file=$2
  {
    echo "workers: 1"
    echo "listeners:"
    echo "  - name: http"
    echo "    address: 0.0.0.0:$SERVICE_PORT"
    echo "    protocol: http"
    if [ "${PROXY_PROTOCOL:-off}" != off ]; then
      echo "    proxy_protocol: $PROXY_PROTOCOL"
      echo "    trusted_proxies: [$LB_HOST_SIDE/32]"
    fi
    echo "limits:"
    echo "  max_connections: 10000"
    echo "  max_connection_age: ${MAX_AGE:-0s}"
    echo "  max_connection_age_jitter: 10%"
    [ -n "${PER_SOURCE_LIMIT:-}" ] && echo "  max_connections_per_source: $PER_SOURCE_LIMIT"
    echo "timeouts:"
    echo "  drain: 5s"
    echo "admin:"
    echo "  address: 0.0.0.0:$ADMIN_PORT"
    echo "logging:"
    echo "  level: info"
    echo "  format: text"
  } >"$file"
}

# host_start I: starts shoal in host I's namespace (binary $SHOAL) and waits for /readyz.
host_start() {
  local i=$1 ns
  ns=$(host_ns "$i")
  host_config "$i" "$CLUSTER_DIR/h$i.yaml"
  rm -f "$(host_pid_file "$i")"
  ulimit -n 65536 2>/dev/null || true
  ip netns exec "$ns" "$SHOAL" --config="$CLUSTER_DIR/h$i.yaml" --pid_file="$(host_pid_file "$i")" \
    >>"$CLUSTER_DIR/h$i.log" 2>&1 &
  local pid=$!
  disown
  host_wait_ready "$i" 10 "$pid" || { log "host $i not ready:"; tail -5 "$CLUSTER_DIR/h$i.log" >&2; return 1; }
}

# host_wait_ready I TIMEOUT [PID]: until host I's /readyz answers 200 (false if PID exits first).
host_wait_ready() {
  local i=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  while [ $SECONDS -lt $deadline ]; do
    in_ns "$LB_NS" curl -sf -o /dev/null --max-time 1 "http://$(host_addr "$i"):$ADMIN_PORT/readyz" && return 0
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# host_signal I SIGNAL
host_signal() {
  local pid
  pid=$(host_pid "$1")
  [ -n "$pid" ] || die "host $1 has no pid file"
  kill "-$2" "$pid"
}

# host_stop I [TIMEOUT]: SIGTERM and wait for the process to exit (it drains first).
host_stop() {
  local i=$1 timeout=${2:-10} pid deadline
  pid=$(host_pid "$i")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
  ! kill -0 "$pid" 2>/dev/null || { log "host $i (pid $pid) still running after ${timeout}s"; return 1; }
}

host_metrics() {
  in_ns "$LB_NS" curl -sS --max-time 2 "http://$(host_addr "$1"):$ADMIN_PORT/metrics"
}

# --- HAProxy -----------------------------------------------------------------------------------
haproxy_config() {
  local hosts=$1 enabled=$2 i
  cat <<EOF
global
  log stdout format iso local0 notice
  stats socket $CLUSTER_DIR/haproxy.sock mode 600 level admin
  maxconn 9000
  hard-stop-after 5s

defaults
  mode tcp
  log global
  option tcplog
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout check 1s
  retries 3
  option redispatch 1

frontend service
  bind $VIP:$SERVICE_PORT
  default_backend hosts

backend hosts
  balance leastconn
  option httpchk GET /readyz
  default-server check port $ADMIN_PORT inter ${CHECK_INTER_MS}ms fall $CHECK_FALL rise $CHECK_RISE${SEND_PROXY:+ send-proxy-v2}
EOF
  for ((i = 1; i <= hosts; i++)); do echo "  server h$i $(host_addr "$i"):$SERVICE_PORT"; done
}

haproxy_start() {
  local hosts=$1 enabled=$2
  haproxy_config "$hosts" "$enabled" >"$CLUSTER_DIR/haproxy.cfg"
  haproxy -c -q -f "$CLUSTER_DIR/haproxy.cfg" || { log "haproxy rejected $CLUSTER_DIR/haproxy.cfg"; return 1; }
  ip netns exec "$LB_NS" haproxy -db -f "$CLUSTER_DIR/haproxy.cfg" >"$CLUSTER_DIR/haproxy.log" 2>&1 &
  echo $! >"$CLUSTER_DIR/haproxy.pid"
  local deadline=$((SECONDS + 5)) i
  until [ -S "$CLUSTER_DIR/haproxy.sock" ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
  # Spare hosts start out of the set (a runtime maintenance flag, which `state ready` clears).
  for ((i = enabled + 1; i <= hosts; i++)); do haproxy_cmd run "set server hosts/h$i state maint" >/dev/null; done
}

haproxy_cmd() { "$PY" "$CLUSTER_LIB_DIR/cluster_tool.py" haproxy --socket "$CLUSTER_DIR/haproxy.sock" "$@"; }

# --- nftables ----------------------------------------------------------------------------------
nft_start() {
  local hosts=$1 enabled=$2 i list=()
  for ((i = 1; i <= hosts; i++)); do
    [ "$i" -le "$enabled" ] || echo "h$i" >>"$CLUSTER_DIR/nft-removed"
    list+=("h$i=$(host_addr "$i")")
  done
  touch "$CLUSTER_DIR/nft-removed"
  ip netns exec "$LB_NS" "$PY" "$CLUSTER_LIB_DIR/nft_controller.py" --vip "$VIP" --port "$SERVICE_PORT" \
    --admin_port "$ADMIN_PORT" --interval_ms "$CHECK_INTER_MS" --fall "$CHECK_FALL" \
    --rise "$CHECK_RISE" --removed_file "$CLUSTER_DIR/nft-removed" \
    --state_file "$CLUSTER_DIR/nft-state.json" --mode "${NFT_MODE:-random}" "${list[@]}" \
    >"$CLUSTER_DIR/nft-controller.log" 2>&1 &
  echo $! >"$CLUSTER_DIR/nft-controller.pid"
}

# --- balancer-neutral endpoint operations (what an EndpointSlice change does) -------------------
# lb_remove I / lb_add I: take host I out of / into the service's backend set.
lb_remove() {
  case $(cat "$CLUSTER_DIR/balancer") in
    haproxy) haproxy_cmd run "set server hosts/h$1 state maint" ;;
    nftables) grep -qx "h$1" "$CLUSTER_DIR/nft-removed" || echo "h$1" >>"$CLUSTER_DIR/nft-removed" ;;
  esac
}

lb_add() {
  case $(cat "$CLUSTER_DIR/balancer") in
    haproxy) haproxy_cmd run "set server hosts/h$1 state ready" ;;
    nftables) sed -i "/^h$1\$/d" "$CLUSTER_DIR/nft-removed" ;;
  esac
}

# lb_wait I in|out TIMEOUT: until the balancer routes new connections to host I (in) or not (out);
# prints the seconds it took.
lb_wait() {
  case $(cat "$CLUSTER_DIR/balancer") in
    haproxy) haproxy_cmd wait --server "hosts/h$1" --state "$2" --timeout "$3" ;;
    nftables) "$PY" "$CLUSTER_LIB_DIR/cluster_tool.py" nft-wait --state_file "$CLUSTER_DIR/nft-state.json" \
      --server "h$1" --state "$2" --timeout "$3" ;;
  esac
}

# cluster_up HOSTS ENABLED BALANCER (false on failure, details on stderr): network, ENABLED shoal hosts started, HOSTS hosts wired (the
# rest are for scale-out), the balancer running with hosts 1..ENABLED in its set.
cluster_up() {
  local hosts=$1 enabled=$2 balancer=$3 i
  [ "$hosts" -le "$MAX_HOSTS" ] || { log "at most $MAX_HOSTS hosts"; return 1; }
  [ -x "${SHOAL:-}" ] || { log "no shoal binary (--shoal=PATH)"; return 1; }
  cluster_down
  rm -rf "$CLUSTER_DIR"
  mkdir -p "$CLUSTER_DIR"
  echo "$balancer" >"$CLUSTER_DIR/balancer"
  echo "$hosts" >"$CLUSTER_DIR/hosts"
  network_up "$hosts"
  for ((i = 1; i <= enabled; i++)); do host_start "$i" || return 1; done
  case $balancer in
    haproxy) haproxy_start "$hosts" "$enabled" || return 1 ;;
    nftables) nft_start "$hosts" "$enabled" ;;
    *) log "unknown balancer $balancer (haproxy | nftables)"; return 1 ;;
  esac
  for ((i = 1; i <= enabled; i++)); do
    lb_wait "$i" in 10 >/dev/null || { log "the $balancer balancer did not take host $i in"; return 1; }
  done
  log "up: $enabled of $hosts hosts behind $balancer at $VIP:$SERVICE_PORT (state in $CLUSTER_DIR)"
}
