#!/bin/bash
# okta.sh: Okta's "Test Connector Configuration" and user lifecycle, as
# Okta's SCIM 2.0 docs show the requests (Content-Type application/json,
# password and groups:[] in the create body, PUT of the whole object with
# id and meta, PATCH with no path to deactivate).
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2

Q='/Users?filter=userName%20eq%20%22dade.murphy%40example.com%22&startIndex=1&count=100'

req GET "$Q"
is "$STATUS" 200 "existence check: 200"
is "$(j .totalResults)" 0 "existence check: empty"
is "$(j '.totalResults|type')" number "totalResults is a JSON integer"
is "$(j '.startIndex|type')" number "startIndex is a JSON integer"
is "$(j '.itemsPerPage|type')" number "itemsPerPage is a JSON integer"
is "$(j '.schemas[0]')" urn:ietf:params:scim:api:messages:2.0:ListResponse "ListResponse schema"

CREATE='{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
 "userName":"dade.murphy@example.com",
 "name":{"givenName":"Dade","familyName":"Murphy"},
 "emails":[{"primary":true,"value":"dade.murphy@example.com","type":"work"}],
 "displayName":"Dade Murphy","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",
 "groups":[],"password":"1mz050nq","active":true}'
req POST /Users "$CREATE" application/json
is "$STATUS" 201 "create: 201"
ID=$(j .id)
ok $([ ${#ID} -eq 36 ]; echo $?) "create: server-assigned id"
is "$(j .userName)" dade.murphy@example.com "create: userName returned"
is "$(j .password)" null "create: password never returned"
is "$(j .meta.resourceType)" User "create: meta.resourceType"
is "$(header Location)" "$BASE/Users/$ID" "create: Location header"
is "$(j .meta.location)" "$BASE/Users/$ID" "create: meta.location"
is "$(header ETag)" "$(j .meta.version)" "create: ETag equals meta.version"
ok $(header Content-Type | grep -q '^application/scim+json'; echo $?) "create: scim+json content type"
CREATED=$(j .meta.created)

req GET "/Users/$ID"
is "$STATUS" 200 "get: 200"
is "$(j .name.givenName)" Dade "get: attributes as sent"
is "$(j .externalId)" 00ujl29u0le5T6Aj10h7 "get: externalId stored"

req GET "$Q"
is "$(j .totalResults)" 1 "lookup after create: found"
is "$(j '.Resources[0].id')" "$ID" "lookup after create: same id"
Q2='/Users?filter=userName%20eq%20%22DADE.Murphy%40EXAMPLE.com%22&startIndex=1&count=100'
req GET "$Q2"
is "$(j .totalResults)" 1 "lookup is case-insensitive"

req POST /Users "$CREATE" application/json
is "$STATUS" 409 "duplicate create: 409"
is "$(j .scimType)" uniqueness "duplicate create: scimType uniqueness"
is "$(j .status)" 409 "duplicate create: status"

# PUT of the whole object as Okta sends it: with id, meta and schemas.
req GET "/Users/$ID"
PUT=$(jq '.name.givenName = "Crash" | .displayName = "Crash Override"' < "$BODY")
sleep 0.01
req PUT "/Users/$ID" "$PUT" application/json
is "$STATUS" 200 "put: 200"
is "$(j .name.givenName)" Crash "put: change applied"
is "$(j .meta.created)" "$CREATED" "put: meta.created kept"
is "$(j .id)" "$ID" "put: id kept"

req PATCH "/Users/$ID" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}' application/json
is "$STATUS" 200 "deactivate: 200"
is "$(j .active)" false "deactivate: active false in answer"
req GET "/Users/$ID"
is "$(j .active)" false "get after deactivate: active false"

req PATCH "/Users/$ID" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}' application/json
is "$(j .active)" true "reactivate with path active"

req PATCH "/Users/$ID" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"password":"n3wpassw0rd"}}]}' application/json
is "$STATUS" 200 "password sync: 200"
is "$(j .password)" null "password sync: not returned"

req DELETE "/Users/$ID"
is "$STATUS" 204 "delete: 204"
req GET "/Users/$ID"
is "$STATUS" 404 "get after delete: 404"
is "$(j .status)" 404 "404 status is the string \"404\""
ok $([ "$(j '.status|type')" = string ]; echo $?) "status is a JSON string"
ok $([ -n "$(j .detail)" ]; echo $?) "404 has a detail"

# Negative authentication tests Okta runs.
rawreq -H "Authorization: non-token" "$BASE/Users"
is "$STATUS" 401 "Authorization: non-token: 401"
is "$(j .status)" 401 "401 body status"
rawreq "$BASE/Users?startIndex=1&count=100"
is "$STATUS" 401 "no Authorization: 401"
ok $(header WWW-Authenticate | grep -qi bearer; echo $?) "401 carries WWW-Authenticate"
rawreq -H "Authorization: Bearer wrong$TOKEN" "$BASE/Users"
is "$STATUS" 401 "wrong token: 401"

# Random id as Entra's and Okta's connection tests send.
req GET "/Users?filter=id%20eq%20%22$(cat /proc/sys/kernel/random/uuid)%22"
is "$STATUS" 200 "random id lookup: 200"
is "$(j .totalResults)" 0 "random id lookup: empty"

done_testing
