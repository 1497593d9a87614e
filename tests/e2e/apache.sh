#!/bin/bash
# apache.sh: the deploy/apache configurations proven with a real Apache
# 2.4 on 127.0.0.1: mod_fcgid (vhost style and .htaccess shared-hosting
# style with a rewrite to a clean URL), mod_cgid plain CGI, and
# mod_proxy_fcgi to a spawn-fcgi pool.  Each mount runs the same
# provisioning sequence; Location and meta.location carry the URL the
# client used.
. "$(dirname "$0")/lib.sh"
APACHE=${APACHE:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
need apache2 [ -x "$APACHE" ]
need libapache2-mod-fcgid [ -f "$MODS/mod_fcgid.so" ]
need curl command -v curl >/dev/null
need jq command -v jq >/dev/null
SPAWN=$(command -v spawn-fcgi || true)
# The mod_proxy_fcgi mount needs a spawn-fcgi pool: missing, it fails
# unless skipped on purpose.
if [ -z "$SPAWN" ] && ! skipping_allowed spawn-fcgi; then
	skip_all "spawn-fcgi is not installed" spawn-fcgi
fi
RUNAS=www-data
id "$RUNAS" >/dev/null 2>&1 || RUNAS=nobody

WORK=$(mktemp -d /tmp/scimd-apache.XXXXXX)
chmod 755 "$WORK"
BODY=$WORK/body
HEADERS=$WORK/headers
stop_all() {
	[ -f "$WORK/httpd.pid" ] && kill "$(cat "$WORK/httpd.pid")" 2>/dev/null
	[ -n "${POOL_PIDS:-}" ] && kill $POOL_PIDS 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT

mkdir -p "$WORK/bin" "$WORK/www/site" "$WORK/fcgid" "$WORK/db"
TOKEN=$("$SCIMCTL" --db "$WORK/db" token add apache 2>/dev/null | tail -n 1)
cp "$SCIMD" "$WORK/bin/scimd.fcgi"
cp "$SCIMD" "$WORK/bin/scimd.cgi"
cp "$SCIMD" "$WORK/www/site/scimd.fcgi"
printf 'db = %s\n' "$WORK/db" > "$WORK/bin/scimd.conf"
cp "$WORK/bin/scimd.conf" "$WORK/www/site/scimd.conf"
cp "$top_srcdir/deploy/apache/htaccess" "$WORK/www/site/.htaccess"
chown -R "$RUNAS" "$WORK"

port=$(free_port)
cat > "$WORK/httpd.conf" <<CONF
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
LoadModule alias_module $MODS/mod_alias.so
LoadModule mime_module $MODS/mod_mime.so
TypesConfig /etc/mime.types
LoadModule rewrite_module $MODS/mod_rewrite.so
LoadModule fcgid_module $MODS/mod_fcgid.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_fcgi_module $MODS/mod_proxy_fcgi.so
DocumentRoot $WORK/www
ScriptSock $WORK/cgid.sock
FcgidIPCDir $WORK/fcgid
FcgidProcessTableFile $WORK/fcgid/shm
FcgidMaxRequestLen 1100000
# Recycle processes often, so the test sees mod_fcgid replace them.
FcgidMaxRequestsPerProcess 5
LimitRequestBody 1048576
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $WORK/www>
	AllowOverride All
	Require all granted
</Directory>
<Directory $WORK/bin>
	Require all granted
</Directory>
# deploy/apache/scimd-fcgid.conf
Alias /scim/v2 $WORK/bin/scimd.fcgi
<Location /scim/v2>
	SetHandler fcgid-script
	Options +ExecCGI
	AcceptPathInfo On
	CGIPassAuth On
	Require all granted
</Location>
# deploy/apache/scimd-cgi.conf
ScriptAlias /cgi/scim $WORK/bin/scimd.cgi
<Location /cgi/scim>
	CGIPassAuth On
	Require all granted
</Location>
# deploy/apache/scimd-proxy-fcgi.conf
<Location /pool/scim>
	CGIPassAuth On
	Require all granted
</Location>
ProxyPass /pool/scim "unix:$WORK/pool.sock|fcgi://localhost/pool/scim"
CONF

if [ -n "$SPAWN" ]; then
	# Behind mod_proxy_fcgi SCRIPT_NAME is the whole path: name the mount.
	printf 'db = %s\nmount = /pool/scim\n' "$WORK/db" > "$WORK/pool.conf"
	"$SPAWN" -s "$WORK/pool.sock" -M 0666 -F 2 -u "$RUNAS" -- "$SCIMD" -c "$WORK/pool.conf" > "$WORK/spawn.out" 2>&1
	POOL_PIDS=$(grep -o 'PID: [0-9]*' "$WORK/spawn.out" | awk '{print $2}' | tr '\n' ' ')
fi
"$APACHE" -f "$WORK/httpd.conf" -k start 2>> "$WORK/apache-error.log"
for i in $(seq 1 30); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done

U='urn:ietf:params:scim:schemas:core:2.0:User'
# sequence LABEL MOUNT: the provisioning sequence through one mount.
sequence() {
	local label=$1 BASE="http://127.0.0.1:$port$2" id
	req GET /ServiceProviderConfig
	is "$STATUS" 200 "$label: ServiceProviderConfig"
	rawreq "$BASE/Users"
	is "$STATUS" 401 "$label: no token: 401"
	req POST /Users '{"schemas":["'$U'"],"userName":"'$label'@example.com","active":true}' application/json
	is "$STATUS" 201 "$label: create: 201 (Authorization reached scimd)"
	id=$(j .id)
	is "$(header Location)" "$BASE/Users/$id" "$label: Location is the URL the client used"
	is "$(j .meta.location)" "$BASE/Users/$id" "$label: meta.location"
	req GET "/Users?filter=userName%20eq%20%22$label@example.com%22"
	is "$(j .totalResults)" 1 "$label: filter"
	req PATCH "/Users/$id" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}'
	is "$(j .active)" false "$label: PATCH"
	req DELETE "/Users/$id"
	is "$STATUS" 204 "$label: DELETE"
	req GET "/Users/$id"
	is "$STATUS" 404 "$label: 404 after delete"
	req GET /Nowhere
	is "$STATUS" 404 "$label: unknown path is a SCIM 404"
}

sequence fcgid /scim/v2
sequence htaccess /site
sequence cgi /cgi/scim
if [ -n "$SPAWN" ]; then
	sequence proxyfcgi /pool/scim
fi

# Many CGI requests: each process must release its reader slot.
BASE="http://127.0.0.1:$port/cgi/scim"
fails=0
for i in $(seq 1 150); do
	s=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=0")
	[ "$s" = 200 ] || fails=$((fails + 1))
done
is "$fails" 0 "150 plain CGI requests: no reader slot leaks"

# mod_fcgid retires a process after FcgidMaxRequestsPerProcess (5)
# requests: 40 requests in a row are all answered, by several processes,
# none serving more than 5.
BASE="http://127.0.0.1:$port/scim/v2"
before=$(wc -l < "$WORK/apache-error.log")
: > "$WORK/recycle.codes"
for i in $(seq 1 40); do
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" \
	    "$BASE/Users?count=0&recycle=$i" >> "$WORK/recycle.codes"
done
is "$(grep -c '^200$' "$WORK/recycle.codes")" 40 "mod_fcgid recycling: 40 requests in a row, all 200"
sleep 0.5
tail -n +$((before + 1)) "$WORK/apache-error.log" | grep ' GET /Users 200 ' | sed -n 's/.*scimd\[\([0-9]*\)\] info: req=[0-9]*-\([0-9]*\) .*/\1 \2/p' > "$WORK/recycle.pids"
procs=$(cut -d' ' -f1 "$WORK/recycle.pids" | sort -u | wc -l)
most=$(cut -d' ' -f2 "$WORK/recycle.pids" | sort -n | tail -n 1)
ok $([ "$procs" -ge 8 ] && [ "${most:-99}" -le 5 ]; echo $?) "...served by $procs processes, none past request ${most:-?}"

# Bodies over 1 MiB: plain CGI passes CONTENT_LENGTH and scimd answers
# 413 unread; mod_fcgid 2.3.9 hands scimd an empty body once Apache's
# LimitRequestBody trips, which scimd refuses (400): never written.
head -c 1100000 /dev/zero | tr '\0' 'a' > "$WORK/big"
BASE="http://127.0.0.1:$port/cgi/scim"
rawreq -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' --data-binary @"$WORK/big" "$BASE/Users"
is "$STATUS" 413 "CGI: body over 1 MiB: 413"
BASE="http://127.0.0.1:$port/scim/v2"
rawreq -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' --data-binary @"$WORK/big" "$BASE/Users"
ok $([ "$STATUS" -ge 400 ] && [ "$STATUS" -lt 500 ]; echo $?) "mod_fcgid: body over 1 MiB refused with a 4xx ($STATUS)"
req GET '/Users?count=0'
is "$(j .totalResults)" 0 "nothing written by the refused bodies"
"$SCIMCTL" --db "$WORK/db" verify > /dev/null
ok $? "store consistent after the Apache run"
done_testing
