#!/bin/bash
# faults.sh: the store's disk fills up, the store becomes read-only, the
# store's file is corrupt or truncated.  Each gives a SCIM error or a
# refusal to start with a clear log line: never a crash, never a
# half-write.  The store lives on a small tmpfs, so this needs root (and
# a kernel that lets it mount one); without them it fails unless
# SCIMD_SKIP_SERVERS names root (or tmpfs).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to mount a small tmpfs" root
probe=$(mktemp -d /tmp/scimd-probe.XXXXXX)
if ! mount -t tmpfs -o size=1m scimd-probe "$probe" 2>/dev/null; then
	rmdir "$probe"
	skip_all "cannot mount a tmpfs here" tmpfs
fi
umount "$probe"
rmdir "$probe"

MOUNTED=
prepare_store() {
	mkdir -p "$1" && mount -t tmpfs -o size=4m,mode=0700 scimd-store "$1" &&
	    MOUNTED=$1
}
release_store() {
	[ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
	MOUNTED=
}
start_lighttpd /scim/v2
U='urn:ietf:params:scim:schemas:core:2.0:User'
E='urn:ietf:params:scim:api:messages:2.0:Error'
[ -n "$MOUNTED" ] || { echo "Bail out! the store is not on the tmpfs"; exit 1; }

# cgi STORE: GET /Users through scimd run as plain CGI over STORE; the
# response in $WORK/cgi.out, scimd's log in $WORK/cgi.err.  CGI_ENV adds
# variables, CGI_AS runs it through a command (setpriv), CGI_TOKEN is the
# bearer token ($TOKEN by default).
CGI_ENV=(SCIMD_ALLOW_ROOT=yes)
CGI_AS=()
cgi() {
	env -i SCIMD_DB="$1" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
	    SCRIPT_NAME=/scim/v2 PATH_INFO=/Users REQUEST_URI=/scim/v2/Users \
	    SERVER_NAME=127.0.0.1 SERVER_PORT=80 HTTP_HOST=127.0.0.1 \
	    HTTP_AUTHORIZATION="Bearer ${CGI_TOKEN:-$TOKEN}" "${CGI_ENV[@]}" \
	    "${CGI_AS[@]}" "$SCIMD" \
	    < /dev/null > "$WORK/cgi.out" 2> "$WORK/cgi.err"
	echo $?
}
cgi_status() { sed -n 's/^Status: \([0-9]*\).*/\1/p' "$WORK/cgi.out" | head -n 1; }
cgi_body() { sed '1,/^\r\{0,1\}$/d' "$WORK/cgi.out"; }

# ---- 1. The disk fills up -----------------------------------------------
big=$(head -c 12000 /dev/zero | tr '\0' 'x')
created=0
status=201
for ((i = 1; i <= 1000 && status == 201; i++)); do
	req POST /Users '{"schemas":["'$U'"],"userName":"fill'$i'","title":"'$big'"}'
	status=$STATUS
	[ "$status" = 201 ] && created=$((created + 1))
done
ok $([ "$created" -gt 10 ]; echo $?) "the store took $created users before its disk filled"
is "$status" 507 "a create on a full disk: 507"
is "$(j '.schemas[0]')" "$E" "...a SCIM Error"
ok $(j .detail | grep -q 'disk holding the store is full'; echo $?) "...saying the disk is full"
# The next create is refused again.  Pages freed by the failed commits
# become reusable once no reader holds an older snapshot (LMDB's MVCC),
# so on a busy machine one more create can fit after all: then it is
# acknowledged and counted, and the next one is tried (at most 5).
for ((k = 1; k <= 5; k++)); do
	req POST /Users '{"schemas":["'$U'"],"userName":"one-more'$k'","title":"'$big'"}'
	[ "$STATUS" = 201 ] || break
	created=$((created + 1))
done
is "$STATUS" 507 "the next create: 507 again, not a crash"
req GET '/Users?count=0'
is "$STATUS" 200 "reads still work on the full disk"
is "$(j .totalResults)" "$created" "every acknowledged create is there and nothing else"
req GET '/Users?filter=userName%20eq%20%22one-more'$k'%22'
is "$(j .totalResults)" 0 "the refused create left no trace in the index"
"$SCIMCTL" --db "$WORK/db" verify > "$WORK/verify" 2>&1
ok $? "scimctl verify is clean on the full disk"
grep -q 'scimd\[[0-9]*\] error: .*disk holding the store is full' "$WORK/error.log"
ok $? "the log says why"

# ---- 2. The store becomes read-only -------------------------------------
# A mounted filesystem cannot turn read-only while scimd holds its files
# open for writing: stop the server, then start scimd as CGI over it.
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
# lighttpd's scimd processes may still be exiting (slowly under ASan),
# holding the files open: the remount is busy until they are gone.
remounted=1
for i in $(seq 1 50); do
	mount -o remount,ro "$MOUNTED" 2>/dev/null && { remounted=0; break; }
	sleep 0.2
done
if [ "$remounted" = 0 ]; then
	rc=$(cgi "$WORK/db")
	ok $([ "$rc" -lt 128 ]; echo $?) "read-only store: scimd exits normally (status $rc)"
	is "$(cgi_status)" 503 "read-only store: 503"
	is "$(cgi_body | jq -r '.schemas[0]')" "$E" "...a SCIM Error"
	ok $(cgi_body | jq -r .detail | grep -qi 'read-only'; echo $?) "...naming the cause: $(cgi_body | jq -r .detail)"
	ok $(grep -q 'cannot start' "$WORK/cgi.err"; echo $?) "...and a log line"
	mount -o remount,rw "$MOUNTED"
else
	skip "this kernel refused to remount the tmpfs read-only"
	skip "read-only store: 503"
	skip "...a SCIM Error"
	skip "...naming the cause"
	skip "...and a log line"
fi

# ---- 3. A corrupt or truncated data file ----------------------------------
mkdir -p "$WORK/bad"
cp "$WORK/db/data.mdb" "$WORK/bad/data.mdb"
dd if=/dev/zero of="$WORK/bad/data.mdb" bs=4096 count=2 conv=notrunc 2>/dev/null
rc=$(cgi "$WORK/bad")
ok $([ "$rc" -lt 128 ]; echo $?) "both meta pages zeroed: scimd exits normally (status $rc)"
is "$(cgi_status)" 503 "...503"
ok $(cgi_body | jq -r .detail | grep -q 'Cannot open the store'; echo $?) "...$(cgi_body | jq -r .detail)"
ok $(grep -q 'cannot start' "$WORK/cgi.err"; echo $?) "...and a log line"
"$SCIMCTL" --db "$WORK/bad" verify > "$WORK/verify" 2>&1
ok $([ $? -ne 0 ]; echo $?) "scimctl verify refuses it too"

rm -rf "$WORK/bad"
mkdir -p "$WORK/bad"
size=$(stat -c %s "$WORK/db/data.mdb")
head -c $((size / 2 / 4096 * 4096)) "$WORK/db/data.mdb" > "$WORK/bad/data.mdb"
rc=$(cgi "$WORK/bad")
ok $([ "$rc" -lt 128 ]; echo $?) "data file cut in half: scimd exits normally, no SIGBUS (status $rc)"
is "$(cgi_status)" 503 "...503"
ok $(cgi_body | jq -r .detail | grep -q 'truncated'; echo $?) "...$(cgi_body | jq -r .detail)"
"$SCIMCTL" --db "$WORK/bad" stats > "$WORK/stats" 2>&1
rc=$?
ok $([ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]; echo $?) "scimctl refuses it cleanly (status $rc)"

# ---- 4. Run as root, not told to --------------------------------------------
# A root scimd would leave root-owned files in the store that the web
# server's user cannot open: it serves nothing but a 503 naming the fix.
refused() {	# refused NAME: the last cgi run refused to serve as root
	is "$(cgi_status)" 503 "$1: 503"
	ok $(cgi_body | jq -r .detail | grep -q 'refuses to run as root'; echo $?) "...$(cgi_body | jq -r .detail)"
	ok $(grep -q 'cannot start: scimd refuses to run as root' "$WORK/cgi.err"; echo $?) "...and a log line"
}
CGI_ENV=()
rc=$(cgi "$WORK/db")
is "$rc" 1 "root, nothing said: scimd exits 1 after answering"
refused "root, nothing said"
CGI_ENV=(SCIMD_ALLOW_ROOT=no)
rc=$(cgi "$WORK/db")
refused "root, SCIMD_ALLOW_ROOT=no"
CGI_ENV=(SCIMD_ALLOW_ROOT=perhaps)
rc=$(cgi "$WORK/db")
is "$(cgi_status)" 503 "SCIMD_ALLOW_ROOT=perhaps: 503"
ok $(cgi_body | jq -r .detail | grep -q 'SCIMD_ALLOW_ROOT must be yes or no'; echo $?) "...$(cgi_body | jq -r .detail)"
printf 'allow_root = no\n' > "$WORK/no.conf"
CGI_ENV=(SCIMD_CONF="$WORK/no.conf")
rc=$(cgi "$WORK/db")
refused "root, allow_root = no in scimd.conf"
printf 'allow_root = yes\n' > "$WORK/yes.conf"
CGI_ENV=(SCIMD_CONF="$WORK/yes.conf")
rc=$(cgi "$WORK/db")
is "$(cgi_status)" 200 "root, allow_root = yes in scimd.conf: served"

# Not root: no setting needed.  A store of nobody's, scimd run as nobody.
nb=$(mktemp -d /tmp/scimd-nobody.XXXXXX)
chmod 755 "$nb"
CGI_TOKEN=$("$SCIMCTL" --db "$nb/db" token add n 2>/dev/null | tail -n 1)
chown -R nobody "$nb/db"
CGI_ENV=()
CGI_AS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
if "${CGI_AS[@]}" test -x "$SCIMD"; then
	rc=$(cgi "$nb/db")
	is "$(cgi_status)" 200 "run as nobody, nothing said: served"
else
	skip "run as nobody: $SCIMD is not reachable by nobody"
fi
rm -rf "$nb"
CGI_ENV=(SCIMD_ALLOW_ROOT=yes)
CGI_AS=()
CGI_TOKEN=

# The good store is untouched by all this.
rc=$(cgi "$WORK/db")
is "$(cgi_status)" 200 "the real store still answers"
is "$(cgi_body | jq -r .totalResults)" "$created" "...with every user"
done_testing
