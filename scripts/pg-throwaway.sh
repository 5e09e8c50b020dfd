#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a free 127.0.0.1 port, as the
# `postgres` user, and prints its DSN on stdout. When SWITCHBOARD_PG_DIR_FILE
# names a file, the cluster's directory is written there. Stop it with
#   scripts/pg-throwaway.sh stop <dir>
# Requires Debian's `postgresql` package (initdb, pg_ctl). Used by .ci/run
# and by developers who want the PostgreSQL half of the test suite:
#   export SWITCHBOARD_TEST_POSTGRES=$(scripts/pg-throwaway.sh)
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg-throwaway: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

if [ "${1:-}" = "stop" ]; then
  dir=${2:?directory}
  runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi

dir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
chown postgres:postgres "$dir"
runuser -u postgres -- "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $(seq 55432 55532); do
  port_free "$port" || continue
  if runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -h 127.0.0.1 -k $dir -c fsync=off -c max_connections=200" start >/dev/null 2>&1; then
    runuser -u postgres -- "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres switchboard_test
    if [ -n "${SWITCHBOARD_PG_DIR_FILE:-}" ]; then echo "$dir" >"$SWITCHBOARD_PG_DIR_FILE"; fi
    echo "postgres://postgres@127.0.0.1:$port/switchboard_test?sslmode=disable"
    exit 0
  fi
done
echo "pg-throwaway: could not start PostgreSQL (see $dir/server.log)" >&2
exit 1
