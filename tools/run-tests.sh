#!/bin/sh
# Run the whole suite against SQLite, then against a real PostgreSQL server
# and a real MariaDB server started for the run, and insist on a real pass
# each time: Apache::Test exits 0 with "Result: NOTESTS" when everything
# was skipped.
set -u
APXS=${1:-apxs}
PERL=${2:-perl}
failed=0
summary=""

run_suite() {
    backend=$1
    log=$(mktemp)
    rc=$(mktemp)
    start=$(date +%s)
    echo "=== the suite against $backend ==="
    $PERL t/TEST -clean >/dev/null 2>&1
    if [ -n "${HTTPD_WRAPPER:-}" ]; then
        # Sanitizer reports land here, one file per process.
        ASAN_LOG_DIR=$(pwd)/t/logs/sanitizer
        export ASAN_LOG_DIR
        mkdir -p "$ASAN_LOG_DIR"
        chmod 777 "$ASAN_LOG_DIR"
        set -- -httpd "$(pwd)/$HTTPD_WRAPPER"
    else
        set --
    fi
    {
        $PERL t/TEST -apxs "$(command -v "$APXS")" "$@" \
            -httpd_conf "$(pwd)/t/setup/base.conf"
        echo $? > "$rc"
    } 2>&1 | tee "$log"
    status=$(cat "$rc")
    if ! grep -q '^Result: PASS' "$log"; then
        echo "run-tests: $backend: the suite did not end with 'Result: PASS'" >&2
        status=1
    fi
    if grep -q 'skipped:' "$log"; then
        echo "run-tests: $backend: a test file was skipped; every file must run" >&2
        status=1
    fi
    if [ -n "${HTTPD_WRAPPER:-}" ] \
       && grep -rlE 'ERROR: AddressSanitizer|runtime error:' t/logs/sanitizer \
              t/logs/error_log 2>/dev/null; then
        echo "run-tests: $backend: a sanitizer reported an error (above)" >&2
        status=1
    fi
    if ls t/logs/core* >/dev/null 2>&1; then
        echo "run-tests: $backend: a child crashed (core in t/logs)" >&2
        status=1
    fi
    counts=$(grep '^Files=' "$log" | sed 's/,  *[0-9]* wallclock.*//')
    summary="$summary
$backend: $counts, $(( $(date +%s) - start )) s, $( [ "$status" = 0 ] && echo PASS || echo FAIL)"
    [ "$status" = 0 ] || failed=1
    rm -f "$log" "$rc"
}

# BACKENDS picks the passes (make test BACKENDS=mysql, say); all three by
# default. Each server is started for its pass and stopped after it.
server_dir=""
trap 'if [ -n "$server_dir" ]; then sh "tools/$server_script" stop "$server_dir"; fi' EXIT
for backend in ${BACKENDS:-sqlite postgresql mariadb}; do
    case $backend in
    sqlite)
        run_suite sqlite
        ;;
    postgresql|pgsql)
        server_script=pg-server.sh
        eval "$(sh tools/pg-server.sh start)" \
            || { echo "run-tests: no PostgreSQL" >&2; failed=1; continue; }
        server_dir=$POLYCOM_PG_DIR
        run_suite postgresql
        sh tools/pg-server.sh stop "$server_dir"
        server_dir=""
        unset POLYCOM_PG_CONNINFO POLYCOM_PG_DIR
        ;;
    mariadb|mysql)
        server_script=my-server.sh
        eval "$(sh tools/my-server.sh start)" \
            || { echo "run-tests: no MariaDB" >&2; failed=1; continue; }
        server_dir=$POLYCOM_MY_DIR
        run_suite mariadb
        sh tools/my-server.sh stop "$server_dir"
        server_dir=""
        unset POLYCOM_MY_CONNINFO POLYCOM_MY_DIR
        ;;
    *)
        echo "run-tests: unknown backend $backend (sqlite postgresql mariadb)" >&2
        failed=1
        ;;
    esac
done

echo "=== summary ===$summary"
if [ "$failed" = 0 ]; then
    echo "Result: PASS"
else
    echo "Result: FAIL"
fi
exit $failed
