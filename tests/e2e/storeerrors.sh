#!/bin/bash
# storeerrors.sh: a failed read of the store is answered as one (503,
# RFC 7644's error body), never as "not there": with the token_hash
# database broken under the running scimd processes, a valid token gets
# 503, not 401; with users broken, a group's new member gets 503, not
# 400 "not a known User", and a filter by id gets 503, not an empty list.
# The databases are broken by tests/lmdb_break, a second LMDB writer.
. "$(dirname "$0")/lib.sh"
BREAK="$top_builddir/tests/lmdb_break"
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'

start_lighttpd /scim/v2
req POST /Users '{"schemas":["'$U'"],"userName":"still-here"}'
is "$STATUS" 201 "a user"
uid=$(j .id)
req POST /Groups '{"schemas":["'$G'"],"displayName":"g"}'
is "$STATUS" 201 "a group"
gid=$(j .id)
# Every scimd process lighttpd runs has the store open and has served.
for i in 1 2 3 4; do req GET "/Users/$uid"; done
is "$STATUS" 200 "the user is there"

"$BREAK" "$WORK/db" users
ok $? "users broken by another process"
req PATCH "/Groups/$gid" '{"schemas":["'$P'"],"Operations":[{"op":"add","path":"members","value":[{"value":"'$uid'"}]}]}'
is "$STATUS" 503 "adding a member when users cannot be read: 503, not 400"
is "$(j .status)" 503 "...a SCIM error body"
req GET "/Groups?filter=id%20eq%20%22$gid%22"
is "$STATUS" 200 "groups can still be read"
req GET "/Users?filter=id%20eq%20%22$uid%22"
is "$STATUS" 503 "a filter by id when users cannot be read: 503, not an empty list"

"$BREAK" "$WORK/db" token_hash
ok $? "token_hash broken by another process"
for i in 1 2 3 4; do
	req GET /ServiceProviderConfig
	is "$STATUS" 503 "a valid token when tokens cannot be read: 503, not 401 ($i)"
done
done_testing
