#!/bin/bash
# hostile.sh: hostile requests over real HTTP.  Each must get a 4xx SCIM
# error (never a 5xx, never a hang), change nothing, and leave the
# server answering the next request normally.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2
U='urn:ietf:params:scim:schemas:core:2.0:User'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'
req POST /Users '{"schemas":["'$U'"],"userName":"victim"}'
VID=$(j .id)
VVER=$(j .meta.version)

# expect4xx NAME [curl args...]: the response is a 4xx SCIM error.
expect4xx() {
	local name=$1
	shift
	STATUS=$(curl -s -m 10 -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@")
	ok $([ "$STATUS" -ge 400 ] && [ "$STATUS" -lt 500 ] &&
		[ "$(jq -r '.schemas[0]' < "$BODY" 2>/dev/null)" = urn:ietf:params:scim:api:messages:2.0:Error ]
		echo $?) "$name: 4xx SCIM error ($STATUS)"
}
# expect_refused NAME [curl args...]: a 4xx from scimd or from the web
# server itself (lighttpd refuses some requests before scimd sees them).
expect_refused() {
	local name=$1
	shift
	STATUS=$(curl -s -m 10 -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@")
	ok $([ "$STATUS" -ge 400 ] && [ "$STATUS" -lt 500 ]; echo $?) "$name: refused ($STATUS)"
}
post() { expect4xx "$1" -X POST -H 'Content-Type: application/scim+json' --data-binary "$2" "$BASE/Users"; }

post "truncated JSON" '{"schemas":["'$U'"],"userName":"x'
post "not an object" '["'$U'"]'
post "duplicate keys" '{"schemas":["'$U'"],"userName":"a","userName":"b"}'
post "invalid UTF-8" "$(printf '{"schemas":["%s"],"userName":"\xff\xfe"}' "$U")"
post "NUL escape" '{"schemas":["'$U'"],"userName":"a\u0000b"}'
post "huge number" '{"schemas":["'$U'"],"userName":"a","x":1e999999}'
post "huge integer" '{"schemas":["'$U'"],"userName":"a","active":123456789012345678901234567890}'
deep=$(printf '%.0s[' $(seq 1 10000))
post "nesting 10,000 deep" '{"schemas":["'$U'"],"userName":"a","x":'"$deep"'}'
big=$(head -c 20000 /dev/zero | tr '\0' 'a')
post "20 KB userName" '{"schemas":["'$U'"],"userName":"'$big'"}'
key=$(head -c 600 /dev/zero | tr '\0' 'k')
post "600-byte userName (index key limit)" '{"schemas":["'$U'"],"userName":"'$key'"}'
arr=$(seq -s, 1 20001)
post "20,001-element array" '{"schemas":["'$U'"],"userName":"a","x":['"$arr"']}'
post "wrong type: userName number" '{"schemas":["'$U'"],"userName":5}'
post "wrong type: emails object" '{"schemas":["'$U'"],"userName":"a","emails":{"value":"x"}}'
post "wrong type: name string" '{"schemas":["'$U'"],"userName":"a","name":"x"}'
post "wrong type: active array" '{"schemas":["'$U'"],"userName":"a","active":[true]}'
post "unknown schema" '{"schemas":["urn:evil"],"userName":"a"}'
post "schemas not an array" '{"schemas":"'$U'","userName":"a"}'
post "empty body" ''
post "binary body" "$(head -c 300 /dev/urandom | tr -d '\0')"
expect4xx "short Content-Length" -X POST -H 'Content-Type: application/scim+json' -H 'Content-Length: 5' --data-binary '{"schemas":["'$U'"],"userName":"cl"}' "$BASE/Users"
expect4xx "bad percent-encoding" "$BASE/Users?filter=%zz"
expect_refused "encoded NUL in query" "$BASE/Users?filter=userName%20eq%20%22a%00%22"
expect_refused "10,000-term filter" "$BASE/Users?filter=$(printf 'title%%20pr%%20or%%20%.0s' $(seq 1 2000))title%20pr"
expect4xx "deep filter parentheses" "$BASE/Users?filter=$(printf '%%28%.0s' $(seq 1 100))title%20pr$(printf '%%29%.0s' $(seq 1 100))"
expect4xx "1,000 query parameters" "$BASE/Users?$(printf 'a%d=1&' $(seq 1 1000))"
expect_refused "overlong query string" "$BASE/Users?filter=$(head -c 9000 /dev/zero | tr '\0' 'x')"
expect4xx "startIndex not a number" "$BASE/Users?startIndex=1e3"
expect4xx "very long id" "$BASE/Users/$(head -c 1500 /dev/zero | tr '\0' 'a')"
expect4xx "path with .." "$BASE/Users/../Groups/x"
expect4xx "encoded slash in id" "$BASE/Users/a%2Fb"
ops=$(for i in $(seq 1 10000); do printf '{"op":"add","path":"title","value":"x"},'; done)
printf '{"schemas":["%s"],"Operations":[%s]}' "$P" "${ops%,}" > "$WORK/ops.json"
expect4xx "PATCH with 10,000 operations" -X PATCH -H 'Content-Type: application/scim+json' --data-binary @"$WORK/ops.json" "$BASE/Users/$VID"
expect4xx "filter of 200 terms in a search body" -X POST -H 'Content-Type: application/scim+json' --data-binary '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"'"$(printf 'title pr or %.0s' $(seq 1 200))"'title pr"}' "$BASE/Users/.search"
expect4xx "PATCH bad path" -X PATCH -H 'Content-Type: application/scim+json' --data-binary '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"emails[[[","value":"x"}]}' "$BASE/Users/$VID"
expect4xx "PATCH value wrong type" -X PATCH -H 'Content-Type: application/scim+json' --data-binary '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"emails","value":5}]}' "$BASE/Users/$VID"
expect4xx "bad If-Match" -X DELETE -H 'If-Match: "nope"' "$BASE/Users/$VID"
longhdr=$(head -c 5000 /dev/zero | tr '\0' 'a')
STATUS=$(curl -s -m 10 -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $longhdr" "$BASE/Users")
is "$STATUS" 401 "5 KB Authorization header: 401"
STATUS=$(curl -s -m 10 -o "$BODY" -w '%{http_code}' -H "Authorization: Basic dXNlcjpwYXNz" "$BASE/Users")
is "$STATUS" 401 "Basic authorization: 401"

# Nothing changed, and the server still answers.
req GET /Users
is "$(j .totalResults)" 1 "only the victim exists"
req GET "/Users/$VID"
is "$(j .meta.version)" "$VVER" "the victim is unchanged"
is "$STATUS" 200 "the next request is answered normally"
"$SCIMCTL" --db "$WORK/db" verify > /dev/null
ok $? "store consistent"
grep -q 'token=' "$WORK/error.log" && ! grep -q -F -e "$TOKEN" "$WORK/error.log"
ok $? "the log names tokens, never shows one"

# ---- Bounded work per request (LIMIT_WORK_UNITS, src/work.h) ------------
# Within every other limit, yet seconds of work: refused with 400
# tooMany, changing nothing.
a8k=$(head -c 8000 /dev/zero | tr '\0' 'a')
{
	printf '{"schemas":["%s"],"userName":"roles","roles":[' "$U"
	for k in $(seq 1 100); do [ $k -gt 1 ] && printf ','; printf '{"value":"r%d-%s"}' $k "$a8k"; done
	printf ']}'
} > "$WORK/roles.json"
rawreq -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' --data-binary @"$WORK/roles.json" "$BASE/Users"
is "$STATUS" 201 "a user with 100 roles of 8 KB"
terms=$(for k in $(seq 1 63); do printf 'roles.value%%20co%%20%%22zz%d%%22%%20or%%20' $k; done)
t0=$(date +%s%N)
req GET "/Users?filter=${terms}title%20eq%20%22x%22"
t1=$(date +%s%N)
is "$STATUS" 400 "a 64-term filter (63 co) over it: 400 ($(( (t1 - t0) / 1000000 )) ms)"
is "$(j .scimType)" tooMany "...tooMany"
ok $(j .detail | grep -q 'more work than one request may do'; echo $?) "...$(j .detail)"

# A group of 3,000 members (made with scimctl import beside the running
# server), and a PATCH that removes one member by id, renames the group,
# then asks for 998 member filters that must each read every member.
gid=ffffffff-0000-4000-8000-000000000000
{
	for i in $(seq 1 3000); do
		printf '{"schemas":["%s"],"id":"%08x-0000-4000-8000-%012x","userName":"member%d"}\n' "$U" $i $i $i
	done
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"%s","displayName":"big","members":[' $gid
	for i in $(seq 1 3000); do [ $i -gt 1 ] && printf ','; printf '{"value":"%08x-0000-4000-8000-%012x"}' $i $i; done
	printf ']}\n'
} > "$WORK/big.ndjson"
"$SCIMCTL" --db "$WORK/db" import "$WORK/big.ndjson" > /dev/null 2>&1
ok $? "a group of 3,000 members imported"
m1=$(printf '%08x-0000-4000-8000-%012x' 1 1)
{
	printf '{"schemas":["%s"],"Operations":[' "$P"
	printf '{"op":"remove","path":"members[value eq \\"%s\\"]"},' "$m1"
	printf '{"op":"replace","path":"displayName","value":"renamed"}'
	for i in $(seq 1 998); do printf ',{"op":"remove","path":"members[value co \\"zz%d\\"]"}' $i; done
	printf ']}'
} > "$WORK/members.json"
t0=$(date +%s%N)
rawreq -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' --data-binary @"$WORK/members.json" "$BASE/Groups/$gid"
t1=$(date +%s%N)
is "$STATUS" 400 "998 member filters over 3,000 members: 400 ($(( (t1 - t0) / 1000000 )) ms)"
is "$(j .scimType)" tooMany "...tooMany"
req GET "/Groups/$gid"
is "$(j .displayName)" big "...the rename before it did not happen"
is "$(j '.members|length')" 3000 "...nor the removal by id"
is "$(j --arg m "$m1" '[.members[].value]|index($m) != null')" true "...the member is still there"
"$SCIMCTL" --db "$WORK/db" verify > /dev/null
ok $? "store consistent after the refused work"
done_testing
