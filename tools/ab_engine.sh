#!/usr/bin/env bash
# A/B of the engine benchmark in one invocation: the driver of another build (BASE_BUILD, e.g.
# a worktree of an older commit built with `cmake --preset release`) and this one's, with and
# without ledger rows, in turn, ROUNDS times (docs/BENCHMARKS.md "Engine").
#   BASE_BUILD=/path/to/build/release tools/ab_engine.sh
# Environment: ROUNDS (3), COMMANDS (300000), LATENCY_SECONDS (5).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${BASE_BUILD:?set BASE_BUILD to the other build directory}/tools/ipx-engine-driver"
new="$root/build/release/tools/ipx-engine-driver"
"$root/tools/ipx" services up >/dev/null || exit 2
eval "$("$root/tools/ipx" services env)"
echo "start $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg) commit $(git -C "$root" rev-parse --short HEAD)"
for round in $(seq 1 "${ROUNDS:-3}"); do
  for cfg in base new_noledger new; do
    case $cfg in
      base) cmd=("$base" bench) ;;
      new_noledger) cmd=("$new" bench --no-ledger) ;;
      new) cmd=("$new" bench) ;;
    esac
    "${cmd[@]}" --commands "${COMMANDS:-300000}" --latency-seconds "${LATENCY_SECONDS:-5}" --publisher 2>&1 |
      grep -E "^throughput|^latency|^replay from|^snapshots|^restart to ready:" | sed "s/^/$cfg r$round: /"
    echo "$cfg r$round: load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
echo "end $(date -u)"
