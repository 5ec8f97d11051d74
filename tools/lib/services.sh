# Sourced by tools/ipx: a private PostgreSQL 15 cluster and a private Redis for this checkout.
# They never touch the system services: own data directory, own ports, 127.0.0.1 only.
#
#   services_cmd up|down|status|env|pg-stop|pg-start|where
#   services_up, services_down, services_env
#
# Ports: IPX_PG_PORT (default 25432), IPX_REDIS_PORT (default 26380). Both lie below Linux's
# ephemeral range (32768-60999 by default), so an outgoing connection of another process cannot
# hold them as its local port when we start (and 26380 is not Redis Sentinel's 26379); a start
# that still fails is retried (SERVICES_TRIES). A Redis answering on the port counts as ours only
# when its working directory is ours.
# Data (one rule): $IPX_TOP/.ipx/ when the postgres user can enter $IPX_TOP, else
# /var/tmp/ipx-<first 8 hex of sha256($IPX_TOP)>/ (CI clones under /root, which postgres
# cannot enter). IPX_SERVICES_DIR overrides both. Layout: pg/ (cluster), run/ (unix sockets),
# redis/ (Redis working dir), pg.log, redis.log, redis.conf, redis.pid, lock.
# PostgreSQL runs as `postgres` (initdb refuses root); fsync stays on: durability is the point.

IPX_PG_PORT="${IPX_PG_PORT:-25432}"
IPX_REDIS_PORT="${IPX_REDIS_PORT:-26380}"
IPX_PG_BIN="${IPX_PG_BIN:-/usr/lib/postgresql/15/bin}"
SERVICES_WAIT_S=60
SERVICES_TRIES=3

# Runs a command as the cluster owner: `postgres` when we are root, else ourselves.
# From /: the caller's directory may be one `postgres` cannot enter (a clone under /root), which
# psql and pg_ctl would warn about; every path given them is absolute (services_dir).
_svc_as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

_svc_pg_owner() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# The data folder, by the rule above (stable for a checkout, so every call agrees).
services_dir() {
  if [ -n "${IPX_SERVICES_DIR:-}" ]; then
    case "$IPX_SERVICES_DIR" in /*) echo "$IPX_SERVICES_DIR" ;; *) echo "$PWD/$IPX_SERVICES_DIR" ;; esac
    return
  fi
  if _svc_as_pg test -x "$IPX_TOP" 2>/dev/null; then
    echo "$IPX_TOP/.ipx"
  else
    echo "/var/tmp/ipx-$(printf '%s' "$IPX_TOP" | sha256sum | cut -c1-8)"
  fi
}

_svc_vars() {
  SVC_DIR="$(services_dir)"
  SVC_PGDATA="$SVC_DIR/pg"
  SVC_RUN="$SVC_DIR/run"
}

_svc_pg_running() {
  [ -f "$SVC_PGDATA/postmaster.pid" ] &&
    _svc_as_pg "$IPX_PG_BIN/pg_ctl" -D "$SVC_PGDATA" status >/dev/null 2>&1
}

_svc_redis_running() {
  local dir
  dir="$(cd "$SVC_DIR/redis" 2>/dev/null && pwd -P)" || return 1
  redis-cli -h 127.0.0.1 -p "$IPX_REDIS_PORT" config get dir 2>/dev/null | grep -qxF "$dir"
}

_svc_psql_super() {
  _svc_as_pg "$IPX_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SVC_RUN" -p "$IPX_PG_PORT" \
    -U postgres -d postgres "$@"
}

_svc_pg_init() {
  [ -f "$SVC_PGDATA/PG_VERSION" ] && return 0
  local owner; owner="$(_svc_pg_owner)"
  mkdir -p "$SVC_PGDATA" "$SVC_RUN"
  chown "$owner" "$SVC_PGDATA" "$SVC_RUN"
  chmod 700 "$SVC_PGDATA"
  chmod 755 "$SVC_RUN"
  _svc_as_pg "$IPX_PG_BIN/initdb" -D "$SVC_PGDATA" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=trust >"$SVC_DIR/initdb.log" 2>&1 ||
    { echo "services: initdb failed, see $SVC_DIR/initdb.log" >&2; return 1; }
  # Private dev cluster: loopback and the private socket only, trust (nothing else can reach it).
  cat >"$SVC_PGDATA/pg_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  cat >>"$SVC_PGDATA/postgresql.conf" <<EOF

# --- ipx private cluster (tools/lib/services.sh) ---
listen_addresses = '127.0.0.1'
port = $IPX_PG_PORT
unix_socket_directories = '$SVC_RUN'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = minimal
max_wal_senders = 0
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
logging_collector = off
log_min_messages = warning
EOF
  chown "$owner" "$SVC_PGDATA/pg_hba.conf" "$SVC_PGDATA/postgresql.conf"
}

_svc_pg_start() {
  _svc_pg_running && return 0
  mkdir -p "$SVC_RUN"; chown "$(_svc_pg_owner)" "$SVC_RUN"
  touch "$SVC_DIR/pg.log"; chown "$(_svc_pg_owner)" "$SVC_DIR/pg.log"
  # The port may have been changed since initdb: pass it on the command line every time.
  local try
  for ((try = 1; ; try++)); do
    _svc_as_pg "$IPX_PG_BIN/pg_ctl" -D "$SVC_PGDATA" -l "$SVC_DIR/pg.log" -w -t "$SERVICES_WAIT_S" \
      -o "-p $IPX_PG_PORT -k $SVC_RUN" start >/dev/null 9>&- && break
    # A start that timed out may still be coming up (crash recovery): wait for it below.
    _svc_pg_running && break
    if ((try >= SERVICES_TRIES)); then
      echo "services: PostgreSQL did not start, see $SVC_DIR/pg.log" >&2; tail -5 "$SVC_DIR/pg.log" >&2
      return 1
    fi
    echo "services: PostgreSQL did not start (try $try of $SERVICES_TRIES), retrying" >&2
    sleep 2
  done
  local i
  for ((i = 0; i < SERVICES_WAIT_S * 10; i++)); do
    "$IPX_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$IPX_PG_PORT" && return 0
    sleep 0.1
  done
  echo "services: PostgreSQL not accepting connections on 127.0.0.1:$IPX_PG_PORT" >&2
  return 1
}

# Roles and database; idempotent. ipx owns database ipx and may create test databases;
# ipx_app is the application role (the ledger migrations GRANT it what it may do).
_svc_pg_bootstrap() {
  _svc_psql_super <<'EOF' >/dev/null
SELECT 'CREATE ROLE ipx LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ipx')
\gexec
SELECT 'CREATE ROLE ipx_app LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ipx_app')
\gexec
SELECT 'CREATE DATABASE ipx OWNER ipx' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ipx')
\gexec
EOF
}

_svc_redis_start() {
  _svc_redis_running && return 0
  mkdir -p "$SVC_DIR/redis"
  cat >"$SVC_DIR/redis.conf" <<EOF
# ipx private Redis (tools/lib/services.sh): loopback only, no persistence.
bind 127.0.0.1
port $IPX_REDIS_PORT
daemonize yes
pidfile $SVC_DIR/redis.pid
logfile $SVC_DIR/redis.log
dir $SVC_DIR/redis
save ""
appendonly no
maxmemory 512mb
maxmemory-policy noeviction
EOF
  local try i
  for ((try = 1; try <= SERVICES_TRIES; try++)); do
    # daemonize: redis-server returns before it binds; a port it cannot bind shows as no
    # answer (_svc_redis_running) and no live pid.
    rm -f "$SVC_DIR/redis.pid"  # a stale pid (maybe reused by another process) is no sign of life
    redis-server "$SVC_DIR/redis.conf" 9>&- ||
      { echo "services: redis-server failed, see $SVC_DIR/redis.log" >&2; return 1; }
    for ((i = 0; i < SERVICES_WAIT_S * 10; i++)); do
      _svc_redis_running && return 0
      if ((i >= 10)) && ! { [ -f "$SVC_DIR/redis.pid" ] && kill -0 "$(cat "$SVC_DIR/redis.pid")" 2>/dev/null; }; then
        break
      fi
      sleep 0.1
    done
    echo "services: Redis not answering on 127.0.0.1:$IPX_REDIS_PORT (try $try of $SERVICES_TRIES)" >&2
    ((try < SERVICES_TRIES)) && sleep 2
  done
  echo "services: Redis not answering on 127.0.0.1:$IPX_REDIS_PORT, see $SVC_DIR/redis.log" >&2
  tail -5 "$SVC_DIR/redis.log" >&2
  return 1
}

# Serialises concurrent `up`/`down` from several shells of the same checkout. The daemons are
# started with fd 9 closed so they do not inherit (and hold) the lock.
_svc_locked() {
  mkdir -p "$SVC_DIR"; chmod 755 "$SVC_DIR"
  (
    flock -w 120 9 || { echo "services: could not take $SVC_DIR/lock" >&2; exit 1; }
    "$@"
  ) 9>"$SVC_DIR/lock"
}

_svc_up_unlocked() {
  if _svc_pg_running && _svc_redis_running; then return 0; fi
  echo "services: data in $SVC_DIR" >&2
  _svc_pg_init && _svc_pg_start && _svc_pg_bootstrap && _svc_redis_start || return 1
  echo "services: PostgreSQL on 127.0.0.1:$IPX_PG_PORT, Redis on 127.0.0.1:$IPX_REDIS_PORT" >&2
}

_svc_down_unlocked() {
  if _svc_pg_running; then
    _svc_as_pg "$IPX_PG_BIN/pg_ctl" -D "$SVC_PGDATA" -m fast -w -t "$SERVICES_WAIT_S" stop >/dev/null
  fi
  if _svc_redis_running; then
    redis-cli -h 127.0.0.1 -p "$IPX_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  return 0
}

services_up() {
  _svc_vars
  if _svc_pg_running && _svc_redis_running; then return 0; fi
  _svc_locked _svc_up_unlocked
}

services_down() {
  _svc_vars
  [ -d "$SVC_DIR" ] || return 0
  _svc_locked _svc_down_unlocked
}

services_status() {
  _svc_vars
  echo "data: $SVC_DIR"
  if _svc_pg_running; then
    echo "postgresql: running on 127.0.0.1:$IPX_PG_PORT (data $SVC_PGDATA)"
  else
    echo "postgresql: stopped"
  fi
  if _svc_redis_running; then
    echo "redis: running on 127.0.0.1:$IPX_REDIS_PORT"
  else
    echo "redis: stopped"
  fi
}

services_env() {
  _svc_vars
  echo "export IPX_PG='host=127.0.0.1 port=$IPX_PG_PORT dbname=ipx user=ipx'"
  echo "export IPX_REDIS=127.0.0.1:$IPX_REDIS_PORT"
  # For tests that need the cluster superuser or must stop/start PostgreSQL mid-test.
  echo "export IPX_PG_SUPER='host=127.0.0.1 port=$IPX_PG_PORT dbname=ipx user=postgres'"
  echo "export IPX_PG_DATA='$SVC_PGDATA'"
  echo "export IPX_PG_BIN='$IPX_PG_BIN'"
  echo "export IPX_PG_PORT=$IPX_PG_PORT"
  echo "export IPX_PG_SOCKET_DIR='$SVC_RUN'"
}

services_cmd() {
  local sub="${1:-status}"
  case "$sub" in
    up) services_up ;;
    down) services_down ;;
    status) services_status ;;
    env) services_env ;;
    where) _svc_vars; echo "$SVC_DIR" ;;
    pg-stop)
      _svc_vars
      _svc_pg_running || return 0
      _svc_as_pg "$IPX_PG_BIN/pg_ctl" -D "$SVC_PGDATA" -m fast -w -t "$SERVICES_WAIT_S" stop >/dev/null ;;
    pg-start) _svc_vars; _svc_pg_start ;;
    *) echo "services: unknown subcommand '$sub' (up|down|status|env|where|pg-stop|pg-start)" >&2; return 2 ;;
  esac
}
