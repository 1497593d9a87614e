#!/bin/bash
# passwords.sh: what happens to the password an IdP sends (Okta sends one
# with each create when password sync is on).  By default it is
# discarded; with `password = argon2id` only an Argon2id hash is kept, in
# the `passwords` database (docs/storage.md), replaced by PUT and PATCH,
# removed with the user.  The clear text is never returned, never in a
# record, never in the store's file.  Under the default seccomp filter.
. "$(dirname "$0")/lib.sh"
need lmdb-utils command -v mdb_dump >/dev/null
U='urn:ietf:params:scim:schemas:core:2.0:User'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'

# stored_hash ID: the passwords entry of user ID, or nothing.
stored_hash() {
	mdb_dump -p -s passwords "$WORK/db" 2>/dev/null |
	    awk -v id=" $1" '$0 == id { getline; sub(/^ /, ""); print; exit }'
}
# in_file TEXT: whether TEXT occurs anywhere in the store's data file.
in_file() { grep -c -a -F "$1" "$WORK/db/data.mdb"; }

# ---- 1. Default: discarded -----------------------------------------------
start_lighttpd /scim/v2
req POST /Users '{"schemas":["'$U'"],"userName":"discarded","password":"Clear-Text-One-1"}'
is "$STATUS" 201 "default settings: a create with a password: 201"
id=$(j .id)
is "$(j 'has("password")')" false "...the answer has no password"
is "$(stored_hash "$id")" "" "...no hash is kept"
is "$(in_file Clear-Text-One-1)" 0 "...and the clear text is nowhere in data.mdb"
stop_servers

# ---- 2. password = argon2id ------------------------------------------------
CONF=$(mktemp /tmp/scimd-pw.XXXXXX)
printf 'password = argon2id\n' > "$CONF"
SCIMD_CONF_FILE=$CONF start_lighttpd /scim/v2
# The settings file must outlive every scimd lighttpd may (re)start.
trap 'stop_servers; rm -f "$CONF"' EXIT
req POST /Users '{"schemas":["'$U'"],"userName":"kept","password":"Clear-Text-Two-2"}'
is "$STATUS" 201 "argon2id: a create with a password: 201"
id=$(j .id)
is "$(j 'has("password")')" false "...the answer has no password"
h1=$(stored_hash "$id")
ok $(echo "$h1" | grep -q '^\$argon2id\$v=19\$m=[0-9]*,t=[0-9]*,p=1\$'; echo $?) "...an Argon2id string is kept: ${h1:0:32}..."
is "$(in_file Clear-Text-Two-2)" 0 "...the clear text is nowhere in data.mdb"
req GET "/Users/$id"
is "$(j 'has("password")')" false "GET never returns it"
req GET "/Users?filter=userName%20eq%20%22kept%22&attributes=password"
is "$(j '.Resources[0] | has("password")')" false "...not even when asked for by attributes="
req GET "/Users?filter=password%20eq%20%22Clear-Text-Two-2%22"
ok $([ "$STATUS" = 400 ] || [ "$(j .totalResults)" = 0 ]; echo $?) "a filter on password finds nothing (status $STATUS)"

# Entra and Okta change it with PATCH and PUT; anything else leaves it.
req PATCH "/Users/$id" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"title","value":"Eng"}]}'
is "$STATUS" 200 "a PATCH without a password: 200"
is "$(stored_hash "$id")" "$h1" "...the hash is unchanged"
req PATCH "/Users/$id" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"password","value":"Clear-Text-Three-3"}]}'
is "$STATUS" 200 "PATCH replace password: 200"
is "$(j 'has("password")')" false "...the answer has no password"
h2=$(stored_hash "$id")
ok $([ -n "$h2" ] && [ "$h2" != "$h1" ]; echo $?) "...a new hash is kept"
req PATCH "/Users/$id" '{"schemas":["'$P'"],"Operations":[{"op":"replace","value":{"password":"Clear-Text-Four-4"}}]}'
is "$STATUS" 200 "PATCH with no path and a password in the value: 200"
h3=$(stored_hash "$id")
ok $([ -n "$h3" ] && [ "$h3" != "$h2" ]; echo $?) "...a new hash is kept"
req PUT "/Users/$id" '{"schemas":["'$U'"],"userName":"kept","password":"Clear-Text-Five-5"}'
is "$STATUS" 200 "PUT with a password: 200"
h4=$(stored_hash "$id")
ok $([ -n "$h4" ] && [ "$h4" != "$h3" ]; echo $?) "...a new hash is kept"
for t in Three-3 Four-4 Five-5; do
	is "$(in_file Clear-Text-$t)" 0 "...Clear-Text-$t is nowhere in data.mdb"
done
req PATCH "/Users/$id" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"password","value":42}]}'
is "$STATUS" 400 "a password that is not a string: 400"
is "$(stored_hash "$id")" "$h4" "...the hash is unchanged"
req DELETE "/Users/$id"
is "$STATUS" 204 "DELETE the user: 204"
is "$(stored_hash "$id")" "" "...its hash is gone with it"
"$SCIMCTL" --db "$WORK/db" verify > /dev/null 2>&1
ok $? "scimctl verify is clean"
ok $(! grep -q 'forbidden system call' "$WORK/error.log"; echo $?) "Argon2id ran under the seccomp filter"
done_testing
