#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang++ (Debian's clang 14 and
# libclang-rt-14-dev: `bash tools/fuzz/run.sh` installs them), instrumented with
# -fsanitize=fuzzer,address,undefined. Bazel's toolchain is g++, so this compiles the fuzz targets
# and the code under test straight from source; the system libraries (yaml-cpp, abseil, built with
# g++) are linked as they are: clang on Debian uses the same libstdc++.
#
# Usage: bash tools/fuzz/build.sh [target ...]     (default: every target)
# Targets: echo_decoder request_parser config resp proxy_header. Binaries: $SHOAL_FUZZ_OUT/bin/<target>_fuzzer
# (default SHOAL_FUZZ_OUT: tmp/fuzz in the work tree, which git ignores). A binary is rebuilt only
# when one of its sources, headers or this script is newer than it.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${SHOAL_FUZZ_OUT:-$PWD/tmp/fuzz}
cxx=${CXX_FUZZ:-clang++}
mkdir -p "$out/bin"

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz/build: $cxx not found (bash tools/fuzz/run.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

flags=(
  -std=c++20 -O1 -g -fno-omit-frame-pointer
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
  -DSHOAL_LIBFUZZER -I.
  -Wall -Wextra
  # core::EventLoop (not final, privately an IoHandler) is deleted through its own type: fine.
  -Wno-delete-non-abstract-non-virtual-dtor
)

# The abseil libraries exactly as Bazel links them (tools/bazel/system/BUILD.system).
mapfile -t absl_libs < <(grep -o '"-labsl_[a-z0-9_]*"' tools/bazel/system/BUILD.system | tr -d '"')

# target -> sources (compiled), headers (dependencies only), libraries.
sources_echo_decoder=(tests/fuzz/echo_decoder_fuzzer.cc server/protocols/echo/frame.cc)
headers_echo_decoder=(tests/fuzz/fuzz_support.h server/protocols/echo/frame.h)
libs_echo_decoder=()

sources_request_parser=(tests/fuzz/request_parser_fuzzer.cc server/protocols/http/request_parser.cc)
headers_request_parser=(tests/fuzz/fuzz_support.h server/protocols/http/request_parser.h)
libs_request_parser=()

# The config takes the valid protocol names from the registry, so every protocol's registration
# (and what it links: its session code, spdlog) comes along.
mapfile -t protocol_sources < <(ls server/protocols/registry.cc server/protocols/*/*.cc |
  grep -v '_bench\.cc$')
sources_config=(tests/fuzz/config_fuzzer.cc server/config/*.cc core/socket.cc core/cidr.cc "${protocol_sources[@]}")
headers_config=(tests/fuzz/fuzz_support.h server/config.h server/config/*.h core/*.h
  server/protocols/*.h server/protocols/*/*.h)
libs_config=(-DSPDLOG_FMT_EXTERNAL -DSPDLOG_COMPILED_LIB -lspdlog -lfmt -lyaml-cpp
  "${absl_libs[@]}" -lpthread)

sources_resp=(tests/fuzz/resp_fuzzer.cc server/protocols/resp/{wire,request_parser,command_table,commands}.cc)
headers_resp=(tests/fuzz/fuzz_support.h server/protocols/resp/{wire,request_parser,command_table,commands}.h)
libs_resp=()

sources_proxy_header=(tests/fuzz/proxy_header_fuzzer.cc core/proxy_header.cc core/socket.cc)
headers_proxy_header=(tests/fuzz/fuzz_support.h core/proxy_header.h core/socket.h)
libs_proxy_header=("${absl_libs[@]}")

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(echo_decoder request_parser config resp proxy_header)

for target in "${targets[@]}"; do
  case "$target" in
    echo_decoder | request_parser | config | resp | proxy_header) ;;
    *)
      echo "fuzz/build: unknown target '$target' (echo_decoder, request_parser, config, resp, proxy_header)" >&2
      exit 2
      ;;
  esac
  declare -n sources="sources_$target" headers="headers_$target" libs="libs_$target"
  binary="$out/bin/${target}_fuzzer"
  stale=0
  if [ ! -x "$binary" ]; then
    stale=1
  else
    for file in "${sources[@]}" "${headers[@]}" tools/fuzz/build.sh; do
      if [ "$file" -nt "$binary" ]; then stale=1; fi
    done
  fi
  if [ "$stale" -eq 0 ]; then
    echo "fuzz/build: $binary is up to date" >&2
  else
    echo "fuzz/build: $cxx ${sources[*]} -> $binary" >&2
    "$cxx" "${flags[@]}" "${sources[@]}" "${libs[@]}" -o "$binary.tmp"
    mv "$binary.tmp" "$binary"
  fi
  unset -n sources headers libs
done
