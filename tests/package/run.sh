#!/bin/bash
# tests/package/run.sh: the Debian packages' life on this machine, as an
# admin lives it.  Builds scimd and libscimstore-dev from a copy of the
# tree (dpkg-buildpackage -us -uc -b), checks them with lintian, installs
# them with apt, builds a program against libscimstore, enables the
# Apache snippet (a2enconf scimd) on the system's Apache started by hand
# on 127.0.0.1 and a random port, runs the Okta user and group suites
# (tests/e2e/okta.sh, groups.sh) through it, installs a rebuilt package
# with a higher version while a client keeps sending requests (none may
# fail), removes the package (the store stays), purges it (the store
# still stays), and puts the machine back as it found it.  TAP on
# stdout; .ci/run counts it.  Needs root.
#	bash tests/package/run.sh
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

n=0
failed=0
ok() {	# ok STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() {	# is GOT WANT NAME
	local r=0
	[ "$1" = "$2" ] || r=1
	ok $r "$3"
	[ $r -eq 0 ] || echo "#   got: '$1'  want: '$2'"
}
bail() { echo "Bail out! $*"; exit 1; }

[ "$(id -u)" = 0 ] || bail "tests/package/run.sh installs packages: run it as root"
for t in dpkg-buildpackage lintian apt-get a2enconf apache2ctl curl jq; do
	command -v "$t" >/dev/null || bail "$t is not installed (.ci/packages)"
done
if dpkg-query -W -f='${db:Status-Status}' scimd 2>/dev/null | grep -qx installed; then
	bail "the scimd package is already installed here; this test installs and purges it"
fi
APACHE=/usr/sbin/apache2
T=$(mktemp -d /tmp/scimd-package.XXXXXX)
chmod 755 "$T"
had_state=no
[ -e /var/lib/scimd ] && had_state=yes
had_fcgid=yes
a2query -q -m fcgid || had_fcgid=no
APACHE_STARTED=
LOOP_PID=

cleanup() {
	[ -n "$LOOP_PID" ] && kill "$LOOP_PID" 2>/dev/null
	stop_apache
	dpkg-query -W -f='${db:Status-Status}' scimd 2>/dev/null | grep -q . &&
	    apt-get purge -y -qq scimd libscimstore-dev >/dev/null 2>&1
	[ "$had_fcgid" = yes ] || a2dismod -q -f fcgid >/dev/null 2>&1
	rm -f /etc/apache2/conf-enabled/scimd.conf
	[ "$had_state" = yes ] || rm -rf /var/lib/scimd
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# ---- build ------------------------------------------------------------
# copy_tree DEST: the tracked sources (a clean clone's content).
copy_tree() {
	mkdir -p "$1"
	if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top_srcdir" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$1"
	else
		(cd "$top_srcdir" && tar -cf - --exclude=./debian/scimd --exclude=./build-asan .) | tar -xf - -C "$1"
	fi
	# A tree that was configured in place would leave its products.
	(cd "$1" && { [ ! -f Makefile ] || make -s distclean >/dev/null 2>&1; })
}
copy_tree "$T/a/src"
VERSION=$(sed -n 's/^AC_INIT(\[scimd\], \[\([^]]*\)\].*/\1/p' "$T/a/src/configure.ac")
(cd "$T/a/src" && dpkg-buildpackage -us -uc -b) > "$T/build-a.log" 2>&1
ok $? "dpkg-buildpackage -us -uc -b builds scimd $VERSION"
DEB=$T/a/scimd_${VERSION}_$(dpkg --print-architecture).deb
DEV=$T/a/libscimstore-dev_${VERSION}_$(dpkg --print-architecture).deb
ok $([ -f "$DEB" ] && [ -f "$DEV" ]; echo $?) "...scimd and libscimstore-dev"
[ -f "$DEB" ] || { tail -n 30 "$T/build-a.log" | sed 's/^/# /'; bail "no package built"; }
grep -q -- '-fstack-protector-strong' "$T/build-a.log" && grep -q -- '-D_FORTIFY_SOURCE=2' "$T/build-a.log" &&
    grep -q -- '-z,now' "$T/build-a.log"
ok $? "...with dpkg-buildflags' hardening (stack protector, fortify, bindnow)"

# make dist from the tree the package was built in (configured by then):
# the tarball holds every tracked file (docs/performance-p50.png too).
(cd "$T/a/src" && make -s dist) > "$T/dist.log" 2>&1
ok $? "make dist"
sed 's/^/# /' "$T/dist.log" | grep -i -e error -e 'no rule' | head -n 5
tar -tzf "$T/a/src/scimd-$VERSION.tar.gz" 2>/dev/null | sed "s|^scimd-$VERSION/||" | sort > "$T/dist.list"
(cd "$top_srcdir" && if git rev-parse --git-dir >/dev/null 2>&1; then git ls-files; fi) |
    grep -v -x -e .gitignore -e m4/.keep | sort > "$T/tracked.list"
missing=$(comm -13 "$T/dist.list" "$T/tracked.list")
is "$(echo "$missing" | grep -c .)" 0 "...the tarball holds every tracked file"
[ ! -s "$T/dist.list" ] || echo "$missing" | head -n 10 | sed 's/^/# not in the tarball: /'
ok $(grep -qx docs/performance-p50.png "$T/dist.list"; echo $?) "...docs/performance-p50.png among them"

# Info tags are shown; the one override (debian/scimd.lintian-overrides)
# says why.
lintian --allow-root --fail-on error,warning -I "$T/a"/*.changes > "$T/lintian.log" 2>&1
ok $? "lintian: it ran, and found no error and no warning"
is "$(grep -c '^E: ' "$T/lintian.log")" 0 "lintian: no error"
is "$(grep -c '^W: ' "$T/lintian.log")" 0 "lintian: no warning"
grep -e '^I: ' -e '^N: ' "$T/lintian.log" | head -n 10 | sed 's/^/# /'
grep -e '^E: ' -e '^W: ' "$T/lintian.log" | head -n 20 | sed 's/^/# /'

# The upgrade: the same tree one version up, built now, installed later
# under load.  The bump goes into configure.ac and debian/changelog, so
# scimd --version shows which binary answers.
NEXT=$VERSION+ci1
copy_tree "$T/b/src"
sed -i "s/^AC_INIT(\[scimd\], \[$VERSION\]/AC_INIT([scimd], [$NEXT]/" "$T/b/src/configure.ac"
{ printf 'scimd (%s) unstable; urgency=medium\n\n  * CI: the upgrade test.\n\n -- CI <ci@localhost>  %s\n\n' \
    "$NEXT" "$(date -R)"; cat "$T/b/src/debian/changelog"; } > "$T/b/changelog"
mv "$T/b/changelog" "$T/b/src/debian/changelog"
(cd "$T/b/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) > "$T/build-b.log" 2>&1
DEB2=$T/b/scimd_${NEXT}_$(dpkg --print-architecture).deb
ok $([ -f "$DEB2" ]; echo $?) "the same tree as $NEXT builds"

# ---- install ------------------------------------------------------------
apt-get install -y -qq "$DEB" "$DEV" > "$T/install.log" 2>&1
ok $? "apt-get install scimd libscimstore-dev"
is "$(scimd --version)" "scimd $VERSION" "scimd --version: $VERSION"
is "$(scimctl --version)" "scimctl $VERSION" "scimctl --version: $VERSION"
is "$(stat -c '%U %a' /var/lib/scimd 2>&1)" "www-data 700" "postinst made /var/lib/scimd, www-data, mode 0700"
cmp -s /usr/bin/scimd /usr/lib/scimd/scimd.fcgi
ok $? "/usr/lib/scimd/scimd.fcgi (the path the snippets name) is scimd"
ok $(grep -qx /etc/scimd/scimd.conf /var/lib/dpkg/info/scimd.conffiles; echo $?) "/etc/scimd/scimd.conf is a conffile"
ok $(grep -q '^db = /var/lib/scimd$' /etc/scimd/scimd.conf; echo $?) "...naming /var/lib/scimd"
for f in /etc/apache2/conf-available/scimd.conf /etc/lighttpd/conf-available/50-scimd.conf \
    /etc/nginx/snippets/scimd.conf /lib/systemd/system/scimd.socket /lib/systemd/system/scimd.service \
    /usr/share/man/man8/scimd.8.gz /usr/share/man/man8/scimctl.8.gz; do
	ok $([ -f "$f" ]; echo $?) "installed: $f"
done
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify /lib/systemd/system/scimd.socket /lib/systemd/system/scimd.service > "$T/units.log" 2>&1
	ok $(! grep -i -e 'scimd\.\(socket\|service\).*\(error\|unknown\|invalid\|failed\)' "$T/units.log"; echo $?) "systemd-analyze verify: the units parse"
	grep -i scimd "$T/units.log" | head -n 5 | sed 's/^/# /'
fi

# libscimstore-dev: a program built with pkg-config's flags and nothing else.
cc -o "$T/who" "$top_srcdir/examples/scimstore-who.c" $(pkg-config --cflags scimstore) \
    $(pkg-config --libs --static scimstore) > "$T/cc.log" 2>&1
ok $? "libscimstore-dev: examples/scimstore-who.c builds with pkg-config --cflags --libs --static scimstore"
sed 's/^/# /' "$T/cc.log" | head -n 5

# A store, made as the docs say, and the check as the web server's user.
TOKEN=$(runuser -u www-data -- scimctl --db /var/lib/scimd token add package 2>/dev/null | tail -n 1)
ok $([ -n "$TOKEN" ]; echo $?) "runuser -u www-data -- scimctl --db /var/lib/scimd token add: a token"
runuser -u www-data -- scimd --check > "$T/check.log" 2>&1
ok $? "runuser -u www-data -- scimd --check: no problem"
sed 's/^/# /' "$T/check.log"

# ---- the system's Apache, on 127.0.0.1 only --------------------------
[ "$had_fcgid" = yes ] || a2enmod -q fcgid > /dev/null
a2enconf -q scimd > /dev/null
ok $? "a2enconf scimd"
port=$((20000 + (RANDOM % 12000)))	# below the ephemeral range
mkdir -p "$T/apache/run" "$T/apache/lock" "$T/apache/log"
# The system's configuration, with its Listen lines replaced by one on
# loopback (ports.conf would bind port 80 on every address).
sed "s|^Include ports.conf|Listen 127.0.0.1:$port|" /etc/apache2/apache2.conf > "$T/apache/apache2.conf"
apache_env() {
	env APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data \
	    APACHE_RUN_DIR="$T/apache/run" APACHE_PID_FILE="$T/apache/run/apache2.pid" \
	    APACHE_LOCK_DIR="$T/apache/lock" APACHE_LOG_DIR="$T/apache/log" LANG=C "$@"
}
start_apache() {
	apache_env "$APACHE" -d /etc/apache2 -f "$T/apache/apache2.conf" -k start 2>> "$T/apache/start.log"
	for i in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
	APACHE_STARTED=yes
}
stop_apache() {
	local pid
	[ -n "$APACHE_STARTED" ] || return 0
	pid=$(cat "$T/apache/run/apache2.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# mod_fcgid's scimd processes end with their Apache; any left after
	# 3 s (only this test runs the package's binary) are ended by PID.
	for i in $(seq 1 30); do
		pgrep -U www-data -f '^/usr/lib/scimd/scimd.fcgi' > /dev/null || break
		sleep 0.1
	done
	for pid in $(pgrep -U www-data -f '^/usr/lib/scimd/scimd.fcgi'); do
		kill "$pid" 2>/dev/null
	done
	APACHE_STARTED=
}
apache_env "$APACHE" -d /etc/apache2 -f "$T/apache/apache2.conf" -t > "$T/apache/t.log" 2>&1
ok $? "the system's Apache configuration with scimd enabled: Syntax OK"
sed 's/^/# /' "$T/apache/t.log" | grep -v -e 'Syntax OK' -e AH00558
start_apache
BASE="http://127.0.0.1:$port/scim/v2"
STATUS=$(curl -s -o "$T/spc" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/ServiceProviderConfig")
is "$STATUS" 200 "Apache on 127.0.0.1:$port serves /scim/v2 from the package's snippet"

# The Okta suites through it, their TAP lines prefixed and counted here.
# run_suite NAME: tests/e2e/NAME.sh against the package's endpoint.
run_suite() {
	local out rc
	out=$(SCIMD_E2E_BASE=$BASE SCIMD_E2E_TOKEN=$TOKEN SCIMD_E2E_DB=/var/lib/scimd \
	    SCIMCTL_UNDER_TEST=/usr/bin/scimctl bash "$top_srcdir/tests/e2e/$1.sh" 2>&1)
	rc=$?
	echo "$out" | grep -v '^1\.\.' | sed -n 's/^\(not ok\|ok\) [0-9]* - /\1 /p' |
	while read -r line; do
		case $line in
		"not ok "*) echo "not ok - $1: ${line#not ok }" ;;
		*) echo "ok - $1: ${line#ok }" ;;
		esac
	done
	echo "$out" | grep -e '^#' -e '^Bail' | head -n 20
	ok $rc "tests/e2e/$1.sh through the package's Apache: all passed"
}
run_suite okta
run_suite groups

# ---- upgrade under load ------------------------------------------------
# A user made before, for the checks after the upgrade, remove and purge.
curl -s -o "$T/keeper" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"keeper@example.com"}' "$BASE/Users"
KEEPER=$(jq -r .id < "$T/keeper")
ok $([ ${#KEEPER} -eq 36 ]; echo $?) "a user made before the upgrade"
"$T/who" /var/lib/scimd keeper@example.com > "$T/who.out" 2>&1
ok $(grep -q "$KEEPER" "$T/who.out"; echo $?) "the libscimstore-dev program finds it in the store"
: > "$T/codes"
(
	while :; do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=1" >> "$T/codes"
	done
) &
LOOP_PID=$!
sleep 2
before=$(wc -l < "$T/codes")
apt-get install -y -qq "$DEB2" > "$T/upgrade.log" 2>&1
ok $? "apt-get install scimd $NEXT while requests are being served"
sed 's/^/# /' "$T/upgrade.log" | grep -i -e error -e warn | head -n 5
sleep 2
# Requests after the upgrade go to the new binary (mod_fcgid starts a new
# process class for the new file; docs/upgrade.md).
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=1&after=$i"
done
sleep 1
kill "$LOOP_PID" 2>/dev/null
wait "$LOOP_PID" 2>/dev/null
LOOP_PID=
total=$(wc -l < "$T/codes")
bad=$(grep -vc '^200$' "$T/codes")
ok $([ "$total" -gt "$before" ] && [ "$before" -gt 5 ]; echo $?) "the client kept sending during the upgrade ($before before, $total in all)"
is "$bad" 0 "...and not one request failed"
grep -v '^200$' "$T/codes" | sort | uniq -c | sed 's/^/# /' | head -n 5
is "$(dpkg-query -W -f='${Version}' scimd)" "$NEXT" "dpkg: scimd $NEXT installed"
is "$(scimd --version)" "scimd $NEXT" "scimd --version: $NEXT"
new=0
old=0
for p in $(pgrep -U www-data -f '^/usr/lib/scimd/scimd.fcgi'); do
	case $(readlink "/proc/$p/exe") in
	*"(deleted)") old=$((old + 1)) ;;
	/usr/lib/scimd/scimd.fcgi) new=$((new + 1)) ;;
	esac
done
ok $([ "$new" -ge 1 ]; echo $?) "Apache runs the new binary for new requests ($new new, $old old processes)"
STATUS=$(curl -s -o "$T/k" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/Users/$KEEPER")
is "$STATUS" 200 "the user made before the upgrade is served after it"
stop_apache

# ---- remove, purge: the store stays -------------------------------------
apt-get remove -y -qq scimd > "$T/remove.log" 2>&1
ok $? "apt-get remove scimd"
ok $([ ! -e /usr/bin/scimd ] && [ ! -e /usr/lib/scimd/scimd.fcgi ]; echo $?) "...the programs are gone"
ok $([ -f /var/lib/scimd/data.mdb ]; echo $?) "...the store is still there"
ok $([ ! -e /etc/apache2/conf-enabled/scimd.conf ]; echo $?) "...the Apache snippet is disabled"
apache_env "$APACHE" -d /etc/apache2 -f "$T/apache/apache2.conf" -t > /dev/null 2>&1
ok $? "...and Apache's configuration is still valid"
store_has_keeper() {
	if [ -x "$top_builddir/src/scimctl" ]; then
		"$top_builddir/src/scimctl" --db /var/lib/scimd user get "$KEEPER" 2>/dev/null | grep -q keeper@example.com
	else
		mdb_stat -a /var/lib/scimd > /dev/null 2>&1
	fi
}
store_has_keeper
ok $? "...holding the user made before"
apt-get purge -y -qq scimd libscimstore-dev > "$T/purge.log" 2>&1
ok $? "apt-get purge scimd libscimstore-dev"
ok $([ ! -e /etc/scimd/scimd.conf ] && [ ! -e /etc/apache2/conf-available/scimd.conf ]; echo $?) "...the settings and snippets are gone"
ok $([ -f /var/lib/scimd/data.mdb ]; echo $?) "...the store is still there"
store_has_keeper
ok $? "...holding the user made before"
ok $(grep -q 'stores in /var/lib/scimd are kept' "$T/purge.log"; echo $?) "...and purge says the stores are kept"
ok $(! dpkg-query -W scimd 2>/dev/null | grep -q .; echo $?) "nothing of the package is left in dpkg's database"

echo "1..$n"
[ "$failed" -eq 0 ]
