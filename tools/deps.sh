#!/bin/sh
# Install the Debian packages mod_polycom needs to build, run and test,
# when any is missing. Safe to run again: it does nothing when all are there.
set -eu

PACKAGES="apache2 apache2-dev libapache2-mod-perl2 libaprutil1-dbd-sqlite3
sqlite3 libxml2-dev libxml2-utils libxml-libxml-perl pkg-config gcc make"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

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
