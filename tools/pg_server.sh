#!/usr/bin/env bash
# A throw-away PostgreSQL server for the team-store tests and benchmarks (Debian's `postgresql`
# package; no pg_ctlcluster): a cluster in a folder of its own, owned by the `postgres` user,
# listening on 127.0.0.1 only, on a free port, with a password (scram) for the `postgres` role.
#
#   eval "$(bash tools/pg_server.sh start DIR)"   # exports LABELFIX_TEST_PG_URL, PGPASSWORD,
#                                                 # LABELFIX_TEST_PG_DIR
#   bash tools/pg_server.sh stop DIR              # stop the server and delete DIR
#   bash tools/pg_server.sh pause DIR             # pg_ctl stop -m fast (the tests' fault test)
#   bash tools/pg_server.sh resume DIR            # pg_ctl start again on the same port
#
# Run as root (the server runs as `postgres` through runuser) or as the `postgres` user.
set -euo pipefail

cmd=${1:?usage: pg_server.sh start|stop|pause|resume DIR}
dir=${2:?usage: pg_server.sh start|stop|pause|resume DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "pg_server.sh: no PostgreSQL server found (apt-get install postgresql)" >&2
  exit 1
fi

as_postgres() {
  if [ "$(id -un)" = "postgres" ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

pg_ctl_start() {
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $(cat "$dir/port") -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    chmod 755 "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    echo "$port" >"$dir/port"
    printf '%s\n' "$password" >"$dir/pwfile"
    chown -R postgres: "$dir" 2>/dev/null || true
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 \
      --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$dir/pwfile"
    # small, fast and loud: a test server, not a production one
    cat >>"$dir/data/postgresql.conf" <<EOF
max_connections = 100
shared_buffers = 128MB
fsync = on
synchronous_commit = on
EOF
    pg_ctl_start
    PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres labelfix_test
    echo "export LABELFIX_TEST_PG_URL='postgresql://postgres@127.0.0.1:$port/labelfix_test'"
    echo "export PGPASSWORD='$password'"
    echo "export LABELFIX_TEST_PG_DIR='$dir'"
    ;;
  pause)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    pg_ctl_start
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_server.sh start|stop|pause|resume DIR" >&2
    exit 2
    ;;
esac
