#!/bin/bash
# sites.sh: one scimd binary serving two sites from one lighttpd, each
# site with its own settings file, LMDB store and tokens.  A token of one
# site is refused by the other, a user of one is invisible to the other,
# and nothing in a request (headers that become CGI variables, query
# parameters, paths) makes scimd open another store.
. "$(dirname "$0")/lib.sh"
need curl command -v curl >/dev/null
need jq command -v jq >/dev/null
need lighttpd [ -x "$LIGHTTPD" ]

WORK=$(mktemp -d /tmp/scimd-sites.XXXXXX)
trap stop_servers EXIT
BODY=$WORK/body
HEADERS=$WORK/headers
mkdir -p "$WORK/www" "$WORK/a" "$WORK/b" "$WORK/evil"
for s in a b; do
	printf 'db = %s\n' "$WORK/$s/db" > "$WORK/$s/scimd.conf"
	"$SCIMCTL" --db "$WORK/$s/db" token add "site-$s" 2>/dev/null | tail -n 1 > "$WORK/$s/token"
done
"$SCIMCTL" --db "$WORK/evil/db" token add evil 2>/dev/null | tail -n 1 > "$WORK/evil/token"
TA=$(cat "$WORK/a/token")
TB=$(cat "$WORK/b/token")
TE=$(cat "$WORK/evil/token")

port=$(free_port)
cat > "$WORK/lighttpd.conf" <<CONF
server.document-root = "$WORK/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$WORK/error.log"
server.modules = ( "mod_fastcgi" )
fastcgi.server = (
  "/a/scim/v2" => (( "bin-path" => "$SCIMD", "socket" => "$WORK/a.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "SCIMD_CONF" => "$WORK/a/scimd.conf" ) )),
  "/b/scim/v2" => (( "bin-path" => "$SCIMD", "socket" => "$WORK/b.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "SCIMD_CONF" => "$WORK/b/scimd.conf" ) ))
)
CONF
"$LIGHTTPD" -D -f "$WORK/lighttpd.conf" 2>>"$WORK/error.log" &
SERVER_PID=$!
for i in $(seq 1 30); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
U='urn:ietf:params:scim:schemas:core:2.0:User'
A=http://127.0.0.1:$port/a/scim/v2
B=http://127.0.0.1:$port/b/scim/v2

# site URL TOKEN: the site for req().
site() { BASE=$1; TOKEN=$2; }

site "$A" "$TA"
req POST /Users '{"schemas":["'$U'"],"userName":"only-on-a@example.com"}'
is "$STATUS" 201 "site a: create with a's token"
AID=$(j .id)
is "$(j .meta.location)" "$A/Users/$AID" "site a: its own URLs"

site "$B" "$TB"
req GET '/Users?count=0'
is "$STATUS" 200 "site b: b's token works there"
is "$(j .totalResults)" 0 "site b: a's user is not in b's store"
req GET "/Users/$AID"
is "$STATUS" 404 "site b: a's user id is not found"
req POST /Users '{"schemas":["'$U'"],"userName":"only-on-a@example.com"}'
is "$STATUS" 201 "site b: the same userName is free in b"

site "$B" "$TA"
req GET '/Users?count=0'
is "$STATUS" 401 "site b refuses a's token"
site "$A" "$TB"
req GET '/Users?count=0'
is "$STATUS" 401 "site a refuses b's token"
site "$A" "$TE"
req GET '/Users?count=0'
is "$STATUS" 401 "a token of a store no site serves is refused"

# Nothing in the request chooses the store.  Headers become HTTP_*
# variables (never SCIMD_DB or SCIMD_CONF); query parameters and paths
# are routed, never opened.
for h in "SCIMD-DB: $WORK/evil/db" "SCIMD_CONF: $WORK/evil/scimd.conf" \
    "Proxy: $WORK/evil/db" "X-Scimd-Db: $WORK/evil/db"; do
	rawreq -H "Authorization: Bearer $TE" -H "$h" "$A/Users?count=0"
	is "$STATUS" 401 "header '${h%%:*}' does not switch the store"
done
rawreq -H "Authorization: Bearer $TE" "$A/Users?count=0&db=$WORK/evil/db&SCIMD_DB=$WORK/evil/db"
is "$STATUS" 401 "query parameters do not switch the store"
rawreq -H "Authorization: Bearer $TE" --path-as-is "$A/../../b/scim/v2/Users"
ok $([ "$STATUS" != 200 ]; echo $?) "a path with .. does not reach another site (status $STATUS)"
rawreq -H "Authorization: Bearer $TE" "$A/Users/..%2F..%2Fevil%2Fdb"
ok $([ "$STATUS" = 401 ] || [ "$STATUS" = 404 ]; echo $?) "an encoded path is not a store path (status $STATUS)"

# SIGTERM between requests: site a's scimd exits (libfcgi turns it into
# a clean exit at the next accept), lighttpd starts another, and the
# next request is answered.
apid=
for p in $(pgrep -P "$SERVER_PID" -f "^$SCIMD"); do
	tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SCIMD_CONF=$WORK/a/scimd.conf" && apid=$p
done
ok $([ -n "$apid" ]; echo $?) "site a's scimd found (pid ${apid:-none})"
kill -TERM "$apid" 2>/dev/null
for i in $(seq 1 50); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
ok $(kill -0 "$apid" 2>/dev/null; [ $? -ne 0 ]; echo $?) "it exits on SIGTERM between requests"
site "$A" "$TA"
for i in $(seq 1 100); do
	req GET '/Users?count=0'
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
is "$STATUS" 200 "site a answers again (lighttpd started a new scimd)"
is "$(j .totalResults)" 1 "site a still holds exactly its user"
is "$("$SCIMCTL" --db "$WORK/evil/db" stats | awk '$1 == "users" { print $2; exit }')" 0 "the store no site serves was never written"
for s in a b; do
	"$SCIMCTL" --db "$WORK/$s/db" verify >/dev/null 2>&1
	ok $? "site $s: store consistent"
	is "$(stat -c %a "$WORK/$s/db/data.mdb")" 600 "site $s: data file is owner-only"
done
done_testing
