#!/bin/bash
# ops.sh: scimctl against a store that lighttpd's scimd processes are
# serving: hot backup under a write load, restore, export/import round
# trip, verify detecting injected damage and reindex repairing it, the
# audit trail, token revocation, read commands.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
DB=$WORK/db

for n in $(seq 1 20); do
	req POST /Users '{"schemas":["'$U'"],"userName":"u'$n'","emails":[{"value":"u'$n'@example.com"}],"active":true}'
done
UID1=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/Users?filter=userName%20eq%20%22u1%22" | jq -r '.Resources[0].id')
req POST /Groups '{"schemas":["'$G'"],"displayName":"g","members":[{"value":"'$UID1'"}]}'
GID=$(j .id)

# Hot backup while a writer runs.
( for n in $(seq 100 160); do
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
	  --data-binary '{"schemas":["'$U'"],"userName":"load'$n'"}' "$BASE/Users"
  done ) &
LOADER=$!
sleep 0.2
before=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=0" | jq .totalResults)
"$SCIMCTL" --db "$DB" backup "$WORK/bk" >/dev/null
ok $? "backup while writes go on"
wait $LOADER
"$SCIMCTL" --db "$WORK/bk" verify >/dev/null
ok $? "the backup verifies"
inbk=$("$SCIMCTL" --db "$WORK/bk" export users | wc -l)
ok $([ "$inbk" -ge "$before" ]; echo $?) "backup holds every write acknowledged before it ($inbk >= $before)"

# Restore into the live store: scimd sees the backup's content.
"$SCIMCTL" --db "$DB" restore "$WORK/bk" >/dev/null
ok $? "restore from the backup"
req GET '/Users?count=0'
is "$(j .totalResults)" "$inbk" "scimd serves the restored content"
req GET "/Groups/$GID"
is "$(j '.members[0].value')" "$UID1" "memberships restored"

# Restore keeps the live tokens and the trail's numbering.
TPRE=$("$SCIMCTL" --db "$DB" token add pre 2>/dev/null | tail -n 1)
"$SCIMCTL" --db "$DB" backup "$WORK/bk2" >/dev/null
BKSEQ=$("$SCIMCTL" --db "$WORK/bk2" audit | tail -n 1 | jq .seq)
"$SCIMCTL" --db "$DB" token revoke pre >/dev/null
TPOST=$("$SCIMCTL" --db "$DB" token add post 2>/dev/null | tail -n 1)
req POST /Users '{"schemas":["'$U'"],"userName":"after-backup"}'
VMAX=$(j .meta.version | tr -dc 0-9)
LAST=$("$SCIMCTL" --db "$DB" audit | tail -n 1 | jq .seq)
"$SCIMCTL" --db "$DB" restore "$WORK/bk2" > "$WORK/restore.out" 2> "$WORK/restore.err"
ok $? "restore of a backup older than the tokens"
ok $([ ! -s "$WORK/restore.err" ]; echo $?) "...quietly (no warning without --with-tokens)"
rawreq -H "Authorization: Bearer $TPRE" "$BASE/Users?count=0"
is "$STATUS" 401 "a token revoked after the backup stays revoked"
rawreq -H "Authorization: Bearer $TPOST" "$BASE/Users?count=0"
is "$STATUS" 200 "a token made after the backup keeps working"
req GET '/Users?filter=userName%20eq%20%22after-backup%22'
is "$(j .totalResults)" 0 "the user made after the backup is gone (the data did go back)"
"$SCIMCTL" --db "$DB" audit --after "$LAST" > "$WORK/after-restore"
is "$(jq -r '.op + " " + .type + " " + .tokens' < "$WORK/after-restore")" "restore Store kept" "a follower at the last sequence sees one restore entry"
RSEQ=$(jq .seq < "$WORK/after-restore")
ok $([ "$RSEQ" -gt "$LAST" ] && [ "$RSEQ" -gt "$BKSEQ" ]; echo $?) "its sequence ($RSEQ) is above the live trail's ($LAST) and the backup's ($BKSEQ)"
ok $("$SCIMCTL" --db "$DB" audit --id pre | jq -r .op | grep -q token-revoke; echo $?) "the live trail is kept: the revocation made after the backup is still in it"
req POST /Users '{"schemas":["'$U'"],"userName":"after-restore"}'
V=$(j .meta.version | tr -dc 0-9)
ok $([ "$V" -gt "$VMAX" ]; echo $?) "versions keep growing: $V > $VMAX (no ETag handed out twice)"
is "$("$SCIMCTL" --db "$DB" audit | tail -n 1 | jq .seq)" $((RSEQ + 1)) "the next change follows the restore entry"
"$SCIMCTL" --db "$DB" restore --with-tokens "$WORK/bk2" > /dev/null 2> "$WORK/restore.err"
ok $? "restore --with-tokens"
ok $(grep -q 'WARNING.*tokens REPLACE.*revoked since the backup WORK AGAIN' "$WORK/restore.err"; echo $?) "...says loudly what it does"
rawreq -H "Authorization: Bearer $TPRE" "$BASE/Users?count=0"
is "$STATUS" 200 "...the backup's token works again"
rawreq -H "Authorization: Bearer $TPOST" "$BASE/Users?count=0"
is "$STATUS" 401 "...and the newer one does not"
is "$("$SCIMCTL" --db "$DB" audit | tail -n 1 | jq -r .tokens)" restored "...and the trail says so"
"$SCIMCTL" --db "$DB" token revoke pre > /dev/null
"$SCIMCTL" --db "$DB" restore "$WORK/bk" > /dev/null

# Private files whatever the umask or the target folder: backups, exports
# and new stores are 0600 files in 0700 folders.
mode() { stat -c %a "$1"; }
(umask 000; "$SCIMCTL" --db "$WORK/fresh" init > /dev/null)
is "$(mode "$WORK/fresh") $(mode "$WORK/fresh/data.mdb") $(mode "$WORK/fresh/lock.mdb")" "700 600 600" "umask 000: a new store is 0700 with 0600 files"
(umask 000; "$SCIMCTL" --db "$DB" backup "$WORK/bk-umask" > /dev/null)
is "$(mode "$WORK/bk-umask") $(mode "$WORK/bk-umask/data.mdb")" "700 600" "umask 000: a backup is a 0600 file in a 0700 folder"
mkdir -m 0755 "$WORK/bk-wide"
(umask 000; "$SCIMCTL" --db "$DB" backup "$WORK/bk-wide" > /dev/null 2> "$WORK/wide.err")
ok $? "a backup into an existing empty 0755 folder"
is "$(mode "$WORK/bk-wide") $(mode "$WORK/bk-wide/data.mdb")" "700 600" "...makes the folder 0700, the file 0600"
ok $(grep -q 'was mode 0755; made it 0700' "$WORK/wide.err"; echo $?) "...and says so"
mkdir -m 0755 "$WORK/shared"; touch "$WORK/shared/other-file"
(umask 000; "$SCIMCTL" --db "$DB" backup "$WORK/shared" > /dev/null 2> "$WORK/shared.err")
is "$?" 1 "a backup into a folder holding other files is refused"
ok $([ ! -e "$WORK/shared/data.mdb" ] && [ "$(mode "$WORK/shared")" = 755 ]; echo $?) "...writing nothing, leaving the folder alone"
ok $(grep -q 'is not empty' "$WORK/shared.err"; echo $?) "...saying why"
(umask 000; "$SCIMCTL" --db "$DB" export "$WORK/exp.ndjson")
is "$(mode "$WORK/exp.ndjson")" 600 "umask 000: an export file is 0600"
install -m 0644 /dev/null "$WORK/exp-old.ndjson"
(umask 000; "$SCIMCTL" --db "$DB" export "$WORK/exp-old.ndjson")
is "$(mode "$WORK/exp-old.ndjson")" 600 "an existing 0644 export file becomes 0600"
head -n 1 "$WORK/exp.ndjson" > "$WORK/one.ndjson"
(umask 000; "$SCIMCTL" --db "$WORK/fresh2" import "$WORK/one.ndjson" > /dev/null)
is "$(mode "$WORK/fresh2") $(mode "$WORK/fresh2/data.mdb")" "700 600" "umask 000: a store made by import is private too"
mkdir -m 0777 "$WORK/fresh3"
(umask 000; "$SCIMCTL" --db "$WORK/fresh3" init > /dev/null 2>&1)
is "$(mode "$WORK/fresh3") $(mode "$WORK/fresh3/data.mdb")" "700 600" "init in an existing empty 0777 folder: 0700 and 0600"
mkdir -m 0755 "$WORK/site"; touch "$WORK/site/index.php"
(umask 000; "$SCIMCTL" --db "$WORK/site" init > /dev/null 2> "$WORK/site.err")
ok $? "init in a folder holding other files works (hosting: the store beside the script)"
is "$(mode "$WORK/site") $(mode "$WORK/site/data.mdb") $(mode "$WORK/site/lock.mdb")" "755 600 600" "...the admin's folder left alone, the store's files 0600"
ok $(grep -q 'is mode 0755 and holds other files: left as it is' "$WORK/site.err"; echo $?) "...with a note"

# Export, import into an empty store: identical resources.
"$SCIMCTL" --db "$DB" export > "$WORK/all.ndjson"
ok $? "export"
"$SCIMCTL" --db "$WORK/copy" import "$WORK/all.ndjson" > "$WORK/import.out"
ok $? "import into an empty store"
"$SCIMCTL" --db "$WORK/copy" export > "$WORK/again.ndjson"
is "$(jq -cS . < "$WORK/again.ndjson" | sort | md5sum)" "$(jq -cS . < "$WORK/all.ndjson" | sort | md5sum)" "export/import round trip reproduces the resources, meta.version included"
is "$(sort "$WORK/again.ndjson" | md5sum)" "$(sort "$WORK/all.ndjson" | md5sum)" "export, import, export: byte-identical, meta.version included (every ETag stays)"
ok $([ "$(jq -r .meta.version < "$WORK/all.ndjson" | sort -u | wc -l)" -gt 1 ]; echo $?) "...over records of several versions"
VTOP=$(jq -r .meta.version < "$WORK/all.ndjson" | tr -dc '0-9\n' | sort -n | tail -n 1)
printf '{"schemas":["%s"],"userName":"after-import"}\n' "$U" > "$WORK/one.ndjson"
"$SCIMCTL" --db "$WORK/copy" import "$WORK/one.ndjson" > /dev/null
V=$("$SCIMCTL" --db "$WORK/copy" export users | jq -r 'select(.userName == "after-import") | .meta.version' | tr -dc 0-9)
ok $([ "$V" -gt "$VTOP" ]; echo $?) "a version made after the import is above every imported one: $V > $VTOP"
printf '{"schemas":["%s"]}\n{"schemas":["%s"],"userName":"ok1"}\n' "$U" "$U" > "$WORK/bad.ndjson"
"$SCIMCTL" --db "$WORK/copy2" import --atomic "$WORK/bad.ndjson" > /dev/null 2> "$WORK/imp.err"
ok $([ $? -ne 0 ]; echo $?) "import --atomic with a bad record fails"
ok $(grep -q 'line 1' "$WORK/imp.err"; echo $?) "the reject names its line"
n=$("$SCIMCTL" --db "$WORK/copy2" export 2>/dev/null | wc -l)
is "$n" 0 "--atomic imported nothing"

# Damage the store with LMDB's own tools; verify sees it, reindex mends it.
if command -v mdb_load >/dev/null; then
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n nobody@example.com\n 00000000-0000-4000-8000-000000000000\nDATA=END\n' > "$WORK/dangling"
	mdb_load -s idx_email -f "$WORK/dangling" "$DB"
	"$SCIMCTL" --db "$DB" verify > "$WORK/verify.out"
	ok $([ $? -ne 0 ]; echo $?) "verify detects a dangling index entry"
	"$SCIMCTL" --db "$DB" reindex > /dev/null
	"$SCIMCTL" --db "$DB" verify > /dev/null
	ok $? "reindex repairs it"
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n 11111111-1111-4111-8111-111111111111\n {"schemas":["%s"],"id":"11111111-1111-4111-8111-111111111111","userName":"sneaky","meta":{"resourceType":"User","version":"v1"}}\nDATA=END\n' "$U" > "$WORK/orphan"
	mdb_load -s users -f "$WORK/orphan" "$DB"
	"$SCIMCTL" --db "$DB" verify > /dev/null
	ok $([ $? -ne 0 ]; echo $?) "verify detects a record missing from its index"
	"$SCIMCTL" --db "$DB" reindex > /dev/null
	req GET '/Users?filter=userName%20eq%20%22SNEAKY%22'
	is "$(j .totalResults)" 1 "after reindex the record is found by its index"
	# A stale unique key: "u3" -> u4's id.  The filter trusts the index.
	UID3=$("$SCIMCTL" --db "$DB" user find u3 | jq -r .id)
	UID4=$("$SCIMCTL" --db "$DB" user find u4 | jq -r .id)
	printf 'u3\n%s\n' "$UID4" | mdb_load -T -s idx_username "$DB"
	req GET '/Users?filter=userName%20eq%20%22u3%22'
	is "$(j '.Resources[0].userName')" u4 "a stale userName key makes the filter return the wrong user"
	# A dangling member and a one-way membership, each direction.
	printf '%s\n%s\n%s\n%s\n' "$GID" 00000000-0000-4000-8000-00000000dead "$GID" "$UID3" | mdb_load -T -s members "$DB"
	printf '%s\n%s\n' "$UID4" "$GID" | mdb_load -T -s memberof "$DB"
	"$SCIMCTL" --db "$DB" verify > "$WORK/verify.out"
	ok $([ $? -eq 1 ]; echo $?) "verify: exit 1 on the damage"
	grep -q "^stale index entry: idx_username: \"u3\" -> $UID4" "$WORK/verify.out"
	ok $? "verify names the stale userName key"
	grep -q "^missing index entry: idx_username: user $UID3 has userName \"u3\"" "$WORK/verify.out"
	ok $? "...and u3's missing one"
	grep -q "^dangling membership: members: group $GID -> member 00000000-0000-4000-8000-00000000dead" "$WORK/verify.out"
	ok $? "verify names the dangling member"
	grep -q "^one-way membership: members: group $GID lists member $UID3" "$WORK/verify.out"
	ok $? "verify names the one-way membership (members only)"
	grep -q "^one-way membership: memberof: member $UID4 names group $GID" "$WORK/verify.out"
	ok $? "verify names the one-way membership (memberof only)"
	is "$(tail -n 1 "$WORK/verify.out")" "5 problems found" "verify counts 5 problems"
	"$SCIMCTL" --db "$DB" reindex > "$WORK/reindex.out"
	ok $? "reindex: exit 0"
	is "$(tail -n 1 "$WORK/reindex.out")" "5 problems found, 5 repaired" "reindex repairs all 5"
	"$SCIMCTL" --db "$DB" verify > /dev/null
	ok $? "verify is clean after reindex"
	req GET '/Users?filter=userName%20eq%20%22u3%22'
	is "$(j '.totalResults') $(j '.Resources[0].id')" "1 $UID3" "the filter returns the right user"
	req GET "/Groups/$GID"
	is "$(j '[.members[].value] | sort | join(",")')" "$(printf '%s\n' "$UID1" "$UID3" | sort | paste -sd,)" "the group: its members, the dangling one gone, the one-way one kept (members is authoritative)"
	req GET "/Users/$UID3"
	is "$(j '.groups[0].value')" "$GID" "...and the kept member's groups name the group"
	req GET "/Users/$UID4"
	is "$(j '.groups | length')" 0 "...and the memberof-only entry is gone"
else
	echo "Bail out! mdb_load (lmdb-utils) is needed"; exit 1
fi

# Audit trail: changes with the token's name, in order.
req PATCH "/Users/$UID1" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}'
"$SCIMCTL" --db "$DB" audit --id "$UID1" > "$WORK/audit"
is "$(tail -n 1 "$WORK/audit" | jq -r .op)" patch "audit records the PATCH"
is "$(tail -n 1 "$WORK/audit" | jq -r .token)" e2e "audit names the token"
S=$(tail -n 1 "$WORK/audit" | jq .seq)
sleep 1.1	# a second boundary between the PATCH and the DELETE
T=$(date -u +%Y-%m-%dT%H:%M:%SZ)
req DELETE "/Users/$UID1"
is "$("$SCIMCTL" --db "$DB" audit --after "$S" | jq -r .op | tail -n 1)" delete "changes since a sequence number"
all=$("$SCIMCTL" --db "$DB" audit | wc -l)
is "$("$SCIMCTL" --db "$DB" audit --since 1h | wc -l)" "$all" "audit --since 1h: every entry of this test"
is "$("$SCIMCTL" --db "$DB" audit --since "$(date -u -d tomorrow +%Y-%m-%d)" | wc -l)" 0 "audit --since tomorrow: none"
"$SCIMCTL" --db "$DB" audit --since "$T" > "$WORK/since"
is "$(jq -r .op < "$WORK/since" | sort -u | tr '\n' ' ')" "delete " "audit --since $T (just before the DELETE): the DELETE, nothing older"
is "$(jq -r .seq < "$WORK/since" | head -n 1)" $((S + 1)) "...starting right after the PATCH's entry"
"$SCIMCTL" --db "$DB" audit --since yesterdayish > /dev/null 2> "$WORK/err"
is "$?" 1 "audit --since with a bad time: exit 1"
ok $(grep -q -- '--since takes a time ago' "$WORK/err"; echo $?) "...saying what it takes"

# Every command has --help: its usage on stdout, exit 0, no store needed.
for c in init token backup verify reindex stats export import restore user group audit watch; do
	out=$("$SCIMCTL" --db "$WORK/no-such-store" $c --help 2>&1)
	rc=$?
	ok $([ $rc -eq 0 ] && echo "$out" | grep -q "^  $c" && [ ! -e "$WORK/no-such-store" ]; echo $?) "scimctl $c --help"
done
"$SCIMCTL" --help | grep -q 'Exit status: 0 done, 1 failed'
ok $? "scimctl --help: every command and the exit statuses"
"$SCIMCTL" --db "$DB" frobnicate > /dev/null 2>&1
is "$?" 2 "an unknown command: exit 2"

# Read commands and stats.
"$SCIMCTL" --db "$DB" user find U2@EXAMPLE.COM > "$WORK/find"
is "$(jq -r .userName < "$WORK/find")" u2 "user find by email"
"$SCIMCTL" --db "$DB" stats > "$WORK/stats"
ok $(grep -q '^users ' "$WORK/stats"; echo $?) "stats prints counts"

# Token revocation takes effect at once.
T2=$("$SCIMCTL" --db "$DB" token add second 2>/dev/null | tail -n 1)
rawreq -H "Authorization: Bearer $T2" "$BASE/Users?count=0"
is "$STATUS" 200 "new token works"
"$SCIMCTL" --db "$DB" token revoke second >/dev/null
rawreq -H "Authorization: Bearer $T2" "$BASE/Users?count=0"
is "$STATUS" 401 "revoked token refused"
"$SCIMCTL" --db "$DB" token list | grep -q '^e2e'
ok $? "token list"

# Tokens may expire.
T3=$("$SCIMCTL" --db "$DB" token add brief --expires 3s 2>/dev/null | tail -n 1)
rawreq -H "Authorization: Bearer $T3" "$BASE/Users?count=0"
is "$STATUS" 200 "a token within its lifetime works"
ok $("$SCIMCTL" --db "$DB" token list | grep -qE '^brief	[^	]+	20[0-9-]+T[0-9:.]+Z$'; echo $?) "token list shows the expiry"
sleep 3.2
rawreq -H "Authorization: Bearer $T3" "$BASE/Users?count=0"
is "$STATUS" 401 "an expired token is refused"
is "$(jq -r .detail < "$BODY")" "The bearer token has expired." "...saying it expired"
"$SCIMCTL" --db "$DB" token add stale --expires 2001-01-01 >/dev/null 2>&1
is $? 1 "an expiry in the past is refused"
"$SCIMCTL" --db "$DB" token add odd --expires 5x >/dev/null 2>&1
is $? 1 "a lifetime without a unit we know is refused"
"$SCIMCTL" --db "$DB" token list | grep -q '^stale\|^odd'
is $? 1 "...and neither token was made"

# A flood of bad tokens does not flood the log: 10 lines a second per
# process, the rest counted.
sleep 1
before=$(grep -c ' 401 ' "$WORK/error.log")
for i in $(seq 1 80); do
	curl -s -o /dev/null -H "Authorization: Bearer wrong$i" "$BASE/Users?count=0"
done
sleep 0.3
logged=$(( $(grep -c ' 401 ' "$WORK/error.log") - before ))
ok $([ "$logged" -ge 10 ] && [ "$logged" -lt 80 ]; echo $?) "80 refused authentications, $logged logged"
sleep 1.1
for i in $(seq 1 20); do
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=0"
done
sleep 0.3
ok $(grep -q 'refused authentications not logged (limit 10 a second)' "$WORK/error.log"; echo $?) "the rest are counted in one line"
done_testing
