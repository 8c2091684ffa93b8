#!/bin/sh
# make deb: libapache2-mod-polycom_<version>_<arch>.deb in the top of the
# tree, built by dpkg-buildpackage (debhelper, dh_apache2) in a copy of the
# tree as it is, committed or not (build/deb/src), so that the package's
# build leaves nothing in the work tree; then lintian, whose errors fail.
#   DEB_VERSION=<v>  package another version (the changelog's by default)
#   LINTIAN=0        skip lintian
#   DEB_KEEP_SRC=1   keep the copy of the tree (tools/test-deb.sh builds
#                    its older package in it, and removes it when done);
#                    otherwise it goes once the package is built: a second
#                    copy of every source file in the work tree is found
#                    twice by whatever searches the tree (each log tag's
#                    number, for one)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/deb
src=$build/src

rm -rf "$build"
mkdir -p "$src"
cd "$top"
if git rev-parse --git-dir >/dev/null 2>&1; then
    # Tracked and new files, without what .gitignore leaves out (build
    # outputs); a file deleted but not yet committed is skipped.
    git ls-files -z --cached --others --exclude-standard \
        | tar --null -T - --ignore-failed-read -cf - 2>/dev/null \
        | tar -xf - -C "$src"
else
    tar --exclude=./build --exclude=./.libs --exclude='./*.deb' -cf - . \
        | tar -xf - -C "$src"
fi

if [ -n "${DEB_VERSION:-}" ]; then
    sed -i "1s/([^)]*)/($DEB_VERSION)/" "$src/debian/changelog"
fi

cd "$src"
dpkg-buildpackage -b -us -uc >"$build/build.log" 2>&1 || {
    tail -40 "$build/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; the whole log: $build/build.log" >&2
    exit 1
}
deb=$(ls "$build"/libapache2-mod-polycom_*.deb)
cp "$deb" "$top/"
echo "build-deb: $(basename "$deb")"
cd "$top"
[ "${DEB_KEEP_SRC:-0}" = 1 ] || rm -rf "$src"

if [ "${LINTIAN:-1}" != 0 ]; then
    # Errors fail the build; warnings and notes are shown.
    # (lintian warns when run as root: then it runs as nobody.)
    as=""
    [ "$(id -u)" != 0 ] || as="runuser -u nobody --"
    $as lintian --fail-on error --display-info "$deb" | tee "$build/lintian.log"
    echo "build-deb: lintian: $(grep -c '^E:' "$build/lintian.log" || true) errors," \
         "$(grep -c '^W:' "$build/lintian.log" || true) warnings," \
         "$(grep -c '^I:' "$build/lintian.log" || true) notes"
    if grep -q '^E:' "$build/lintian.log"; then
        exit 1
    fi
fi
