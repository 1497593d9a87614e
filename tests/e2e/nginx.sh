#!/bin/bash
# nginx.sh: deploy/nginx/scimd.conf proven with a real nginx on
# 127.0.0.1 in front of a spawn-fcgi pool of scimd processes on a unix
# socket (the systemd unit's command line), `mount` set in scimd.conf.
. "$(dirname "$0")/lib.sh"
NGINX=${NGINX:-/usr/sbin/nginx}
SPAWN=$(command -v spawn-fcgi || true)
need nginx [ -x "$NGINX" ]
need spawn-fcgi [ -n "$SPAWN" ]
need curl command -v curl >/dev/null
need jq command -v jq >/dev/null

WORK=$(mktemp -d /tmp/scimd-nginx.XXXXXX)
chmod 755 "$WORK"
BODY=$WORK/body
HEADERS=$WORK/headers
stop_all() {
	[ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
	[ -n "${POOL_PIDS:-}" ] && kill $POOL_PIDS 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT
mkdir -p "$WORK/logs" "$WORK/tmp"
TOKEN=$("$SCIMCTL" --db "$WORK/db" token add nginx 2>/dev/null | tail -n 1)
printf 'db = %s\nmount = /scim/v2\n' "$WORK/db" > "$WORK/scimd.conf"
"$SPAWN" -s "$WORK/scimd.sock" -M 0666 -F 2 -- "$SCIMD" -c "$WORK/scimd.conf" > "$WORK/spawn.out" 2>&1
POOL_PIDS=$(grep -o 'PID: [0-9]*' "$WORK/spawn.out" | awk '{print $2}' | tr '\n' ' ')

port=$(free_port)
sed "s|unix:/run/scimd/scimd.sock|unix:$WORK/scimd.sock|; s|include fastcgi_params;|include /etc/nginx/fastcgi_params;|" \
	"$top_srcdir/deploy/nginx/scimd.conf" > "$WORK/scimd-location.conf"
cat > "$WORK/nginx.conf" <<CONF
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/tmp/body;
	fastcgi_temp_path $WORK/tmp/fastcgi;
	proxy_temp_path $WORK/tmp/proxy;
	uwsgi_temp_path $WORK/tmp/uwsgi;
	scgi_temp_path $WORK/tmp/scgi;
	server {
		listen 127.0.0.1:$port;
		root $WORK/www;
		include $WORK/scimd-location.conf;
	}
}
CONF
# A site whose document root holds a settings file and a store's file:
# the shipped snippet denies both.
mkdir -p "$WORK/www"
echo hello > "$WORK/www/index.html"
cp "$WORK/scimd.conf" "$WORK/www/scimd.conf"
cp "$WORK/db/data.mdb" "$WORK/www/data.mdb"
echo "site settings" > "$WORK/www/site.conf"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" 2>> "$WORK/logs/error.log"
for i in $(seq 1 30); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
BASE="http://127.0.0.1:$port/scim/v2"
U='urn:ietf:params:scim:schemas:core:2.0:User'

req GET /ServiceProviderConfig
is "$STATUS" 200 "nginx: ServiceProviderConfig"
rawreq "$BASE/Users"
is "$STATUS" 401 "nginx: no token: 401"
req POST /Users '{"schemas":["'$U'"],"userName":"ngx@example.com"}' application/json
is "$STATUS" 201 "nginx: create (Authorization passed as HTTP_AUTHORIZATION)"
ID=$(j .id)
is "$(header Location)" "$BASE/Users/$ID" "nginx: Location"
req GET "/Users?filter=userName+eq+%22NGX@example.com%22"
is "$(j .totalResults)" 1 "nginx: filter"
req PATCH "/Users/$ID" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}'
is "$(j .active)" false "nginx: PATCH"
req GET /Nowhere
is "$STATUS" 404 "nginx: unknown path (mount configured)"
req GET "/?filter=userName%20pr"
is "$(j .totalResults)" 1 "nginx: root query"
req DELETE "/Users/$ID"
is "$STATUS" 204 "nginx: DELETE"
rawreq "http://127.0.0.1:$port/index.html"
is "$STATUS" 200 "nginx: the site's other files are served"
rawreq "http://127.0.0.1:$port/scimd.conf"
is "$STATUS" 403 "nginx: a settings file is not (deploy/nginx/scimd.conf)"
rawreq "http://127.0.0.1:$port/data.mdb"
is "$STATUS" 403 "nginx: nor a store's data.mdb"
rawreq "http://127.0.0.1:$port/site.conf"
is "$STATUS" 200 "nginx: the site's own .conf files are still served (only scimd's names are denied)"
# The pool survives one process being killed mid-flight.
kill -9 ${POOL_PIDS%% *} 2>/dev/null
okc=0
for i in 1 2 3 4 5 6; do
	s=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=0")
	[ "$s" = 200 ] && okc=$((okc + 1))
done
ok $([ $okc -ge 1 ]; echo $?) "nginx: the remaining process serves after one is killed"
"$SCIMCTL" --db "$WORK/db" verify > /dev/null
ok $? "store consistent"
done_testing
