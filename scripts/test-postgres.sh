#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for one test run (CI's .ci/run and jest's global setup use it).
#
#   scripts/test-postgres.sh start   prints two lines: the cluster's folder, then its URL
#                                     (postgres://betrace:betrace@127.0.0.1:PORT/postgres)
#   scripts/test-postgres.sh stop DIR stops that cluster and removes its folder
#   scripts/test-postgres.sh bin      prints the server binaries' folder start would use (exit 3: none)
#
# The cluster lives in a new folder under ${TMPDIR:-/tmp}, listens only on 127.0.0.1 on a free port
# (and on a unix socket inside that folder), and has one superuser role `betrace` with password
# `betrace` (scram-sha-256 over TCP, so a wrong password is refused as it would be in production).
# PostgreSQL refuses to run as root: when run as root, the cluster belongs to the `postgres` user.
# Binaries: $PG_BIN, else pg_config's bindir, else the newest /usr/lib/postgresql/*/bin.
# Exit status 3 (and one line on stderr) when no PostgreSQL binaries are installed.
set -euo pipefail
# runuser lives in /usr/sbin, which a non-login root shell may not have on its PATH.
export PATH="$PATH:/usr/sbin:/sbin"

find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then echo "$PG_BIN"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

start() {
  local bin port pwfile
  bin="$(find_bin)"
  if [ -z "$bin" ]; then
    echo "test-postgres: no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's postgresql or set PG_BIN" >&2
    exit 3
  fi
  dir="$(mktemp -d "${TMPDIR:-/tmp}/betrace-pg-XXXXXX")"
  # A failed start leaves nothing behind (no folder, no server).
  trap 'rc=$?; if [ $rc -ne 0 ]; then stop "$dir"; fi' EXIT  # dir is global for this trap
  chmod 0755 "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "test-postgres: running as root needs a 'postgres' user" >&2; exit 1; }
    chown postgres "$dir"
  fi
  echo "$bin" >"$dir/bin"
  pwfile="$dir/pw"
  as_owner sh -c "umask 077; printf betrace > '$pwfile'"
  as_owner "$bin/initdb" -D "$dir/data" -U betrace --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    echo "test-postgres: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
  local tries=0
  while :; do
    port="$(free_port)"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 3 ]; then
      echo "test-postgres: the server did not start:" >&2; tail -20 "$dir/server.log" >&2; exit 1
    fi
  done
  echo "$dir"
  echo "postgres://betrace:betrace@127.0.0.1:$port/postgres"
}

stop() {
  local dir="${1:?usage: test-postgres.sh stop DIR}"
  case "$(basename "$dir")" in betrace-pg-*) ;; *) echo "test-postgres: not a test cluster: $dir" >&2; exit 1 ;; esac
  if [ -f "$dir/bin" ] && [ -d "$dir/data" ]; then
    as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  # Where the server binaries are (what start would use), or exit 3: whether a cluster can start here.
  bin) b="$(find_bin)"; if [ -n "$b" ]; then echo "$b"; else exit 3; fi ;;
  *) echo "usage: $0 start | stop DIR | bin" >&2; exit 2 ;;
esac
