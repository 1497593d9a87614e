#!/bin/bash
# groups.sh: Groups and membership over real HTTP, with Okta's Group Push
# and Entra's request shapes (FIELD-NOTES: capitalised ops, string
# booleans, remove with path "members" and a value list).
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2

U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'

mkuser() {
	req POST /Users '{"schemas":["'$U'"],"userName":"'$1'","displayName":"'$1'"}'
	j .id
}
A=$(mkuser alice)
B=$(mkuser bob)
C=$(mkuser carol)

# Okta: create with no members, look it up by displayName.
req POST /Groups '{"schemas":["'$G'"],"displayName":"Engineering","members":[]}'
is "$STATUS" 201 "create empty group: 201"
GID=$(j .id)
is "$(header Location)" "$BASE/Groups/$GID" "group Location"
is "$(j .meta.resourceType)" Group "group meta.resourceType"
req GET '/Groups?filter=displayName%20eq%20%22engineering%22'
is "$(j .totalResults)" 1 "lookup by displayName (case-insensitive)"

# Okta membership change: remove by filter and add in one PATCH.
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[
 {"op":"add","path":"members","value":[{"value":"'$A'","display":"alice"},{"value":"'$B'"}]}]}'
is "$STATUS" 200 "add members: 200"
is "$(j '.members|length')" 2 "two members"
is "$(j '[.members[].value]|sort|join(",")')" "$(printf '%s\n' "$A" "$B" | sort | paste -sd,)" "members are alice and bob"
is "$(j '.members[0].type')" User "member type User"
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[
 {"op":"remove","path":"members[value eq \"'$A'\"]"},
 {"op":"add","path":"members","value":[{"value":"'$C'"}]}]}'
is "$STATUS" 200 "Okta remove+add: 200"
is "$(j '[.members[].value]|sort|join(",")')" "$(printf '%s\n' "$B" "$C" | sort | paste -sd,)" "members are bob and carol"

# User side: groups is readOnly and derived.
req GET "/Users/$B"
is "$(j '.groups[0].value')" "$GID" "user shows its group"
is "$(j '.groups[0].display')" Engineering "group display name"
req GET "/Users/$A"
is "$(j '.groups')" null "removed member shows no group"

# The stored bytes spliced on a plain GET equal the general rendering.
req GET "/Users/$B"
FAST=$(jq -S . < "$BODY")
req GET "/Users/$B?excludedAttributes=nickName"
is "$(jq -S . < "$BODY")" "$FAST" "plain GET of a user equals the rendered form"
req GET "/Groups/$GID"
FAST=$(jq -S . < "$BODY")
req GET "/Groups/$GID?excludedAttributes=externalId"
is "$(jq -S . < "$BODY")" "$FAST" "plain GET of a group equals the rendered form"
# A user's groups are written from the groups' stored bytes: a display
# name with quotes, a backslash and non-ASCII text must come out the same.
req POST /Groups '{"schemas":["'$G'"],"displayName":"Q \"R\" \\ d\u00e9j\u00e0 \u2603","members":[{"value":"'$B'"}]}'
QG=$(j .id)
req GET "/Users/$B"
FAST=$(jq -S . < "$BODY")
is "$(jq -r --arg g "$QG" '.groups[] | select(.value==$g) | .display' < "$BODY")" 'Q "R" \ déjà ☃' "a tricky group display name, spliced"
req GET "/Users/$B?excludedAttributes=nickName"
is "$(jq -S . < "$BODY")" "$FAST" "...equals the rendered form"
req DELETE "/Groups/$QG"

# Entra: capitalised op, remove with a value list.
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"'$B'"}]}]}'
is "$STATUS" 200 "Entra Remove with value list: 200"
is "$(j '[.members[].value]|join(",")')" "$C" "bob removed"

# Okta rename: no-path replace repeating the id.
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"replace","value":{"id":"'$GID'","displayName":"Eng"}}]}'
is "$STATUS" 200 "rename with own id: 200"
is "$(j .displayName)" Eng "renamed"
req GET '/Groups?filter=displayName%20eq%20%22Engineering%22'
is "$(j .totalResults)" 0 "old name no longer found"

# Full push: replace members.
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"members","value":[{"value":"'$A'"},{"value":"'$B'"}]}]}'
is "$(j '.members|length')" 2 "replace members: exactly the new set"

# Entra reads groups without members.
req GET "/Groups/$GID?excludedAttributes=members"
is "$(j .members)" null "excludedAttributes=members"
is "$(j .displayName)" Eng "other attributes kept"

# Filter by member.
req GET "/Groups?filter=members.value%20eq%20%22$A%22"
is "$(j .totalResults)" 1 "filter groups by members.value"

# Unknown member refused, nothing changed.
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"members","value":[{"value":"00000000-0000-4000-8000-000000000000"}]}]}'
is "$STATUS" 400 "unknown member: 400"
req GET "/Groups/$GID"
is "$(j '.members|length')" 2 "failed PATCH changed nothing"

# Deleting a user removes it from groups.
req DELETE "/Users/$A"
req GET "/Groups/$GID"
is "$(j '[.members[].value]|join(",")')" "$B" "deleted user left the group"

# Create with members; PUT replaces them.
req POST /Groups '{"schemas":["'$G'"],"displayName":"Ops","members":[{"value":"'$B'"},{"value":"'$C'"}]}'
is "$STATUS" 201 "create group with members"
G2=$(j .id)
is "$(j '.members|length')" 2 "created with two members"
req PUT "/Groups/$G2" '{"schemas":["'$G'"],"displayName":"Ops","members":[{"value":"'$C'"}]}'
is "$STATUS" 200 "PUT group: 200"
is "$(j '[.members[].value]|join(",")')" "$C" "PUT replaced the members"

# Nested group as a member.
req PATCH "/Groups/$G2" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"members","value":[{"value":"'$GID'"}]}]}'
is "$(j '[.members[] | select(.value=="'$GID'") | .type]|join(",")')" Group "group as member has type Group"

req DELETE "/Groups/$GID"
is "$STATUS" 204 "delete group: 204"
req GET "/Groups/$G2"
is "$(j '[.members[].value]|join(",")')" "$C" "deleted group left its parent"
req GET "/Users/$B"
is "$(j .groups)" null "deleted group left its members"

req POST /Groups '{"schemas":["'$G'"]}'
is "$(j .scimType)" invalidValue "group without displayName: invalidValue"

"$SCIMCTL" --db "$WORK/db" verify >/dev/null 2>&1
ok $? "scimctl verify after the group run"
done_testing
