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

# ---- 1. userName: refusals and the RFC 8265 comparison ----
for bad in '' ' ' '\t' '\u3000' 'ad\u200bmin' '\u202enimda' 'a\u0001b' '\ufeffadmin'; do
	req POST /Users '{"schemas":["'$U'"],"userName":"'"$bad"'"}'
	is "$STATUS/$(j .scimType)" 400/invalidValue "POST userName \"$bad\": 400 invalidValue"
done
req GET "/Users?filter=$(uri 'userName eq ""')"
is "$(j .totalResults)" 0 'no user named "" was made'
W=$(mkuser admin-w)
for bad in '' '  ' 'x\u200by'; do
	req PUT "/Users/$W" '{"schemas":["'$U'"],"userName":"'"$bad"'"}'
	is "$STATUS/$(j .scimType)" 400/invalidValue "PUT userName \"$bad\": 400 invalidValue"
	req PATCH "/Users/$W" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"userName","value":"'"$bad"'"}]}'
	is "$STATUS/$(j .scimType)" 400/invalidValue "PATCH path userName \"$bad\": 400 invalidValue"
	req PATCH "/Users/$W" '{"schemas":["'$P'"],"Operations":[{"op":"replace","value":{"userName":"'"$bad"'"}}]}'
	is "$STATUS/$(j .scimType)" 400/invalidValue "PATCH no-path userName \"$bad\": 400 invalidValue"
done
req GET "/Users/$W"
is "$(j -r .userName)" admin-w "the refused writes changed nothing"
# Fullwidth ＡＤＭＩＮ-Ｗ is admin-w: Okta's existence check finds it, a
# create is 409.
FW='\uff21\uff24\uff2d\uff29\uff2e-\uff37'
req GET "/Users?filter=$(uri "userName eq \"$(printf "$FW")\"")&startIndex=1&count=100"
is "$(j -r '.Resources[0].id')" "$W" "filter userName eq FULLWIDTH ADMIN-W finds admin-w"
req POST /Users '{"schemas":["'$U'"],"userName":"'$FW'"}'
is "$STATUS/$(j .scimType)" 409/uniqueness "POST FULLWIDTH ADMIN-W next to admin-w: 409 uniqueness"
# scimctl import goes through the same validation.
printf '%s\n' '{"schemas":["'$U'"],"userName":"imp-ok"}' \
    '{"schemas":["'$U'"],"userName":"imp\u200bbad"}' \
    '{"schemas":["'$U'"],"userName":"   "}' > "$WORK/imp.ndjson"
"$SCIMCTL" --db "$WORK/db" import "$WORK/imp.ndjson" > "$WORK/imp.out" 2> "$WORK/imp.err"
is "$(grep -c 'rejected: attribute userName' "$WORK/imp.err")" 2 "scimctl import rejects the two bad userNames"
req GET "/Users?filter=$(uri 'userName sw "imp"')"
is "$(j -r '[.Resources[].userName] | join(",")')" imp-ok "only the good one was imported"

# ---- 1. a store of layout 1 is migrated when opened ----
# layout1 DIR ID NAME...: records and idx_username keys as layout 1 wrote
# them (case folding + NFC, no width mapping), layout "1", with LMDB.
layout1() {
	/usr/bin/python3 - "$@" <<'PY'
import json, lmdb, sys, unicodedata
d, pairs = sys.argv[1], sys.argv[2:]
env = lmdb.open(d, max_dbs=32)
with env.begin(write=True) as t:
    users = env.open_db(b'users', txn=t, create=False)
    idx = env.open_db(b'idx_username', txn=t, create=False)
    meta = env.open_db(b'meta', txn=t, create=False)
    for i in range(0, len(pairs), 2):
        uid, name = pairs[i], pairs[i + 1]
        rec = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "id": uid, "userName": name,
               "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00.000Z",
                        "lastModified": "2026-01-01T00:00:00.000Z", "version": 'W/"1"'}}
        t.put(uid.encode(), json.dumps(rec, separators=(',', ':'), ensure_ascii=False).encode(), db=users)
        key = unicodedata.normalize('NFC', name.casefold()).encode()
        assert t.put(key, uid.encode(), db=idx, overwrite=False)
    t.put(b'layout', b'1', db=meta)
PY
}
cgi() {	# cgi DB QUERY: one GET /Users?QUERY through scimd as plain CGI
	env -i SCIMD_DB="$1" SCIMD_ALLOW_ROOT=yes GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
	    SCRIPT_NAME=/scim/v2 PATH_INFO=/Users REQUEST_URI="/scim/v2/Users?$2" \
	    QUERY_STRING="$2" SERVER_NAME=127.0.0.1 SERVER_PORT=80 HTTP_HOST=127.0.0.1 \
	    HTTP_AUTHORIZATION="Bearer $OLDTOKEN" "$SCIMD" < /dev/null > "$WORK/cgi.out" 2> "$WORK/cgi.err"
	sed -n '/^\r\{0,1\}$/,$p' "$WORK/cgi.out" | tail -n +2 > "$BODY"
	STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$WORK/cgi.out" | head -n 1)
}
IA=aaaaaaaa-0000-4000-8000-000000000001
IB=bbbbbbbb-0000-4000-8000-000000000002
FWADMIN=$(printf '\357\274\241\357\274\244\357\274\255\357\274\251\357\274\256')
OLD=$WORK/old
OLDTOKEN=$("$SCIMCTL" --db "$OLD" token add old 2>/dev/null | tail -n 1)
layout1 "$OLD" "$IA" "$FWADMIN"
ok $? "a layout 1 store written with LMDB (user FULLWIDTH ADMIN)"
cgi "$OLD" "filter=$(uri 'userName eq "admin"')"
is "$STATUS" 200 "scimd (CGI) opens the layout 1 store"
is "$(j -r '.Resources[0].id')" "$IA" "...migrated: userName eq admin finds FULLWIDTH ADMIN"
is "$("$SCIMCTL" --db "$OLD" migrate)" "store at layout 4: nothing to migrate" "scimctl migrate: already done"

CLASH=$WORK/clash
OLDTOKEN=$("$SCIMCTL" --db "$CLASH" token add old 2>/dev/null | tail -n 1)
layout1 "$CLASH" "$IA" "$FWADMIN" "$IB" Admin
cgi "$CLASH" "filter=$(uri 'userName eq "admin"')"
is "$STATUS" 503 "a layout 1 store whose names collide under RFC 8265: scimd refuses it (503)"
grep -q "$IA" "$WORK/cgi.err" && grep -q "$IB" "$WORK/cgi.err" && grep -q "user rename" "$WORK/cgi.err"
ok $? "scimd's log names both ids and the command"
"$SCIMCTL" --db "$CLASH" migrate > "$WORK/mig.out" 2> "$WORK/mig.err"
is "$?" 1 "scimctl migrate fails on the collision"
grep "^problem:" "$WORK/mig.out" | grep -q "$IA.*$IB"
ok $? "scimctl migrate lists the collision with both ids"
"$SCIMCTL" --db "$CLASH" user rename "$IB" admin2 > /dev/null
ok $? "scimctl user rename on the unmigrated store"
is "$("$SCIMCTL" --db "$CLASH" migrate)" "store migrated from layout 1 to 4" "scimctl migrate then succeeds"
cgi "$CLASH" "filter=$(uri 'userName eq "ADMIN2"')"
is "$STATUS/$(j -r '.Resources[0].id')" "200/$IB" "scimd serves it: admin2 is the renamed user"
cgi "$CLASH" "filter=$(uri 'userName eq "admin"')"
is "$(j -r '.Resources[0].id')" "$IA" "...and admin is FULLWIDTH ADMIN"
# A name an older scimd accepted and the API now refuses: noted.
NOTE=$WORK/note
OLDTOKEN=$("$SCIMCTL" --db "$NOTE" token add old 2>/dev/null | tail -n 1)
layout1 "$NOTE" "$IA" "$(printf 'ad\342\200\213min')"
"$SCIMCTL" --db "$NOTE" migrate > "$WORK/note.out"
ok $? "scimctl migrate of a store holding a zero-width userName succeeds"
grep -q "^note: user $IA: its userName holds the invisible format character U+200B" "$WORK/note.out"
ok $? "...and notes the user whose name is now refused"

done_testing
