#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs, then runs every
# test (`bazel test //...`) in the optimized build and under ASan+UBSan and TSan, then the fuzzers
# (bounded), a 60 s soak and the deploy checks.
# Ends with a line "N passed, N failed" (counted over the three passes).
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh || exit 1

log=$(mktemp)
status=0
run() {
  echo "== bazel test $*" >&2
  bazel test "$@" 2>&1 | tee -a "$log"
  local code=${PIPESTATUS[0]}
  [ "$code" -eq 0 ] || status=$code
}

# The default (optimized) build, then ASan+UBSan and TSan builds of the same suite. Tests tagged
# "no-sanitizer" (wall-clock measurements that a sanitizer's slowdown would distort) run only in
# the first pass.
run //...
run --config=asan --test_tag_filters=-no-sanitizer //...
run --config=tsan --test_tag_filters=-no-sanitizer //...

passed=$(grep -cE '^//.* PASSED in ' "$log")
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)( in |$)' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# Runs a checker that ends with "NAME: N passed, N failed" and adds its counts to the totals.
checker() {
  local name=$1
  shift
  echo "== $*" >&2
  "$@" 2>&1 | tee "$log"
  local code=${PIPESTATUS[0]}
  local line
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
  local ok bad
  ok=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  bad=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed.*/\1/')
  passed=$((passed + ${ok:-0}))
  failed=$((failed + ${bad:-0}))
  if [ "$code" -ne 0 ]; then
    status=$code
    [ "${bad:-0}" -gt 0 ] || failed=$((failed + 1))
  fi
}

# Fuzzers (libFuzzer + ASan/UBSan, clang): replay the regressions, then 30 s per target.
checker fuzz bash tools/fuzz/run.sh 30
# Soak: loadgen --verify for 60 s, RSS and fd slopes after warm-up (10 minutes for the record).
checker soak bash tools/soak/soak.sh --duration=60s
# deploy/: Prometheus config and rules, metric names against a live /metrics, compose, Kubernetes.
checker deploy bash tests/deploy/check-deploy.sh
rm -f "$log"
echo "$passed passed, $failed failed"
exit "$status"
