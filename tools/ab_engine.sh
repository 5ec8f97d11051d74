#!/usr/bin/env bash
# A/B of the engine benchmark in one invocation: the driver of another build (BASE_BUILD, e.g.
# a worktree of an older commit built with `cmake --preset release`) and this one's, with and
# without ledger rows, in turn, ROUNDS times (docs/BENCHMARKS.md "Engine").
#   BASE_BUILD=/path/to/build/release tools/ab_engine.sh
# Environment: ROUNDS (3), COMMANDS (300000), LATENCY_SECONDS (5).
# Besides the driver's lines, each run prints "pg cpu": the CPU time the PostgreSQL cluster's
# processes (backends, autovacuum, WAL writer...) used from the run's start to the end of its
# throughput phase, per command, and the driver's own CPU to the same point: on a shared
# machine these move far less than the wall-clock rates.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${BASE_BUILD:?set BASE_BUILD to the other build directory}/tools/ipx-engine-driver"
new="$root/build/release/tools/ipx-engine-driver"
"$root/tools/ipx" services up >/dev/null || exit 2
eval "$("$root/tools/ipx" services env)"
# CPU ticks used so far by the cluster: the postmaster's reaped children plus the live ones.
pg_ticks() {
  local pm; pm="$(head -1 "$IPX_PG_DATA/postmaster.pid" 2>/dev/null)" || { echo 0; return; }
  # cat, not awk, opens the files: a process that ends meanwhile is skipped, not fatal.
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '{
      pid = $1; sub(/^[0-9]+ \([^)]*\) /, "")  # the fields now start at state (3)
      if (pid == pm) t += $14 + $15           # cutime, cstime
      else if ($2 == pm) t += $12 + $13       # utime, stime
    } END { print t + 0 }'
}
hz="$(getconf CLK_TCK)"
commands="${COMMANDS:-300000}"
echo "start $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg) commit $(git -C "$root" rev-parse --short HEAD)"
for round in $(seq 1 "${ROUNDS:-3}"); do
  for cfg in base new_noledger new; do
    case $cfg in
      base) cmd=("$base" bench) ;;
      new_noledger) cmd=("$new" bench --no-ledger) ;;
      new) cmd=("$new" bench) ;;
    esac
    out="$(mktemp)"
    t0="$(pg_ticks)"
    "${cmd[@]}" --commands "$commands" --latency-seconds "${LATENCY_SECONDS:-5}" --publisher \
      >"$out" 2>&1 &
    pid=$!
    # At the end of the throughput phase (its line, polled every 50 ms): the cluster's CPU since
    # the start and the driver's own (every thread: engine, committer, publisher...).
    while kill -0 "$pid" 2>/dev/null && ! grep -q '^throughput' "$out"; do sleep 0.05; done
    t1="$(pg_ticks)"
    e1="$(awk '{ sub(/^[0-9]+ \([^)]*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null)"
    wait "$pid"
    {
      cat "$out"
      awk -v t="$((t1 - t0))" -v e="${e1:-0}" -v hz="$hz" -v n="$commands" 'BEGIN {
        printf "pg cpu: %.2f s to the end of the throughput phase = %.2f us/command; " \
               "driver cpu: %.2f s = %.2f us/command\n", t / hz, t / hz * 1e6 / n, e / hz,
               e / hz * 1e6 / n }'
    } | grep -E "^throughput|^pg cpu|^latency|^replay from|^snapshots|^restart to ready:" |
      sed "s/^/$cfg r$round: /"
    rm -f "$out"
    echo "$cfg r$round: load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
echo "end $(date -u)"
