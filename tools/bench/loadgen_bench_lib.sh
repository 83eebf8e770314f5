# Shared helpers of tools/bench/echo.sh and idle.sh (sourced, not run). Bash.

# Builds `targets` optimised and copies the binaries to $BENCH_BIN, so a rebuild during the run
# cannot swap them.
bench_build() {
  bazel build -c opt "$@" >&2
  BENCH_BIN=$(mktemp -d /tmp/shoal-bench-bin.XXXXXX)
  local target path
  for target in "$@"; do
    path="bazel-bin/${target#//}"
    path="${path/://}"
    cp "$path" "$BENCH_BIN/"
  done
}

# Processes this script started; killed (by pid) on exit.
BENCH_PIDS=()
bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  BENCH_PIDS=()
}

# Stops one process we started.
bench_stop() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# True when something accepts on 127.0.0.1:$1.
bench_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first port from $1 up that nothing listens on.
bench_free_port() {
  local port=$1
  while bench_port_open "$port"; do port=$((port + 1)); done
  echo "$port"
}

# Waits (at most 10 s) until 127.0.0.1:$1 accepts.
bench_wait_port() {
  local i
  for i in $(seq 1 200); do
    bench_port_open "$1" && return 0
    sleep 0.05
  done
  echo "bench: nothing listens on 127.0.0.1:$1 after 10 s" >&2
  return 1
}

# Writes a shoal config: bench_shoal_config FILE PORT WORKERS [extra YAML lines...]
bench_shoal_config() {
  local file=$1 port=$2 workers=$3
  shift 3
  {
    echo "workers: $workers"
    echo "listeners:"
    echo "  - name: echo"
    echo "    address: 127.0.0.1:$port"
    echo "    protocol: echo"
    echo "admin:"
    echo "  address: 127.0.0.1:0"
    echo "logging:"
    echo "  level: warn"
    local line
    for line in "$@"; do echo "$line"; done
  } >"$file"
}

# The median of the numbers given as arguments.
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One line about the machine, for the record.
bench_machine() {
  local cpu
  cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
  echo "machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
