# authz-lib.sh: shared by the authorizer tests (authz-*.sh), after
# lib.sh.  Makes the work folder, the store, the htpasswd file standing
# in for the site's login, the static page and the CGI program behind
# the guard, and runs one sequence of checks through whichever server
# the test started.
#
# A test sets, before authz_sequence:
#   BASE      the SCIM root (provisioning goes through it, as Okta's does)
#   SITE      URL of a guarded folder holding index.html and env.cgi
#   ADMIN     URL of a guarded folder under the rule "require = ... admins"
#   DENIED    the status the client sees when scimd answers 403
#             (403, or 401 behind mod_fcgid: see authz-apache.sh)

PW=secret
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
PATCHOP='urn:ietf:params:scim:api:messages:2.0:PatchOp'

# authz_prepare PREFIX: WORK, BODY, HEADERS, the store ($WORK/db) with a
# token, htpasswd users, the page, env.cgi, and scimd settings
# ($WORK/scimd.conf; the rule guards $ADMIN_PATH).
authz_prepare() {
	command -v curl >/dev/null || skip_all "curl is not installed"
	command -v jq >/dev/null || skip_all "jq is not installed"
	command -v htpasswd >/dev/null || skip_all "htpasswd (apache2-utils) is not installed"
	WORK=$(mktemp -d "/tmp/scimd-$1.XXXXXX")
	chmod 755 "$WORK"
	BODY=$WORK/body
	HEADERS=$WORK/headers
	mkdir -p "$WORK/www/site/admin" "$WORK/bin" "$WORK/logs" "$WORK/tmp"
	TOKEN=$("$SCIMCTL" --db "$WORK/db" token add authz 2>/dev/null | tail -n 1)
	[ -n "$TOKEN" ] || { echo "Bail out! scimctl token add failed"; exit 1; }
	# The login: every name the checks use, all with the same password.
	: > "$WORK/htpasswd"
	for u in alice@example.com Alice@EXAMPLE.com alice.work@example.org \
	    bob@example.com mallory@example.com; do
		htpasswd -b "$WORK/htpasswd" "$u" "$PW" 2>/dev/null
	done
	echo "hello from the site" > "$WORK/www/site/index.html"
	echo "the admin area" > "$WORK/www/site/admin/index.html"
	echo "not the admin area" > "$WORK/www/site/administrator.html"
	# The application behind the guard: prints the variables it got.
	cat > "$WORK/www/site/env.cgi" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
env | grep '^SCIM_' | LC_ALL=C sort
CGI
	chmod 755 "$WORK/www/site/env.cgi"
	cp "$WORK/www/site/env.cgi" "$WORK/www/site/admin/env.cgi"
	authz_conf "$WORK/scimd.conf" "$WORK/db"
	authz_conf "$WORK/broken.conf" "$WORK/no-such-store"
}

# authz_conf FILE DB [MOUNT]: scimd settings with the rule.
authz_conf() {
	{
		echo "db = $2"
		[ -n "${3:-}" ] && echo "mount = $3"
		[ -n "${AUTHZ_DEBUG:-}" ] && echo "log_level = debug"
		# tests/valgrind.sh: no seccomp filter under valgrind.
		[ -n "${AUTHZ_CONF_EXTRA:-}" ] && echo "$AUTHZ_CONF_EXTRA"
		for p in $ADMIN_PATH; do
			echo "require = $p Admins, Site Owners"
		done
	} > "$1"
}

# site USER URL: GET with Basic credentials (USER empty: none).
site() {
	local args=(-s --path-as-is -o "$BODY" -D "$HEADERS" -w '%{http_code}')
	[ -n "$1" ] && args+=(-u "$1:$PW")
	STATUS=$(curl "${args[@]}" "$2")
}

# The value of variable NAME in the last env.cgi answer.
var() { grep "^$1=" "$BODY" | head -n 1 | cut -d= -f2-; }

patch_user() {	# patch_user ID true|false
	req PATCH "/Users/$1" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"replace","value":{"active":'$2'}}]}'
}

# authz_sequence LABEL: the checks, in the order an admin meets them.
authz_sequence() {
	local l=$1 alice mallory gid

	# Provisioned as Okta does it.
	req POST /Users '{"schemas":["'$U'"],"userName":"alice@example.com","displayName":"Alice Example","externalId":"okta-00u1","active":true,"emails":[{"value":"alice.home@example.net","type":"home"},{"value":"alice.work@example.org","type":"work","primary":true}]}' application/json
	is "$STATUS" 201 "$l: alice provisioned"
	alice=$(j .id)
	req POST /Users '{"schemas":["'$U'"],"userName":"mallory@example.com","displayName":"Mallory\r\nX-Injected: yes\r\nSet-Cookie: owned=1","active":true}' application/json
	is "$STATUS" 201 "$l: mallory provisioned, displayName holding CR LF"
	mallory=$(j .id)
	req POST /Groups '{"schemas":["'$G'"],"displayName":"admins","members":[]}' application/json
	is "$STATUS" 201 "$l: group admins pushed"
	gid=$(j .id)

	site alice@example.com "$SITE/index.html"
	is "$STATUS" 200 "$l: a provisioned active user reads the page"
	is "$(cat "$BODY")" "hello from the site" "$l: the page itself"
	site bob@example.com "$SITE/index.html"
	is "$STATUS" "$DENIED" "$l: a user the IdP never assigned is refused"
	ok $(grep -q "hello" "$BODY"; [ $? -ne 0 ]; echo $?) "$l: and does not see the page"
	site "" "$SITE/index.html"
	is "$STATUS" 401 "$l: no login: the server asks for one"
	ok $(header WWW-Authenticate | grep -q '^Basic'; echo $?) \
	    "$l: with a Basic challenge, so a browser shows its login"
	site Alice@EXAMPLE.com "$SITE/index.html"
	is "$STATUS" 200 "$l: REMOTE_USER in another case passes"
	site alice.work@example.org "$SITE/index.html"
	is "$STATUS" 200 "$l: REMOTE_USER matching an email passes"

	# The variables reach the application behind the guard.
	site alice@example.com "$SITE/env.cgi"
	is "$STATUS" 200 "$l: env.cgi behind the guard"
	is "$(var SCIM_ID)" "$alice" "$l: SCIM_ID"
	is "$(var SCIM_USERNAME)" "alice@example.com" "$l: SCIM_USERNAME"
	is "$(var SCIM_DISPLAYNAME)" "Alice Example" "$l: SCIM_DISPLAYNAME"
	is "$(var SCIM_EMAIL)" "alice.work@example.org" "$l: SCIM_EMAIL is the primary email"
	is "$(var SCIM_EXTERNAL_ID)" "okta-00u1" "$l: SCIM_EXTERNAL_ID"
	is "$(var SCIM_GROUPS)" "" "$l: no SCIM_GROUPS before any group"
	site alice.work@example.org "$SITE/env.cgi"
	is "$(var SCIM_USERNAME)" "alice@example.com" "$l: the email login maps to alice's record"

	# Header injection through displayName.
	site mallory@example.com "$SITE/env.cgi"
	is "$STATUS" 200 "$l: mallory passes"
	is "$(var SCIM_USERNAME)" "mallory@example.com" "$l: mallory's variables arrive"
	is "$(var SCIM_DISPLAYNAME)" "" "$l: the displayName with CR LF is not passed on"
	ok $(grep -qi '^X-Injected\|^Set-Cookie' "$HEADERS"; [ $? -ne 0 ]; echo $?) \
	    "$l: no injected header reaches the client"
	ok $(grep -q 'X-Injected\|owned' "$BODY"; [ $? -ne 0 ]; echo $?) \
	    "$l: nor the application"

	# Deactivated by the IdP: refused on the very next request.
	patch_user "$alice" false
	is "$(j .active)" false "$l: deactivated by PATCH"
	site alice@example.com "$SITE/index.html"
	is "$STATUS" "$DENIED" "$l: deactivated: refused on the next request"
	site alice.work@example.org "$SITE/index.html"
	is "$STATUS" "$DENIED" "$l: also through the email"
	patch_user "$alice" true
	site alice@example.com "$SITE/index.html"
	is "$STATUS" 200 "$l: reactivated: passes again"

	# A require rule, with membership pushed and pulled by SCIM PATCH.
	site alice@example.com "$ADMIN/index.html"
	is "$STATUS" "$DENIED" "$l: the admin area needs group admins"
	site alice@example.com "${ADMIN}istrator.html"
	is "$STATUS" 200 "$l: the rule for .../admin does not cover .../administrator.html"
	req PATCH "/Groups/$gid" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"add","path":"members","value":[{"value":"'$alice'"}]}]}'
	is "$STATUS" 200 "$l: alice pushed into admins"
	site alice@example.com "$ADMIN/index.html"
	is "$STATUS" 200 "$l: in admins: the admin area opens"
	is "$(cat "$BODY")" "the admin area" "$l: the admin page itself"
	site alice@example.com "$ADMIN/env.cgi"
	is "$(var SCIM_GROUPS)" "admins" "$l: SCIM_GROUPS"
	is "$(var SCIM_GROUP_IDS)" "$gid" "$l: SCIM_GROUP_IDS"
	req PATCH "/Groups/$gid" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"remove","path":"members[value eq \"'$alice'\"]"}]}'
	is "$STATUS" 200 "$l: alice removed from admins"
	site alice@example.com "$ADMIN/index.html"
	is "$STATUS" "$DENIED" "$l: removed from the group: refused on the next request"
	site alice@example.com "$SITE/index.html"
	is "$STATUS" 200 "$l: the rest of the site still opens"
	site alice@example.com "$SITE/%2e%2e/${SITE##*/}/admin/index.html"
	is "$STATUS" "$DENIED" "$l: a dot-dot path into the admin area is judged as the admin area"

	# Deleted: refused at once.
	req DELETE "/Users/$alice"
	is "$STATUS" 204 "$l: alice deleted"
	site alice@example.com "$SITE/index.html"
	is "$STATUS" "$DENIED" "$l: deleted: refused on the next request"
	site alice.work@example.org "$SITE/index.html"
	is "$STATUS" "$DENIED" "$l: deleted: refused through the email too"
	req DELETE "/Users/$mallory"
}

# The environment lines of the scimd store that cannot be opened, for
# the 503 checks: a test sets BROKEN to a guarded URL served by it.
authz_broken() {	# authz_broken LABEL WANT
	site alice@example.com "$BROKEN/index.html"
	is "$STATUS" "$2" "$1: a store that cannot be opened: $2, never the page"
	ok $(grep -q "hello" "$BODY"; [ $? -ne 0 ]; echo $?) "$1: (fail closed)"
}
