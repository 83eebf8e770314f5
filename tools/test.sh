#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs, then runs every
# test (`bazel test //...`). Ends with a line "N passed, N failed".
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

run //...

passed=$(grep -cE '^//.* PASSED in ' "$log")
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)( in |$)' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
rm -f "$log"
echo "$passed passed, $failed failed"
exit "$status"
