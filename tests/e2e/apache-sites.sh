#!/bin/bash
# apache-sites.sh: several sites on one Apache, as docs/deploy.md says:
# one installed program, and per site a two-line wrapper script that
# runs it with the site's settings file (mod_fcgid keeps one process
# class per file, so each site's processes stay its own), one store per
# site.  Two name-based virtual hosts on one port: each serves its own
# store, a token of one site is refused by the other, and an upgrade of
# the one program (install) is seen by both.
. "$(dirname "$0")/lib.sh"
APACHE=${APACHE:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
need apache2 [ -x "$APACHE" ]
need libapache2-mod-fcgid [ -f "$MODS/mod_fcgid.so" ]
need curl command -v curl >/dev/null
need jq command -v jq >/dev/null
RUNAS=www-data
id "$RUNAS" >/dev/null 2>&1 || RUNAS=nobody

WORK=$(mktemp -d /tmp/scimd-asites.XXXXXX)
chmod 755 "$WORK"
BODY=$WORK/body
HEADERS=$WORK/headers
stop_all() {
	[ -f "$WORK/httpd.pid" ] && kill "$(cat "$WORK/httpd.pid")" 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT
mkdir -p "$WORK/lib" "$WORK/etc" "$WORK/fcgid" "$WORK/www"
declare -A TOK
install -m 0755 "$SCIMD" "$WORK/lib/scimd.fcgi"
for site in a b; do
	TOK[$site]=$("$SCIMCTL" --db "$WORK/store-$site" token add "site-$site" 2>/dev/null | tail -n 1)
	printf 'db = %s\n' "$WORK/store-$site" > "$WORK/etc/site-$site.conf"
	printf '#!/bin/sh\nexec %s -c %s\n' "$WORK/lib/scimd.fcgi" "$WORK/etc/site-$site.conf" > "$WORK/etc/site-$site.fcgi"
	chmod 0755 "$WORK/etc/site-$site.fcgi"
done
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
LoadModule fcgid_module $MODS/mod_fcgid.so
TypesConfig /etc/mime.types
FcgidIPCDir $WORK/fcgid
FcgidProcessTableFile $WORK/fcgid/shm
DocumentRoot $WORK/www
<Directory />
	AllowOverride None
	Require all denied
</Directory>
CONF
for site in a b; do
	cat >> "$WORK/httpd.conf" <<CONF
<VirtualHost *:$port>
	ServerName site-$site.example.org
	Alias /scim/v2 $WORK/etc/site-$site.fcgi
	<Location /scim/v2>
		SetHandler fcgid-script
		Options +ExecCGI
		AcceptPathInfo On
		CGIPassAuth On
		Require all granted
	</Location>
</VirtualHost>
CONF
done
"$APACHE" -f "$WORK/httpd.conf" -k start 2>> "$WORK/apache-error.log"
for i in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done

# site S PATH [TOKEN-OF]: GET through site S's virtual host.
site() {
	local s=$1 path=$2 t=${3:-$1}
	STATUS=$(curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' -H "Host: site-$s.example.org" \
	    -H "Authorization: Bearer ${TOK[$t]}" "http://127.0.0.1:$port/scim/v2$path")
}
for site in a b; do
	STATUS=$(curl -s -o "$BODY" -w '%{http_code}' -H "Host: site-$site.example.org" \
	    -H "Authorization: Bearer ${TOK[$site]}" -H 'Content-Type: application/scim+json' \
	    --data-binary '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"only-'$site'@example.com"}' \
	    "http://127.0.0.1:$port/scim/v2/Users")
	is "$STATUS" 201 "site $site: create a user in its own store"
done
site a '/Users?count=10'
is "$(j '[.Resources[].userName] | join(",")')" only-a@example.com "site a lists only its own user"
site b '/Users?count=10'
is "$(j '[.Resources[].userName] | join(",")')" only-b@example.com "site b lists only its own user"
site b /Users a
is "$STATUS" 401 "site a's token is refused by site b"
site a /Users b
is "$STATUS" 401 "site b's token is refused by site a"
# Many requests alternating between the sites: never the other's store.
mixed=0
for i in $(seq 1 20); do
	for s in a b; do
		site $s '/Users?count=1'
		[ "$(j '.Resources[0].userName')" = "only-$s@example.com" ] || mixed=$((mixed + 1))
	done
done
is "$mixed" 0 "40 requests alternating between the sites: each answered from its own store"
# One upgrade of the one program, by install(1): both sites go on.
install -m 0755 "$SCIMD" "$WORK/lib/scimd.fcgi"
site a '/Users?count=1'
is "$STATUS" 200 "after install of a new program: site a answers"
site b '/Users?count=1'
is "$STATUS" 200 "...and site b"
done_testing
