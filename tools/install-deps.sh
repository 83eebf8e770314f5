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
  # ---
  "$@"
)

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
