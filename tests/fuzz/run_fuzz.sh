#!/usr/bin/env bash
# Builds the request fuzz target with clang++ (libFuzzer + ASan + UBSan) into build/fuzz/,
# independently of the CMake build (which uses g++), and runs it for SECONDS seconds over a
# copy of the committed seed corpus. Usage: tests/fuzz/run_fuzz.sh [SECONDS] [extra libFuzzer flags]
# Exit status: 0 when the run found nothing, non-zero on a crash, leak or invariant failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-20}"
if [ $# -gt 0 ]; then shift; fi
out="${IPX_FUZZ_DIR:-$root/build/fuzz}"
cxx="${IPX_FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}"
if [[ -z "$cxx" ]]; then
  echo "run_fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$out/corpus" "$out/artifacts"
bin="$out/ipx_fuzz_request"
srcs=("$here/request_fuzz.cpp" "$here/boost_json_src.cpp" "$root/engine/methods.cpp")
# Rebuild only when a source or header it depends on is newer than the binary.
needs_build=1
if [[ -x "$bin" ]]; then
  needs_build=0
  for f in "${srcs[@]}" "$root"/engine/codec.hpp "$root"/engine/params.hpp \
           "$root"/engine/methods.hpp "$0"; do
    [[ "$f" -nt "$bin" ]] && needs_build=1
  done
fi
if [[ $needs_build == 1 ]]; then
  echo "run_fuzz.sh: building $bin with $cxx"
  "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror \
    -DBOOST_JSON_NO_LIB -DBOOST_CONTAINER_NO_LIB \
    -I"$root" "${srcs[@]}" -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
# New inputs go to build/fuzz/corpus; the committed seeds are read, never written.
exec "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@" "$out/corpus" "$here/corpus"
