#!/bin/bash
# query.sh: the query engine over real HTTP: cursor paging (RFC 9865),
# sorting, projections by short name and URN, root queries, a custom
# extension schema declared in the settings file (validated, stored,
# filterable, patchable, listed by /Schemas and /ResourceTypes), and the
# planner's choice visible in the debug log.
. "$(dirname "$0")/lib.sh"
WORK0=$(mktemp -d /tmp/scimd-q.XXXXXX)
cat > "$WORK0/acme.json" <<'JSON'
{"id":"urn:ietf:params:scim:schemas:extension:acme:2.0:User","name":"AcmeUser",
 "description":"Acme custom attributes","resourceType":"User",
 "attributes":[
  {"name":"badge","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readWrite","returned":"default","uniqueness":"none"},
  {"name":"level","type":"integer","multiValued":false,"required":false,"mutability":"readWrite","returned":"default","uniqueness":"none"}]}
JSON
cat > "$WORK0/scimd.conf" <<CONF
# test settings
schemas = $WORK0/acme.json
log_level = debug
CONF
# Settings a caller passed (sandbox.sh) are kept.
[ -n "${SCIMD_CONF_FILE:-}" ] && cat "$SCIMD_CONF_FILE" >> "$WORK0/scimd.conf"
SCIMD_CONF_FILE=$WORK0/scimd.conf
start_lighttpd /scim/v2
trap 'stop_servers; rm -rf "$WORK0"' EXIT

U='urn:ietf:params:scim:schemas:core:2.0:User'
A='urn:ietf:params:scim:schemas:extension:acme:2.0:User'

for n in 01 02 03 04 05 06 07; do
	req POST /Users '{"schemas":["'$U'","'$A'"],"userName":"user'$n'","title":"T'$n'","'$A'":{"badge":"B'$n'","level":'$((10#$n))'}}'
done
is "$STATUS" 201 "users with the custom extension created"
is "$(j ".\"$A\".badge")" B07 "extension attribute stored and returned"

# ---- custom extension ----
req GET /Schemas
ok $(j '.Resources[].id' | grep -qx "$A"; echo $?) "/Schemas lists the extension"
req GET /ResourceTypes/User
ok $(j '.schemaExtensions[].schema' | grep -qx "$A"; echo $?) "/ResourceTypes/User lists the extension"
req GET "/Users?filter=$A:badge%20eq%20%22b03%22"
is "$(j .totalResults)" 1 "filter on an extension attribute (caseExact false)"
req GET "/Users?filter=$A:level%20gt%205"
is "$(j .totalResults)" 2 "integer comparison on an extension attribute"
req POST /Users '{"schemas":["'$U'","'$A'"],"userName":"bad","'$A'":{"level":"high"}}'
is "$(j .scimType)" invalidValue "extension type mismatch: invalidValue"
ID1=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/Users?filter=userName%20eq%20%22user01%22" | jq -r '.Resources[0].id')
req PATCH "/Users/$ID1" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"'$A':badge","value":"GOLD"}]}'
is "$(j ".\"$A\".badge")" GOLD "PATCH an extension attribute by URN path"
req GET "/Users/$ID1?attributes=$A:badge"
is "$(j ".\"$A\".badge")" GOLD "attributes= by full URN"
is "$(j .userName)" null "attributes= by URN leaves other attributes out"
req GET "/Users/$ID1?excludedAttributes=$A"
is "$(j ".\"$A\"")" null "excludedAttributes= an extension URN"

# ---- cursor paging (RFC 9865) ----
req GET /ServiceProviderConfig
is "$(j .pagination.cursor)" true "SPC advertises cursor paging"
is "$(j .pagination.maxPageSize)" 1000 "SPC maxPageSize"
req GET '/Users?cursor=&count=3'
is "$STATUS" 200 "first cursor page: 200"
is "$(j .itemsPerPage)" 3 "first page size"
is "$(j .totalResults)" 7 "totalResults with cursor"
N1=$(j -r .nextCursor)
ok $([ -n "$N1" ] && [ "$N1" != null ]; echo $?) "nextCursor given"
P1=$(j '[.Resources[].id]|join(",")')
req GET "/Users?cursor=$N1&count=3"
P2=$(j '[.Resources[].id]|join(",")')
N2=$(j -r .nextCursor)
req GET "/Users?cursor=$N2&count=3"
P3=$(j '[.Resources[].id]|join(",")')
is "$(j .itemsPerPage)" 1 "last cursor page"
is "$(j .nextCursor)" null "no nextCursor on the last page"
req GET '/Users?startIndex=1&count=7'
is "$(j '[.Resources[].id]|join(",")')" "$P1,$P2,$P3" "cursor pages cover every user once, in order"
c10=${N1:10:1}; [ "$c10" = A ] && r10=B || r10=A
req GET "/Users?cursor=${N1:0:10}$r10${N1:11}&count=3"
is "$(j .scimType)" invalidCursor "altered cursor: invalidCursor"
req GET "/Users?cursor=garbage"
is "$(j .scimType)" invalidCursor "garbage cursor: invalidCursor"
req GET "/Users?cursor=$N1&count=3&filter=title%20pr"
is "$(j .scimType)" invalidCursor "cursor used with another query: invalidCursor"
req GET "/Users?cursor=&filter=title%20sw%20%22T0%22&count=4"
NF=$(j -r .nextCursor)
is "$(j .totalResults)" 7 "filtered cursor query: total"
req GET "/Users?cursor=$NF&filter=title%20sw%20%22T0%22&count=4"
is "$(j .itemsPerPage)" 3 "filtered cursor query: second page"
req GET "/Users?cursor=&startIndex=2"
is "$STATUS" 400 "cursor with startIndex: 400"
req POST /Users/.search '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"cursor":"","count":5}'
is "$(j .itemsPerPage)" 5 ".search with cursor"

# ---- sorting and paging ----
req GET '/Users?sortBy=title&sortOrder=descending&count=2&startIndex=2'
is "$(j '[.Resources[].title]|join(",")')" "T06,T05" "sortBy title descending, second page"
req GET '/Users?sortBy=urn:ietf:params:scim:schemas:extension:acme:2.0:User:level&count=1'
is "$(j '.Resources[0].userName')" user01 "sortBy an extension attribute"
req GET '/Users?sortOrder=sideways'
is "$STATUS" 400 "bad sortOrder: 400"
req GET '/Users?startIndex=0&count=-5'
is "$STATUS" 200 "startIndex 0 and negative count accepted"
is "$(j .startIndex)" 1 "startIndex below 1 means 1"
is "$(j .itemsPerPage)" 0 "negative count means 0"
req GET '/Users?count=5000'
is "$(j .itemsPerPage)" 7 "count above the maximum is capped"

# ---- the plan in the debug log ----
: > "$WORK/error.log"
req GET '/Users?filter=userName%20eq%20%22user03%22'
sleep 0.2
ok $(grep -q 'plan User: index idx_username' "$WORK/error.log"; echo $?) "userName eq uses the index (debug log)"
ok $(grep -q 'plan User: scan' "$WORK/error.log"; [ $? -ne 0 ]; echo $?) "...and did not scan"

: > "$WORK/error.log"
req GET '/Users?filter=userName%20sw%20%22USER0%22%20and%20title%20ne%20%22T02%22'
is "$(j .totalResults)" 6 "userName sw (case-insensitive) and another term"
is "$(j '[.Resources[].userName] | join(",")')" \
    "$(j '[.Resources[] | {id, userName}] | sort_by(.id) | map(.userName) | join(",")')" \
    "...in id order, like every unsorted result"
sleep 0.2
ok $(grep -q 'plan User: prefix idx_username' "$WORK/error.log"; echo $?) "userName sw uses the index (debug log)"
ok $(grep -q 'plan User: scan' "$WORK/error.log"; [ $? -ne 0 ]; echo $?) "...and did not scan"

: > "$WORK/error.log"
req GET '/Users?filter=userName%20eq%20%22user01%22%20or%20userName%20eq%20%22USER05%22%20or%20userName%20sw%20%22user05%22'
is "$(j .totalResults)" 2 "or of indexed terms: the union, without repeats"
is "$(j '[.Resources[].userName] | sort | join(",")')" user01,user05 "...the right two"
sleep 0.2
ok $(grep -q 'plan User: scan' "$WORK/error.log"; [ $? -ne 0 ]; echo $?) "or of indexed terms did not scan"
req GET '/Users?filter=userName%20eq%20%22user01%22%20or%20title%20eq%20%22T05%22'
is "$(j .totalResults)" 2 "or with an unindexed term: still right (scanned)"
req GET '/Users?filter=userName%20sw%20%22nobody%22'
is "$(j .totalResults)" 0 "userName sw with no match"
req GET '/Users?filter=title%20eq%20%22none%22&sortBy=userName'
is "$(j .totalResults)" 0 "sortBy over no match"
done_testing
