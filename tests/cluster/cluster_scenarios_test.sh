#!/usr/bin/env bash
# Runs the cluster scenarios (tools/cluster/run.sh) on the binaries Bazel built: every scenario
# behind HAProxy, then kill -9, rolling replacement, scale-out and per-source limits behind
# nftables DNAT (which keeps the client's address, so no PROXY protocol is needed there).
# Args: SHOAL LOADGEN. Passes with a SKIP line only where network namespaces cannot be created.
set -uo pipefail
shoal=$(readlink -f "$1")
loadgen=$(readlink -f "$2")
run=$(readlink -f tools/cluster/run.sh)
out=${TEST_UNDECLARED_OUTPUTS_DIR:-$(mktemp -d)}

for tool in haproxy nft; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (bash tools/install-deps.sh installs it)"; exit 1; }
done

source tools/cluster/lib.sh
if ! reason=$(netns_available); then
  echo "SKIP: the cluster scenarios need network namespaces, and here: $reason"
  exit 0
fi

status=0
bash "$run" --balancer=haproxy --scenario=rolling,upgrade,inplace,kill9,scaleout,per_source,per_source_control --shoal="$shoal" --loadgen="$loadgen" --out="$out/haproxy" || status=1
bash "$run" --balancer=nftables --scenario=kill9,rolling,scaleout,per_source --shoal="$shoal" --loadgen="$loadgen" \
  --out="$out/nftables" || status=1
echo "== results"
cat "$out/haproxy/results.txt" "$out/nftables/results.txt" 2>/dev/null
exit $status
