#!/bin/bash
# authz-nginx.sh: scimd guarding an nginx site through auth_request
# (deploy/nginx/scimd-authz.conf and scimd-authz-guard.conf), with
# auth_basic and an htpasswd file standing in for the login.  One
# scimd started by spawn-fcgi answers both SCIM (deploy/nginx/scimd.conf)
# and the internal decision location; a FastCGI application behind the
# guard prints the SCIM_* parameters it receives.
#
# What the client sees: scimd's 403 and 401 as they are (auth_request
# passes 401 and 403 on); scimd's 503 as 500 (auth_request treats any
# other status as an error).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authz-lib.sh"
NGINX=${NGINX:-/usr/sbin/nginx}
SPAWN=$(command -v spawn-fcgi || true)
PRINTENV="$top_builddir/tests/fcgi_printenv"
[ -x "$NGINX" ] || skip_all "nginx is not installed"
[ -n "$SPAWN" ] || skip_all "spawn-fcgi is not installed"
[ -x "$PRINTENV" ] || { echo "Bail out! $PRINTENV is not built"; exit 1; }

ADMIN_PATH=/site/admin
authz_prepare authz-nginx
stop_all() {
	[ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
	[ -n "${POOL_PIDS:-}" ] && kill $POOL_PIDS 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT
mkdir -p "$WORK/www/open" "$WORK/www/broken"
echo hello > "$WORK/www/open/index.html"
echo hello > "$WORK/www/broken/index.html"

# scimd.conf for the pool: nginx's SCRIPT_NAME is the whole path.
authz_conf "$WORK/pool.conf" "$WORK/db" /scim/v2
# spawn-fcgi -n execs scimd in the foreground, keeping its stderr (the
# forking form drops it: use `log = syslog` in scimd.conf there).
POOL_PIDS=
for spec in "scimd.sock $SCIMD -c $WORK/pool.conf" \
    "broken.sock $SCIMD -c $WORK/broken.conf" "printenv.sock $PRINTENV"; do
	set -- $spec
	sock=$1
	shift
	"$SPAWN" -n -s "$WORK/$sock" -M 0666 -- "$@" 2>> "$WORK/logs/scimd.log" &
	POOL_PIDS="$POOL_PIDS $!"
done
for i in $(seq 1 30); do
	[ -S "$WORK/scimd.sock" ] && [ -S "$WORK/broken.sock" ] && [ -S "$WORK/printenv.sock" ] && break
	sleep 0.1
done

F="include /etc/nginx/fastcgi_params;"
sed "s|unix:/run/scimd/scimd.sock|unix:$WORK/scimd.sock|; s|include fastcgi_params;|$F|" \
	"$top_srcdir/deploy/nginx/scimd.conf" > "$WORK/scim-location.conf"
sed "s|unix:/run/scimd/scimd.sock|unix:$WORK/scimd.sock|" \
	"$top_srcdir/deploy/nginx/scimd-authz.conf" > "$WORK/authz-location.conf"
sed "s|unix:$WORK/scimd.sock|unix:$WORK/broken.sock|; s|/_scimd/authz|/_scimd/broken|" \
	"$WORK/authz-location.conf" > "$WORK/broken-location.conf"
cp "$top_srcdir/deploy/nginx/scimd-authz-guard.conf" "$WORK/guard.conf"
sed 's|/_scimd/authz|/_scimd/broken|' "$WORK/guard.conf" > "$WORK/broken-guard.conf"

port=$(free_port)
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
		include $WORK/scim-location.conf;
		include $WORK/authz-location.conf;
		include $WORK/broken-location.conf;
		location /site/ {
			auth_basic "site";
			auth_basic_user_file $WORK/htpasswd;
			include $WORK/guard.conf;
			# The application behind the guard (PHP-FPM's place).
			location ~ \\.cgi\$ {
				$F
				include $WORK/guard.conf;
				fastcgi_pass unix:$WORK/printenv.sock;
			}
		}
		# A guard without a login in front: no REMOTE_USER.
		location /open/ {
			include $WORK/guard.conf;
		}
		location /broken/ {
			auth_basic "site";
			auth_basic_user_file $WORK/htpasswd;
			include $WORK/broken-guard.conf;
		}
	}
}
CONF
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" 2>> "$WORK/logs/error.log" ||
    { echo "Bail out! nginx did not start: $(cat "$WORK/logs/error.log")"; exit 1; }
for i in $(seq 1 30); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
H=http://127.0.0.1:$port
BASE=$H/scim/v2
SITE=$H/site
ADMIN=$H/site/admin
BROKEN=$H/broken
DENIED=403

authz_sequence nginx

# The decision is not reachable from outside.
rawreq -u alice@example.com:$PW "$H/_scimd/authz"
is "$STATUS" 404 "nginx: the internal decision location: 404 from outside"
rawreq -u alice@example.com:$PW -H "SCIMD-Role: AUTHORIZER" -H "FCGI-Role: AUTHORIZER" "$BASE/Users"
is "$STATUS" 401 "nginx: role headers on a SCIM request: still SCIM (no token: 401)"
is "$(j .schemas[0])" "urn:ietf:params:scim:api:messages:2.0:Error" "nginx: a SCIM error, not a decision"
rawreq -u alice@example.com:$PW "$BASE/../_scimd/authz"
ok $([ "$STATUS" = 404 ] || [ "$STATUS" = 400 ]; echo $?) "nginx: not through the SCIM location either ($STATUS)"
# The path judged is the client's, not a header the client sends.
req POST /Users '{"schemas":["'$U'"],"userName":"carol@example.com","active":true}' application/json
htpasswd -b "$WORK/htpasswd" carol@example.com "$PW" 2>/dev/null
site carol@example.com "$SITE/index.html"
is "$STATUS" 200 "nginx: carol reads the site"
rawreq --path-as-is -u carol@example.com:$PW -H "X-Original-URI: /site/index.html" "$ADMIN/index.html"
is "$STATUS" 403 "nginx: X-Original-URI from the client does not change the path judged"
rawreq -u carol@example.com:wrong "$SITE/index.html"
is "$STATUS" 401 "nginx: a provisioned user with a wrong password: 401 (the login still decides first)"
ok $(grep -q "hello" "$BODY"; [ $? -ne 0 ]; echo $?) "nginx: (no page)"

site "" "$H/open/index.html"
is "$STATUS" 401 "nginx: no REMOTE_USER: 401 from scimd, passed on"
is "$(grep -c 'no REMOTE_USER' "$WORK/logs/scimd.log")" 1 "nginx: logged once per process"
authz_broken nginx 500
ok $(grep -q 'authz.*503' "$WORK/logs/scimd.log"; echo $?) "nginx: scimd logged its 503"
done_testing
