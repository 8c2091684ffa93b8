#!/bin/bash
# make test-deb: the Debian package in this machine's own Apache (started
# with apache2ctl, no systemd), as an admin would use it:
#   1. install a package of a lower version on a machine without it: the
#      database is created at the current schema, the modules enabled, and
#      a simulated phone (curl) gets the open master and firmware, but its
#      own settings only with its Digest credential;
#   2. upgrade to the package `make deb` built, with an admin password set
#      and an edit in the conffile: every row and the edit survive, the
#      admin API comes on and gives a new phone a credential that works;
#   3. remove: module off, configuration and data kept;
#   4. purge without a prompt: configuration gone, data kept (the default);
#   5. install over a database made with an older schema by hand (commit
#      fd1a59c's sql/sqlite.sql, the last before last_seen): migrated in
#      place, every row kept, its phone served;
#   6. purge with the debconf question answered yes: the data is gone.
# The "older package" is this tree packaged again at a lower version: no
# package was ever built from an older commit (debian/ is new), so an older
# installation in the field is one made by hand with an older schema, which
# step 5 reproduces; steps 1-2 exercise dpkg's upgrade path itself
# (maintainer scripts, conffiles, the module staying enabled).
#
# It refuses to run where the package, its data, an admin password file or
# a web server on port 80 already exist, and leaves the machine as it found
# it: Apache stopped, the package purged, modules it enabled disabled,
# marker files removed; a last check compares /etc/apache2 and
# /var/lib/apache2 with their state before.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pkg=libapache2-mod-polycom
state=/var/lib/mod_polycom
db=$state/polycom.db
conf=/etc/apache2/mods-available/polycom.conf
htpasswd=/etc/apache2/polycom-admin.htpasswd
base=http://127.0.0.1
ua='FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614'
export DEBIAN_FRONTEND=noninteractive

passed=0
failed=0
ok() {
    passed=$((passed + 1))
    echo "ok $((passed + failed)) - $1"
}
not_ok() {
    failed=$((failed + 1))
    echo "not ok $((passed + failed)) - $1"
    # What Apache said last: the reason, where it can be read afterwards.
    tail -5 /var/log/apache2/error.log 2>/dev/null | sed 's/^/#   /'
}
check() {   # check <name> <command...>: passes when the command succeeds
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}
is() {      # is <name> <got> <expected>
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got '$2', expected '$3'"; fi
}
die() {
    echo "test-deb: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (it installs a package and runs Apache)"
cd "$top"
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
new_deb=$top/${pkg}_${version}_${arch}.deb
[ -f "$new_deb" ] || die "$new_deb is missing: run make deb"
schema_version=$(sed -n 's/^#define POLYCOM_SCHEMA_VERSION \([0-9]*\)/\1/p' include/polycom_schema.h)

# --- refuse to touch a machine that uses any of this ------------------------
status=$(dpkg-query -W -f='${Status}' $pkg 2>/dev/null || true)
case "$status" in ""|*not-installed) ;; *) die "$pkg is on this machine ($status): purge it first" ;; esac
[ ! -e $state ] || die "$state exists: move it away first"
[ ! -e $htpasswd ] || die "$htpasswd exists: move it away first"
! curl -s -o /dev/null --max-time 2 $base/ || die "something already serves port 80"

tmp=$(mktemp -d)
snapshot() {
    find /etc/apache2 /var/lib/apache2 -printf '%p %y %l\n' 2>/dev/null | sort
}
snapshot > "$tmp/before"
started=0

restore() {
    set +e
    echo "# restoring the machine"
    if [ "$started" = 1 ] || [ -e /var/run/apache2/apache2.pid ]; then
        apache2ctl stop >/dev/null 2>&1
        for _ in $(seq 50); do [ -e /var/run/apache2/apache2.pid ] || break; sleep 0.1; done
    fi
    if dpkg-query -W -f='${Status}' $pkg 2>/dev/null | grep -qv not-installed; then
        echo "$pkg $pkg/purge_data boolean true" | debconf-set-selections
        dpkg --purge $pkg >/dev/null 2>&1
    fi
    rm -rf $state
    rm -f $htpasswd
    # Modules enabled with polycom (its Depends) and maintainer-script
    # markers: whatever was not there before goes.
    snapshot > "$tmp/after"
    comm -13 "$tmp/before" "$tmp/after" | while read -r path type _; do
        case "$path" in
            /etc/apache2/mods-enabled/*|/var/lib/apache2/*)
                if [ "$type" = l ] || [ "$type" = f ]; then rm -f "$path"; fi ;;
        esac
    done
    comm -13 "$tmp/before" "$tmp/after" | sort -r | while read -r path type _; do
        [ "$type" = d ] && case "$path" in /var/lib/apache2/*) rmdir "$path" 2>/dev/null ;; esac
    done
}
# The copy of the tree the package was built in (make test-deb keeps it
# for the older build below) goes with the run, whatever its end.
trap 'restore; rm -rf "$tmp" "$top/build/deb/src"' EXIT

# --- helpers ------------------------------------------------------------------
sq() {      # as the web server's user, so SQLite's -wal and -shm stay its own
    runuser -u www-data -- sqlite3 -batch -noheader -init /dev/null "$db" "$@"
}
get() {     # get <path> [curl options...]: the status; the body in $tmp/body
    local path=$1
    shift
    curl -s -o "$tmp/body" -w '%{http_code}' -A "$ua" "$@" "$base$path"
}
install_deb() {
    apt-get install -y -q --allow-downgrades "$1" >"$tmp/apt.log" 2>&1
    local rc=$?
    grep -i 'polycom' "$tmp/apt.log" | sed 's/^/#   /'
    return $rc
}
reload() {  # what systemctl reload apache2 does (invoke-rc.d is off in containers)
    if [ -e /var/run/apache2/apache2.pid ]; then
        apache2ctl graceful
    else
        apache2ctl start && started=1
    fi
    for _ in $(seq 50); do curl -s -o /dev/null $base/ && return 0; sleep 0.1; done
    return 1
}
add_phone() {   # add_phone <mac> <sip password> <digest password>
    local ha1 hash
    ha1=$(printf '%s' "$1:polycom:$3" | md5sum | cut -d' ' -f1)
    hash=$(htpasswd -nbB -C 5 x "$3" | cut -d: -f2)
    sq "INSERT INTO phones (mac, model, site) VALUES ('$1', 'VVX_411', 'hq');
        INSERT INTO params VALUES ('phone', '$1', 'reg.1.address', '${1: -4}'),
                                  ('phone', '$1', 'reg.1.auth.password', '$2');
        INSERT INTO phone_credentials VALUES ('$1', '$1', 'polycom', '$hash', '$ha1', 1);"
}
rows() {    # every row a migration must keep
    sq "SELECT 'phones', * FROM phones ORDER BY mac;
        SELECT 'params', * FROM params ORDER BY 2, 3, 4;
        SELECT 'credentials', * FROM phone_credentials ORDER BY 2;
        SELECT 'checkins', * FROM checkins ORDER BY id;
        SELECT 'uploads', mac, kind, hex(content) FROM uploads ORDER BY 2, 3;"
}
purged() {  # dpkg forgets a purged package, or lists it as not-installed
    case "$(dpkg-query -W -f='${Status}' $pkg 2>/dev/null)" in
        ""|*not-installed) return 0 ;;
    esac
    return 1
}
enabled() { [ -L "/etc/apache2/mods-enabled/$1.load" ]; }
# wait_checkins <n> [condition]: until the check-ins (those matching the
# SQL condition) number n. The writer commits every 50 ms; up to 20 s on a
# machine busy with other builds.
wait_checkins() {
    for _ in $(seq 200); do
        [ "$(sq "SELECT count(*) FROM checkins WHERE ${2:-1}")" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
# The check-in writer brings last_seen up to date apart from the check-ins,
# 50 ms after its last batch: up to about a second behind them.
wait_last_seen() {     # wait_last_seen <mac> <file>
    for _ in $(seq 100); do
        [ "$(sq "SELECT file FROM last_seen WHERE mac = '$1'")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# --- the older package: this tree at a lower version --------------------------
old_version="${version}~pre1"
echo "# building $pkg $old_version (the same build, a lower version)"
(
    cd build/deb/src || exit 1
    cp debian/changelog "$tmp/changelog"
    sed -i "1s/([^)]*)/($old_version)/" debian/changelog
    dpkg-buildpackage -b -nc -us -uc >"$tmp/old-build.log" 2>&1
    rc=$?
    cp "$tmp/changelog" debian/changelog
    exit $rc
) || { tail -20 "$tmp/old-build.log"; die "building the older package failed"; }
old_deb=$top/build/deb/${pkg}_${old_version}_${arch}.deb

# --- 1. first start -------------------------------------------------------------
echo "# 1. install $old_version on a machine without it"
check "apt install ./$(basename "$old_deb")" install_deb "$old_deb"
is "installed" "$(dpkg-query -W -f='${Version} ${Status}' $pkg)" "$old_version install ok installed"
is "$state belongs to www-data" "$(stat -c %U:%G $state)" "www-data:www-data"
is "the database belongs to www-data" "$(stat -c %U:%G $db)" "www-data:www-data"
is "the database is at schema version $schema_version" "$(sq 'SELECT version FROM schema_version')" "$schema_version"
is "and in WAL mode" "$(sq 'PRAGMA journal_mode')" "wal"
check "polycom, dbd, authn_dbd and auth_digest are enabled" \
    sh -c '[ -L /etc/apache2/mods-enabled/polycom.load ] && [ -L /etc/apache2/mods-enabled/dbd.load ] \
           && [ -L /etc/apache2/mods-enabled/authn_dbd.load ] && [ -L /etc/apache2/mods-enabled/auth_digest.load ]'
check "apache2ctl configtest" apache2ctl configtest
check "Apache starts (apache2ctl start)" reload

is "GET /prov/000000000000.cfg, no credential: 200" "$(get /prov/000000000000.cfg)" 200
check "it is the master" grep -q 'APP_FILE_PATH' "$tmp/body"
echo "firmware" > $state/htdocs/sip.ld
is "GET /prov/sip.ld (firmware), no credential: 200" "$(get /prov/sip.ld)" 200
is "GET /polycom-admin/ before an admin password exists: 403" "$(get /polycom-admin/)" 403
check "with a message saying how to turn it on" grep -q 'htpasswd -cB /etc/apache2/polycom-admin.htpasswd' "$tmp/body"

add_phone 0004f2000001 Sip-Secret-0001 phone-pass-0001
add_phone 0004f2000002 Sip-Secret-0002 phone-pass-0002
is "GET /prov/0004f2000001-settings.cfg, no credential: 401" "$(get /prov/0004f2000001-settings.cfg)" 401
check "a Digest challenge, no secret" sh -c "! grep -q Sip-Secret '$tmp/body'"
is "GET /prov/0004f2000001.cfg (its master), no credential: 401" "$(get /prov/0004f2000001.cfg)" 401
is "with a wrong password: 401" \
   "$(get /prov/0004f2000001-settings.cfg --digest -u 0004f2000001:wrong-password)" 401
is "with another phone's credential: 403" \
   "$(get /prov/0004f2000001-settings.cfg --digest -u 0004f2000002:phone-pass-0002)" 403
is "with its own Digest credential: 200" \
   "$(get /prov/0004f2000001-settings.cfg --digest -u 0004f2000001:phone-pass-0001)" 200
check "its SIP secret is there" grep -q 'Sip-Secret-0001' "$tmp/body"
check "and no other phone's" sh -c "! grep -q 'Sip-Secret-0002' '$tmp/body'"
check "its check-ins are recorded" wait_checkins 5

# --- 2. upgrade -------------------------------------------------------------------
echo "# 2. upgrade to $version, with an admin password and a local edit"
htpasswd -cbB -C 5 $htpasswd admin admin-pass-1 >/dev/null 2>&1
echo "# a local edit, kept by test-deb's upgrade" >> $conf
rows > "$tmp/rows-before"
check "apt install ./$(basename "$new_deb") (upgrade)" install_deb "$new_deb"
is "upgraded" "$(dpkg-query -W -f='${Version} ${Status}' $pkg)" "$version install ok installed"
check "the local edit of polycom.conf is kept" grep -q "kept by test-deb's upgrade" $conf
check "no .dpkg-dist or .dpkg-new beside it" sh -c "! ls /etc/apache2/mods-available/polycom.conf.dpkg-*"
rows > "$tmp/rows-after"
check "every phone, parameter, credential, check-in and upload is kept" \
    cmp "$tmp/rows-before" "$tmp/rows-after"
check "the module stays enabled" enabled polycom
check "Apache reloads" reload
is "the phone still gets its settings with its credential: 200" \
   "$(get /prov/0004f2000001-settings.cfg --digest -u 0004f2000001:phone-pass-0001)" 200
check "with its secret" grep -q 'Sip-Secret-0001' "$tmp/body"

admin=(-u admin:admin-pass-1 -H 'Content-Type: application/json')
is "GET /polycom-admin/phones, no credential: 401" "$(get /polycom-admin/phones)" 401
is "GET /polycom-admin/phones as admin: 200" "$(get /polycom-admin/phones "${admin[@]}")" 200
check "it lists the phones" grep -q '0004f2000002' "$tmp/body"
is "the dashboard: GET /polycom-admin/index.html" "$(get /polycom-admin/index.html "${admin[@]}")" 200
is "PUT /polycom-admin/phones/0004f2000003: 201" \
   "$(get /polycom-admin/phones/0004f2000003 "${admin[@]}" -X PUT \
        -d '{"model":"VVX_411","site":"hq","lines":[{"user":"1003","password":"Sip-Secret-0003"}]}')" 201
is "POST its credential: 201" \
   "$(get /polycom-admin/phones/0004f2000003/credentials "${admin[@]}" -X POST \
        -d '{"password":"phone-pass-0003"}')" 201
is "the new phone gets its settings with that credential: 200" \
   "$(get /prov/0004f2000003-settings.cfg --digest -u 0004f2000003:phone-pass-0003)" 200
check "with its secret" grep -q 'Sip-Secret-0003' "$tmp/body"

# --- 3. remove ------------------------------------------------------------------
echo "# 3. remove"
check "apt-get remove" sh -c "apt-get remove -y -q $pkg >'$tmp/apt.log' 2>&1"
is "removed, configuration kept" "$(dpkg-query -W -f='${Status}' $pkg)" "deinstall ok config-files"
check "the module is disabled" sh -c '! [ -e /etc/apache2/mods-enabled/polycom.load ]'
check "the module's file is gone" sh -c '! [ -e /usr/lib/apache2/modules/mod_polycom.so ]'
check "polycom.conf is kept, with the local edit" grep -q "kept by test-deb's upgrade" $conf
is "the data is kept" "$(sq "SELECT count(*) FROM phones")" 3
check "Apache reloads without the module" reload
is "/prov is no longer served by the module: 404" "$(get /prov/000000000000.cfg)" 404

# --- 4. purge, no prompt -----------------------------------------------------------
echo "# 4. purge without a prompt (the default keeps the data)"
check "apt-get purge" sh -c "apt-get purge -y -q $pkg >'$tmp/apt.log' 2>&1"
check "purged" purged
check "polycom.conf and polycom.load are gone" sh -c '! ls /etc/apache2/mods-available/polycom.*'
check "the data is kept" test -s $db
check "and postrm says so" grep -q "/var/lib/mod_polycom (the phone database, uploads and firmware) is kept" "$tmp/apt.log"
check "the debconf question is gone" sh -c "[ -z \"\$(debconf-show $pkg)\" ]"

# --- 5. install over an older schema --------------------------------------------------
echo "# 5. install $version over a database made with the schema of fd1a59c"
rm -f $db $db-wal $db-shm
runuser -u www-data -- sqlite3 -batch -init /dev/null $db < t/upgrade/sqlite-fd1a59c.sql >/dev/null
add_phone 0004f2000009 Sip-Secret-0009 phone-pass-0009
sq "INSERT INTO checkins (time_us, mac, ip, method, file, status, etag, model, firmware)
        VALUES (1000, '0004f2000009', '192.0.2.9', 'GET', '0004f2000009-settings.cfg', 200, '\"e9\"', 'VVX_411', '5.9.5'),
               (2000, '0004f2000009', '192.0.2.9', 'GET', '000000000000.cfg', 200, '\"m\"', 'VVX_411', '5.9.5');
    INSERT INTO uploads VALUES ('0004f2000009', 'directory', X'3c6469722f3e', 6, 3000);"
rows > "$tmp/rows-before"
is "the old database has no schema_version" \
   "$(sq "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'")" 0
check "apt install ./$(basename "$new_deb") over it" install_deb "$new_deb"
check "postinst migrated it from version 0" grep -q "schema version 0 -> $schema_version" "$tmp/apt.log"
is "the database is at schema version $schema_version" "$(sq 'SELECT version FROM schema_version')" "$schema_version"
rows > "$tmp/rows-after"
check "every phone, parameter, credential, check-in and upload is kept" \
    cmp "$tmp/rows-before" "$tmp/rows-after"
is "last_seen is filled from the history" "$(sq 'SELECT mac, time_us, settings_us FROM last_seen')" \
   "0004f2000009|2000|1000"
is "the index last_seen replaced is dropped" \
   "$(sq "SELECT count(*) FROM sqlite_master WHERE name = 'checkins_mac_time'")" 0
check "Apache reloads" reload
is "the phone gets its settings with its credential: 200" \
   "$(get /prov/0004f2000009-settings.cfg --digest -u 0004f2000009:phone-pass-0009)" 200
check "with its secret" grep -q 'Sip-Secret-0009' "$tmp/body"
is "and not without: 401" "$(get /prov/0004f2000009-settings.cfg)" 401
# The fetch above, counted apart from the migrated rows of 1970, which
# PolycomCheckinRetention (90 days) deletes at its first round, seconds
# after the start: counting every row failed whenever that came first.
if wait_checkins 1 "mac = '0004f2000009' AND status = 200 AND time_us > 2000"; then
    ok "its check-ins are recorded"
else
    not_ok "its check-ins are recorded"
    echo "#   check-ins: $(sq 'SELECT count(*), min(time_us) FROM checkins' 2>&1)"
    ls -l "$(dirname $db)" | sed 's/^/#   /'
fi
wait_last_seen 0004f2000009 0004f2000009-settings.cfg
is "in last_seen too" "$(sq "SELECT file FROM last_seen WHERE mac = '0004f2000009'")" \
   "0004f2000009-settings.cfg"

# --- 6. purge, confirmed ------------------------------------------------------------
echo "# 6. purge with the debconf question answered yes"
echo "$pkg $pkg/purge_data boolean true" | debconf-set-selections
check "apt-get purge" sh -c "apt-get purge -y -q $pkg >'$tmp/apt.log' 2>&1"
check "purged" purged
check "$state is gone" sh -c "! [ -e $state ]"
check "polycom.conf and polycom.load are gone" sh -c '! ls /etc/apache2/mods-available/polycom.*'
check "the debconf question is gone" sh -c "[ -z \"\$(debconf-show $pkg)\" ]"

trap - EXIT
restore
snapshot > "$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then
    ok "/etc/apache2 and /var/lib/apache2 are as they were"
else
    not_ok "/etc/apache2 and /var/lib/apache2 are as they were"
    diff "$tmp/before" "$tmp/after" | sed 's/^/#   /'
fi
check "Apache is stopped" sh -c '! [ -e /var/run/apache2/apache2.pid ]'
check "$pkg is not installed" purged
rm -rf "$tmp" "$top/build/deb/src"
echo "test-deb: $passed passed, $failed failed"
[ "$failed" = 0 ]
