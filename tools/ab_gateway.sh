#!/usr/bin/env bash
# A/B of ipxd in one invocation: another build's (BASE_BUILD) and this one's, alternating,
# each in a fresh database: open-loop order runs at RATES, then a closed-loop one
# (docs/BENCHMARKS.md "Gateway").
#   BASE_BUILD=/path/to/build/release tools/ab_gateway.sh
# Environment: ROUNDS (2), SECS (8), RATES ("5000 20000").
# Each line also gives the CPU per journaled command (ipxd's threads, and the PostgreSQL
# cluster's processes) over the run, warm-up included: on a shared machine these move far
# less than the rates.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${BASE_BUILD:?set BASE_BUILD to the other build directory}/gateway/ipxd"
load="$root/build/release/tools/ipx-load"
"$root/tools/ipx" services up >/dev/null || exit 2
eval "$("$root/tools/ipx" services env)"
export IPX_ADMIN_KEY=admin
IPX_ADMIN_SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export IPX_ADMIN_SECRET
# CPU ticks (utime + stime) of a process and of every process of the PostgreSQL cluster.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local t=0 p
  for p in $(pgrep -x postgres); do t=$((t + $(ticks "$p"))); done
  echo "$t"
}
committed() {  # the journal's committed seq, from /metrics
  curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "ipx_journal_committed_seq" {print $2}'
}
hz=$(getconf CLK_TCK)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for round in $(seq 1 "${ROUNDS:-2}"); do
  for which in base new; do
    bin="$base"
    [[ $which == new ]] && bin="$root/build/release/gateway/ipxd"
    db="ipx_ab_${which}_$$_$round"
    psql "$IPX_PG" -qc "CREATE DATABASE $db" || exit 2
    pg="$(sed -E "s/dbname=[^ ]*/dbname=$db/" <<<"$IPX_PG")"
    IPX_PG="$pg" "$bin" --listen 127.0.0.1:0 >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do grep -q "ipxd ready" "$log" && break; sleep 0.1; done
    port="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/.*://')"
    url="ws://127.0.0.1:$port/v1/ws"
    for rate in ${RATES:-5000 20000} 0; do
      args=(--rate "$rate")
      [[ $rate == 0 ]] && args+=(--window 16)
      c0=$(committed "$port") i0=$(ticks "$pid") p0=$(pg_ticks)
      r=$("$load" orders --url "$url" --conns 128 "${args[@]}" --seconds "${SECS:-8}" --warmup 2 2>/dev/null | grep '^RESULT')
      c1=$(committed "$port") i1=$(ticks "$pid") p1=$(pg_ticks)
      cpu=$(awk -v n=$((${c1%.*} - ${c0%.*})) -v i=$((i1 - i0)) -v p=$((p1 - p0)) -v hz="$hz" \
        'BEGIN { if (n > 0) printf "ipxd_us=%.1f pg_us=%.1f", i * 1e6 / hz / n, p * 1e6 / hz / n }')
      echo "$which round=$round $r $cpu load=$(cut -d' ' -f1 /proc/loadavg)"
    done
    kill "$pid"
    wait "$pid" 2>/dev/null
    psql "$IPX_PG" -qc "DROP DATABASE $db WITH (FORCE)"
  done
done
