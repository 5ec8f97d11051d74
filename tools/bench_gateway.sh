#!/usr/bin/env bash
# The gateway benchmark (issue 5, "Load generator and benchmarks"; docs/BENCHMARKS.md
# "Gateway"). Starts the private services, a fresh database, ipxd (real clock) and a plain
# WebSocket echo server (tools/ws_echo.js, Node's `ws`), runs ipx-load against both in this
# one invocation and prints a table against the targets.
#
#   tools/bench_gateway.sh                 (via `tools/ipx bench gateway`)
# Environment: IPX_BUILD (default build/release), SECONDS_PER_RUN (10), WARMUP (2),
# REPEAT (3: the throughput, latency and fan-out runs are repeated, medians reported; the
# idle run once), CONNS (128),
# WINDOW (16), LAT_RATE (20000), LOW_RATE (2000: a second latency run at a rate the engine
# sustains), SUBSCRIBERS (5000), BIDS (20), IDLE_CONNS (10000),
# KEEP_DB=1 keeps the database. Exit 0 when every run completed without errors (targets
# missed are reported, not failed), 1 otherwise.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IPX_BUILD:-$root/build/release}"
load="$build/tools/ipx-load"
ipxd="$build/gateway/ipxd"
secs="${SECONDS_PER_RUN:-10}" warmup="${WARMUP:-2}" repeat="${REPEAT:-3}"
conns="${CONNS:-128}" window="${WINDOW:-16}" lat_rate="${LAT_RATE:-20000}" low_rate="${LOW_RATE:-2000}"
subscribers="${SUBSCRIBERS:-5000}" bids="${BIDS:-20}" idle_conns="${IDLE_CONNS:-10000}"
for b in "$load" "$ipxd"; do
  [[ -x "$b" ]] || { echo "bench_gateway: $b not built (cmake --build $build --target ipx-load ipxd)" >&2; exit 2; }
done

# 10,000 idle connections need 10,000+ descriptors in the client and in the server.
hard=$(ulimit -Hn)
if [[ "$hard" == unlimited || "$hard" -gt 65536 ]]; then hard=65536; fi
if ! ulimit -n "$hard"; then
  echo "bench_gateway: could not raise ulimit -n to $hard" >&2  # checked just below
fi
if (( $(ulimit -n) < idle_conns + 200 )); then
  idle_conns=$(( $(ulimit -n) - 200 ))
  echo "bench_gateway: ulimit -n is $(ulimit -n); idle connections lowered to $idle_conns" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ipx-bench-gw.XXXXXX")"
pids=()
db=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [[ -n "$db" && "${KEEP_DB:-0}" != 1 ]]; then psql "$IPX_PG" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- services, a fresh database, ipxd ------------------------------------------------------
"$root/tools/ipx" services up >/dev/null || { echo "bench_gateway: services up failed" >&2; exit 2; }
eval "$("$root/tools/ipx" services env)"
db="ipx_bench_gw_$$_$(date +%s)"
psql "$IPX_PG" -qc "CREATE DATABASE $db" >/dev/null || exit 2
pg="$(sed -E "s/dbname=[^ ]*/dbname=$db/" <<<"$IPX_PG")"
export IPX_ADMIN_KEY=admin
IPX_ADMIN_SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export IPX_ADMIN_SECRET
wait_line() {  # file pattern seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench_gateway: no '$2' in $1:" >&2
  cat "$1" >&2
  exit 2
}
crashes=0
failed=0
start_ipxd() {
  IPX_PG="$pg" "$ipxd" --listen 127.0.0.1:0 >"$work/ipxd.log" 2>&1 &
  ipxd_pid=$!
  pids+=("$ipxd_pid")
  wait_line "$work/ipxd.log" "ipxd ready" 60
  ipx_port="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/ipxd.log" | head -1 | sed 's/.*://')"
  ipx_url="ws://127.0.0.1:$ipx_port/v1/ws"
}
# A server that died during a run is reported, and restarted (recovering from the journal)
# so that the remaining measurements still run.
ensure_ipxd() {
  kill -0 "$ipxd_pid" 2>/dev/null && return 0
  crashes=$((crashes + 1))
  failed=1
  echo "bench_gateway: ipxd (pid $ipxd_pid) DIED; its log ends:" >&2
  tail -5 "$work/ipxd.log" >&2
  cp "$work/ipxd.log" "$work/ipxd.crash$crashes.log"
  start_ipxd
}

start_ipxd

# --- the echo server: Debian's node-ws, else npm's ws in build/bench_node ---------------------
export NODE_PATH="/usr/share/nodejs:/usr/lib/nodejs:$build/bench_node/node_modules"
if ! node -e "require('ws')" 2>/dev/null; then
  echo "bench_gateway: installing npm ws into $build/bench_node" >&2
  mkdir -p "$build/bench_node"
  npm install --silent --prefix "$build/bench_node" ws@8 >&2 || { echo "bench_gateway: no ws for node" >&2; exit 2; }
fi
node "$root/tools/ws_echo.js" 0 >"$work/echo.log" 2>&1 &
pids+=("$!")
wait_line "$work/echo.log" "echo ready" 20
echo_url="ws://127.0.0.1:$(awk '/echo ready/{print $3}' "$work/echo.log")/"

echo "bench_gateway: ipxd pid $ipxd_pid at $ipx_url (database $db), echo at $echo_url" >&2
echo "bench_gateway: $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

results="$work/results"
run() {  # label ipx-load args...
  local label=$1
  shift
  ensure_ipxd
  local a=() x
  for x in "$@"; do [[ "$x" == ws://127.0.0.1:*/v1/ws ]] && x="$ipx_url"; a+=("$x"); done
  set -- "${a[@]}"
  echo "bench_gateway: [$label] ipx-load $*" >&2
  local out
  out="$("$load" "$@" 2>>"$work/load.err")"
  local rc=$?
  echo "$out" | grep -v '^RESULT' >&2
  (( rc == 0 )) || { failed=1; echo "bench_gateway: [$label] exit $rc; see errors above" >&2; tail -5 "$work/load.err" >&2; }
  echo "$out" | grep '^RESULT' | sed "s/^RESULT/RESULT label=$label/" >>"$results"
}
field() {  # label key -> median over the label's runs
  grep "label=$1 " "$results" | grep -o " $2=[^ ]*" | cut -d= -f2 | sort -g |
    awk '{v[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}
sum_errors() { grep "label=$1 " "$results" | grep -o ' errors=[0-9]*' | cut -d= -f2 | awk '{s+=$1} END {print s+0}'; }

for i in $(seq 1 "$repeat"); do
  run echo echo --url "$echo_url" --conns "$conns" --window "$window" --rate 0 --seconds "$secs" --warmup "$warmup"
  run orders_max orders --url "$ipx_url" --conns "$conns" --window "$window" --rate 0 --seconds "$secs" --warmup "$warmup"
done
for i in $(seq 1 "$repeat"); do
  run orders_lat orders --url "$ipx_url" --conns "$conns" --rate "$lat_rate" --seconds "$secs" --warmup "$warmup"
  run orders_low orders --url "$ipx_url" --conns "$conns" --rate "$low_rate" --seconds "$secs" --warmup "$warmup"
done
for i in $(seq 1 "$repeat"); do
  run fanout fanout --url "$ipx_url" --subscribers "$subscribers" --bids "$bids" --bid-interval-ms 250
done
run idle idle --url "$ipx_url" --conns "$idle_conns" --seconds "$secs" --server-pid "$ipxd_pid"

echo_rate=$(field echo achieved)
ipx_rate=$(field orders_max achieved)
ratio=$(awk -v a="$ipx_rate" -v b="$echo_rate" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')
lat_p99=$(field orders_lat p99_ms)
lat_ach=$(field orders_lat achieved)
fan_p99=$(field fanout p99_ms)
fan_del=$(field fanout deliveries)
alive=$(field idle alive)
rss=$(field idle rss_kb)
rss0=$(field idle rss_kb_before)
met() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {ok = (op == ">=") ? v >= t : v <= t; print (v == "n/a" ? "?" : (ok ? "yes" : "**no**"))}'; }

echo
echo "ipx gateway benchmark — $(date -u), $(nproc) cores; medians of $repeat runs (idle: 1 run)"
echo "| measure | target | measured | met? |"
echo "|---|---|---|---|"
printf "| orders acknowledged (durable) per second over WebSocket (%s conns, %s in flight each) | >= 50,000/s | %.0f/s | %s |\n" \
  "$conns" "$window" "$ipx_rate" "$(met "$ipx_rate" ">=" 50000)"
printf "| ack latency at %s orders/s offered (open loop) | p99 <= 10 ms | p50 %s ms, p99 %s ms, p99.9 %s ms; %.0f/s acknowledged | %s |\n" \
  "$lat_rate" "$(field orders_lat p50_ms)" "$lat_p99" "$(field orders_lat p999_ms)" "$lat_ach" "$(met "$lat_p99" "<=" 10)"
printf "| (for reference) ack latency at %s orders/s offered | - | p50 %s ms, p99 %s ms, p99.9 %s ms; %.0f/s acknowledged | - |\n" \
  "$low_rate" "$(field orders_low p50_ms)" "$(field orders_low p99_ms)" "$(field orders_low p999_ms)" "$(field orders_low achieved)"
printf "| one bid fanned out to %s subscribers (%s bids) | p99 delivery <= 100 ms | p50 %s ms, p99 %s ms, max %s ms; %s deliveries | %s |\n" \
  "$subscribers" "$bids" "$(field fanout p50_ms)" "$fan_p99" "$(field fanout max_ms)" "$fan_del" "$(met "$fan_p99" "<=" 100)"
printf "| idle authenticated connections held | >= 10,000, memory reported | %s held; ipxd RSS %s kB -> %s kB (%s kB per connection) | %s |\n" \
  "$alive" "$rss0" "$rss" "$(awk -v a="$rss" -v b="$rss0" -v n="$alive" 'BEGIN {if (n > 0) printf "%.1f", (a - b) / n; else print "n/a"}')" "$(met "$alive" ">=" 10000)"
printf "| ipx order rate / echo baseline (%.0f/s) | >= 0.5 | %s | %s |\n" "$echo_rate" "$ratio" "$(met "$ratio" ">=" 0.5)"
echo
ensure_ipxd
(( crashes == 0 )) || echo "ipxd DIED $crashes time(s) during the runs (restarted each time; see above)"
echo "errors: echo $(sum_errors echo), orders_max $(sum_errors orders_max), orders_lat $(sum_errors orders_lat), orders_low $(sum_errors orders_low), fanout $(sum_errors fanout), idle $(sum_errors idle)"
exit "$failed"
