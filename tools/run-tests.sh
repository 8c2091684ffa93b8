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
    # -clean leaves the second node's logs; the crash check below reads
    # every log, so each pass starts without the last one's.
    rm -f t/logs/*error_log*
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
    # -verbose: Apache::Test sends a test's diagnostics (a failed check's
    # got/expected, the figures a test prints) to the TAP stream, which the
    # harness shows only in verbose mode. The whole stream is kept in the
    # log; the terminal gets it without the passing checks' "ok" lines.
    {
        $PERL t/TEST -verbose -apxs "$(command -v "$APXS")" "$@" \
            -httpd_conf "$(pwd)/t/setup/base.conf"
        echo $? > "$rc"
    } 2>&1 | tee "$log" \
        | grep --line-buffered -vE '^[[:space:]]*ok [0-9]|^# Using Apache/Test.pm'
    status=$(cat "$rc")
    if ! grep -q '^Result: PASS' "$log"; then
        echo "run-tests: $backend: the suite did not end with 'Result: PASS'" >&2
        status=1
    fi
    # The harness's "t/x.t .. skipped: why" (a check's name or a printed
    # line may say "skipped:" too, now that the log holds them).
    if grep -qE '(^|\.\. )skipped:' "$log"; then
        echo "run-tests: $backend: a test file was skipped; every file must run" >&2
        status=1
    fi
    if [ -n "${HTTPD_WRAPPER:-}" ] \
       && grep -rlE 'ERROR: AddressSanitizer|runtime error:' t/logs/sanitizer \
              t/logs/error_log 2>/dev/null; then
        echo "run-tests: $backend: a sanitizer reported an error (above)" >&2
        status=1
    fi
    # A child that dies of a signal leaves no core here (ulimit -c is 0 on
    # most machines, and children run as another user), but its parent
    # always says so: "AH00052: child pid N exit signal ...". Every log of
    # the pass counts, the second node's too. SIGKILL is a test's own doing
    # (t/writer.t kills the writer), so it alone is left out.
    crashes=$(grep -h 'AH00052: .* exit signal' t/logs/*error_log* \
                  2>/dev/null | grep -v 'exit signal Killed')
    if [ -n "$crashes" ] || ls t/logs/core* >/dev/null 2>&1; then
        echo "run-tests: $backend: a child crashed:" >&2
        printf '%s\n' "$crashes" | head -5 >&2
        status=1
    fi
    if [ "$status" != 0 ]; then
        # CI keeps only the end of what a run prints: repeat why here, the
        # failed tests' own words and what the server logged at warn or
        # above, so a failure on another machine can be read after the fact.
        echo "=== why $backend failed ==="
        # Each failed check under its file's name, with the comments that
        # follow it (got/expected and what the test printed).
        awk '/^t\/.*\.t \.\./ { file = $1; next }
             /^not ok/ { if (file != "") print file; file = ""; print;
                         comments = 1; next }
             /^#/ { if (comments) print; next }
             { comments = 0 }' "$log" | head -80
        grep -hE '\[(polycom|dbd|core):(warn|error|crit|alert|emerg)\]' \
            t/logs/error_log 2>/dev/null \
            | grep -v 'AH00629\|AH00633\|PC00029\|PC00110\|PC00151' \
            | tail -30
    fi
    counts=$(grep '^Files=' "$log" | sed 's/,  *[0-9]* wallclock.*//')
    summary="$summary
$backend: $counts, $(( $(date +%s) - start )) s, $( [ "$status" = 0 ] && echo PASS || echo FAIL)"
    [ "$status" = 0 ] || failed=1
    rm -f "$log" "$rc"
}

# A pass against a server that tools/<script> starts for it: its start
# prints the environment t/TEST reads (<PREFIX>_CONNINFO, <PREFIX>_DIR).
server_dir=""
trap 'if [ -n "$server_dir" ]; then sh "tools/$server_script" stop "$server_dir"; fi' EXIT
run_with_server() {
    name=$1 server_script=$2 prefix=$3
    if ! eval "$(sh "tools/$server_script" start)"; then
        echo "run-tests: no $name server" >&2
        failed=1
        return
    fi
    eval "server_dir=\$${prefix}_DIR"
    run_suite "$name"
    sh "tools/$server_script" stop "$server_dir"
    server_dir=""
    unset "${prefix}_CONNINFO" "${prefix}_DIR"
}

# BACKENDS picks the passes (make test BACKENDS=mariadb, say); all three by
# default. Each server is started for its pass and stopped after it.
for backend in ${BACKENDS:-sqlite postgresql mariadb}; do
    case $backend in
    sqlite)          run_suite sqlite ;;
    postgresql|pgsql) run_with_server postgresql pg-server.sh POLYCOM_PG ;;
    mariadb|mysql)   run_with_server mariadb my-server.sh POLYCOM_MY ;;
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
