#!/bin/sh
# A throwaway PostgreSQL server for the test suite, from Debian's packages:
# initdb in a temporary directory, listening on 127.0.0.1 only, trust
# authentication for the user "polycom", no fsync (the data dies with it).
#   eval "$(tools/pg-server.sh start)"   sets POLYCOM_PG_DIR, POLYCOM_PG_CONNINFO
#   tools/pg-server.sh stop "$POLYCOM_PG_DIR"
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-server: PostgreSQL is not installed" >&2; exit 1; }

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    dir=$(mktemp -d /tmp/mod_polycom-pg-XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
           || perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>0,Listen=>1)->sockport')
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U polycom -E UTF8 \
        --no-sync -N >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # In the configuration file, so that a restart (resume) keeps them.
    as_postgres sh -c "cat >> '$dir/data/postgresql.conf'" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
max_connections = 200
CONF
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "POLYCOM_PG_DIR=$dir; export POLYCOM_PG_DIR;"
    echo "POLYCOM_PG_CONNINFO='host=127.0.0.1 port=$port user=polycom'; export POLYCOM_PG_CONNINFO;"
    ;;
stop)
    dir=${2:?pg-server: stop needs the directory}
    [ -d "$dir/data" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
pause)      # stop the server but keep its data (the outage test)
    as_postgres "$bin/pg_ctl" -D "${2:?}/data" -m fast -w stop >/dev/null
    ;;
resume)
    as_postgres "$bin/pg_ctl" -D "${2:?}/data" -l "${2}/server.log" -w start >/dev/null
    ;;
*)
    echo "usage: $0 start | stop DIR | pause DIR | resume DIR" >&2
    exit 2
    ;;
esac
