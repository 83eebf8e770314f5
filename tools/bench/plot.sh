#!/usr/bin/env bash
# Draws latency-by-percentile curves from loadgen --hgrm files (HdrHistogram's percentile
# distribution text) as a PNG with gnuplot: x is the percentile on HdrHistogram's usual scale
# (1/(1-p), log: 50 %, 90 %, 99 %, ... 99.999 %), y the latency in milliseconds.
#
# Usage: tools/bench/plot.sh [--title=TEXT] OUT.png [LABEL=]FILE.hgrm [[LABEL=]FILE.hgrm ...]
# Installs Debian's gnuplot-nox when missing (through tools/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

title="Latency by percentile (loadgen)"
case "${1:-}" in --title=*) title=${1#*=}; shift ;; esac
if [ $# -lt 2 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
png=$1
shift
command -v gnuplot >/dev/null || bash tools/install-deps.sh gnuplot-nox >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plots=()
i=0
max_x=100
for spec in "$@"; do
  label=${spec%%=*} file=${spec#*=}
  [ "$label" = "$spec" ] && label=$(basename "$file" .hgrm)
  [ -s "$file" ] || { echo "plot.sh: $file is missing or empty" >&2; exit 1; }
  i=$((i + 1))
  # Rows with all four columns (the 100 % row has no 1/(1-p)): value_ms percentile count x.
  awk 'NF == 4 && $1 ~ /^[0-9.]+$/ { print $4, $1 }' "$file" >"$work/$i.dat"
  x=$(awk 'END { print $1 }' "$work/$i.dat")
  max_x=$(awk -v a="$max_x" -v b="$x" 'BEGIN { print (b > a ? b : a) }')
  plots+=("'$work/$i.dat' using 1:2 with lines linewidth 2 title '${label//\'/}'")
done
# Enough decades of 1/(1-p) to show the deepest percentile any file reached.
top=10
while awk -v t="$top" -v m="$max_x" 'BEGIN { exit !(t < m) }'; do top=$((top * 10)); done

{
  echo "set terminal pngcairo size 1000,600 enhanced font 'sans,11'"
  echo "set output '$png'"
  echo "set title '${title//\'/}'"
  echo "set logscale x"
  echo "set xrange [1:$top]"
  echo "set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000, '99.9999%%' 1000000)"
  echo "set xlabel 'percentile'"
  echo "set ylabel 'latency (ms)'"
  echo "set grid"
  echo "set key top left"
  ( IFS=','; echo "plot ${plots[*]}" )
} >"$work/plot.gp"
gnuplot "$work/plot.gp"
echo "plot.sh: wrote $png"
