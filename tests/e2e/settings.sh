#!/bin/bash
# settings.sh: scimctl reads the site's settings as scimd does (-c FILE,
# $SCIMD_CONF; --db overrides the store): the extension schema (import
# of records carrying it), password = argon2id (an imported password is
# hashed), audit_keep (scimctl's own writes trim the trail); export,
# import and export again are identical, meta.version included.
. "$(dirname "$0")/lib.sh"
W0=$(mktemp -d /tmp/scimd-settings.XXXXXX)
cat > "$W0/acme.json" <<'JSON'
{"id":"urn:ietf:params:scim:schemas:extension:acme:2.0:User","name":"AcmeUser",
 "description":"Acme custom attributes","resourceType":"User",
 "attributes":[
  {"name":"badge","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readWrite","returned":"default","uniqueness":"none"}]}
JSON
cat > "$W0/scimd.conf" <<CONF
schemas = $W0/acme.json
password = argon2id
audit_keep = 10
CONF
[ -n "${SCIMD_CONF_FILE:-}" ] && cat "$SCIMD_CONF_FILE" >> "$W0/scimd.conf"
SCIMD_CONF_FILE=$W0/scimd.conf
start_lighttpd /scim/v2
trap 'stop_servers; rm -rf "$W0"' EXIT
echo "db = $WORK/db" >> "$W0/scimd.conf"
CONF=$W0/scimd.conf
unset SCIMD_CONF SCIMD_DB
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
A='urn:ietf:params:scim:schemas:extension:acme:2.0:User'

for n in 1 2 3 4; do
	req POST /Users '{"schemas":["'$U'","'$A'"],"userName":"acme'$n'","'$A'":{"badge":"B'$n'"}}'
done
ID4=$(j .id)
req PATCH "/Users/$ID4" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Boss"}]}'
req POST /Groups '{"schemas":["'$G'"],"displayName":"acme-all","members":[{"value":"'$ID4'"}]}'

# The store from the settings; --db overrides it.
is "$("$SCIMCTL" -c "$CONF" stats | awk '$1 == "users" {print $2; exit}')" 4 "scimctl -c FILE: the store named in the settings"
"$SCIMCTL" --db "$WORK/empty" init > /dev/null
is "$("$SCIMCTL" -c "$CONF" --db "$WORK/empty" stats | awk '$1 == "users" {print $2; exit}')" 0 "...--db overrides it"
is "$(SCIMD_CONF=$CONF "$SCIMCTL" stats | awk '$1 == "users" {print $2; exit}')" 4 "...\$SCIMD_CONF is read as scimd reads it"
"$SCIMCTL" -c "$W0/no-such.conf" stats > /dev/null 2> "$WORK/err"
is "$?" 1 "settings that cannot be read: exit 1"
ok $(grep -q 'no-such.conf' "$WORK/err"; echo $?) "...naming the file"

# Export, import, export: identical, versions included.
"$SCIMCTL" -c "$CONF" export > "$WORK/one.ndjson"
is "$(grep -c "\"$A\"" "$WORK/one.ndjson")" 4 "the export carries the extension"
"$SCIMCTL" --db "$WORK/plain" import "$WORK/one.ndjson" > /dev/null 2> "$WORK/plain.err"
ok $([ $? -ne 0 ] && grep -q 'rejected' "$WORK/plain.err"; echo $?) "without the site's settings, import rejects the extension records"
"$SCIMCTL" -c "$CONF" --db "$WORK/copy" import "$WORK/one.ndjson" > "$WORK/imp.out"
ok $? "with -c, import accepts them"
is "$(cat "$WORK/imp.out")" "5 imported, 0 rejected" "...every record"
"$SCIMCTL" -c "$CONF" --db "$WORK/copy" export > "$WORK/two.ndjson"
is "$(md5sum < "$WORK/two.ndjson")" "$(md5sum < "$WORK/one.ndjson")" "export, import, export: byte for byte identical (meta.version included)"
SCIMD_CONF=$CONF "$SCIMCTL" --db "$WORK/copy2" import "$WORK/two.ndjson" > /dev/null
SCIMD_CONF=$CONF "$SCIMCTL" --db "$WORK/copy2" export > "$WORK/three.ndjson"
is "$(md5sum < "$WORK/three.ndjson")" "$(md5sum < "$WORK/one.ndjson")" "...and once more through \$SCIMD_CONF"
is "$(jq -r "select(.id == \"$ID4\") | .meta.version" < "$WORK/two.ndjson")" "$(jq -r "select(.id == \"$ID4\") | .meta.version" < "$WORK/one.ndjson")" "a patched user keeps its version (its ETag)"
max=$(jq -r .meta.version < "$WORK/one.ndjson" | tr -dc '0-9\n' | sort -n | tail -n 1)
printf '{"schemas":["%s"],"userName":"newcomer"}\n' "$U" > "$WORK/new.ndjson"
"$SCIMCTL" -c "$CONF" --db "$WORK/copy" import "$WORK/new.ndjson" > /dev/null
v=$("$SCIMCTL" --db "$WORK/copy" user find newcomer | jq -r .meta.version | tr -dc 0-9)
ok $([ "$v" -gt "$max" ]; echo $?) "a record imported after them gets a higher version ($v > $max)"
"$SCIMCTL" --db "$WORK/copy" verify > /dev/null
ok $? "the copy verifies (version counter not behind)"

# password = argon2id: an imported password is hashed, never stored clear.
printf '{"schemas":["%s"],"userName":"pw","password":"Correct-Horse-9"}\n' "$U" > "$WORK/pw.ndjson"
"$SCIMCTL" -c "$CONF" --db "$WORK/pw" import "$WORK/pw.ndjson" > /dev/null
is "$("$SCIMCTL" --db "$WORK/pw" stats | awk '$1 == "passwords" {print $2}')" 1 "password = argon2id: the imported password is kept, hashed"
ok $(grep -q 'Correct-Horse-9' "$WORK/pw/data.mdb"; [ $? -ne 0 ]; echo $?) "...never in data.mdb in clear"
ok $(grep -aq '\$argon2id\$' "$WORK/pw/data.mdb"; echo $?) "...as an Argon2id string"
"$SCIMCTL" --db "$WORK/pw-plain" import "$WORK/pw.ndjson" > /dev/null
is "$("$SCIMCTL" --db "$WORK/pw-plain" stats | awk '$1 == "passwords" {print $2}')" 0 "without the setting, it is discarded (scimd's default)"

# audit_keep: scimctl's own writes trim the trail too.
for n in $(seq 1 15); do "$SCIMCTL" -c "$CONF" token add "t$n" > /dev/null 2>&1; done
n=$("$SCIMCTL" -c "$CONF" audit | wc -l)
ok $([ "$n" -le 10 ]; echo $?) "audit_keep = 10: after 15 token adds by scimctl the trail holds $n entries"
ok $("$SCIMCTL" -c "$CONF" audit | tail -n 1 | jq -r .id | grep -qx t15; echo $?) "...the newest kept"
# ...and so do its imports (the operations layer, as scimd's writes do).
for n in $(seq 1 30); do printf '{"schemas":["%s"],"userName":"bulk-import-%d"}\n' "$U" "$n"; done > "$WORK/many.ndjson"
"$SCIMCTL" -c "$CONF" --db "$WORK/trail" import "$WORK/many.ndjson" > /dev/null
n=$("$SCIMCTL" --db "$WORK/trail" audit | wc -l)
ok $([ "$n" -le 10 ] && [ "$n" -gt 0 ]; echo $?) "audit_keep = 10: after importing 30 users the trail holds $n entries"
is "$("$SCIMCTL" --db "$WORK/trail" audit | tail -n 1 | jq -r .op)" import "...import entries, the newest kept"

done_testing
