#!/bin/sh
# A throwaway MariaDB server for the test suite, from Debian's packages:
# a data directory made by mariadb-install-db in a temporary directory,
# listening on 127.0.0.1 only, user "polycom" (password "polycom"), no
# flushing to disk (the data dies with it).
#   eval "$(tools/my-server.sh start)"   sets POLYCOM_MY_DIR, POLYCOM_MY_CONNINFO
#   tools/my-server.sh stop "$POLYCOM_MY_DIR"
#   tools/my-server.sh pause|resume "$POLYCOM_MY_DIR"   (the outage test)
set -eu
command -v mariadbd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v mariadbd >/dev/null 2>&1 \
    || { echo "my-server: MariaDB is not installed" >&2; exit 1; }

run_server() {
    dir=$1
    # shellcheck disable=SC1091
    . "$dir/port"
    set -- --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
        --pid-file="$dir/mysqld.pid" --log-error="$dir/server.log" \
        --bind-address=127.0.0.1 --port="$port" --skip-name-resolve \
        --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M \
        --innodb-doublewrite=0 --sync-binlog=0 --max-connections=300 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_bin
    [ "$(id -u)" = 0 ] && set -- "$@" --user=mysql
    mariadbd "$@" </dev/null >/dev/null 2>&1 &
    i=0
    until mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot \
              ping >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 150 ]; then
            cat "$dir/server.log" >&2
            echo "my-server: MariaDB did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
}

case "${1:-}" in
start)
    dir=$(mktemp -d /tmp/mod_polycom-my-XXXXXX)
    chmod 755 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
           || perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>0,Listen=>1)->sockport')
    echo "port=$port" > "$dir/port"
    if [ "$(id -u)" = 0 ]; then
        chown mysql:mysql "$dir"
        user=--user=mysql
    else
        user=
    fi
    # shellcheck disable=SC2086
    mariadb-install-db --no-defaults --datadir="$dir/data" $user \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$dir/install.log" 2>&1 \
        || { cat "$dir/install.log" >&2; exit 1; }
    run_server "$dir"
    mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e "
        CREATE USER 'polycom'@'127.0.0.1' IDENTIFIED BY 'polycom';
        GRANT ALL ON *.* TO 'polycom'@'127.0.0.1';" \
        || { echo "my-server: cannot create the user" >&2; exit 1; }
    echo "POLYCOM_MY_DIR=$dir; export POLYCOM_MY_DIR;"
    echo "POLYCOM_MY_CONNINFO='host=127.0.0.1 port=$port user=polycom pass=polycom'; export POLYCOM_MY_CONNINFO;"
    ;;
stop|pause)
    dir=${2:?my-server: $1 needs the directory}
    if [ -f "$dir/mysqld.pid" ]; then
        pid=$(cat "$dir/mysqld.pid")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    if [ "$1" = stop ]; then
        rm -rf "$dir"
    fi
    ;;
resume)
    run_server "${2:?my-server: resume needs the directory}"
    ;;
*)
    echo "usage: $0 start | stop DIR | pause DIR | resume DIR" >&2
    exit 2
    ;;
esac
