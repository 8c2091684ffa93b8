#!/bin/sh
# `make run`: a demo provisioning server on http://127.0.0.1:8080/prov/ with
# a demo SQLite database, in the foreground (Ctrl-C stops it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
RUNDIR=${RUNDIR:-/tmp/mod_polycom-run}
user=www-data

mkdir -p "$RUNDIR/htdocs/prov"
chmod 755 "$RUNDIR" "$RUNDIR/htdocs" "$RUNDIR/htdocs/prov"
# The schema is idempotent (CREATE ... IF NOT EXISTS): applying it again
# brings a database from an older checkout up to date.
new_db=0
# A demo database from an older checkout whose tables lack newer columns is
# set aside (kept as polycom.db.old) and made anew.
if [ -f "$RUNDIR/polycom.db" ] \
   && ! sqlite3 "$RUNDIR/polycom.db" \
        "SELECT sip_address FROM phones LIMIT 1; SELECT value FROM revision" \
        >/dev/null 2>&1; then
    mv "$RUNDIR/polycom.db" "$RUNDIR/polycom.db.old"
    rm -f "$RUNDIR/polycom.db-wal" "$RUNDIR/polycom.db-shm"
    echo "run: the demo database was from an older schema: made anew"
fi
[ -f "$RUNDIR/polycom.db" ] || new_db=1
sqlite3 "$RUNDIR/polycom.db" ".read $top/sql/sqlite.sql" >/dev/null
if [ "$new_db" = 1 ]; then
    sqlite3 "$RUNDIR/polycom.db" ".read $top/sql/demo.sql"
    # A few hundred more phones, so the console's pictures mean something.
    sqlite3 "$RUNDIR/polycom.db" ".read $top/sql/demo-fleet.sql"
    echo "run: demo database created at $RUNDIR/polycom.db"
fi
mkdir -p "$RUNDIR/htdocs/admin"
cp "$top"/admin-ui/* "$RUNDIR/htdocs/admin/"
chmod 755 "$RUNDIR/htdocs/admin"
htpasswd -cbB "$RUNDIR/admin.htpasswd" admin admin-demo 2>/dev/null
chmod 644 "$RUNDIR/admin.htpasswd"
[ -f "$RUNDIR/htdocs/prov/sip.ld" ] \
    || echo "demo firmware placeholder" > "$RUNDIR/htdocs/prov/sip.ld"
if [ "$(id -u)" = 0 ]; then
    chown "$user:$user" "$RUNDIR" "$RUNDIR/polycom.db"*
fi

SIP_PORT=${SIP_PORT:-5060}
sed -e "s|@RUNDIR@|$RUNDIR|g" -e "s|@MODULE@|$top/.libs/mod_polycom.so|g" \
    -e "s|@SIP_PORT@|$SIP_PORT|g" \
    "$top/conf/run.conf.in" > "$RUNDIR/httpd.conf"

# KAMAILIO=1: a demo SIP registrar for the resync step of README's "Moving
# a fleet": Debian's Kamailio on 127.0.0.1:$SIP_PORT with its registrations
# in $RUNDIR/kamailio.db, and the two directives that use it turned on.
kamailio_pid=
if [ -n "${KAMAILIO:-}" ]; then
    command -v kamailio >/dev/null 2>&1 \
        || { echo "run: KAMAILIO=1 needs kamailio kamailio-sqlite-modules" >&2; exit 1; }
    rm -f "$RUNDIR/kamailio.db"
    cat /usr/share/kamailio/db_sqlite/standard-create.sql \
        /usr/share/kamailio/db_sqlite/usrloc-create.sql \
        | sqlite3 "$RUNDIR/kamailio.db"
    chmod 644 "$RUNDIR/kamailio.db"
    sed -e "s|@PORT@|$SIP_PORT|g" -e "s|@ADDR@|127.0.0.1|g" \
        -e "s|@DB@|$RUNDIR/kamailio.db|g" \
        "$top/t/setup/kamailio.cfg" > "$RUNDIR/kamailio.cfg"
    kamailio -DD -E -f "$RUNDIR/kamailio.cfg" -w "$RUNDIR" -m 32 -M 8 \
        >"$RUNDIR/kamailio.log" 2>&1 &
    kamailio_pid=$!
    sed -i -e 's/^#\(PolycomResync\)/\1/' "$RUNDIR/httpd.conf"
    echo "run: Kamailio on 127.0.0.1:$SIP_PORT (log $RUNDIR/kamailio.log)"
fi
if [ "$(id -u)" != 0 ]; then
    # Not root: no user switch, the server runs as the caller.
    sed -i -e '/^User /d' -e '/^Group /d' "$RUNDIR/httpd.conf"
fi

cat <<MSG
run: serving http://127.0.0.1:8080/prov/ (Ctrl-C to stop). Try:
  curl -A 'FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application' \\
       http://127.0.0.1:8080/prov/0004f2e62aa4.cfg
  curl http://127.0.0.1:8080/prov/0004f2e62aa4-settings.cfg
  sqlite3 $RUNDIR/polycom.db 'SELECT * FROM checkins'
Dashboard and admin API (user admin, password admin-demo):
  http://127.0.0.1:8080/admin/
  curl -u admin:admin-demo http://127.0.0.1:8080/admin/phones
MSG
if [ -n "$kamailio_pid" ]; then
    # Not exec: Kamailio is stopped when the server stops.
    trap 'kill "$kamailio_pid" 2>/dev/null' EXIT INT TERM
    /usr/sbin/apache2 -f "$RUNDIR/httpd.conf" -DFOREGROUND || true
    exit 0
fi
exec /usr/sbin/apache2 -f "$RUNDIR/httpd.conf" -DFOREGROUND
