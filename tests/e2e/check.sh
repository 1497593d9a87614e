#!/bin/bash
# check.sh: `scimd --check`, the configuration check of docs/deploy.md.
# It reads the settings as scimd would, checks the store as the user it
# runs as, names the path and the user in every problem, and exits 1 on
# any problem.  Run as root and as nobody (permissions only bite then).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to run the check as nobody" root
id nobody >/dev/null 2>&1 || skip_all "no user nobody" nobody

WORK=$(mktemp -d /tmp/scimd-check.XXXXXX)
chmod 755 "$WORK"
trap '[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"' EXIT
# A copy nobody can run (the build tree may be unreachable for nobody).
cp "$SCIMD" "$WORK/scimd"
chmod 755 "$WORK/scimd"
AS_NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)

# check [AS...] -- ARGS: runs the check; OUT holds its output, RC its status.
check() {
	local as=()
	while [ "$1" != -- ]; do as+=("$1"); shift; done
	shift
	OUT=$("${as[@]}" env -u SCIMD_CONF "$WORK/scimd" --check "$@" 2>&1)
	RC=$?
}

"$SCIMCTL" --db "$WORK/db" init > /dev/null
printf 'db = %s\n' "$WORK/db" > "$WORK/good.conf"
chmod 644 "$WORK/good.conf"
chown -R nobody "$WORK/db"

check "${AS_NOBODY[@]}" -- -c "$WORK/good.conf"
is "$RC" 0 "a good store, checked as its owner: exit 0"
ok $(echo "$OUT" | grep -q "^ok: settings read from $WORK/good.conf by user nobody"; echo $?) "...names the settings file and the user"
ok $(echo "$OUT" | grep -q "^ok: store $WORK/db opens for user nobody"; echo $?) "...and the store"
is "$(echo "$OUT" | tail -n 1)" "0 problems" "...0 problems"

# The lock file every reader writes, made read-only.
chmod 0444 "$WORK/db/lock.mdb"
check "${AS_NOBODY[@]}" -- -c "$WORK/good.conf"
is "$RC" 1 "lock.mdb not writable: exit 1"
ok $(echo "$OUT" | grep -q "^problem: $WORK/db/lock.mdb is not readable and writable by user nobody"; echo $?) "...names lock.mdb and the user"
chmod 0600 "$WORK/db/lock.mdb"

# The store owned by someone else.
chown -R root "$WORK/db"
check "${AS_NOBODY[@]}" -- -c "$WORK/good.conf"
is "$RC" 1 "store owned by root, checked as nobody: exit 1"
ok $(echo "$OUT" | grep -q "^problem: store directory $WORK/db is not readable, writable and searchable by user nobody"; echo $?) "...names the directory and the user"
chown -R nobody "$WORK/db"

# Layout versions, set with LMDB itself (python3-lmdb): an older one is
# reported as scimd's migration to come, and left as it is; a newer one
# (written by a newer scimd) is a problem.
PY=/usr/bin/python3
need python3-lmdb "$PY" -c 'import lmdb'
set_layout() {	# set_layout DB N
	"$PY" -c 'import lmdb, sys
env = lmdb.open(sys.argv[1], max_dbs=32)
db = env.open_db(b"meta", create=False)
with env.begin(write=True) as t:
    t.put(b"layout", sys.argv[2].encode(), db=db)' "$1" "$2"
}
get_layout() {
	"$PY" -c 'import lmdb, sys
env = lmdb.open(sys.argv[1], max_dbs=32, readonly=True)
db = env.open_db(b"meta", create=False)
with env.begin() as t:
    print(t.get(b"layout", db=db).decode())' "$1"
}
cur=$(get_layout "$WORK/db")
set_layout "$WORK/db" 1
check "${AS_NOBODY[@]}" -- -c "$WORK/good.conf"
is "$RC" 0 "an older layout (1): exit 0"
ok $(echo "$OUT" | grep -q "^ok: store $WORK/db opens for user nobody (layout 1: scimd migrates it to $cur"; echo $?) "...says scimd will migrate it"
is "$(get_layout "$WORK/db")" 1 "...and leaves it as it is"
set_layout "$WORK/db" 99
check "${AS_NOBODY[@]}" -- -c "$WORK/good.conf"
is "$RC" 1 "a newer layout (99): exit 1"
ok $(echo "$OUT" | grep -q "^problem: store $WORK/db (user nobody): The store has layout version 99"; echo $?) "...names the store, the user and the layout"
set_layout "$WORK/db" "$cur"
chown -R nobody "$WORK/db"

# A missing store: named, and nothing is created.
printf 'db = %s\n' "$WORK/nowhere" > "$WORK/missing.conf"
check "${AS_NOBODY[@]}" -- -c "$WORK/missing.conf"
is "$RC" 1 "missing store: exit 1"
ok $(echo "$OUT" | grep -q "^problem: store $WORK/nowhere: No such file or directory (user nobody)"; echo $?) "...names the path and the user"
ok $([ ! -e "$WORK/nowhere" ]; echo $?) "...and creates nothing"

# A directory that is not a store yet: data.mdb missing, nothing created.
mkdir "$WORK/empty"
chown nobody "$WORK/empty"
printf 'db = %s\n' "$WORK/empty" > "$WORK/empty.conf"
check "${AS_NOBODY[@]}" -- -c "$WORK/empty.conf"
is "$RC" 1 "empty directory: exit 1"
ok $(echo "$OUT" | grep -q "^problem: $WORK/empty/data.mdb: No such file or directory (user nobody): not a store yet"; echo $?) "...names data.mdb and the user"
ok $([ -z "$(ls -A "$WORK/empty")" ]; echo $?) "...and creates nothing in it"

# Settings: an unknown key, an unreadable schemas file, no db at all.
printf 'db = %s\nbogus = 1\n' "$WORK/db" > "$WORK/bad.conf"
check -- -c "$WORK/bad.conf"
is "$RC" 1 "unknown key: exit 1"
ok $(echo "$OUT" | grep -q "^problem: settings (user root): $WORK/bad.conf:2: unknown key bogus"; echo $?) "...names the file, the line and the user"
printf 'db = %s\nschemas = %s/none.json\n' "$WORK/db" "$WORK" > "$WORK/schemas.conf"
check -- -c "$WORK/schemas.conf"
is "$RC" 1 "missing schemas file: exit 1"
ok $(echo "$OUT" | grep -q "^problem: schemas $WORK/none.json is not readable by user root"; echo $?) "...names it and the user"
printf '# nothing\n' > "$WORK/nodb.conf"
check -- -c "$WORK/nodb.conf"
is "$RC" 1 "no db setting: exit 1"
ok $(echo "$OUT" | grep -q "^problem: no store configured: set db in $WORK/nodb.conf"; echo $?) "...names the file"

# Root without allow_root: scimd would refuse to serve.
check env -u SCIMD_ALLOW_ROOT -- -c "$WORK/good.conf"
is "$RC" 1 "as root without allow_root: exit 1"
ok $(echo "$OUT" | grep -q "^problem: running as user root: scimd refuses to serve as root"; echo $?) "...says scimd would refuse"
check -- -c "$WORK/good.conf"
is "$RC" 0 "as root with allow_root: exit 0"

# The example extension schema file of deploy/ loads.
printf 'db = %s\nschemas = %s\n' "$WORK/db" "$top_srcdir/deploy/acme-schema.json" > "$WORK/ext.conf"
check -- -c "$WORK/ext.conf"
is "$RC" 0 "deploy/acme-schema.json loads: exit 0"
ok $(echo "$OUT" | grep -q "^ok: schemas $top_srcdir/deploy/acme-schema.json loaded"; echo $?) "...and says so"
# Under plain CGI the command line is the client's: a query string
# without "=" reaches the program as arguments (RFC 3875 4.4; mod_cgid
# does it).  scimd reads no option then: "?--check" or "?-c+/etc/passwd"
# is answered as an ordinary request from the configured store.
TOK=$("$SCIMCTL" --db "$WORK/db" token add cgi 2>/dev/null | tail -n 1)
cgi_args() {	# cgi_args QUERY ARGS...: one GET /Users?QUERY as plain CGI
	local q=$1
	shift
	env -i SCIMD_DB="$WORK/db" SCIMD_ALLOW_ROOT=yes GATEWAY_INTERFACE=CGI/1.1 \
	    REQUEST_METHOD=GET SCRIPT_NAME=/scim/v2 PATH_INFO=/Users \
	    REQUEST_URI="/scim/v2/Users?$q" QUERY_STRING="$q" SERVER_NAME=127.0.0.1 \
	    SERVER_PORT=80 HTTP_HOST=127.0.0.1 HTTP_AUTHORIZATION="Bearer $TOK" \
	    "$WORK/scimd" "$@" < /dev/null 2> /dev/null
}
out=$(cgi_args --check --check)
ok $(echo "$out" | grep -q '^Status: 200' && ! echo "$out" | grep -q '^ok: \|problems'; echo $?) "plain CGI, ?--check: an ordinary answer, no check report"
out=$(cgi_args -c+/etc/passwd -c /etc/passwd)
ok $(echo "$out" | grep -q '^Status: 200' && ! echo "$out" | grep -q passwd; echo $?) "plain CGI, ?-c+/etc/passwd: the settings file is not the client's"
out=$(cgi_args -V -V)
ok $(echo "$out" | grep -q '^Status: 200'; echo $?) "plain CGI, ?-V: an ordinary answer"
done_testing
