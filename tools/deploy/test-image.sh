#!/usr/bin/env bash
# Builds the container image from deploy/Dockerfile with podman and proves it serves:
#
#   bash tools/deploy/test-image.sh
#
#  - base images debian:bookworm and debian:bookworm-slim made locally with debootstrap (no
#    registry here; tools/deploy/make-base-images.sh, cached in ~/.cache/shoal/base);
#  - `podman build` (runc, storage in a temporary directory removed at the end); build time and
#    image size (must stay under 100 MB); the image runs as uid 10001 with STOPSIGNAL SIGTERM;
#  - runs it like Kubernetes would (--network host --init --read-only --cap-drop ALL
#    --security-opt no-new-privileges), on its baked /etc/shoal/shoal.yaml (echo 7000, admin 9100:
#    both ports must be free on this machine);
#  - echoes frames (the README's nc one-liner, then pipelined frames up to 70 KB on several
#    connections), scrapes /metrics (promtool check metrics), runs compose.yaml's healthcheck
#    inside the container;
#  - `podman stop` with a frame half-sent and an idle connection: /readyz turns 503, the idle
#    connection closes, the frame in flight is still answered, the container exits 0 with
#    "shut down cleanly" in its log.
#
# Needs root. Installs podman, buildah, runc, debootstrap, catatonit (via tools/install-deps.sh).
#   SHOAL_PODMAN_DIR=DIR   keep podman's storage in DIR (reused by the next run: faster rebuilds)
#   SHOAL_IMAGE=NAME       tag to build (default localhost/shoal:test)
# Ends with "image: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
py=/usr/bin/python3
checks="$repo/tests/deploy/deploy_checks.py"
image=${SHOAL_IMAGE:-localhost/shoal:test}
name=shoal-image-test-$$
passed=0
failed=0
log=$(mktemp -d /tmp/shoal-test-image.XXXXXX)

ok() { echo "PASS  $*"; passed=$((passed + 1)); }
bad() { echo "FAIL  $*"; failed=$((failed + 1)); }
finish() {
  echo
  [ -n "${build_secs:-}" ] && echo "image build time: ${build_secs}s (podman build, base images already made)"
  [ -n "${size_bytes:-}" ] && echo "image size: $(awk -v b="$size_bytes" 'BEGIN {printf "%.1f MB (%d bytes)", b / 1e6, b}')"
  echo "image: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

echo "== tools"
if ! bash tools/install-deps.sh podman buildah runc debootstrap catatonit uidmap python3 python3-yaml \
    prometheus >"$log/deps.log" 2>&1; then
  cat "$log/deps.log"
  bad "installing podman, buildah, runc, debootstrap, catatonit"
  finish
fi

# shellcheck source=tools/deploy/podman-env.sh
source tools/deploy/podman-env.sh
shoal_podman_setup
echo "podman storage: $SHOAL_PODMAN_DIR (runtime runc)"
cleanup() {
  podman rm -f -t 0 "$name" >/dev/null 2>&1
  shoal_podman_cleanup
  rm -rf "$log"
}
trap cleanup EXIT

echo "== base images"
if bash tools/deploy/make-base-images.sh; then
  ok "base images debian:bookworm and debian:bookworm-slim (debootstrap)"
else
  bad "making the base images with debootstrap"
  finish
fi

echo "== podman build -f deploy/Dockerfile -t $image ."
start=$(date +%s)
if podman build --network host -f deploy/Dockerfile -t "$image" . >"$log/build.log" 2>&1; then
  build_secs=$(($(date +%s) - start))
  ok "podman build in ${build_secs}s"
else
  tail -40 "$log/build.log"
  bad "podman build"
  finish
fi
grep -A12 'runtime-packages.txt$' "$log/build.log" | grep -E '^lib' | tr '\n' ' ' | sed 's/^/runtime packages: /'
echo

size_bytes=$(podman image inspect --format '{{.Size}}' "$image")
if [ "$size_bytes" -lt 100000000 ]; then
  ok "image size $((size_bytes / 1000000)) MB < 100 MB"
else
  bad "image size $((size_bytes / 1000000)) MB is not under 100 MB"
fi
config=$(podman image inspect --format '{{.Config.User}} {{.Config.StopSignal}} {{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$image")
if [[ "$config" == "10001:10001 SIGTERM "*"7000/tcp"*"9100/tcp"* ]]; then
  ok "image config: USER 10001:10001, STOPSIGNAL SIGTERM, EXPOSE 7000 9100"
else
  bad "image config: got '$config'"
fi

echo "== run"
busy=$(ss -Hltn '( sport = :7000 or sport = :9100 )' 2>/dev/null)
if [ -n "$busy" ]; then
  echo "$busy"
  bad "ports 7000/9100 are in use on this machine: the image's baked config needs them (--network host)"
  finish
fi
if podman run -d --name "$name" --network host --init --read-only --cap-drop ALL \
    --security-opt no-new-privileges "$image" >/dev/null; then
  ok "podman run --network host --init --read-only --cap-drop ALL"
else
  bad "podman run"
  finish
fi
if $py "$checks" wait-http http://127.0.0.1:9100/readyz --timeout 30; then
  ok "serving: /readyz 200"
else
  podman logs "$name" 2>&1 | tail -20
  bad "the container did not become ready"
  finish
fi
podman logs "$name" 2>&1 | sed 's/^/   /'

echo "== echo"
got=$(printf '\0\0\0\5hello' | nc -q1 127.0.0.1 7000 | xxd -p)
if [ "$got" = 0000000568656c6c6f ]; then
  ok "printf '\\0\\0\\0\\5hello' | nc -q1 127.0.0.1 7000 echoes the frame"
else
  bad "nc echo: got '$got'"
fi
if $py "$checks" echo 127.0.0.1:7000 --connections 8; then
  ok "pipelined frames on 8 connections echoed byte for byte"
else
  bad "pipelined echo"
fi

echo "== metrics"
if curl -fsS http://127.0.0.1:9100/metrics >"$log/metrics.txt"; then
  requests=$(awk '/^shoal_requests_total[{ ]/ {s += $NF} END {print s + 0}' "$log/metrics.txt")
  if promtool check metrics <"$log/metrics.txt" && [ "$requests" -ge 41 ] &&
      grep -q '^shoal_build_info{' "$log/metrics.txt"; then
    ok "/metrics: promtool-clean, shoal_requests_total = $requests, shoal_build_info present"
  else
    bad "/metrics: shoal_requests_total = $requests (expected >= 41) or promtool check metrics failed"
  fi
else
  bad "GET http://127.0.0.1:9100/metrics"
fi
healthcheck=$($py -c 'import yaml,shlex; t=yaml.safe_load(open("deploy/compose.yaml"))["services"]["shoal"]["healthcheck"]["test"]; print(shlex.join(t[1:]))')
if eval podman exec "$name" "$healthcheck"; then
  ok "compose.yaml's healthcheck passes inside the container"
else
  bad "compose.yaml's healthcheck fails inside the container: $healthcheck"
fi
uid=$(podman exec "$name" id -u)
if [ "$uid" = 10001 ]; then ok "runs as uid 10001"; else bad "runs as uid '$uid'"; fi

echo "== podman stop (graceful drain)"
if $py "$checks" drain --echo 127.0.0.1:7000 --admin 127.0.0.1:9100 -- podman stop -t 30 "$name"; then
  ok "drain under podman stop"
else
  bad "drain under podman stop"
fi
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
podman logs "$name" >"$log/container.log" 2>&1
sed 's/^/   /' "$log/container.log" | tail -3
if [ "$exit_code" = 0 ] && grep -q 'draining' "$log/container.log" && grep -q 'shut down cleanly' "$log/container.log"; then
  ok "container exited 0 after draining"
else
  bad "container exit code $exit_code (expected 0 with 'draining' and 'shut down cleanly' logged)"
fi

finish
