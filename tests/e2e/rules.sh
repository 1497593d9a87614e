#!/bin/bash
# rules.sh: data and protocol rules an IdP can see (issue 16 items 1-5),
# over real HTTP: userName refusals and RFC 8265 comparison, PATCH add
# of a value already there, PATCH through a value filter that matches
# nothing, "any value matches" for ne, group versions that follow their
# membership.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2

U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'

mkuser() {	# mkuser NAME [EXTRA-JSON-MEMBERS]
	req POST /Users '{"schemas":["'$U'"],"userName":"'"$1"'"'"${2:+,$2}"'}'
	j .id
}

# GET with If-None-Match: sets STATUS.
get_inm() {	# get_inm PATH ETAG
	rawreq -H "Authorization: Bearer $TOKEN" -H "If-None-Match: $2" "$BASE$1"
}

# ---- 5. a group's version follows its membership ----
M1=$(mkuser member-one)
M2=$(mkuser member-two)
req POST /Groups '{"schemas":["'$G'"],"displayName":"Versioned","members":[{"value":"'$M1'"},{"value":"'$M2'"}]}'
GID=$(j .id)
req GET "/Groups/$GID"
V1=$(header ETag)
is "$(j '.members | length')" 2 "group with two members"
get_inm "/Groups/$GID" "$V1"
is "$STATUS" 304 "If-None-Match with the current ETag: 304"
req DELETE "/Users/$M1"
is "$STATUS" 204 "delete a member user"
get_inm "/Groups/$GID" "$V1"
is "$STATUS" 200 "member deleted: the old ETag no longer matches (200, not 304)"
is "$(j '.members | length')" 1 "member deleted: the answer lists one member"
V2=$(header ETag)
[ -n "$V2" ] && [ "$V2" != "$V1" ]
ok $? "member deleted: a new ETag"
is "$(j .meta.version)" "$V2" "member deleted: meta.version is the new ETag"
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"remove","path":"members[value eq \"'$M2'\"]"}]}'
get_inm "/Groups/$GID" "$V2"
is "$STATUS" 200 "member removed by PATCH: the old ETag no longer matches"
V3=$(header ETag)
# A group that was a member of another: deleting it changes the parent.
req POST /Groups '{"schemas":["'$G'"],"displayName":"Child"}'
CHILD=$(j .id)
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"members","value":[{"value":"'$CHILD'"}]}]}'
req GET "/Groups/$GID"
V4=$(header ETag)
[ "$V4" != "$V3" ]
ok $? "member added by PATCH: a new ETag"
req DELETE "/Groups/$CHILD"
get_inm "/Groups/$GID" "$V4"
is "$STATUS" 200 "member group deleted: the parent's old ETag no longer matches"
is "$(j '.members | length')" 0 "member group deleted: the parent lists none"

# ---- 2. PATCH add of a value already there changes nothing ----
E=$(mkuser email-holder '"emails":[{"value":"a@x.org","primary":true}]')
req PATCH "/Users/$E" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"emails","value":[{"value":"a@x.org","primary":true}]}]}'
is "$STATUS" 200 "add path emails of the email already there: 200"
req GET "/Users/$E"
is "$(j -c .emails)" '[{"value":"a@x.org","primary":true}]' "add path emails already there: primary kept, one email"
req PATCH "/Users/$E" '{"schemas":["'$P'"],"Operations":[{"op":"add","value":{"emails":[{"value":"A@X.org","primary":true}]}}]}'
is "$STATUS" 200 "no-path add of the email already there (other case): 200"
req GET "/Users/$E"
is "$(j -c .emails)" '[{"value":"a@x.org","primary":true}]' "no-path add already there: primary kept, one email"

# ---- 3. PATCH through a value filter that matches nothing ----
req PATCH "/Users/$E" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"emails[value co \"zz\"].display","value":"d"}]}'
is "$STATUS" 400 "add through emails[value co \"zz\"].display matching nothing: 400"
is "$(j .scimType)" noTarget "  scimType noTarget"
req PATCH "/Users/$E" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"emails[type eq \"work\" or type eq \"home\"].value","value":"w@x.org"}]}'
is "$(j .scimType)" noTarget "add through an or filter matching nothing: noTarget"
req GET "/Users/$E"
is "$(j -c .emails)" '[{"value":"a@x.org","primary":true}]' "refused adds changed nothing"
req PATCH "/Users/$E" '{"schemas":["'$P'"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@x.org"}]}' application/json
is "$STATUS" 200 "Entra: add emails[type eq \"work\"].value with no work email: 200"
req GET "/Users/$E"
is "$(j -r '.emails[] | select(.type == "work") | .value')" w@x.org "  the work email is created"

# ---- 4. multi-valued comparisons: any value matches, ne included ----
uri() { jq -rn --arg v "$1" '$v | @uri'; }
names() {	# names FILTER: the sorted userNames a filter finds
	req GET "/Users?count=100&filter=$(uri "$1")"
	j -r '[.Resources[].userName] | sort | join(",")'
}
mkuser ne-a '"emails":[{"value":"a@ne.org","type":"work"}]' >/dev/null
mkuser ne-b '"emails":[{"value":"b@ne.org","type":"work"},{"value":"b2@ne.org","type":"home"}]' >/dev/null
mkuser ne-c >/dev/null
mkuser ne-d '"emails":[{"value":"d@ne.org"}]' >/dev/null
is "$(names 'userName sw "ne-" and emails.type ne "work"')" ne-b,ne-d \
    'emails.type ne "work": users with an email whose type is not work, none without emails'
is "$(names 'userName sw "ne-" and emails[type ne "work"]')" ne-b,ne-d \
    'emails[type ne "work"] finds the same users'
is "$(names 'userName sw "ne-" and not (emails.type eq "work")')" ne-c,ne-d \
    'not (emails.type eq "work"): users none of whose emails is work'
is "$(names 'userName sw "ne-" and emails.value ne "a@ne.org"')" ne-b,ne-d \
    'emails.value ne: any value differs'
req GET "/Users?filter=$(uri 'emails.primary gt true')"
is "$STATUS" 400 "gt on a boolean sub-attribute: 400"
case "$(j -r .detail)" in *emails.primary*) r=0 ;; *) r=1 ;; esac
ok $r "the detail names emails.primary: $(j -r .detail)"
req GET "/Users?filter=$(uri 'emails[primary gt true]')"
case "$(j -r .detail)" in *emails.primary*) r=0 ;; *) r=1 ;; esac
ok $r "inside a value path too: $(j -r .detail)"

done_testing
