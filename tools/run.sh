#!/usr/bin/env bash
# tools/run.sh — the pilot demo (`tools/ipx run` builds release, then execs this).
#
#   tools/run.sh [--once] [--port N] [--host H] [--seed N] [--keep-db] [--quiet]
#
# Brings the private services up, creates a fresh database for this run
# (ipx_pilot_<timestamp>_<pid>), starts ipxd on a manual clock on 127.0.0.1:8080 (or a free
# port when 8080 is taken, or --port N), runs the pilot scenario (tools/pilot/pilot.py)
# on an accelerated clock with a live progress line, prints the bank report and the
# reconciliation, then keeps ipxd running until Ctrl-C. With --once it stops ipxd after the
# report, drops the run's database (unless --keep-db) and exits with the scenario's status.
# The services stay up either way (`tools/ipx services down` stops them).
set -euo pipefail
IPX_TOP="${IPX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export IPX_TOP
# shellcheck source=lib/services.sh
source "$IPX_TOP/tools/lib/services.sh"

once=0 port="" host="127.0.0.1" seed=20260105 keep_db=0 pilot_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --once) once=1 ;;
    --port) port="$2"; shift ;;
    --port=*) port="${1#--port=}" ;;
    --host) host="$2"; shift ;;
    --host=*) host="${1#--host=}" ;;
    --seed) seed="$2"; shift ;;
    --seed=*) seed="${1#--seed=}" ;;
    --keep-db) keep_db=1 ;;
    --quiet) pilot_args+=(--quiet) ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

IPXD="${IPXD:-$IPX_TOP/build/release/gateway/ipxd}"
LEDGER_TOOL="${IPX_LEDGER_TOOL:-$IPX_TOP/build/release/tools/ipx-ledger}"
PY=/usr/bin/python3
[ -x "$IPXD" ] || { echo "run: $IPXD is missing: build it first (tools/ipx build release)" >&2; exit 1; }

services_up
eval "$(services_env)"

# A fresh database for this run, owned by ipx (which has CREATEDB).
db="ipx_pilot_$(date -u +%Y%m%d_%H%M%S)_$$"
pg_base="host=127.0.0.1 port=$IPX_PG_PORT user=ipx"
"$IPX_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$pg_base dbname=ipx" -c "CREATE DATABASE $db OWNER ipx" >/dev/null
pg="$pg_base dbname=$db"

# 8080 when free, else any free port (ipxd binds port 0 and reports the port it got).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_given=1
if [ -z "$port" ]; then
  port_given=0
  if port_free 8080; then port=8080; else port=0; fi
fi

export IPX_ADMIN_KEY="${IPX_ADMIN_KEY:-admin}"
export IPX_ADMIN_SECRET="${IPX_ADMIN_SECRET:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
# Engine time starts on Monday 5 January 2026, 09:00 Beijing time (01:00 UTC).
start_ms="${IPX_PILOT_START_MS:-1767574800000}"

logdir="${TMPDIR:-/tmp}/ipx-pilot-$db"
mkdir -p "$logdir"
log="$logdir/ipxd.log"
ipxd_pid=""
stop_ipxd() {
  if [ -n "$ipxd_pid" ] && kill -0 "$ipxd_pid" 2>/dev/null; then
    kill -TERM "$ipxd_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$ipxd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$ipxd_pid" 2>/dev/null && kill -KILL "$ipxd_pid" 2>/dev/null || true
    wait "$ipxd_pid" 2>/dev/null || true
  fi
  ipxd_pid=""
}
drop_db() {
  [ "$keep_db" = 1 ] && return 0
  "$IPX_PG_BIN/psql" -X -q "$pg_base dbname=ipx" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap 'stop_ipxd' EXIT

# Starts ipxd and waits for its "ipxd ready: URL" line; sets url. Returns 1 if ipxd exited.
start_ipxd() {
  "$IPXD" --listen "$host:$port" --pg "$pg" --redis "$IPX_REDIS" --manual-clock="$start_ms" >"$log" 2>&1 &
  ipxd_pid=$!
  url=""
  local i
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$ipxd_pid" 2>/dev/null; then wait "$ipxd_pid" 2>/dev/null || true; ipxd_pid=""; return 1; fi
    url="$(sed -n 's/^ipxd ready: \(https\{0,1\}:\/\/[^ ]*\) .*/\1/p' "$log" 2>/dev/null | head -1)"
    [ -n "$url" ] && return 0
    sleep 0.1
  done
  return 0
}
if ! start_ipxd; then
  # 8080 was free a moment ago but taken now: take any free port instead.
  if [ "$port_given" = 0 ] && [ "$port" != 0 ] && grep -q "cannot listen" "$log"; then
    # A fresh database again: the manual clock starts only on an empty journal.
    "$IPX_PG_BIN/psql" -X -q "$pg_base dbname=ipx" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    db="${db}_b"; pg="$pg_base dbname=$db"
    "$IPX_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$pg_base dbname=ipx" -c "CREATE DATABASE $db OWNER ipx" >/dev/null
    port=0
    start_ipxd || true
  fi
  if [ -z "$ipxd_pid" ]; then
    echo "run: ipxd exited before it was ready:" >&2; tail -20 "$log" >&2; drop_db; exit 1
  fi
fi
[ -n "$url" ] || { echo "run: ipxd not ready after 60 s, see $log" >&2; drop_db; exit 1; }
hostport="${url#*://}"; hostport="${hostport%/}"
port="${hostport##*:}"
conn_host="$host"; [ "$host" = "0.0.0.0" ] && conn_host=127.0.0.1
ws_url="ws://$conn_host:$port/v1/ws"
shown_host="$host"; [ "$host" = "0.0.0.0" ] && shown_host="$(hostname -I 2>/dev/null | awk '{print $1}')"
echo "ipx pilot: ipxd on $url (ws $ws_url), database $db, log $log, seed $seed"

rc=0
"$PY" "$IPX_TOP/tools/pilot/pilot.py" --url "$ws_url" --admin-key "$IPX_ADMIN_KEY" \
  --admin-secret "$IPX_ADMIN_SECRET" --seed "$seed" --pg "$pg" --ledger-tool "$LEDGER_TOOL" \
  "${pilot_args[@]}" || rc=$?

if [ "$rc" = 130 ]; then
  echo "run: interrupted; stopping ipxd (database $db kept)" >&2
  stop_ipxd
  exit 130
fi

if [ "$once" = 1 ]; then
  stop_ipxd
  if [ "$rc" = 0 ]; then drop_db; [ "$keep_db" = 1 ] || rm -rf "$logdir"; fi
  [ "$rc" = 0 ] || echo "run: the pilot failed (exit $rc); database $db kept, ipxd log $log" >&2
  exit "$rc"
fi

[ "$rc" = 0 ] || echo "run: the pilot reported failures (exit $rc); the server keeps running for a look" >&2
dash_note=""
dash_code="$("$PY" -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)' "http://$conn_host:$port/" 2>/dev/null || echo 0)"
[ "$dash_code" = 200 ] || dash_note="  (GET / answers $dash_code: this ipxd serves no dashboard yet)"
cat <<EOF

ipx is running (engine clock stopped at the pilot's end; Ctrl-C stops ipxd, the services stay up)
  dashboard     http://$shown_host:$port/$dash_note
  websocket     ws://$shown_host:$port/v1/ws
  admin key     $IPX_ADMIN_KEY
  admin secret  $IPX_ADMIN_SECRET
  database      $pg
  ipxd log      $log
EOF
trap 'echo; echo "run: stopping ipxd"; stop_ipxd; exit 0' INT TERM
wait "$ipxd_pid" || true
ipxd_pid=""
