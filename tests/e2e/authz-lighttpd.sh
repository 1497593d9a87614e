#!/bin/bash
# authz-lighttpd.sh: scimd as lighttpd's FastCGI authorizer
# (deploy/lighttpd/scimd-authz.conf): mod_auth with an htpasswd file
# stands in for the login, scimd spawned with "mode" => "authorizer"
# decides, a static page and a CGI program sit behind it, and the IdP's
# changes arrive through the SCIM endpoint of the same lighttpd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authz-lib.sh"
[ -x "$LIGHTTPD" ] || skip_all "lighttpd is not installed"

ADMIN_PATH=/site/admin
authz_prepare authz-lighttpd
mkdir -p "$WORK/www/open" "$WORK/www/broken"
echo "hello" > "$WORK/www/open/index.html"
echo "hello" > "$WORK/www/broken/index.html"
stop_all() {
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT

# authorizer NAME CONF: a fastcgi.server entry spawning scimd in the
# authorizer role, for prefix "/" inside a URL condition (the shape of
# deploy/lighttpd/scimd-authz.conf).
authorizer() {
	cat <<ENTRY
	fastcgi.server += ( "/" => (( "mode" => "authorizer",
		"bin-path" => "$SCIMD",
		"socket" => "$WORK/authz-$1.sock",
		"max-procs" => 1,
		"check-local" => "disable",
		"docroot" => "$WORK/www",
		"bin-environment" => ( "SCIMD_CONF" => "$2" ) )) )
ENTRY
}
login='auth.require = ( "" => ( "method" => "basic", "realm" => "site", "require" => "valid-user" ) )'
for try in 1 2 3 4 5; do
	port=$(free_port)
	cat > "$WORK/lighttpd.conf" <<CONF
server.document-root = "$WORK/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$WORK/logs/error.log"
# mod_auth before mod_fastcgi: REMOTE_USER is set when scimd is asked.
server.modules = ( "mod_auth", "mod_authn_file", "mod_fastcgi", "mod_cgi" )
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "$WORK/htpasswd"
cgi.assign = ( ".cgi" => "" )
# SCIM, for the IdP (deploy/lighttpd/scimd.conf).
fastcgi.server = ( "/scim/v2" => (( "bin-path" => "$SCIMD",
	"socket" => "$WORK/scim.sock",
	"max-procs" => 1,
	"check-local" => "disable",
	"bin-environment" => ( "SCIMD_CONF" => "$WORK/scimd.conf" ) )) )
# The site: everything but SCIM and the two test areas below.
\$HTTP["url"] !~ "^/(scim/v2|open|broken)(/|\$)" {
	$login
$(authorizer site "$WORK/scimd.conf")
}
# A guard with no login in front of it.
\$HTTP["url"] =~ "^/open/" {
$(authorizer open "$WORK/scimd.conf")
}
# A guard whose store cannot be opened.
\$HTTP["url"] =~ "^/broken/" {
	$login
$(authorizer broken "$WORK/broken.conf")
}
CONF
	"$LIGHTTPD" -D -f "$WORK/lighttpd.conf" 2>> "$WORK/logs/error.log" &
	SERVER_PID=$!
	# Up to 10 s (scimd processes under valgrind start slowly); a
	# lighttpd that could not bind exits and is retried at once.
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break 2
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
	[ $try = 5 ] && { echo "Bail out! lighttpd did not start"; sed 's/^/# /' "$WORK/logs/error.log"; exit 1; }
done
H=http://127.0.0.1:$port
BASE=$H/scim/v2
SITE=$H/site
ADMIN=$H/site/admin
BROKEN=$H/broken
DENIED=403

authz_sequence lighttpd

# No login in front of the authorizer: 401 from scimd, logged once.
site "" "$H/open/index.html"
is "$STATUS" 401 "lighttpd: no REMOTE_USER (no login configured): 401 from scimd"
site "" "$H/open/index.html"
is "$STATUS" 401 "lighttpd: and again"
is "$(grep -c 'no REMOTE_USER' "$WORK/logs/error.log")" 1 \
    "lighttpd: the configuration mistake is logged once per process"

authz_broken lighttpd 503
ok $(grep -q 'authz.*503' "$WORK/logs/error.log"; echo $?) "lighttpd: the 503 is logged"

# What a client can send does not make a SCIM request a decision.
rawreq -H "FCGI-Role: AUTHORIZER" -H "SCIMD-Role: AUTHORIZER" -u alice@example.com:$PW "$BASE/Users"
is "$STATUS" 401 "lighttpd: role headers from a client: still SCIM (no token: 401)"
is "$(j .schemas[0])" "urn:ietf:params:scim:api:messages:2.0:Error" "lighttpd: a SCIM error, not a decision"
ok $(grep -qi '^Variable-' "$HEADERS"; [ $? -ne 0 ]; echo $?) "lighttpd: no Variable- header leaks"
ok $(grep -q 'Authorization\|c2VjcmV0' "$WORK/logs/error.log"; [ $? -ne 0 ]; echo $?) \
    "lighttpd: the Basic credentials never reach the log"
done_testing
