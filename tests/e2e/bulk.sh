#!/bin/bash
# bulk.sh: POST /Bulk (RFC 7644 3.7) with bulkId references, failOnErrors
# and limits; GET / and POST /.search across both resource types.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2

U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
BR='urn:ietf:params:scim:api:messages:2.0:BulkRequest'

req GET /ServiceProviderConfig
is "$(j .bulk.supported)" true "SPC: bulk supported"
is "$(j .bulk.maxOperations)" 1000 "SPC: bulk.maxOperations"

# The group refers to a user created later in the same request.
req POST /Bulk '{"schemas":["'$BR'"],"Operations":[
 {"method":"POST","path":"/Groups","bulkId":"g1","data":{"schemas":["'$G'"],"displayName":"Tour Guides","members":[{"type":"User","value":"bulkId:u1"}]}},
 {"method":"POST","path":"/Users","bulkId":"u1","data":{"schemas":["'$U'"],"userName":"alice"}},
 {"method":"POST","path":"/Users","bulkId":"u2","data":{"schemas":["'$U'"],"userName":"bob"}}]}'
is "$STATUS" 200 "bulk: 200"
is "$(j '.schemas[0]')" urn:ietf:params:scim:api:messages:2.0:BulkResponse "BulkResponse schema"
is "$(j '.Operations|length')" 3 "three results"
is "$(j '.Operations[0].bulkId')" g1 "results in request order"
is "$(j '.Operations[0].status')" 201 "forward reference resolved: group created"
is "$(j '.Operations[1].status')" 201 "user created"
UID1=$(j '.Operations[1].location' | sed 's,.*/,,')
UID2=$(j '.Operations[2].location' | sed 's,.*/,,')
GLOC=$(j '.Operations[0].location')
ok $([ -n "$(j '.Operations[0].version')" ]; echo $?) "result carries version"
req GET "/Groups/${GLOC##*/}"
is "$(j '.members[0].value')" "$UID1" "member bulkId replaced by the new id"

# PATCH and DELETE by bulk, a failure, failOnErrors.
req POST /Bulk '{"schemas":["'$BR'"],"failOnErrors":1,"Operations":[
 {"method":"PATCH","path":"/Users/'$UID1'","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}},
 {"method":"POST","path":"/Users","bulkId":"dup","data":{"schemas":["'$U'"],"userName":"ALICE"}},
 {"method":"DELETE","path":"/Users/'$UID1'"}]}'
is "$(j '.Operations[0].status')" 200 "bulk PATCH: 200"
is "$(j '.Operations[1].status')" 409 "bulk duplicate: 409"
is "$(j '.Operations[1].response.scimType')" uniqueness "error response inside the result"
is "$(j '.Operations|length')" 2 "failOnErrors=1 stops after the first error"
req GET "/Users/$UID1"
is "$STATUS" 200 "operation after the stop was not run"

req POST /Bulk '{"schemas":["'$BR'"],"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"schemas":["'$U'"],"userName":"x","manager":"bulkId:nowhere"}},{"method":"DELETE","path":"/Users/bulkId:nothere"}]}'
is "$(j '.Operations[0].status')" 409 "unresolvable bulkId: 409"
is "$(j '.Operations[1].status')" 409 "unresolvable bulkId in path: 409"
req POST /Bulk '{"schemas":["'$BR'"],"Operations":[{"method":"GET","path":"/Users"}]}'
is "$(j '.Operations[0].status')" 400 "GET in bulk: 400"
# Each operation is the single request's operation: If-Match from
# "version", the location and new version in the result, a method the
# path does not take.
req GET "/Users/$UID2"
V2=$(j .meta.version)
req POST /Bulk '{"schemas":["'$BR'"],"Operations":[
 {"method":"PUT","path":"/Users/'$UID2'","version":"W/\"0\"","data":{"schemas":["'$U'"],"userName":"bob"}},
 {"method":"PUT","path":"/Users/'$UID2'","version":'"$(jq -n --arg v "$V2" '$v')"',"data":{"schemas":["'$U'"],"userName":"bob","displayName":"Bob"}}]}'
is "$(j '.Operations[0].status')" 412 "bulk PUT with a stale version: 412"
is "$(j '.Operations[1].status')" 200 "bulk PUT with the current version: 200"
is "$(j '.Operations[1].location')" "$BASE/Users/$UID2" "bulk PUT location"
V3=$(j '.Operations[1].version')
req GET "/Users/$UID2"
is "$(j .displayName)" Bob "bulk PUT stored"
is "$(j .meta.version)" "$V3" "bulk result version is the stored one"
req POST /Bulk '{"schemas":["'$BR'"],"Operations":[
 {"method":"POST","path":"/Users/'$UID2'","bulkId":"p","data":{"schemas":["'$U'"],"userName":"p"}},
 {"method":"PUT","path":"/Users","data":{"schemas":["'$U'"],"userName":"q"}},
 {"method":"POST","path":"/Bulk","bulkId":"b","data":{}},
 {"method":"DELETE","path":"/Groups/'${GLOC##*/}'","version":"W/\"0\""},
 {"method":"DELETE","path":"/Widgets/x"}]}'
is "$(j '.Operations[0].status')" 405 "bulk POST to a resource: 405"
is "$(j '.Operations[1].status')" 405 "bulk PUT to a collection: 405"
is "$(j '.Operations[2].status')" 400 "bulk POST to /Bulk: 400"
is "$(j '.Operations[3].status')" 412 "bulk DELETE with a stale version: 412"
is "$(j '.Operations[4].status')" 404 "bulk operation on no endpoint: 404, as outside /Bulk"
req GET "/Groups/${GLOC##*/}"
is "$STATUS" 200 "the group is still there"

req POST /Bulk '{"Operations":[]}'
is "$STATUS" 400 "bulk without schema: 400"
ops=$(for i in $(seq 1 1001); do printf '{"method":"DELETE","path":"/Users/x%d"},' $i; done)
req POST /Bulk '{"schemas":["'$BR'"],"Operations":['"${ops%,}"']}'
is "$STATUS" 413 "more than maxOperations: 413"

# Root queries.
req GET '/?filter=userName%20eq%20%22bob%22%20or%20displayName%20eq%20%22Tour%20Guides%22'
is "$STATUS" 200 "GET / with filter: 200"
is "$(j .totalResults)" 2 "root filter finds a user and a group"
is "$(j '[.Resources[].meta.resourceType]|sort|join(",")')" Group,User "both types returned"
req POST /.search '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"b\"","attributes":["userName"]}'
is "$(j .totalResults)" 1 "POST /.search"
is "$(j '.Resources[0].userName')" bob "search result projected"
req POST /Users/.search '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":1,"count":1,"sortBy":"userName"}'
is "$(j '.Resources[0].userName')" alice "POST /Users/.search with sortBy"
is "$(j .itemsPerPage)" 1 "search count honoured"
# bulkId is resolved only in reference attributes (members.value,
# manager.value), never in other strings such as a userName.
EU='urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
req POST /Bulk '{"schemas":["'$BR'"],"Operations":[
 {"method":"POST","path":"/Users","bulkId":"lit","data":{"schemas":["'$U'"],"userName":"bulkId:boss","title":"bulkId:boss"}},
 {"method":"POST","path":"/Users","bulkId":"emp","data":{"schemas":["'$U'","'$EU'"],"userName":"emp","'$EU'":{"manager":{"value":"bulkId:boss"}}}},
 {"method":"POST","path":"/Users","bulkId":"boss","data":{"schemas":["'$U'"],"userName":"boss"}},
 {"method":"POST","path":"/Groups","bulkId":"team","data":{"schemas":["'$G'"],"displayName":"team"}},
 {"method":"PATCH","path":"/Groups/bulkId:team","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:emp"}]}]}}]}'
is "$(j '[.Operations[].status]|join(",")')" 201,201,201,201,200 "references in any order: all run"
LIT=$(j '.Operations[0].location' | sed 's,.*/,,')
EMP=$(j '.Operations[1].location' | sed 's,.*/,,')
BOSS=$(j '.Operations[2].location' | sed 's,.*/,,')
TEAM=$(j '.Operations[3].location' | sed 's,.*/,,')
req GET "/Users/$LIT"
is "$(j .userName)" "bulkId:boss" "a userName that looks like a bulkId stays as sent"
is "$(j .title)" "bulkId:boss" "...and so does any other string"
req GET "/Users/$EMP"
is "$(j '.["'$EU'"].manager.value')" "$BOSS" "manager.value: resolved to the created id"
req GET "/Groups/$TEAM"
is "$(j '.members[0].value')" "$EMP" "PATCH of /Groups/bulkId:x adding members bulkId:y: both resolved"

# A chain of references listed in the worst order (each operation waits
# for the next): every one runs.  bench/bulkchain measures its cost.
chain=$(for i in $(seq 0 299); do
	if [ $i -lt 299 ]; then m=',"members":[{"value":"bulkId:c'$((i + 1))'"}]'; else m=; fi
	printf '{"method":"POST","path":"/Groups","bulkId":"c%d","data":{"schemas":["%s"],"displayName":"chain%d"%s}},' $i "$G" $i "$m"
done)
req POST /Bulk '{"schemas":["'$BR'"],"Operations":['"${chain%,}"']}'
is "$(j '[.Operations[].status]|unique|join(",")')" 201 "a chain of 300 references: all 300 created"
C0=$(j '.Operations[0].location' | sed 's,.*/,,')
C1=$(j '.Operations[1].location' | sed 's,.*/,,')
req GET "/Groups/$C0"
is "$(j '.members[0].value')" "$C1" "...each naming the next"

done_testing
