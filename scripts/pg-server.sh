#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's postgresql package.
#   scripts/pg-server.sh start   initialise (once) and start it; prints its URL
#   scripts/pg-server.sh stop    stop it
#   scripts/pg-server.sh url     print its URL
# Settings: XIESHANG_PG_DIR (default /tmp/xieshang-pg), XIESHANG_PG_PORT (default 55432).
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail

DIR=${XIESHANG_PG_DIR:-/tmp/xieshang-pg}
PORT=${XIESHANG_PG_PORT:-55432}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
URL="postgresql://xieshang@127.0.0.1:$PORT/xieshang"

if [ -z "$BIN" ]; then
  echo "pg-server: PostgreSQL binaries not found; run scripts/setup.sh" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
      as_owner "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    fi
    psql=("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAt)
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'xieshang'")" != 1 ]; then
      "${psql[@]}" -c "CREATE ROLE xieshang LOGIN SUPERUSER"
    fi
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'xieshang'")" != 1 ]; then
      "${psql[@]}" -c "CREATE DATABASE xieshang OWNER xieshang ENCODING 'UTF8'"
    fi
    echo "$URL"
    ;;
  stop)
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
