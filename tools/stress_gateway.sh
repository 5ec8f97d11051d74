#!/usr/bin/env bash
# Gateway lifetime stress (docs/gateway.md "Threading"): ipxd under the benchmark's order load
# (128 connections x 16 in flight) plus a fan-out (subscribers of one auction, a bid every
# 50 ms) while clients of both kinds are killed mid-run (SIGKILL: sockets cut, no close
# handshake), round after round. Passes when ipxd is alive after every round, then drains
# on SIGTERM and exits 0, and its log has no allocator or sanitizer report.
#
#   tools/stress_gateway.sh                      (IPX_BUILD=build/release by default)
#   IPX_BUILD=build/nojemalloc IPXD_MALLOC_CHECK=1 tools/stress_gateway.sh
#       glibc malloc with its checks: LD_PRELOAD=libc_malloc_debug.so.0 MALLOC_CHECK_=3
#       (glibc >= 2.34 needs the preload for MALLOC_CHECK_) and MALLOC_PERTURB_.
#   IPX_BUILD=build/tsan IPX_LOAD=build/release/tools/ipx-load ROUNDS=2 tools/stress_gateway.sh
#       a ThreadSanitizer ipxd (TSAN_OPTIONS log_path under the work directory).
# Environment: ROUNDS (3), SECONDS_PER_ROUND (20), SUBSCRIBERS (1000), KILLS (4 per round: each
# an order client and a fan-out client killed together after 1/KILLS to 2/KILLS of the round),
# IPX_LOAD (the load generator; default: $IPX_BUILD/tools/ipx-load), KEEP_WORK=1.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IPX_BUILD:-$root/build/release}"
[[ "$build" = /* ]] || build="$root/$build"
ipxd="$build/gateway/ipxd"
load="${IPX_LOAD:-$build/tools/ipx-load}"
[[ "$load" = /* ]] || load="$root/$load"
rounds="${ROUNDS:-3}" secs="${SECONDS_PER_ROUND:-20}" subscribers="${SUBSCRIBERS:-1000}" kills="${KILLS:-4}"
for b in "$ipxd" "$load"; do [[ -x "$b" ]] || { echo "stress_gateway: $b not built" >&2; exit 2; }; done
# Thousands of connections need as many descriptors; with fewer the run still goes, smaller.
if ! ulimit -n "$(ulimit -Hn)" 2>/dev/null; then
  echo "stress_gateway: could not raise ulimit -n (now $(ulimit -n)); connections may be refused" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ipx-stress-gw.XXXXXX")"
pids=()
db=""
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [[ -n "$db" ]]; then psql "$IPX_PG" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; fi
  if [[ "${KEEP_WORK:-0}" == 1 ]]; then echo "stress_gateway: work directory $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/tools/ipx" services up >/dev/null || { echo "stress_gateway: services up failed" >&2; exit 2; }
eval "$("$root/tools/ipx" services env)"
db="ipx_stress_gw_$$_$(date +%s)"
psql "$IPX_PG" -qc "CREATE DATABASE $db" >/dev/null || exit 2
pg="$(sed -E "s/dbname=[^ ]*/dbname=$db/" <<<"$IPX_PG")"
export IPX_ADMIN_KEY=admin
IPX_ADMIN_SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export IPX_ADMIN_SECRET

ipxd_env=()
if [[ "${IPXD_MALLOC_CHECK:-0}" == 1 ]]; then
  debug_lib="$(ls /usr/lib/*/libc_malloc_debug.so.0 2>/dev/null | head -1)"
  [[ -n "$debug_lib" ]] || { echo "stress_gateway: libc_malloc_debug.so.0 not found" >&2; exit 2; }
  ipxd_env+=(LD_PRELOAD="$debug_lib" MALLOC_CHECK_=3 MALLOC_PERTURB_=165)
fi
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1 log_path=$work/tsan}"
env "${ipxd_env[@]}" IPX_PG="$pg" "$ipxd" --listen 127.0.0.1:0 >"$work/ipxd.log" 2>&1 &
ipxd_pid=$!
pids+=("$ipxd_pid")
for _ in $(seq 1 600); do grep -q "ipxd ready" "$work/ipxd.log" 2>/dev/null && break; sleep 0.1; done
grep -q "ipxd ready" "$work/ipxd.log" || { echo "stress_gateway: ipxd did not start:" >&2; cat "$work/ipxd.log" >&2; exit 2; }
port="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/ipxd.log" | head -1 | sed 's/.*://')"
url="ws://127.0.0.1:$port/v1/ws"
echo "stress_gateway: ipxd pid $ipxd_pid at $url (${ipxd_env[*]:-default malloc}), $rounds rounds of ${secs}s" >&2

failed=0
killed_mid_run=0  # victims killed after their set-up (trading, or subscribed and fanned out to)
alive() { kill -0 "$ipxd_pid" 2>/dev/null; }
for round in $(seq 1 "$rounds"); do
  # Steady load: orders (closed loop, the benchmark's shape) and a fan-out, each on source
  # addresses of its own (the gateway allows 256 connections per address).
  "$load" orders --url "$url" --conns 128 --window 16 --rate 0 --seconds "$secs" --warmup 1 \
    --src-base 127.0.1.2 >"$work/orders.$round.log" 2>&1 &
  orders_pid=$!
  "$load" fanout --url "$url" --subscribers "$subscribers" --bids $((secs * 20)) --bid-interval-ms 50 \
    --src-base 127.0.2.2 >"$work/fanout.$round.log" 2>&1 &
  fanout_pid=$!
  pids+=("$orders_pid" "$fanout_pid")
  # Victims: clients killed mid-run (after their set-up, while they trade or are fanned out
  # to), with requests in flight and pushes queued for them.
  for k in $(seq 1 "$kills"); do
    "$load" orders --url "$url" --conns 64 --window 16 --rate 0 --seconds 60 --warmup 0 \
      --src-base "127.0.$((10 + k)).2" >"$work/victim-orders.$round.$k.log" 2>&1 &
    victim_orders=$!
    "$load" fanout --url "$url" --subscribers 400 --bids 3000 --bid-interval-ms 20 \
      --src-base "127.0.$((50 + k)).2" >"$work/victim-fanout.$round.$k.log" 2>&1 &
    victim_fanout=$!
    pids+=("$victim_orders" "$victim_fanout")
    sleep "$(awk -v s="$secs" -v n="$kills" 'BEGIN {srand(); printf "%.1f", s / n * (0.6 + rand() / 3)}')"
    kill -9 "$victim_orders" "$victim_fanout" 2>/dev/null
    wait "$victim_orders" "$victim_fanout" 2>/dev/null
    killed_mid_run=$((killed_mid_run + $(grep -l "connections open\|have their snapshot" \
      "$work/victim-orders.$round.$k.log" "$work/victim-fanout.$round.$k.log" 2>/dev/null | wc -l)))
    alive || break
  done
  wait "$orders_pid" 2>/dev/null
  orders_rc=$?
  wait "$fanout_pid" 2>/dev/null
  fanout_rc=$?
  if ! alive; then
    echo "stress_gateway: round $round: ipxd DIED; its log ends:" >&2
    tail -20 "$work/ipxd.log" >&2
    failed=1
    break
  fi
  echo "stress_gateway: round $round: ipxd alive; orders exit $orders_rc: $(grep -o 'achieved [0-9]* acknowledged/s' "$work/orders.$round.log" | head -1); fanout exit $fanout_rc: $(grep -o 'deliveries of [0-9]*\|[0-9]* deliveries' "$work/fanout.$round.log" | head -1)" >&2
done

if alive; then
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "stress_gateway: /healthz failed" >&2; failed=1; }
  echo "stress_gateway: $killed_mid_run of $((rounds * kills * 2)) victims killed mid-run; ipxd: $(curl -s "http://127.0.0.1:$port/metrics" |
    grep -E '^ipx_(ws_connections_total|ws_connections|hub_subscriptions|ws_slow_consumer_total) ' | tr '\n' ' ')" >&2
  kill -TERM "$ipxd_pid"
  for _ in $(seq 1 300); do alive || break; sleep 0.1; done
  if alive; then
    echo "stress_gateway: ipxd did not drain within 30 s of SIGTERM" >&2
    failed=1
  else
    wait "$ipxd_pid"
    rc=$?
    (( rc == 0 )) || { echo "stress_gateway: ipxd exit code $rc after SIGTERM" >&2; failed=1; }
  fi
fi
if grep -Eqi "corrupted|double free|free\(\)|malloc\(\)|AddressSanitizer|runtime error|Aborted" "$work/ipxd.log"; then
  echo "stress_gateway: allocator or sanitizer report in the ipxd log:" >&2
  grep -Ei -m 20 "corrupted|double free|free\(\)|malloc\(\)|AddressSanitizer|runtime error|Aborted" "$work/ipxd.log" >&2
  failed=1
fi
if ls "$work"/tsan* >/dev/null 2>&1; then
  echo "stress_gateway: ThreadSanitizer reports: $(grep -c '^WARNING: ThreadSanitizer' "$work"/tsan* | awk -F: '{s+=$2} END {print s}')" >&2
  grep -h -A12 '^WARNING: ThreadSanitizer' "$work"/tsan* | head -80 >&2
  failed=1
fi
(( failed == 0 )) && echo "stress_gateway: PASS ($rounds rounds, $((kills * 2)) clients killed per round)" >&2
exit "$failed"
