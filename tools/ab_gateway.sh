#!/usr/bin/env bash
# A/B of ipxd in one invocation: another build's (BASE_BUILD) and this one's, alternating,
# each in a fresh database: open-loop order runs at RATES, then a closed-loop one
# (docs/BENCHMARKS.md "Gateway").
#   BASE_BUILD=/path/to/build/release tools/ab_gateway.sh
# Environment: ROUNDS (2), SECS (8), RATES ("5000 20000").
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${BASE_BUILD:?set BASE_BUILD to the other build directory}/gateway/ipxd"
load="$root/build/release/tools/ipx-load"
"$root/tools/ipx" services up >/dev/null || exit 2
eval "$("$root/tools/ipx" services env)"
export IPX_ADMIN_KEY=admin
IPX_ADMIN_SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export IPX_ADMIN_SECRET
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
    url="ws://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/.*://')/v1/ws"
    for rate in ${RATES:-5000 20000} 0; do
      args=(--rate "$rate")
      [[ $rate == 0 ]] && args+=(--window 16)
      r=$("$load" orders --url "$url" --conns 128 "${args[@]}" --seconds "${SECS:-8}" --warmup 2 2>/dev/null | grep '^RESULT')
      echo "$which round=$round $r load=$(cut -d' ' -f1 /proc/loadavg)"
    done
    kill "$pid"
    wait "$pid" 2>/dev/null
    psql "$IPX_PG" -qc "DROP DATABASE $db WITH (FORCE)"
  done
done
