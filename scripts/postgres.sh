# shellcheck shell=bash
# Project-local PostgreSQL helpers. Source this file; do not execute it.
#
#   source scripts/postgres.sh
#   monolith_start_postgres <name> <port>   # start (or reuse) .local/pg-<name>, export DATABASE_URL
#   monolith_stop_postgres  <name>          # pg_ctl stop -m fast
#   monolith_restart_postgres <name>        # pg_ctl restart -m fast (fault tests)
#   monolith_pg_bin                         # echo the PostgreSQL bin dir (installs PostgreSQL if missing)
#
# The cluster lives in $REPO/.local/pg-<name>/{data,run,postgres.log}, listens only on
# 127.0.0.1:<port> (plus a unix socket in .local/pg-<name>/run), uses trust auth for the
# `postgres` superuser and has a database named `monolith`.
# PostgreSQL refuses to run as root: as root, everything runs as the `postgres` OS user.
#
# Tunables (environment):
#   MONOLITH_PG_FSYNC=on|off        default on (this is a durability product; only turn off knowingly)
#   MONOLITH_PG_MAX_CONNECTIONS     default 300
#   MONOLITH_PG_SHARED_BUFFERS      default 256MB

MONOLITH_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

_monolith_pg_log() { echo "[postgres] $*" >&2; }

# Echo the newest PostgreSQL bin dir; install PostgreSQL via apt-get when it is missing.
monolith_pg_bin() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -z "$bin" || ! -x "$bin/initdb" || ! -x "$bin/pg_ctl" ]]; then
    _monolith_pg_log "PostgreSQL server binaries not found; installing with apt-get"
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        _monolith_pg_log "not root and no sudo: install PostgreSQL (apt-get install postgresql) and retry"
        return 1
      fi
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
      _monolith_pg_log "PostgreSQL install did not provide /usr/lib/postgresql/*/bin"
      return 1
    fi
  fi
  echo "$bin"
}

# Run a command as the cluster owner: `postgres` when we are root, else ourselves.
# Runs from / so the server never inherits a cwd it cannot access.
_monolith_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u postgres -- "$@")
    else
      local cmd
      printf -v cmd '%q ' "$@"
      (cd / && su postgres -s /bin/sh -c "$cmd")
    fi
  else
    (cd / && "$@")
  fi
}

# Make every directory from / down to $1 traversable (o+x) by the postgres user.
_monolith_pg_make_traversable() {
  local dir="$1" d
  [[ $(id -u) -eq 0 ]] || return 0
  d="$dir"
  while [[ -n "$d" && "$d" != "/" ]]; do
    if ! _monolith_pg_as_owner test -x "$d" 2>/dev/null; then
      _monolith_pg_log "chmod o+x $d (so the postgres user can reach its data dir)"
      chmod o+x "$d"
    fi
    d="$(dirname "$d")"
  done
}

_monolith_pg_paths() {
  local name="$1"
  MONOLITH_PG_BASE="$MONOLITH_REPO/.local/pg-$name"
  MONOLITH_PG_DATA="$MONOLITH_PG_BASE/data"
  MONOLITH_PG_LOG="$MONOLITH_PG_BASE/postgres.log"
  MONOLITH_PG_SOCK="$MONOLITH_PG_BASE/run"
  # Unix socket paths are limited to ~107 bytes (dir + "/.s.PGSQL.<port>"); fall back to /tmp.
  if (( ${#MONOLITH_PG_SOCK} > 80 )); then
    MONOLITH_PG_SOCK="/tmp/monolith-pg-$(printf '%s' "$MONOLITH_PG_BASE" | cksum | cut -d' ' -f1)"
  fi
}

monolith_start_postgres() {
  local name="${1:?usage: monolith_start_postgres <name> <port>}"
  local port="${2:?usage: monolith_start_postgres <name> <port>}"
  local lockfd rc=0
  mkdir -p "$MONOLITH_REPO/.local"
  # Serialise concurrent starts of the same cluster (e.g. two test runs at once).
  exec {lockfd}>"$MONOLITH_REPO/.local/pg-$name.lock"
  if command -v flock >/dev/null 2>&1; then flock -w 120 "$lockfd" || true; fi
  _monolith_pg_start_locked "$name" "$port" || rc=$?
  exec {lockfd}>&-
  return "$rc"
}

_monolith_pg_start_locked() {
  local name="$1" port="$2"
  local bin owner
  bin="$(monolith_pg_bin)" || return 1
  _monolith_pg_paths "$name"
  if [[ $(id -u) -eq 0 ]]; then owner=postgres; else owner="$(id -un)"; fi

  mkdir -p "$MONOLITH_PG_BASE" "$MONOLITH_PG_SOCK"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$MONOLITH_PG_BASE" "$MONOLITH_PG_SOCK"
    if [[ -d "$MONOLITH_PG_DATA" ]]; then chown -R postgres:postgres "$MONOLITH_PG_DATA"; fi
    _monolith_pg_make_traversable "$MONOLITH_PG_BASE"
  fi
  chmod 755 "$MONOLITH_PG_BASE"
  chmod 700 "$MONOLITH_PG_SOCK" 2>/dev/null || true

  if [[ ! -s "$MONOLITH_PG_DATA/PG_VERSION" ]]; then
    _monolith_pg_log "initdb $MONOLITH_PG_DATA (owner $owner)"
    rm -rf "$MONOLITH_PG_DATA"
    _monolith_pg_as_owner "$bin/initdb" -D "$MONOLITH_PG_DATA" --auth=trust -U postgres \
      --encoding=UTF8 --locale=C.UTF-8 >"$MONOLITH_PG_BASE/initdb.log" 2>&1 \
      || _monolith_pg_as_owner "$bin/initdb" -D "$MONOLITH_PG_DATA" --auth=trust -U postgres \
        --encoding=UTF8 --locale=C >"$MONOLITH_PG_BASE/initdb.log" 2>&1 \
      || { _monolith_pg_log "initdb failed:"; cat "$MONOLITH_PG_BASE/initdb.log" >&2; return 1; }
    echo "include_if_exists = 'monolith.conf'" >>"$MONOLITH_PG_DATA/postgresql.conf"
  fi

  # Settings are (re)written on every start so the port and tunables always apply.
  local preload="" libdir
  libdir="$("$bin/pg_config" --pkglibdir 2>/dev/null || echo "$(dirname "$bin")/lib")"
  if [[ -f "$libdir/pg_stat_statements.so" ]]; then preload="pg_stat_statements"; fi
  cat >"$MONOLITH_PG_BASE/monolith.conf.tmp" <<CONF
# Written by scripts/postgres.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$MONOLITH_PG_SOCK'
fsync = ${MONOLITH_PG_FSYNC:-on}
max_connections = ${MONOLITH_PG_MAX_CONNECTIONS:-300}
shared_buffers = '${MONOLITH_PG_SHARED_BUFFERS:-256MB}'
shared_preload_libraries = '$preload'
logging_collector = off
log_min_messages = warning
CONF
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$MONOLITH_PG_BASE/monolith.conf.tmp"; fi
  mv -f "$MONOLITH_PG_BASE/monolith.conf.tmp" "$MONOLITH_PG_DATA/monolith.conf"

  if _monolith_pg_as_owner "$bin/pg_ctl" status -D "$MONOLITH_PG_DATA" >/dev/null 2>&1; then
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
      _monolith_pg_log "reusing running cluster $MONOLITH_PG_DATA on 127.0.0.1:$port"
    else
      _monolith_pg_log "cluster $MONOLITH_PG_DATA is running but not on port $port; restarting"
      _monolith_pg_as_owner "$bin/pg_ctl" stop -D "$MONOLITH_PG_DATA" -m fast -w >/dev/null || return 1
    fi
  fi
  if ! _monolith_pg_as_owner "$bin/pg_ctl" status -D "$MONOLITH_PG_DATA" >/dev/null 2>&1; then
    _monolith_pg_log "starting $MONOLITH_PG_DATA on 127.0.0.1:$port (log: $MONOLITH_PG_LOG)"
    local log_offset=0
    if [[ -f "$MONOLITH_PG_LOG" ]]; then log_offset=$(wc -c <"$MONOLITH_PG_LOG"); fi
    if ! _monolith_pg_as_owner "$bin/pg_ctl" start -D "$MONOLITH_PG_DATA" -l "$MONOLITH_PG_LOG" -w -t 60 >/dev/null; then
      _monolith_pg_log "pg_ctl start failed (port $port in use?); server log:"
      tail -c "+$((log_offset + 1))" "$MONOLITH_PG_LOG" 2>/dev/null | tail -n 30 >&2 || true
      return 1
    fi
  fi

  local i
  for ((i = 0; i < 60; i++)); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
    sleep 0.5
  done
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
    _monolith_pg_log "PostgreSQL did not become ready on 127.0.0.1:$port; last log lines:"
    tail -n 30 "$MONOLITH_PG_LOG" >&2 || true
    return 1
  fi

  if [[ "$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XtAc \
        "SELECT 1 FROM pg_database WHERE datname = 'monolith'")" != "1" ]]; then
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XqAc "CREATE DATABASE monolith" >/dev/null \
      || { _monolith_pg_log "could not create database monolith"; return 1; }
  fi

  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/monolith"
  _monolith_pg_log "ready: DATABASE_URL=$DATABASE_URL"
}

monolith_stop_postgres() {
  local name="${1:?usage: monolith_stop_postgres <name>}"
  local bin
  bin="$(monolith_pg_bin)" || return 1
  _monolith_pg_paths "$name"
  [[ -s "$MONOLITH_PG_DATA/PG_VERSION" ]] || return 0
  if _monolith_pg_as_owner "$bin/pg_ctl" status -D "$MONOLITH_PG_DATA" >/dev/null 2>&1; then
    _monolith_pg_log "stopping $MONOLITH_PG_DATA"
    _monolith_pg_as_owner "$bin/pg_ctl" stop -D "$MONOLITH_PG_DATA" -m fast -w >/dev/null
  fi
}

# Restart a running cluster (pg_ctl restart -m fast): every connection is cut, as in a failover or a
# database restart. Used by the fault tests.
monolith_restart_postgres() {
  local name="${1:?usage: monolith_restart_postgres <name>}"
  local bin
  bin="$(monolith_pg_bin)" || return 1
  _monolith_pg_paths "$name"
  _monolith_pg_log "restarting $MONOLITH_PG_DATA"
  _monolith_pg_as_owner "$bin/pg_ctl" restart -D "$MONOLITH_PG_DATA" -m fast -w -l "$MONOLITH_PG_LOG" >/dev/null
}
