#!/usr/bin/env bash
# The deploy checks that fit in CI (about a minute once //server:shoal is built). From the
# repository root:   bash tests/deploy/check-deploy.sh
#
#  1. Prometheus files: promtool check config / check rules / test rules (alert unit tests).
#  2. A live shoal (the Bazel-built //server:shoal on deploy/config/shoal.yaml, moved to free
#     loopback ports): echo frames, scrape /metrics, `promtool check metrics`; every metric name
#     in the alert rules and the Grafana dashboard exists in that scrape; a real Prometheus runs
#     deploy/prometheus/prometheus.yml against it: target up, every rule evaluates, every
#     dashboard query returns data, and so does every prometheus-adapter rule behind the HPA
#     (deploy/prometheus-adapter/config.yaml); then SIGTERM drains (/readyz 503, frame in flight
#     answered).
#  3. Compose: docker-compose's schema check of deploy/compose.yaml, and its cross-references.
#  4. Kubernetes: `kubectl kustomize deploy/k8s` renders; every object validates against the
#     Kubernetes schemas (npm kubernetes-models, offline) with no unknown field (tsc); probes,
#     ports, grace period, security context agree with the mounted config and the image.
#
# The container image itself is tested by tools/deploy/test-image.sh (slower: builds it).
# Installs what it needs (apt: prometheus for promtool, docker-compose, python3-yaml; npm:
# tests/deploy/k8s/package-lock.json into ~/.cache/shoal, outside the work tree). Ends with
# "deploy: N passed, N failed"; exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

py=/usr/bin/python3
checks="$repo/tests/deploy/deploy_checks.py"
passed=0
failed=0
failures=()
tmp=$(mktemp -d /tmp/shoal-check-deploy.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# step NAME COMMAND...: runs one check, its output indented.
step() {
  local name=$1
  shift
  echo "== $name"
  if "$@" >"$tmp/step.log" 2>&1; then
    sed 's/^/   /' "$tmp/step.log"
    echo "PASS  $name"
    passed=$((passed + 1))
  else
    sed 's/^/   /' "$tmp/step.log"
    echo "FAIL  $name"
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

finish() {
  echo
  [ "$failed" -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
  echo "deploy: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# --- tools -----------------------------------------------------------------------------------
# promtool (Debian's prometheus), docker-compose (its `config` is the schema check),
# python3-yaml; the ones the build needs come with them.
if ! bash tools/install-deps.sh prometheus docker-compose python3 python3-yaml >"$tmp/deps.log" 2>&1; then
  cat "$tmp/deps.log"
  echo "FAIL  installing the deploy test tools"
  failed=$((failed + 1))
  finish
fi
# node and npm: the machine image's (nodesource) if present, else Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  bash tools/install-deps.sh nodejs npm >"$tmp/deps.log" 2>&1 || cat "$tmp/deps.log"
fi

# --- 1. Prometheus files ---------------------------------------------------------------------
step "promtool check config deploy/prometheus/prometheus.yml" \
  promtool check config deploy/prometheus/prometheus.yml
step "promtool check rules deploy/prometheus/rules.yml" \
  promtool check rules deploy/prometheus/rules.yml
step "promtool test rules tests/deploy/prometheus/rules_test.yml" \
  promtool test rules tests/deploy/prometheus/rules_test.yml
step "dashboard JSON parses" $py -c 'import json,sys; json.load(open(sys.argv[1]))' deploy/grafana/dashboards/shoal.json

# --- 2. a live shoal -------------------------------------------------------------------------
echo "== bazel build -c opt //server:shoal"
if bazel build -c opt //server:shoal >"$tmp/bazel.log" 2>&1; then
  # Copied at once: other builds in this work tree may rewrite bazel-bin.
  cp "$(bazel info -c opt bazel-bin 2>/dev/null)/server/shoal" "$tmp/shoal"
  echo "PASS  bazel build -c opt //server:shoal"
  passed=$((passed + 1))
else
  tail -30 "$tmp/bazel.log"
  echo "FAIL  bazel build -c opt //server:shoal"
  failed=$((failed + 1))
  failures+=("bazel build -c opt //server:shoal")
fi

if [ -x "$tmp/shoal" ]; then
  read -r echo_port admin_port prom_port < <($py "$checks" free-ports 3)
  $py "$checks" live-config deploy/config/shoal.yaml "$tmp/shoal.yaml" "$echo_port" "$admin_port"
  step "shoal --check_config (deploy/config/shoal.yaml on test ports)" \
    "$tmp/shoal" --check_config --config="$tmp/shoal.yaml"
  "$tmp/shoal" --config="$tmp/shoal.yaml" 2>"$tmp/shoal.log" &
  shoal_pid=$!
  pids+=("$shoal_pid")
  step "shoal serves /readyz" $py "$checks" wait-http "http://127.0.0.1:$admin_port/readyz" --timeout 20
  step "echo frames through shoal" $py "$checks" echo "127.0.0.1:$echo_port"

  scrape() {
    local status
    status=$(curl -sS -o "$tmp/metrics.txt" -w '%{http_code}' "http://127.0.0.1:$admin_port/metrics") || {
      echo "GET /metrics failed: the admin endpoint (docs/design.md) is not answering"
      return 1
    }
    if [ "$status" != 200 ]; then
      echo "GET /metrics -> HTTP $status (docs/design.md requires 200 with the text format)"
      head -5 "$tmp/metrics.txt"
      return 1
    fi
    echo "GET /metrics -> 200, $(grep -vc '^#' "$tmp/metrics.txt") samples"
    promtool check metrics <"$tmp/metrics.txt" && echo "promtool check metrics: clean"
  }
  step "scrape /metrics (promtool check metrics)" scrape
  if [ -s "$tmp/metrics.txt" ]; then
    step "every metric in rules.yml and the dashboard exists in the live scrape" \
      $py "$checks" metric-names --scrape "$tmp/metrics.txt" \
        --rules deploy/prometheus/rules.yml --dashboard deploy/grafana/dashboards/shoal.json
    # The cross-check must catch a wrong name, or it proves nothing.
    sed 's/shoal_requests_total/shoal_request_total/' deploy/grafana/dashboards/shoal.json >"$tmp/bad-dashboard.json"
    step "the metric cross-check rejects a misspelled metric" \
      bash -c '! "$@"' _ $py "$checks" metric-names --scrape "$tmp/metrics.txt" \
        --rules deploy/prometheus/rules.yml --dashboard "$tmp/bad-dashboard.json"
  else
    echo "FAIL  metric names: no /metrics scrape to compare with"
    failed=$((failed + 1))
    failures+=("metric names vs live /metrics (no scrape)")
  fi

  $py "$checks" prometheus-config deploy/prometheus/prometheus.yml "$tmp/prometheus.yml" \
    "127.0.0.1:$admin_port" "$prom_port"
  prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
  pids+=("$!")
  step "Prometheus starts on deploy/prometheus/prometheus.yml" \
    $py "$checks" wait-http "http://127.0.0.1:$prom_port/-/ready" --timeout 30
  $py "$checks" echo "127.0.0.1:$echo_port" --connections 2 >/dev/null 2>&1
  step "a real Prometheus: shoal up, every rule evaluates, every dashboard query has data" \
    $py "$checks" prometheus-live --prometheus "http://127.0.0.1:$prom_port" \
      --rules deploy/prometheus/rules.yml --dashboard deploy/grafana/dashboards/shoal.json
  step "prometheus-adapter rules: series in /metrics, the HPA's metric named, queries return data" \
    $py "$checks" adapter-rules --scrape "$tmp/metrics.txt" --rules deploy/prometheus-adapter/config.yaml \
      --hpa deploy/k8s/hpa.yaml --prometheus "http://127.0.0.1:$prom_port"
  sed 's/shoal_requests_total/shoal_request_total/g' deploy/prometheus-adapter/config.yaml >"$tmp/bad-adapter.yaml"
  step "the adapter check rejects a misspelled series" \
    bash -c '! "$@"' _ $py "$checks" adapter-rules --scrape "$tmp/metrics.txt" \
      --rules "$tmp/bad-adapter.yaml" --hpa deploy/k8s/hpa.yaml
  [ "$failed" -eq 0 ] || tail -20 "$tmp/prometheus.log"

  stop_shoal() { kill -TERM "$shoal_pid" && wait "$shoal_pid"; }
  step "SIGTERM drains: /readyz 503, idle closed, frame in flight answered, exit 0" \
    $py "$checks" drain --echo "127.0.0.1:$echo_port" --admin "127.0.0.1:$admin_port" -- \
      bash -c "kill -TERM $shoal_pid; while kill -0 $shoal_pid 2>/dev/null; do sleep 0.05; done"
  wait "$shoal_pid"
  code=$?
  step "shoal exited 0 after the drain (log: draining, shut down cleanly)" bash -c \
    "[ $code -eq 0 ] && grep -q 'draining' '$tmp/shoal.log' && grep -q 'shut down cleanly' '$tmp/shoal.log' && cat '$tmp/shoal.log'"
fi

# --- 3. compose ------------------------------------------------------------------------------
compose_schema() {
  # docker-compose 1.29 validates against the Compose schema of its day, which predates the
  # top-level `name:`; everything else is checked strictly (unknown keys are errors, the build
  # context must exist). Paths resolve from deploy/ as for the real file.
  grep -v '^name:' deploy/compose.yaml >"$tmp/compose.yaml"
  docker-compose --project-directory deploy -f "$tmp/compose.yaml" config -q && echo "docker-compose config: valid"
}
step "deploy/compose.yaml: Compose schema (docker-compose config)" compose_schema
step "deploy/compose.yaml: mounts and cross-references" $py "$checks" compose deploy/compose.yaml

# --- 4. Kubernetes ---------------------------------------------------------------------------
step "kubectl kustomize deploy/k8s renders" bash -c \
  "command -v kubectl >/dev/null || { echo 'kubectl not found: it comes with the machine image (kubectl with kustomize v5); Debian'\''s kubernetes-client 1.20 is too old for kustomize labels:'; exit 1; }
   kubectl kustomize deploy/k8s >'$tmp/k8s.yaml' && grep -c '^kind:' '$tmp/k8s.yaml' | sed 's/$/ objects/'"

step "deploy/k8s/config/shoal.yaml = deploy/config/shoal.yaml but workers, worker_budget and connection age" \
  $py "$checks" config-drift deploy/config/shoal.yaml deploy/k8s/config/shoal.yaml \
    --allow workers backpressure.worker_budget limits.max_connection_age limits.max_connection_age_jitter

npm_dir=${SHOAL_NPM_DIR:-$HOME/.cache/shoal/k8s-validate}
install_validator() {
  mkdir -p "$npm_dir"
  if ! cmp -s tests/deploy/k8s/package-lock.json "$npm_dir/package-lock.json" || [ ! -d "$npm_dir/node_modules" ]; then
    cp tests/deploy/k8s/package.json tests/deploy/k8s/package-lock.json "$npm_dir/"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  fi
  # ESM resolves packages next to the script, so it runs from the install directory.
  cp tests/deploy/k8s/validate.mjs "$npm_dir/validate.mjs"
  echo "kubernetes-models $(node -p 'require(process.argv[1]).version' "$npm_dir/node_modules/kubernetes-models/package.json") in $npm_dir"
}
step "npm ci kubernetes-models (tests/deploy/k8s/package-lock.json)" install_validator
if [ -s "$tmp/k8s.yaml" ] && [ -f "$npm_dir/validate.mjs" ]; then
  step "deploy/k8s objects validate (schemas, no unknown fields, shoal invariants)" \
    node "$npm_dir/validate.mjs" --dockerfile deploy/Dockerfile "$tmp/k8s.yaml" deploy/k8s/servicemonitor.yaml
  sed -e 's/readinessProbe:/readinesProbe:/' "$tmp/k8s.yaml" >"$tmp/k8s-typo.yaml"
  step "the validator rejects a misspelled field" \
    bash -c '! node "$1" "$2" >/dev/null' _ "$npm_dir/validate.mjs" "$tmp/k8s-typo.yaml"
fi

finish
