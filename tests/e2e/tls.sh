#!/bin/bash
# tls.sh: deploy/apache/scimd-fcgid.conf, the complete TLS virtual host,
# run by a real Apache 2.4 on 127.0.0.1 with a throwaway certificate:
# port 80 redirects to HTTPS, HTTPS serves the SCIM root through
# mod_fcgid with the Authorization header, HSTS is sent, TLS 1.2 and 1.3
# work.  Only the paths and ports of the file are changed.
. "$(dirname "$0")/lib.sh"
APACHE=${APACHE:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
need apache2 [ -x "$APACHE" ]
need libapache2-mod-fcgid [ -f "$MODS/mod_fcgid.so" ]
need openssl command -v openssl >/dev/null
need curl command -v curl >/dev/null
need jq command -v jq >/dev/null
RUNAS=www-data
id "$RUNAS" >/dev/null 2>&1 || RUNAS=nobody

WORK=$(mktemp -d /tmp/scimd-tls.XXXXXX)
chmod 755 "$WORK"
BODY=$WORK/body
HEADERS=$WORK/headers
stop_all() {
	[ -f "$WORK/httpd.pid" ] && kill "$(cat "$WORK/httpd.pid")" 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT
mkdir -p "$WORK/bin" "$WORK/fcgid" "$WORK/log"
TOKEN=$("$SCIMCTL" --db "$WORK/db" token add tls 2>/dev/null | tail -n 1)
install -m 0755 "$SCIMD" "$WORK/bin/scimd.fcgi"
printf 'db = %s\n' "$WORK/db" > "$WORK/bin/scimd.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sso.example.org \
    -addext subjectAltName=DNS:sso.example.org \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" > /dev/null 2>&1
ok $? "a throwaway certificate for sso.example.org"
chown -R "$RUNAS" "$WORK"

p80=$(free_port)
p443=$(free_port)
while [ "$p443" = "$p80" ]; do p443=$(free_port); done
sed -e "s|<VirtualHost \*:80>|<VirtualHost *:$p80>|" -e "s|<VirtualHost \*:443>|<VirtualHost *:$p443>|" \
    -e "s|/etc/letsencrypt/live/sso.example.org/fullchain.pem|$WORK/cert.pem|" \
    -e "s|/etc/letsencrypt/live/sso.example.org/privkey.pem|$WORK/key.pem|" \
    -e "s|/usr/lib/scimd/scimd.fcgi|$WORK/bin/scimd.fcgi|" \
    -e "s|\${APACHE_LOG_DIR}|$WORK/log|" \
    "$top_srcdir/deploy/apache/scimd-fcgid.conf" > "$WORK/vhost.conf"
cat > "$WORK/httpd.conf" <<CONF
ServerRoot "$WORK"
ServerName 127.0.0.1
Listen 127.0.0.1:$p80
Listen 127.0.0.1:$p443
PidFile $WORK/httpd.pid
ErrorLog $WORK/apache-error.log
LogLevel warn
User $RUNAS
Group $(id -gn "$RUNAS")
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule rewrite_module $MODS/mod_rewrite.so
LoadModule headers_module $MODS/mod_headers.so
LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so
LoadModule ssl_module $MODS/mod_ssl.so
LoadModule fcgid_module $MODS/mod_fcgid.so
TypesConfig /etc/mime.types
FcgidIPCDir $WORK/fcgid
FcgidProcessTableFile $WORK/fcgid/shm
SSLSessionCache shmcb:$WORK/ssl_scache(512000)
DocumentRoot $WORK/bin
<Directory />
	AllowOverride None
	Require all denied
</Directory>
Include $WORK/vhost.conf
CONF
"$APACHE" -f "$WORK/httpd.conf" -t > "$WORK/t.log" 2>&1
ok $? "deploy/apache/scimd-fcgid.conf: Syntax OK"
grep -v 'Syntax OK' "$WORK/t.log" | sed 's/^/# /'
"$APACHE" -f "$WORK/httpd.conf" -k start 2>> "$WORK/apache-error.log"
for i in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$p80/" && break
	sleep 0.1
done

TLS=(--resolve "sso.example.org:$p443:127.0.0.1" --cacert "$WORK/cert.pem")
rawreq "http://127.0.0.1:$p80/scim/v2/Users"
is "$STATUS" 301 "port 80: a redirect"
is "$(header Location)" "https://127.0.0.1:$p80/scim/v2/Users" "...to the same URL over HTTPS"
BASE="https://sso.example.org:$p443/scim/v2"
rawreq "${TLS[@]}" -H "Authorization: Bearer $TOKEN" "$BASE/ServiceProviderConfig"
is "$STATUS" 200 "HTTPS: ServiceProviderConfig through mod_fcgid"
ok $(header Strict-Transport-Security | grep -q 'max-age='; echo $?) "...with HSTS"
rawreq "${TLS[@]}" "$BASE/Users"
is "$STATUS" 401 "...no token: 401"
rawreq "${TLS[@]}" -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
    --data-binary '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"tls@example.com"}' "$BASE/Users"
is "$STATUS" 201 "...create: 201 (Authorization reached scimd)"
is "$(j .meta.location | sed 's|/Users/.*||')" "$BASE" "...meta.location is the https URL"
# Both versions Okta and Entra use.  (That TLS 1.1 is refused cannot be
# shown here: Debian's OpenSSL 3 refuses it on both sides by itself.)
rawreq "${TLS[@]}" --tlsv1.2 --tls-max 1.2 -H "Authorization: Bearer $TOKEN" "$BASE/ServiceProviderConfig"
is "$STATUS" 200 "TLS 1.2 accepted"
rawreq "${TLS[@]}" --tlsv1.3 -H "Authorization: Bearer $TOKEN" "$BASE/ServiceProviderConfig"
is "$STATUS" 200 "TLS 1.3 accepted"
rawreq "${TLS[@]}" -H "Authorization: Bearer $TOKEN" "https://sso.example.org:$p443/scimd.conf"
ok $([ "$STATUS" = 403 ] || [ "$STATUS" = 404 ]; echo $?) "a settings file is never served ($STATUS)"
done_testing
