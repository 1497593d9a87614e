#!/bin/bash
# unique.sh: attributes an extension schema marks "uniqueness": "server"
# (tests/data/unique-schema.json, named by `schemas =` in the settings)
# are enforced over real HTTP: a second user with a value gets 409
# uniqueness from POST, PUT, PATCH with and without a path, /Bulk and
# scimctl import;
# caseExact decides the comparison; a delete or a change frees the
# value.  A schema file that gains the rule over a store holding
# duplicates: scimd (CGI) refuses with 503, its log naming both ids;
# once they differ it rebuilds the index and serves; losing the rule
# drops it.
. "$(dirname "$0")/lib.sh"
SCHEMA=$top_srcdir/tests/data/unique-schema.json
WORK0=$(mktemp -d /tmp/scimd-uniq.XXXXXX)
printf 'schemas = %s\nlog_level = debug\n' "$SCHEMA" > "$WORK0/rules.conf"
# The same schemas with no attribute unique.
sed 's/"uniqueness": "\(server\|global\)"/"uniqueness": "none"/' "$SCHEMA" \
    > "$WORK0/none.json"
printf 'schemas = %s\n' "$WORK0/none.json" > "$WORK0/none.conf"
SCIMD_CONF_FILE=$WORK0/rules.conf
start_lighttpd /scim/v2
trap 'stop_servers; rm -rf "$WORK0"' EXIT

U='urn:ietf:params:scim:schemas:core:2.0:User'
X='urn:example:params:scim:schemas:extension:test:2.0:User'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'

mkuser() {	# mkuser NAME EXTENSION-JSON: POST /Users
	req POST /Users '{"schemas":["'$U'","'$X'"],"userName":"'"$1"'","'$X'":'"$2"'}'
}

patch() {	# patch ID OPERATION-JSON
	req PATCH "/Users/$1" '{"schemas":["'$P'"],"Operations":['"$2"']}'
}

mkuser alice '{"badge":"B-1","code":"X","aliases":["al"]}'
is "$STATUS" 201 "alice created with badge B-1"
IA=$(j .id)
mkuser bob '{"badge":"b-1"}'
is "$STATUS/$(j .scimType)" 409/uniqueness "POST bob with badge b-1 (caseExact false): 409 uniqueness"
j .detail | grep -q "$X:badge"
ok $? "...the detail names the attribute"
req GET "/Users?filter=$(printf 'userName eq "bob"' | jq -sRr @uri)"
is "$(j .totalResults)" 0 "...and bob does not exist"
mkuser bob '{"badge":"B-9","code":"x"}'
is "$STATUS" 201 "bob with code x (caseExact true: not alice's X)"
IB=$(j .id)

req PUT "/Users/$IB" '{"schemas":["'$U'","'$X'"],"userName":"bob","'$X'":{"badge":"B-1"}}'
is "$STATUS/$(j .scimType)" 409/uniqueness "PUT bob with alice's badge: 409 uniqueness"
patch "$IB" '{"op":"replace","path":"'$X':badge","value":"b-1"}'
is "$STATUS/$(j .scimType)" 409/uniqueness "PATCH with a path: 409 uniqueness"
patch "$IB" '{"op":"replace","value":{"'$X':badge":"B-1"}}'
is "$STATUS/$(j .scimType)" 409/uniqueness "PATCH without a path (a URN-qualified key): 409 uniqueness"
patch "$IB" '{"op":"add","path":"'$X':aliases","value":["bee","AL"]}'
is "$STATUS/$(j .scimType)" 409/uniqueness "PATCH add of an alias alice has: 409 uniqueness"
patch "$IB" '{"op":"replace","path":"'$X':code","value":"X"}'
is "$STATUS/$(j .scimType)" 409/uniqueness "PATCH code X (the same case): 409 uniqueness"
req GET "/Users/$IB"
is "$(j ".\"$X\".badge")/$(j ".\"$X\".code")" "B-9/x" "...bob unchanged by every refusal"

req POST /Bulk '{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
 {"method":"POST","path":"/Users","bulkId":"c","data":{"schemas":["'$U'","'$X'"],"userName":"carol","'$X'":{"badge":"Z-1"}}},
 {"method":"POST","path":"/Users","bulkId":"d","data":{"schemas":["'$U'","'$X'"],"userName":"dave","'$X'":{"badge":"z-1"}}},
 {"method":"PATCH","path":"/Users/'$IB'","data":{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"'$X':badge","value":"B-1"}]}}]}'
is "$STATUS" 200 "/Bulk answers"
is "$(j '[.Operations[].status] | join(",")')" "201,409,409" "Bulk: the second z-1 and bob's PATCH to B-1 get 409"
is "$(j '.Operations[1].response.scimType')/$(j '.Operations[2].response.scimType')" \
    uniqueness/uniqueness "...with scimType uniqueness"

req DELETE "/Users/$IA"
is "$STATUS" 204 "alice deleted"
patch "$IB" '{"op":"replace","path":"'$X':badge","value":"B-1"}'
is "$STATUS/$(j ".\"$X\".badge")" 200/B-1 "a delete frees the value: bob takes B-1"
patch "$IB" '{"op":"replace","path":"'$X':badge","value":"B-2"}'
is "$STATUS" 200 "bob changes his badge to B-2"
mkuser erin '{"badge":"b-1"}'
is "$STATUS" 201 "a change frees the old value: erin takes b-1"
mkuser frank '{"badge":"b-2"}'
is "$STATUS/$(j .scimType)" 409/uniqueness "...while B-2 is bob's"
# Groups: the Group extension's mailbox.
G='urn:ietf:params:scim:schemas:core:2.0:Group'
XG='urn:example:params:scim:schemas:extension:test:2.0:Group'
req POST /Groups '{"schemas":["'$G'","'$XG'"],"displayName":"one","'$XG'":{"mailbox":"list@example.com"}}'
is "$STATUS" 201 "a group with a mailbox"
GID=$(j .id)
req POST /Groups '{"schemas":["'$G'","'$XG'"],"displayName":"two","'$XG'":{"mailbox":"LIST@example.com"}}'
is "$STATUS/$(j .scimType)" 409/uniqueness "another group with that mailbox (other case): 409 uniqueness"
req POST /Groups '{"schemas":["'$G'"],"displayName":"two"}'
GID2=$(j .id)
req PATCH "/Groups/$GID2" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"'$XG':mailbox","value":"list@EXAMPLE.com"}]}'
is "$STATUS/$(j .scimType)" 409/uniqueness "PATCH of a group to that mailbox: 409 uniqueness"

# Filters on a unique attribute use its index.
: > "$WORK/error.log"
req GET "/Users?filter=$(printf '%s:badge eq "b-2"' "$X" | jq -sRr @uri)"
is "$(j .totalResults)/$(j '.Resources[0].userName')" 1/bob "filter on a unique attribute (other case) finds bob"
grep -q 'plan User: index idx_user_unique' "$WORK/error.log"
ok $? "...through the unique index (debug log)"
patch "$IB" '{"op":"add","value":{"'$X':seat":5,"'$X':aliases":["ally"]}}'
is "$STATUS" 200 "bob gets seat 5 and alias ally"
: > "$WORK/error.log"
req GET "/Users?filter=$(printf 'seat eq 5 or %s:aliases eq "ALLY"' "$X" | jq -sRr @uri)"
is "$(j .totalResults)/$(j '.Resources[0].userName')" 1/bob "an integer and an alias, without the URN, or-ed: bob once"
grep -q 'plan User: scan' "$WORK/error.log"
ok $((! $?)) "...no scan"
patch "$IB" '{"op":"add","path":"'$X':accounts","value":[{"id":"acc-9","kind":"k"}]}'
is "$STATUS" 200 "bob gets account acc-9"
: > "$WORK/error.log"
req GET "/Users?filter=$(printf '%s:accounts[id eq "ACC-9" and kind eq "k"]' "$X" | jq -sRr @uri)"
is "$(j .totalResults)/$(j '.Resources[0].userName')" 1/bob "a value path on a unique sub-attribute finds bob"
grep -q 'plan User: index idx_user_unique' "$WORK/error.log"
ok $? "...through the unique index"

# scimctl import with the site's settings: the same rule.
printf '%s\n' '{"schemas":["'$U'","'$X'"],"userName":"imported","'$X'":{"badge":"b-2"}}' > "$WORK/taken.ndjson"
"$SCIMCTL" -c "$WORK0/rules.conf" --db "$WORK/db" import "$WORK/taken.ndjson" > "$WORK/import.out" 2> "$WORK/import.err"
ok $((! $?)) "scimctl import of a user with bob's badge (other case) fails"
grep -q "$X:badge is already in use" "$WORK/import.err"
ok $? "...naming the attribute"
req GET "/Users?filter=$(printf 'userName eq "imported"' | jq -sRr @uri)"
is "$(j .totalResults)" 0 "...and stores nothing"
printf '%s\n' '{"schemas":["'$U'","'$X'"],"userName":"imported","'$X'":{"badge":"I-1"}}' > "$WORK/free.ndjson"
"$SCIMCTL" -c "$WORK0/rules.conf" --db "$WORK/db" import "$WORK/free.ndjson" > "$WORK/import.out" 2> "$WORK/import.err"
is "$?/$(cat "$WORK/import.out")" "0/1 imported, 0 rejected" "scimctl import of a free badge stores it"
mkuser grace '{"badge":"i-1"}'
is "$STATUS/$(j .scimType)" 409/uniqueness "...which POST then finds taken"
"$SCIMCTL" --db "$WORK/db" verify > "$WORK/verify.out"
ok $? "scimctl verify: the store agrees with itself"

# ---- a schema file that gains the rule over duplicates ---------------
cgi() {	# cgi DB CONF METHOD PATH [BODY]: one request through scimd as CGI
	local body=${5-}
	env -i SCIMD_DB="$1" SCIMD_CONF="$2" SCIMD_ALLOW_ROOT=yes \
	    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$3" SCRIPT_NAME=/scim/v2 \
	    PATH_INFO="$4" REQUEST_URI="/scim/v2$4" SERVER_NAME=127.0.0.1 \
	    SERVER_PORT=80 HTTP_HOST=127.0.0.1 CONTENT_TYPE=application/scim+json \
	    CONTENT_LENGTH="${#body}" HTTP_AUTHORIZATION="Bearer $DTOKEN" \
	    "$SCIMD" < <(printf '%s' "$body") > "$WORK/cgi.out" 2> "$WORK/cgi.err"
	sed -n '/^\r\{0,1\}$/,$p' "$WORK/cgi.out" | tail -n +2 > "$BODY"
	STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$WORK/cgi.out" | head -n 1)
}
DUP=$WORK/dup
DTOKEN=$("$SCIMCTL" --db "$DUP" token add t 2>/dev/null | tail -n 1)
cgi "$DUP" "$WORK0/none.conf" POST /Users '{"schemas":["'$U'","'$X'"],"userName":"u1","'$X'":{"badge":"Same"}}'
I1=$(j .id)
cgi "$DUP" "$WORK0/none.conf" POST /Users '{"schemas":["'$U'","'$X'"],"userName":"u2","'$X'":{"badge":"same"}}'
I2=$(j .id)
is "$STATUS" 201 "without the rule two users share a badge"
cgi "$DUP" "$WORK0/rules.conf" GET /Users
is "$STATUS" 503 "the schema file gains the rule: scimd refuses the store (503)"
grep "unique attribute" "$WORK/cgi.err" | grep -q "$I1.*$I2\|$I2.*$I1"
ok $? "...its log names both users"
grep -q "$X:badge" "$WORK/cgi.err"
ok $? "...and the attribute"
j .detail | grep -q "same"
ok $((! $?)) "...the answer's detail does not carry the value"
"$SCIMCTL" -c "$WORK0/rules.conf" --db "$DUP" verify > "$WORK/verify.out"
is "$?/$(grep -c '^unique attributes: ' "$WORK/verify.out")" 1/1 \
    "scimctl verify with the site's settings: the indexes hold another list"
"$SCIMCTL" -c "$WORK0/rules.conf" --db "$DUP" reindex > "$WORK/reindex.out" 2>&1
ok $((! $?)) "scimctl reindex with the site's settings fails"
grep "^NOT repaired duplicate unique value: users " "$WORK/reindex.out" | grep -q "$I1.*$I2\|$I2.*$I1"
ok $? "...listing the pair with both ids"
cgi "$DUP" "$WORK0/none.conf" GET "/Users/$I2"
is "$STATUS/$(j ".\"$X\".badge")" 200/same "nothing was merged: without the rule u2 is as it was"
cgi "$DUP" "$WORK0/none.conf" PATCH "/Users/$I2" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"'$X':badge","value":"other"}]}'
is "$STATUS" 200 "u2's badge changed"
cgi "$DUP" "$WORK0/rules.conf" POST /Users '{"schemas":["'$U'","'$X'"],"userName":"u3","'$X'":{"badge":"SAME"}}'
is "$STATUS/$(j .scimType)" 409/uniqueness "with the rule again scimd builds the index and serves: u3's SAME is u1's"
grep -q "indexes were rebuilt" "$WORK/cgi.err"
ok $? "...and logs the rebuild"
cgi "$DUP" "$WORK0/none.conf" POST /Users '{"schemas":["'$U'","'$X'"],"userName":"u3","'$X'":{"badge":"SAME"}}'
is "$STATUS" 201 "the schema file loses the rule: the index is dropped, values may repeat"
"$SCIMCTL" --db "$DUP" verify > "$WORK/verify.out"
ok $? "scimctl verify of that store: consistent"

done_testing
