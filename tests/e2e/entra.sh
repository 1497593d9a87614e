#!/bin/bash
# entra.sh: Microsoft Entra ID's provisioning requests as its SCIM docs
# show them: test connection with a random id, lookup by userName and
# externalId, create with nulls and roles:[], PATCH with capitalised ops
# and string booleans, work email by value filter, manager as a bare id,
# no-path replace with dotted and URN-qualified keys, groups with the
# ADSCIM schema, member removal with a value list.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2

U='urn:ietf:params:scim:schemas:core:2.0:User'
E='urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'

req GET "/Users?filter=userName+eq+%22$(cat /proc/sys/kernel/random/uuid)%22"
is "$STATUS" 200 "test connection: 200"
is "$(j .totalResults)" 0 "test connection: empty list"

req GET '/Users?filter=userName+eq+%22Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1%22'
is "$(j .totalResults)" 0 "lookup before create: none"

req POST /Users '{"schemas":["'$U'","'$E'"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
 "userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1","active":true,
 "emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
 "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
 "roles":[],"nickName":null,"'$E'":{"department":null,"manager":null}}' application/json
is "$STATUS" 201 "create with nulls and roles:[]: 201"
ID=$(j .id)
is "$(j .roles)" null "empty roles not stored"
is "$(j .nickName)" null "null attribute unassigned"

req GET '/Users?filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22'
is "$(j .totalResults)" 1 "lookup by externalId"
# Lookup by work email, as Entra writes it (a comparison after the value
# path: not RFC 7644 grammar, read as emails[type eq "work" and value eq]).
WORK_EMAIL=test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e%40TESTUSER.com
req GET "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22$WORK_EMAIL%22"
is "$STATUS" 200 "lookup by emails[type eq \"work\"].value eq: 200"
is "$(j '.Resources[0].id')" "$ID" "...finds the user (email compared without case)"
req GET "/Users?filter=emails%5Btype%20eq%20%22work%22%5D%20eq%20%22$WORK_EMAIL%22"
is "$(j '.Resources[0].id')" "$ID" "lookup by emails[type eq \"work\"] eq (Microsoft's docs form): found"
req GET "/Users?filter=emails%5Btype+eq+%22home%22%5D.value+eq+%22$WORK_EMAIL%22"
is "$(j .totalResults)" 0 "...the same address as a home email: none"
req GET "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22nobody%40testuser.com%22"
is "$(j .totalResults)" 0 "...an unknown work email: none (200, empty)"
req GET "/Users?filter=emails%5Btype+eq+%22work%22%5D.value"
is "$STATUS" 400 "emails[type eq \"work\"].value with no comparison: 400"
is "$(j .scimType)" invalidFilter "...invalidFilter"

# Without aadOptscim062020: capitalised ops, string booleans.
req PATCH "/Users/$ID" '{"schemas":["'$P'"],"Operations":[
 {"op":"Replace","path":"active","value":"False"},
 {"op":"Add","path":"displayName","value":"Entra User"},
 {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updated@testuser.com"},
 {"op":"Add","path":"'$E':manager","value":"b6a3b0de-7f29-4c3f-8a2e-6e61d6c4a1f2"}]}' application/json
is "$STATUS" 200 "capitalised ops: 200"
is "$(j .active)" false "\"False\" is false"
is "$(j .displayName)" "Entra User" "Add on a single-valued string"
is "$(j '.emails[0].value')" updated@testuser.com "work email replaced by value filter"
is "$(j ".\"$E\".manager.value")" b6a3b0de-7f29-4c3f-8a2e-6e61d6c4a1f2 "manager from a bare id"
req GET '/Users?filter=emails.value+eq+%22updated@testuser.com%22'
is "$(j .totalResults)" 1 "email index follows the PATCH"

# Work email added to a user without one.
req POST /Users '{"schemas":["'$U'"],"userName":"noemail"}' application/json
N=$(j .id)
req PATCH "/Users/$N" '{"schemas":["'$P'"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@testuser.com"}]}' application/json
is "$(j '.emails[0].type')" work "add by value filter creates the element (type)"
is "$(j '.emails[0].value')" new@testuser.com "add by value filter creates the element (value)"
# Entra also sends replace (not add) of the work email to a user who has
# none (FIELD-NOTES): an equality filter that matches nothing creates it.
req POST /Users '{"schemas":["'$U'"],"userName":"noemail2"}' application/json
N2=$(j .id)
req PATCH "/Users/$N2" '{"schemas":["'$P'"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"w@testuser.com"}]}' application/json
is "$STATUS" 200 "replace of the work email on a user without one: 200"
is "$(j '[.emails[] | select(.type == "work") | .value] | join(",")')" w@testuser.com "...creates it"
req PATCH "/Users/$N" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"phoneNumbers[value co \"555\"].type","value":"fax"}]}' application/json
is "$(j .scimType)" noTarget "replace by a non-equality value filter matching nothing: noTarget"

# With aadOptscim062020: no-path replace with dotted and URN keys.
req PATCH "/Users/$ID" '{"schemas":["'$P'"],"Operations":[{"op":"replace","value":{
 "name.givenName":"Grace","name.familyName":"Hopper","active":true,
 "'$E':employeeNumber":"1701","'$E':department":"Navy"}}]}' application/json
is "$(j .name.givenName)" Grace "dotted key"
is "$(j .name.formatted)" "givenName familyName" "other sub-attributes kept"
is "$(j ".\"$E\".employeeNumber")" 1701 "URN-qualified key"
is "$(j ".\"$E\".manager.value")" b6a3b0de-7f29-4c3f-8a2e-6e61d6c4a1f2 "extension attributes not named kept"
is "$(j .active)" true "real boolean"

# Groups with the ADSCIM schema; member removal with a value list.
req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
 "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}' application/json
is "$STATUS" 201 "group with the ADSCIM schema: 201"
GID=$(j .id)
req GET '/Groups?excludedAttributes=members&filter=displayName+eq+%22displayName%22'
is "$(j .totalResults)" 1 "group lookup by displayName"
req GET '/Groups?filter=externalId+eq+%228aa1a0c0-c4c3-4bc0-b4a5-2ef676900159%22'
is "$(j .totalResults)" 1 "group lookup by externalId"
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"Add","path":"members","value":[{"value":"'$ID'"},{"value":"'$N'"}]}]}' application/json
is "$(j '.members|length')" 2 "Add members"
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"'$ID'"}]}]}' application/json
is "$(j '[.members[].value]|join(",")')" "$N" "Remove members with a value list"
req PATCH "/Groups/$GID" '{"schemas":["'$P'"],"Operations":[{"op":"Replace","path":"displayName","value":"renamed"}]}' application/json
is "$(j .displayName)" renamed "group rename"

req DELETE "/Users/$ID"
is "$STATUS" 204 "delete: 204"
req GET "/Groups/$GID"
is "$(j '[.members[].value]|join(",")')" "$N" "deleted user not a member"
done_testing
