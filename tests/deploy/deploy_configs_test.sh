#!/usr/bin/env bash
# Usage: deploy_configs_test.sh SHOAL CONFIG...   (bazel test //tests/deploy:deploy_configs_test)
# Every shoal config shipped under deploy/ passes `shoal --check_config`, and its admin endpoint
# listens beyond loopback (Prometheus and kubelet probes reach it from outside the container).
set -uo pipefail

shoal=$1
shift
passed=0
failed=0
ok() { echo "ok    $*"; passed=$((passed + 1)); }
bad() { echo "FAIL  $*"; failed=$((failed + 1)); }

# The checker must reject what it should, or the checks below prove nothing.
tmp=${TEST_TMPDIR:-$(mktemp -d)}
printf 'listeners:\n  - name: echo\n    adress: 0.0.0.0:7000\n' >"$tmp/bad.yaml"
if out=$("$shoal" --check_config --config="$tmp/bad.yaml" 2>&1); then
  bad "shoal --check_config accepted a config with an unknown key"
elif ! grep -q 'bad.yaml:3:' <<<"$out"; then
  bad "shoal --check_config did not point at file:line for an unknown key: $out"
else
  ok "shoal --check_config rejects an unknown key: $(grep -m1 'bad.yaml:3:' <<<"$out")"
fi

if [ "$#" -eq 0 ]; then
  bad "no config under deploy/ (the //deploy:shoal_configs glob is empty)"
fi
for config in "$@"; do
  if out=$("$shoal" --check_config --config="$config" 2>&1); then
    ok "$config: shoal --check_config"
  else
    bad "$config: shoal --check_config: $out"
  fi
  # admin.address: the line after `admin:` (top-level section).
  admin=$(awk '/^admin:/ {in_admin = 1; next} /^[^ #]/ {in_admin = 0} in_admin && /^ +address:/ {print $2; exit}' "$config")
  case "$admin" in
    127.* | localhost:* | \[::1\]:* | "")
      bad "$config: admin.address '${admin:-default 127.0.0.1:9100}' is loopback-only: nothing outside the container can scrape it" ;;
    *) ok "$config: admin.address $admin is reachable for scraping" ;;
  esac
done

echo "deploy configs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
