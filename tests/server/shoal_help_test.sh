#!/bin/bash
# `shoal --help` lists every flag that server/main.cc defines, each with its help text: absl lists
# only the flags of a file named like the program unless told otherwise.
# Usage: shoal_help_test.sh <shoal binary> <server/main.cc>
set -euo pipefail
shoal=$1
main_cc=$2

help=$("$shoal" --help 2>&1 || true)  # absl exits 1 after printing help
# ABSL_FLAG(type, name, default, "help text ...");
mapfile -t flags < <(sed -n 's/^ABSL_FLAG([^,]*, *\([a-z_0-9]*\),.*$/\1/p' "$main_cc")
if [ "${#flags[@]}" -eq 0 ]; then
  echo "no ABSL_FLAG found in $main_cc" >&2
  exit 1
fi
failed=0
for flag in "${flags[@]}"; do
  first_word=$(sed -n "s/^ABSL_FLAG([^,]*, *$flag,[^\"]*\"\([^ \"]*\).*/\1/p" "$main_cc")
  if ! grep -qF -- "--$flag ($first_word" <<<"$help"; then
    echo "shoal --help does not list --$flag with its help text ('$first_word ...')" >&2
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  printf '%s\n' "--- shoal --help:" "$help" >&2
  exit 1
fi
echo "shoal --help lists ${#flags[@]} flags: ${flags[*]}"
