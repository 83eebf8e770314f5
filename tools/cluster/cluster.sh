#!/usr/bin/env bash
# A cluster of shoal hosts on one box, behind a real load balancer (root; layout in lib.sh).
#
#   tools/cluster/cluster.sh up [--hosts=3] [--spare=0] [--balancer=haproxy|nftables]
#                               [--shoal=PATH] [--max_age=2s] [--proxy_protocol=off|v1|v2|any]
#                               [--per_source_limit=N]
#   tools/cluster/cluster.sh status        hosts, pids, readiness, the balancer's backend set
#   tools/cluster/cluster.sh down          stops everything, deletes the namespaces
#   tools/cluster/cluster.sh client CMD... runs CMD in the client namespace (service at 10.77.9.1:7000)
#
# `up` first removes what a previous run left (namespaces named shoalc-*, the processes in them).
# --spare=N wires N more hosts without starting them (for a scale-out by hand: see run.sh).
# Scenarios: tools/cluster/run.sh. Without --shoal, the binary is built with bazel -c opt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

action=${1:-}
[ -n "$action" ] && shift
hosts=3
spare=0
balancer=haproxy
SHOAL=${SHOAL:-}
MAX_AGE=2s
PROXY_PROTOCOL=off
PER_SOURCE_LIMIT=
for arg in "$@"; do
  case $arg in
    --hosts=*) hosts=${arg#*=} ;;
    --spare=*) spare=${arg#*=} ;;
    --balancer=*) balancer=${arg#*=} ;;
    --shoal=*) SHOAL=${arg#*=} ;;
    --max_age=*) MAX_AGE=${arg#*=} ;;
    --proxy_protocol=*) PROXY_PROTOCOL=${arg#*=} ;;
    --per_source_limit=*) PER_SOURCE_LIMIT=${arg#*=} ;;
    *) [ "$action" = client ] && break || die "unknown argument $arg (see the header of $0)" ;;
  esac
  shift
done
[ "$PROXY_PROTOCOL" = off ] || SEND_PROXY=1

build_shoal() {
  local root
  root=$(cd "$CLUSTER_LIB_DIR/../.." && pwd)
  (cd "$root" && bazel build -c opt //server:shoal >&2) || die "bazel build //server:shoal failed"
  mkdir -p "/tmp/${PREFIX}bin"
  cp "$(cd "$root" && bazel info -c opt bazel-bin 2>/dev/null)/server/shoal" "/tmp/${PREFIX}bin/shoal"
  echo "/tmp/${PREFIX}bin/shoal"
}

case $action in
  up)
    [ -n "$SHOAL" ] || SHOAL=$(build_shoal)
    SHOAL=$(readlink -f "$SHOAL")
    export SHOAL MAX_AGE PROXY_PROTOCOL PER_SOURCE_LIMIT SEND_PROXY
    cluster_up $((hosts + spare)) "$hosts" "$balancer" || { cluster_down; die "up failed (logs in $CLUSTER_DIR)"; }
    ;;
  down)
    cluster_down
    rm -rf "$CLUSTER_DIR"
    log "down"
    ;;
  status)
    [ -d "$CLUSTER_DIR" ] || { echo "no cluster (no $CLUSTER_DIR)"; exit 1; }
    echo "balancer: $(cat "$CLUSTER_DIR/balancer"), service $VIP:$SERVICE_PORT"
    for ((i = 1; i <= $(cat "$CLUSTER_DIR/hosts"); i++)); do
      pid=$(host_pid "$i")
      ready=$(in_ns "$LB_NS" curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
        "http://$(host_addr "$i"):$ADMIN_PORT/readyz" || true)
      echo "h$i $(host_addr "$i") pid ${pid:--} readyz ${ready:-none}"
    done
    case $(cat "$CLUSTER_DIR/balancer") in
      haproxy) haproxy_cmd run "show servers state hosts" ;;
      nftables) cat "$CLUSTER_DIR/nft-state.json"; echo; in_ns "$LB_NS" nft list chain ip shoal_cluster service ;;
    esac
    ;;
  client)
    in_ns "$CLIENT_NS" "$@"
    ;;
  *) die "usage: $0 up|down|status|client ... (see the header)" ;;
esac
