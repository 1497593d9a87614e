#!/bin/bash
# authz-apache.sh: scimd as Apache's authorizer, both ways
# (deploy/apache/scimd-authz-*.conf), with mod_auth_basic and an
# htpasswd file standing in for the login:
#   /fcgid/site    mod_fcgid FcgidAuthorizer: mod_fcgid spawns scimd
#   /authnz/site   mod_authnz_fcgi `Require scimd-authz`, a provider
#                  defined on a spawn-fcgi pool of scimd on a loopback port
#   /hosted        shared hosting: deploy/apache/htaccess-authz as the
#                  folder's .htaccess (FcgidAuthorizer in .htaccess)
# The IdP's changes arrive through scimd's SCIM endpoint (mod_fcgid) on
# the same Apache.
#
# What the client sees when scimd says 403: behind mod_authnz_fcgi, 401
# (mod_authz_core turns a denied provider into a new login prompt when
# a user is logged in through Basic: "AH01631: user X: authorization
# failure"); behind mod_fcgid, 401 as well (mod_fcgid answers
# HTTP_UNAUTHORIZED for any refusal: "Authorization of user X to ...
# failed, reason: script returned status 403").  Both are refusals; the
# page is never served.  A store that cannot be opened (scimd's 503) is
# likewise a 401 through mod_fcgid and mod_authnz_fcgi alike; the 503 is
# in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authz-lib.sh"
APACHE=${APACHE:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
SPAWN=$(command -v spawn-fcgi || true)
[ -x "$APACHE" ] || skip_all "apache2 is not installed"
[ -f "$MODS/mod_fcgid.so" ] || skip_all "libapache2-mod-fcgid is not installed"
[ -f "$MODS/mod_authnz_fcgi.so" ] || skip_all "mod_authnz_fcgi is not in this apache2"
[ -n "$SPAWN" ] || skip_all "spawn-fcgi is not installed"
RUNAS=www-data
id "$RUNAS" >/dev/null 2>&1 || RUNAS=nobody

ADMIN_PATH="/fcgid/site/admin /authnz/site/admin /hosted/admin"
authz_prepare authz-apache
stop_all() {
	[ -f "$WORK/httpd.pid" ] && kill "$(cat "$WORK/httpd.pid")" 2>/dev/null
	[ -n "${POOL_PIDS:-}" ] && kill $POOL_PIDS 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT

mkdir -p "$WORK/fcgid" "$WORK/broken" "$WORK/www/broken"
echo hello > "$WORK/www/broken/index.html"
# mod_fcgid's programs read scimd.conf beside them (suEXEC-proof).
cp "$SCIMD" "$WORK/bin/scimd.fcgi"
cp "$SCIMD" "$WORK/bin/scimd-authz.fcgi"
cp "$WORK/scimd.conf" "$WORK/bin/scimd.conf"
cp "$SCIMD" "$WORK/broken/scimd-authz.fcgi"
cp "$WORK/broken.conf" "$WORK/broken/scimd.conf"
# Shared hosting: a copy of the site whose .htaccess is the deploy file.
cp -r "$WORK/www/site" "$WORK/www/hosted"
{
	sed "s|/home/USER/etc/site.htpasswd|$WORK/htpasswd|; s|/home/USER/public_html/scim/scimd.fcgi|$WORK/bin/scimd-authz.fcgi|" \
	    "$top_srcdir/deploy/apache/htaccess-authz"
	printf 'Options +ExecCGI\nAddHandler cgi-script .cgi\n'
} > "$WORK/www/hosted/.htaccess"
chown -R "$RUNAS" "$WORK"

pick_port() { free_port; }
port=$(pick_port)
pool=$(pick_port)
bpool=$(pick_port)
# The mod_authnz_fcgi provider: a scimd pool on a loopback port.
"$SPAWN" -a 127.0.0.1 -p "$pool" -F 2 -u "$RUNAS" -- "$SCIMD" -c "$WORK/scimd.conf" > "$WORK/spawn.out" 2>&1
"$SPAWN" -a 127.0.0.1 -p "$bpool" -F 1 -u "$RUNAS" -- "$SCIMD" -c "$WORK/broken.conf" >> "$WORK/spawn.out" 2>&1
POOL_PIDS=$(grep -o 'PID: [0-9]*' "$WORK/spawn.out" | awk '{print $2}' | tr '\n' ' ')
[ -n "$POOL_PIDS" ] || { echo "Bail out! spawn-fcgi failed: $(cat "$WORK/spawn.out")"; exit 1; }

# guard: the login every guarded area shares.
guard() {
	cat <<GUARD
	AuthType Basic
	AuthName "site"
	AuthBasicProvider file
	AuthUserFile $WORK/htpasswd
	Options +ExecCGI
	AddHandler cgi-script .cgi
GUARD
}
cat > "$WORK/httpd.conf" <<CONF
ServerRoot "$WORK"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $WORK/httpd.pid
ErrorLog $WORK/logs/apache-error.log
LogLevel warn authz_core:info
User $RUNAS
Group $(id -gn "$RUNAS")
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authn_file_module $MODS/mod_authn_file.so
LoadModule auth_basic_module $MODS/mod_auth_basic.so
LoadModule authz_user_module $MODS/mod_authz_user.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule mime_module $MODS/mod_mime.so
TypesConfig /etc/mime.types
LoadModule fcgid_module $MODS/mod_fcgid.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule authnz_fcgi_module $MODS/mod_authnz_fcgi.so
ScriptSock $WORK/cgid.sock
FcgidIPCDir $WORK/fcgid
FcgidProcessTableFile $WORK/fcgid/shm
DocumentRoot $WORK/www
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $WORK/www>
	Require all granted
</Directory>
<Directory $WORK/bin>
	Require all granted
</Directory>
<Directory $WORK/www/hosted>
	AllowOverride AuthConfig FileInfo Options
</Directory>
# SCIM, for the IdP (deploy/apache/scimd-fcgid.conf).
Alias /scim/v2 $WORK/bin/scimd.fcgi
<Location /scim/v2>
	SetHandler fcgid-script
	Options +ExecCGI
	AcceptPathInfo On
	CGIPassAuth On
	Require all granted
</Location>
Alias /fcgid $WORK/www
Alias /authnz $WORK/www
# deploy/apache/scimd-authz-fcgid.conf
<Location /fcgid/site>
$(guard)
	Require valid-user
	FcgidAuthorizer $WORK/bin/scimd-authz.fcgi
</Location>
<Location /fcgid/broken>
$(guard)
	Require valid-user
	FcgidAuthorizer $WORK/broken/scimd-authz.fcgi
</Location>
# deploy/apache/scimd-authz-authnz.conf
AuthnzFcgiDefineProvider authz scimd-authz fcgi://127.0.0.1:$pool/
AuthnzFcgiDefineProvider authz scimd-broken fcgi://127.0.0.1:$bpool/
<Location /authnz/site>
$(guard)
	Require scimd-authz
</Location>
<Location /authnz/broken>
$(guard)
	Require scimd-broken
</Location>
CONF
"$APACHE" -f "$WORK/httpd.conf" -k start 2>> "$WORK/logs/apache-error.log" ||
    { echo "Bail out! apache did not start: $(cat "$WORK/logs/apache-error.log")"; exit 1; }
for i in $(seq 1 30); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
H=http://127.0.0.1:$port
BASE=$H/scim/v2

SITE=$H/fcgid/site ADMIN=$H/fcgid/site/admin DENIED=401 authz_sequence "mod_fcgid"
ok $(grep -q 'script returned status 403' "$WORK/logs/apache-error.log"; echo $?) \
    "mod_fcgid: the client's 401 is scimd's 403 (Apache's log says so)"
SITE=$H/authnz/site ADMIN=$H/authnz/site/admin DENIED=401 authz_sequence "mod_authnz_fcgi"
ok $(grep -q 'authorization failure' "$WORK/logs/apache-error.log"; echo $?) \
    "mod_authnz_fcgi: the client's 401 is a denied authorization (Apache's log says so)"
SITE=$H/hosted ADMIN=$H/hosted/admin DENIED=401 authz_sequence ".htaccess (mod_fcgid)"

BROKEN=$H/fcgid/broken authz_broken mod_fcgid 401
BROKEN=$H/authnz/broken authz_broken mod_authnz_fcgi 401
ok $(grep -q 'script returned status 503' "$WORK/logs/apache-error.log"; echo $?) \
    "mod_fcgid: the refusal was scimd's 503"
ok $(grep -q 'authz.*503: the store is not open' "$WORK/logs/apache-error.log" "$WORK/spawn.out" 2>/dev/null ||
    grep -rq 'authz.*503' "$WORK/logs"; echo $?) "the 503 is in scimd's log"
done_testing
