#!/usr/bin/env bash
# Installs (idempotently) the Debian 12 packages shoal needs to build, test and benchmark.
# Usage: bash tools/install-deps.sh [extra-package ...]
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java bazel-platforms g++
  libabsl-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl netcat-openbsd xxd procps iproute2 redis-tools wrk
  prometheus  # promtool and a real Prometheus server for the metrics end-to-end tests
  # --- upgrade / socket activation ---
  systemd  # systemd-socket-activate for the socket activation end-to-end test
  # --- TLS (libssl), io_uring (liburing), and the peers their tests and benchmarks use ---
  libssl-dev openssl liburing-dev nginx nghttp2-client python3
  # --- cluster scenarios: a real L4 balancer (HAProxy, nftables DNAT) between network namespaces ---
  haproxy nftables
  # ---
  "$@"
)

# --- RESP client compatibility (tests/e2e/resp_*): redis-server to compare replies with, redis-py;
# ioredis and node-redis come from npm at the end of this script.
packages+=(redis-server python3-redis)
command -v npm >/dev/null || packages+=(nodejs npm)
# --- end of RESP client packages

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- RESP client compatibility: ioredis and node-redis (npm, pinned) into a project-local
# directory that tests/e2e/resp_clients_e2e_test reads ($SHOAL_TEST_NODE_DIR, default
# /opt/shoal-test-node). Nothing is fetched when both are there at these versions.
node_dir=${SHOAL_TEST_NODE_DIR:-/opt/shoal-test-node}
node_clients=(ioredis@6.0.0 redis@6.3.1)
if ! node -e 'process.exit(require(process.argv[1] + "/node_modules/ioredis/package.json").version === "6.0.0" &&
    require(process.argv[1] + "/node_modules/redis/package.json").version === "6.3.1" ? 0 : 1)' \
    "$node_dir" 2>/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: npm installing ${node_clients[*]} into $node_dir" >&2
  $sudo mkdir -p "$node_dir"
  $sudo npm install --prefix "$node_dir" --no-audit --no-fund --silent "${node_clients[@]}" >/dev/null
fi
# --- end of RESP client npm packages
