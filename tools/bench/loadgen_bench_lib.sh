# Shared helpers of the shell benchmarks in tools/bench and of tools/soak/soak.sh (sourced, not
# run). Bash.

# Parses the script's arguments: bench_flags HELP_LINES NAME... -- "$@". --NAME=VALUE sets the
# variable NAME (one of those listed); -h/--help prints lines HELP_LINES (sed's "2,13") of the
# script and exits 0; anything else exits 2.
bench_flags() {
  local help=$1 names=() arg name
  shift
  while [ "$1" != -- ]; do
    names+=("$1")
    shift
  done
  shift
  for arg in "$@"; do
    case "$arg" in
      -h | --help) sed -n "${help}p" "$0"; exit 0 ;;
      --*=*)
        name=${arg%%=*}
        name=${name#--}
        if [[ " ${names[*]} " == *" $name "* ]]; then
          printf -v "$name" '%s' "${arg#*=}"
          continue
        fi
        ;;
    esac
    echo "$(basename "$0"): unknown argument $arg" >&2
    exit 2
  done
}

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

# Writes a shoal config: bench_shoal_config FILE PORT WORKERS [level=LEVEL] [extra YAML lines...]
# (logging level warn unless given; extra lines go under `logging:`).
bench_shoal_config() {
  local file=$1 port=$2 workers=$3 level=warn
  shift 3
  if [[ ${1:-} == level=* ]]; then
    level=${1#level=}
    shift
  fi
  {
    echo "workers: $workers"
    echo "listeners:"
    echo "  - name: echo"
    echo "    address: 127.0.0.1:$port"
    echo "    protocol: echo"
    echo "admin:"
    echo "  address: 127.0.0.1:0"
    echo "logging:"
    echo "  level: $level"
    local line
    for line in "$@"; do echo "$line"; done
  } >"$file"
}

# Waits (at most 10 s, while process $2 lives) for the "listening" lines a shoal started at level
# info writes to log $1; sets BENCH_PORT (its first listener's port) and BENCH_ADMIN_PORT.
bench_listening_ports() {
  local log=$1 pid=$2 i
  for i in $(seq 1 100); do
    BENCH_PORT=$(sed -nE 's/.*listening: .* on [0-9.]+:([0-9]+).*/\1/p' "$log" | head -n1)
    BENCH_ADMIN_PORT=$(sed -nE 's/.*admin: listening on [0-9.]+:([0-9]+).*/\1/p' "$log" | head -n1)
    [ -n "$BENCH_PORT" ] && [ -n "$BENCH_ADMIN_PORT" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# CPU nanoseconds used so far by every thread of process $1 and of its children (nginx's workers),
# from /proc/PID/task/*/schedstat.
bench_cpu_ns() {
  local pids=("$1") total=0 pid task
  mapfile -t -O 1 pids < <(pgrep -P "$1" || true)
  for pid in "${pids[@]}"; do
    for task in /proc/"$pid"/task/*/schedstat; do
      [ -r "$task" ] && total=$((total + $(cut -d' ' -f1 "$task" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
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
