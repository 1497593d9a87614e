#!/bin/bash
# shared.sh: shared hosting must not publish the store.  A real Apache
# 2.4 with mod_fcgid and the shipped deploy/apache/htaccess, allowed only
# what docs/deploy.md says a customer's directory needs
# (AllowOverride FileInfo AuthConfig Options=ExecCGI):
#  - the settings file beside scimd.fcgi is not served (it names the
#    store), nor are a store's data.mdb and lock.mdb;
#  - scimd refuses (503, a log line) a store inside the document root,
#    and serves one outside it;
#  - without AuthConfig the .htaccess fails closed (500), never serving
#    the settings file.
# Also: the shipped lighttpd snippet is valid and denies the same files.
. "$(dirname "$0")/lib.sh"
APACHE=${APACHE:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
[ -x "$APACHE" ] || skip_all "apache2 is not installed"
[ -f "$MODS/mod_fcgid.so" ] || skip_all "libapache2-mod-fcgid is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
RUNAS=www-data
id "$RUNAS" >/dev/null 2>&1 || RUNAS=nobody

WORK=$(mktemp -d /tmp/scimd-shared.XXXXXX)
chmod 755 "$WORK"
BODY=$WORK/body
HEADERS=$WORK/headers
stop_all() {
	[ -f "$WORK/httpd.pid" ] && kill "$(cat "$WORK/httpd.pid")" 2>/dev/null
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT

# Three customers.  good: the store outside public_html.  bad: the store
# inside it (db/ beside scimd.fcgi).  flat: the store is the script's
# own directory (data.mdb beside scimd.fcgi).
mkdir -p "$WORK/www" "$WORK/private" "$WORK/fcgid"
for c in good bad flat; do
	mkdir -p "$WORK/www/$c"
	cp "$SCIMD" "$WORK/www/$c/scimd.fcgi"
	cp "$top_srcdir/deploy/apache/htaccess" "$WORK/www/$c/.htaccess"
done
db_good=$WORK/private/db
db_bad=$WORK/www/bad/db
db_flat=$WORK/www/flat
for c in good bad flat; do
	eval db=\$db_$c
	"$SCIMCTL" --db "$db" token add "$c" 2>/dev/null | tail -n 1 > "$WORK/token-$c"
	printf 'db = %s\n' "$db" > "$WORK/www/$c/scimd.conf"
done
chown -R "$RUNAS" "$WORK"

port=$(free_port)
# httpd_conf OVERRIDE: the server, customers' directories allowed OVERRIDE.
httpd_conf() {
	cat <<CONF
ServerRoot "$WORK"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $WORK/httpd.pid
ErrorLog $WORK/apache-error.log
LogLevel warn
User $RUNAS
Group $(id -gn "$RUNAS")
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
TypesConfig /etc/mime.types
LoadModule rewrite_module $MODS/mod_rewrite.so
LoadModule fcgid_module $MODS/mod_fcgid.so
DocumentRoot $WORK/www
FcgidIPCDir $WORK/fcgid
FcgidProcessTableFile $WORK/fcgid/shm
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $WORK/www>
	AllowOverride $1
	Require all granted
</Directory>
CONF
}
start_apache() {
	httpd_conf "$1" > "$WORK/httpd.conf"
	"$APACHE" -f "$WORK/httpd.conf" -k start 2>> "$WORK/apache-error.log"
	for i in $(seq 1 30); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.1
	done
	echo "Bail out! Apache did not start"; cat "$WORK/apache-error.log"; exit 1
}
stop_apache() {
	kill "$(cat "$WORK/httpd.pid")" 2>/dev/null
	for i in $(seq 1 50); do [ -f "$WORK/httpd.pid" ] || break; sleep 0.1; done
	sleep 0.3
}
denied() {	# denied URL-PATH NAME: 403 or 404, and not the file's bytes
	rawreq "http://127.0.0.1:$port$1"
	ok $({ [ "$STATUS" = 403 ] || [ "$STATUS" = 404 ]; } && ! grep -q '^db = ' "$BODY" &&
	    ! grep -qa 'token_hash' "$BODY"; echo $?) "$2: $STATUS"
}

start_apache "FileInfo AuthConfig Options=ExecCGI"
U='urn:ietf:params:scim:schemas:core:2.0:User'

# The good customer serves.
BASE="http://127.0.0.1:$port/good"
TOKEN=$(cat "$WORK/token-good")
req POST /Users '{"schemas":["'$U'"],"userName":"shared@example.com"}'
is "$STATUS" 201 "store outside public_html: served (create 201)"
req GET '/Users?count=0'
is "$(j .totalResults)" 1 "...and read back"
denied /good/scimd.conf "GET /good/scimd.conf: not served"
denied /good/scimd.conf/x "...nor with a path after it"
denied /good/.htaccess "GET /good/.htaccess: not served"
rawreq "http://127.0.0.1:$port/good/scimd.fcgi/Users" -H "Authorization: Bearer $TOKEN"
is "$STATUS" 200 "the script's own URL still answers"

# The bad customers: the store inside the document root.
for c in bad flat; do
	BASE="http://127.0.0.1:$port/$c"
	TOKEN=$(cat "$WORK/token-$c")
	req GET '/Users?count=0'
	is "$STATUS" 503 "$c: a store inside the document root: 503"
	ok $(j .detail | grep -q 'inside the web server.s document root'; echo $?) "...$(j .detail)"
	ok $(! grep -qF "$WORK" "$BODY"; echo $?) "...naming no path"
	eval db=\$db_$c
	ok $(grep -q "refusing to serve: the store $db lies inside the document root $WORK/www" "$WORK/apache-error.log"; echo $?) \
	    "...and the error log says where"
	denied "/$c/scimd.conf" "$c: GET scimd.conf: not served"
done
denied /bad/db/data.mdb "bad: GET db/data.mdb: not served"
denied /bad/db/lock.mdb "bad: GET db/lock.mdb: not served"
denied /flat/data.mdb "flat: GET data.mdb beside scimd.fcgi: not served"
denied /flat/lock.mdb "flat: GET lock.mdb: not served"
"$SCIMCTL" --db "$db_bad" stats > /dev/null 2>&1
ok $? "the refused store is intact"
stop_apache

# Without AuthConfig the shipped .htaccess fails closed: nothing of the
# directory is served, the settings file least of all.
start_apache "FileInfo Options=ExecCGI"
rawreq "http://127.0.0.1:$port/good/scimd.conf"
is "$STATUS" 500 "AllowOverride without AuthConfig: the .htaccess is refused (500)"
ok $(! grep -q '^db = ' "$BODY"; echo $?) "...and scimd.conf is not served"
ok $(grep -q 'not allowed here' "$WORK/apache-error.log"; echo $?) "...Apache's log says why"
stop_apache

# The shipped lighttpd snippet: valid, and it denies the same files.
if [ -x "$LIGHTTPD" ]; then
	lport=$((port + 1))
	mkdir -p "$WORK/lroot"
	cp "$WORK/www/good/scimd.conf" "$WORK/lroot/scimd.conf"
	cp "$db_bad/data.mdb" "$WORK/lroot/data.mdb"
	echo hello > "$WORK/lroot/index.html"
	sed "s|\"bin-path\" *=> \"[^\"]*\"|\"bin-path\" => \"$SCIMD -c $WORK/www/good/scimd.conf\"|; s|/run/lighttpd/scimd.sock|$WORK/l.sock|" \
	    "$top_srcdir/deploy/lighttpd/scimd.conf" > "$WORK/l-scimd.conf"
	cat > "$WORK/lighttpd.conf" <<CONF
server.document-root = "$WORK/lroot"
server.bind = "127.0.0.1"
server.port = $lport
server.errorlog = "$WORK/l-error.log"
include "$WORK/l-scimd.conf"
CONF
	"$LIGHTTPD" -tt -f "$WORK/lighttpd.conf" >> "$WORK/l-error.log" 2>&1
	ok $? "deploy/lighttpd/scimd.conf passes lighttpd -tt"
	"$LIGHTTPD" -D -f "$WORK/lighttpd.conf" 2>> "$WORK/l-error.log" &
	SERVER_PID=$!
	for i in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$lport/index.html" && break
		sleep 0.1
	done
	rawreq "http://127.0.0.1:$lport/index.html"
	is "$STATUS" 200 "lighttpd with deploy/lighttpd/scimd.conf: serves other files"
	port=$lport
	denied /scimd.conf "...but not scimd.conf"
	denied /data.mdb "...nor data.mdb"
else
	skipping_allowed lighttpd ||
	    ok 1 "lighttpd is not installed (.ci/packages; SCIMD_SKIP_SERVERS=lighttpd skips this)"
	skip "lighttpd is not installed"
	skip "...-tt"
	skip "...scimd.conf"
	skip "...data.mdb"
fi
done_testing
