#!/bin/bash
# users.sh: every endpoint of the core issue over real HTTP through
# lighttpd and FastCGI: discovery, Users CRUD, filters from indexes,
# paging, errors with the right status and scimType, limits.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2

U='urn:ietf:params:scim:schemas:core:2.0:User'
E='urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
PATCHOP='urn:ietf:params:scim:api:messages:2.0:PatchOp'

# ---- discovery ----
req GET /ServiceProviderConfig
is "$STATUS" 200 "ServiceProviderConfig: 200"
is "$(j .patch.supported)" true "SPC: patch supported"
is "$(j .filter.supported)" true "SPC: filter supported"
is "$(j .filter.maxResults)" 1000 "SPC: filter.maxResults from limits.h"
is "$(j .authenticationSchemes[0].type)" oauthbearertoken "SPC: bearer scheme"
req GET /ResourceTypes
is "$(j .totalResults)" 2 "ResourceTypes: two"
is "$(j '.Resources[] | select(.name=="User") | .endpoint')" /Users "ResourceTypes: User endpoint"
is "$(j '.Resources[] | select(.name=="User") | .schemaExtensions[0].schema')" "$E" "ResourceTypes: enterprise extension"
req GET /ResourceTypes/User
is "$STATUS" 200 "ResourceTypes/User: 200"
req GET /Schemas
is "$STATUS" 200 "Schemas: 200"
ok $([ "$(j .totalResults)" -ge 3 ]; echo $?) "Schemas: at least User, Enterprise, Group"
req GET "/Schemas/$U"
is "$(j .id)" "$U" "Schemas/{urn}: the User schema"
is "$(j '.attributes[] | select(.name=="userName") | .uniqueness')" server "userName uniqueness server"
is "$(j '.attributes[] | select(.name=="password") | .returned')" never "password returned never"
req GET /Schemas/urn:nope
is "$STATUS" 404 "unknown schema: 404"

# ---- create with everything ----
BJ='{"schemas":["'$U'","'$E'"],"userName":"bjensen@example.com","externalId":"bjensen",
 "name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara"},
 "displayName":"Babs Jensen","nickName":"Babs","title":"Tour Guide","userType":"Employee",
 "preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles","active":true,
 "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
 "phoneNumbers":[{"value":"555-555-5555","type":"work"}],
 "addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","primary":true}],
 "'$E'":{"employeeNumber":"701984","costCenter":"4130","organization":"Universal Studios","division":"Theme Park","department":"Tour Operations"}}'
req POST /Users "$BJ"
is "$STATUS" 201 "create full user: 201"
BID=$(j .id)
is "$(j '.addresses[0].locality')" Hollywood "addresses stored"
is "$(j '.phoneNumbers[0].value')" 555-555-5555 "phoneNumbers stored"
is "$(j ".\"$E\".department")" "Tour Operations" "enterprise extension stored"
is "$(j '.schemas|length')" 2 "schemas lists core and extension"

# ---- filters answered from indexes ----
req GET '/Users?filter=emails.value%20eq%20%22BABS@jensen.org%22'
is "$(j .totalResults)" 1 "filter emails.value eq (any case)"
req GET '/Users?filter=emails%5Btype%20eq%20%22work%22%20and%20value%20eq%20%22bjensen@example.com%22%5D'
is "$(j .totalResults)" 1 "filter emails[type eq work and value eq ...]"
req GET '/Users?filter=externalId%20eq%20%22bjensen%22'
is "$(j .totalResults)" 1 "filter externalId eq"
req GET '/Users?filter=externalId%20eq%20%22BJENSEN%22'
is "$(j .totalResults)" 0 "externalId is case-exact"
req GET "/Users?filter=id%20eq%20%22$BID%22"
is "$(j .totalResults)" 1 "filter id eq"
req GET '/Users?filter=userName+eq+%22bjensen@example.com%22'
is "$(j .totalResults)" 1 "filter with + for spaces (Entra)"
req GET '/Users?filter=title%20sw%20%22tour%22%20and%20active%20eq%20true'
is "$(j .totalResults)" 1 "scanning filter: sw and boolean"
req GET "/Users?filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber%20eq%20%22701984%22"
is "$(j .totalResults)" 1 "filter on enterprise attribute by URN"
req GET '/Users?filter=userName%20eq'
is "$STATUS" 400 "malformed filter: 400"
is "$(j .scimType)" invalidFilter "malformed filter: invalidFilter"
req GET '/Users?filter=nosuchattr%20eq%20%22x%22'
is "$STATUS" 400 "unknown attribute in filter: 400"
is "$(j .scimType)" invalidFilter "unknown attribute: invalidFilter"

# ---- projection ----
req GET "/Users/$BID?attributes=userName,emails.value"
is "$(j .userName)" bjensen@example.com "attributes=: asked attribute present"
is "$(j .title)" null "attributes=: others absent"
is "$(j .id)" "$BID" "attributes=: id always returned"
is "$(j '.emails[0].type')" null "attributes=emails.value: only the sub-attribute"
req GET "/Users/$BID?excludedAttributes=emails,name"
is "$(j .emails)" null "excludedAttributes: removed"
is "$(j .title)" "Tour Guide" "excludedAttributes: others kept"

# ---- paging ----
for n in 1 2 3 4; do
	req POST /Users '{"schemas":["'$U'"],"userName":"page'$n'"}'
done
req GET '/Users?startIndex=1&count=2'
is "$(j .totalResults)" 5 "paging: totalResults counts all"
is "$(j .itemsPerPage)" 2 "paging: itemsPerPage is the page size"
P1=$(j '[.Resources[].id]|join(",")')
req GET '/Users?startIndex=3&count=2'
is "$(j .startIndex)" 3 "paging: startIndex echoed"
P2=$(j '[.Resources[].id]|join(",")')
req GET '/Users?startIndex=5&count=2'
is "$(j .itemsPerPage)" 1 "paging: last page short"
P3=$(j '[.Resources[].id]|join(",")')
req GET '/Users?startIndex=1&count=10'
is "$(j '[.Resources[].id]|join(",")')" "$P1,$P2,$P3" "paging: pages are stable and disjoint"
req GET '/Users?count=0'
is "$(j .itemsPerPage)" 0 "count=0: no resources"
is "$(j .totalResults)" 5 "count=0: total still given"
req GET '/Users?count=abc'
is "$STATUS" 400 "count not a number: 400"
req GET '/Users?sortBy=userName&sortOrder=descending&count=1'
is "$(j '.Resources[0].userName')" page4 "sortBy userName descending"

# ---- errors ----
req POST /Users '{"schemas":["'$U'"],"userName":'
is "$STATUS" 400 "invalid JSON: 400"
is "$(j .scimType)" invalidSyntax "invalid JSON: invalidSyntax"
req POST /Users '{"schemas":["'$U'"],"displayName":"no name"}'
is "$STATUS" 400 "missing userName: 400"
is "$(j .scimType)" invalidValue "missing userName: invalidValue"
req POST /Users '{"schemas":["'$U'"],"userName":"x","active":"maybe"}'
is "$(j .scimType)" invalidValue "wrong type: invalidValue"
req POST /Users '{"schemas":["urn:nope"],"userName":"x"}'
is "$STATUS" 400 "unknown schema: 400"
req POST /Users '{"schemas":["'$U'"],"userName":"dup","userName":"dup2"}'
is "$STATUS" 400 "duplicate JSON keys: 400"
req DELETE /Users
is "$STATUS" 405 "DELETE /Users: 405"
ok $(header Allow | grep -q POST; echo $?) "405 carries Allow"
req GET /Nowhere
is "$STATUS" 404 "unknown route: 404"
is "$(j '.schemas[0]')" urn:ietf:params:scim:api:messages:2.0:Error "404 is a SCIM error"
req GET /Me
is "$STATUS" 501 "/Me: 501 not implemented"
req GET /Users/not-a-uuid
is "$STATUS" 404 "malformed id: 404"
req POST /Users 'userName=x' application/x-www-form-urlencoded
is "$STATUS" 415 "form body: 415"
head -c 1100000 /dev/zero | tr '\0' 'a' > "$WORK/big"
rawreq -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' --data-binary @"$WORK/big" "$BASE/Users"
is "$STATUS" 413 "body over 1 MiB: 413"
req GET /Users
is "$(j .totalResults)" 5 "store unchanged by the failed requests"

# ---- PUT: readOnly ignored, immutable checked ----
req PUT "/Users/$BID" '{"schemas":["'$U'"],"id":"00000000-0000-4000-8000-000000000000","userName":"bjensen@example.com","meta":{"created":"2001-01-01T00:00:00Z"}}'
is "$STATUS" 200 "PUT with readOnly id and meta: 200"
is "$(j .id)" "$BID" "PUT: id unchanged"
is "$(j .title)" null "PUT: attributes not sent are removed"
req PUT "/Users/$BID" '{"schemas":["'$U'"],"userName":"page1"}'
is "$STATUS" 409 "PUT onto a taken userName: 409"

# ---- ETags ----
req GET "/Users/$BID"
V=$(j .meta.version)
STATUS=$(curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "If-None-Match: $V" "$BASE/Users/$BID")
is "$STATUS" 304 "If-None-Match current version: 304"
STATUS=$(curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' -H 'If-Match: W/"1"' --data-binary '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"replace","path":"title","value":"x"}]}' "$BASE/Users/$BID")
is "$STATUS" 412 "If-Match stale version: 412"

# ---- PATCH forms ----
req PATCH "/Users/$BID" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"other"}]}]}'
is "$STATUS" 200 "PATCH add email: 200"
req GET '/Users?filter=emails.value%20eq%20%22new@example.com%22'
is "$(j .totalResults)" 1 "PATCH keeps the email index current"
req PATCH "/Users/$BID" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"remove","path":"emails[value eq \"new@example.com\"]"}]}'
req GET '/Users?filter=emails.value%20eq%20%22new@example.com%22'
is "$(j .totalResults)" 0 "PATCH remove drops the index entry"
req PATCH "/Users/$BID" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"replace","path":"id","value":"x"}]}'
is "$(j .scimType)" mutability "PATCH id: mutability"
req PATCH "/Users/$BID" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"remove"}]}'
is "$(j .scimType)" noTarget "PATCH remove without path: noTarget"

# ---- delete ----
req DELETE "/Users/$BID"
is "$STATUS" 204 "DELETE: 204"
for m in GET DELETE; do
	req $m "/Users/$BID"
	is "$STATUS" 404 "$m after delete: 404"
done
req PUT "/Users/$BID" '{"schemas":["'$U'"],"userName":"zz"}'
is "$STATUS" 404 "PUT after delete: 404"
req PATCH "/Users/$BID" '{"schemas":["'$PATCHOP'"],"Operations":[{"op":"replace","path":"title","value":"x"}]}'
is "$STATUS" 404 "PATCH after delete: 404"

# ---- store checked by scimctl while lighttpd runs ----
"$SCIMCTL" --db "$WORK/db" verify > "$WORK/verify.out" 2>&1
ok $? "scimctl verify: indexes consistent after the run"

done_testing
