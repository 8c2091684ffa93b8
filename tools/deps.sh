#!/bin/sh
# Install what mod_polycom needs from Debian's archive (and, for the browser
# test, playwright-core from the npm registry), when anything is missing.
# Safe to run again: it does nothing when all is there.
#   tools/deps.sh        building and `make run`
#   tools/deps.sh test   plus the test suite's needs
#   tools/deps.sh deb    plus what `make deb` and `make test-deb` need
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES="apache2 apache2-dev apache2-utils libaprutil1-dbd-sqlite3 sqlite3
libaprutil1-dbd-pgsql libaprutil1-dbd-mysql libxml2-dev libjansson-dev libcsv-dev libssl-dev pkg-config gcc make
libsqlite3-dev"
if [ "${1:-}" = test ]; then
    PACKAGES="$PACKAGES libapache2-mod-perl2 libxml-libxml-perl libxml2-utils openssl curl
chromium nodejs postgresql mariadb-server libdbd-mariadb-perl kamailio
kamailio-sqlite-modules kamailio-tls-modules libio-socket-ssl-perl"
fi

if [ "${1:-}" = bench ]; then
    PACKAGES="$PACKAGES wrk python3"
fi
if [ "${1:-}" = deb ]; then
    PACKAGES="$PACKAGES debhelper dpkg-dev fakeroot lintian debconf curl"
fi
if [ "${1:-}" = fuzz ]; then
    PACKAGES="$PACKAGES clang libclang-rt-14-dev"
fi
if [ "${1:-}" = asan ]; then
    PACKAGES="$PACKAGES libapache2-mod-perl2 libxml-libxml-perl libxml2-utils
openssl curl chromium nodejs postgresql mariadb-server libdbd-mariadb-perl
kamailio kamailio-sqlite-modules kamailio-tls-modules libio-socket-ssl-perl"
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
if { [ "${1:-}" = test ] || [ "${1:-}" = asan ]; } && ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing Debian packages:$missing" >&2
        echo "deps: run as root, or: apt-get install$missing" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi

# The browser test's driver, at the version package-lock.json pins; it
# drives Debian's Chromium and downloads no browser of its own.
if { [ "${1:-}" = test ] || [ "${1:-}" = asan ]; } \
   && [ ! -d "$top/t/browser/node_modules/playwright-core" ]; then
    echo "deps: installing playwright-core into t/browser"
    (cd "$top/t/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
