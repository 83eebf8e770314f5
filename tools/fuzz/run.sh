#!/usr/bin/env bash
# Builds and runs every fuzz target for a bounded time, after replaying the regression inputs.
#
# Usage: bash tools/fuzz/run.sh [seconds-per-target] [target ...]
#   seconds   fuzzing time per target (default 60; CI passes a smaller number)
#   targets   echo_decoder request_parser config resp proxy_header (default: all)
# Environment: SHOAL_FUZZ_OUT (default tmp/fuzz in the work tree, ignored by git) holds the
# binaries, the growing working corpus (<out>/corpus/<target>), logs and crash artifacts;
# FUZZ_TIMEOUT: seconds one input may take before it counts as a hang (default 10).
#
# Installs (idempotently) clang, libclang-rt-14-dev and llvm-14 (llvm-symbolizer) with the
# project's other build dependencies, builds with tools/fuzz/build.sh, then per target:
#   1. replays tests/fuzz/regressions/<target>/* and the seed corpus tests/fuzz/corpus/<target>/;
#   2. fuzzes for `seconds` (-max_total_time) with -timeout, the seeds, and the dictionary
#      tests/fuzz/<target>.dict when there is one.
# Prints one line per target with the executions reached, then "fuzz: N passed, N failed"
# (targets), and exits non-zero if any replay or
# fuzzing run crashed, hung, leaked or broke an invariant (the reproducer is named in the output:
# copy it into tests/fuzz/regressions/<target>/).
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(echo_decoder request_parser config resp proxy_header)
timeout_seconds=${FUZZ_TIMEOUT:-10}
out=${SHOAL_FUZZ_OUT:-$PWD/tmp/fuzz}
export SHOAL_FUZZ_OUT=$out

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: bash tools/fuzz/run.sh [seconds-per-target] [target ...]" >&2
  exit 2
fi

bash tools/install-deps.sh clang libclang-rt-14-dev llvm-14 || exit 1
bash tools/fuzz/build.sh "${targets[@]}" || exit 1

symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer UBSAN_SYMBOLIZER_PATH=$symbolizer
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
summary=()
passed=0
failed=0
for target in "${targets[@]}"; do
  binary="$out/bin/${target}_fuzzer"
  seeds="tests/fuzz/corpus/$target"
  regressions="tests/fuzz/regressions/$target"
  work="$out/corpus/$target"
  artifacts="$out/artifacts/$target"
  log="$out/logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"

  # 1. Replay: each file once, in the libFuzzer binary (sanitizers on).
  mapfile -t replay < <(find "$seeds" "$regressions" -type f 2>/dev/null | sort)
  if [ "${#replay[@]}" -gt 0 ]; then
    if ! "$binary" -timeout="$timeout_seconds" "${replay[@]}" >"$out/logs/$target.replay.log" 2>&1; then
      echo "fuzz $target: FAILED replaying the corpus and regressions:" >&2
      grep -E 'Running:|ERROR|invariant|SUMMARY' "$out/logs/$target.replay.log" | tail -20 >&2
      summary+=("fuzz $target: FAILED (replay of ${#replay[@]} inputs; see $out/logs/$target.replay.log)")
      status=1
      failed=$((failed + 1))
      continue
    fi
  fi

  # 2. Fuzz.
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
  echo "== fuzz $target: ${seconds}s (log: $log)" >&2
  start=$(date +%s)
  "$binary" -max_total_time="$seconds" -timeout="$timeout_seconds" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$work" "$seeds" \
    >"$log" 2>&1
  code=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
  if [ "$code" -eq 0 ]; then
    passed=$((passed + 1))
    line="fuzz $target: PASSED in ${elapsed}s, ${execs:-?} executions (${rate:-?}/s), ${coverage:-}"
  else
    status=1
    failed=$((failed + 1))
    artifact=$(sed -n "s/.*Test unit written to //p" "$log" | tail -1)
    line="fuzz $target: FAILED after ${elapsed}s (exit $code), ${execs:-?} executions; reproducer: ${artifact:-none, see $log}"
    grep -E 'ERROR|invariant|SUMMARY|differs|whole:|split:|malformed|round trip' "$log" | head -20 >&2
    [ -n "$artifact" ] && echo "  replay: $binary $artifact; keep it: cp $artifact $regressions/" >&2
  fi
  echo "$line" >&2
  summary+=("$line")
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
exit "$status"
