#!/bin/sh
# Run the whole suite and insist on a real pass: Apache::Test exits 0 with
# "Result: NOTESTS" when everything was skipped, which must not look green.
set -u
APXS=${1:-apxs}
PERL=${2:-perl}
log=$(mktemp)
rc=$(mktemp)
{
    $PERL t/TEST -apxs "$(command -v "$APXS")" \
        -httpd_conf "$(pwd)/t/setup/base.conf"
    echo $? > "$rc"
} 2>&1 | tee "$log"
status=$(cat "$rc")
if ! grep -q '^Result: PASS' "$log"; then
    echo "run-tests: the suite did not end with 'Result: PASS'" >&2
    status=1
fi
if grep -q 'skipped:' "$log"; then
    echo "run-tests: a test file was skipped; every file must run" >&2
    status=1
fi
rm -f "$log" "$rc"
exit $status
