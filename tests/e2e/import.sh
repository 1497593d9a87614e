#!/bin/bash
# import.sh: scimctl import across batches (it reads the next batch in
# one thread while it writes the last in another): every record of a
# 25,000-user stream stored once, rejected lines counted, a write that
# fails in the second batch stops the import with what came before
# kept, memberships whose members come later, a ListResponse on a later
# line and a multi-line ListResponse; verify finds the store consistent.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"
WORK=$(mktemp -d /tmp/scimd-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
SCIMCTL="$top_builddir/src/scimctl"

users() {	# users FIRST LAST: NDJSON users uFIRST..uLAST
	awk -v a="$1" -v b="$2" -v u="$U" 'BEGIN { for (i = a; i <= b; i++)
	    printf "{\"schemas\":[\"%s\"],\"userName\":\"u%06d\",\"emails\":[{\"value\":\"u%06d@x.org\"}]}\n", u, i, i }'
}
count() {	# count DB TYPE
	"$SCIMCTL" --db "$1" export "$2" | wc -l
}

# 25,000 users, three bad lines among them (two in the second batch).
{ users 1 5000; echo 'not json'; users 5001 12000
  echo '{"schemas":["'$U'"]}'; users 12001 20000
  echo '{"schemas":["'$U'"],"userName":"bad","active":"yes"}'
  users 20001 25000; } > "$WORK/a.ndjson"
"$SCIMCTL" --db "$WORK/a" import "$WORK/a.ndjson" > "$WORK/out" 2> "$WORK/err"
is "$?" 1 "an import with rejected lines exits 1"
is "$(cat "$WORK/out")" "25000 imported, 3 rejected" "...25,000 imported, 3 rejected"
is "$(grep -c 'rejected' "$WORK/err")" 3 "...each rejection reported"
ok $(grep -q 'line 5001 rejected: not JSON' "$WORK/err"; echo $?) "...with its line number"
is "$(count "$WORK/a" users)" 25000 "every valid record stored"
is "$("$SCIMCTL" --db "$WORK/a" export users | jq -r .userName | sort -u | wc -l)" 25000 \
    "...each once"
is "$("$SCIMCTL" --db "$WORK/a" verify)" "0 problems found" "verify: consistent"

# A uniqueness failure in the second batch: the first batch stays.
{ users 1 12000; users 3 3; users 12001 13000; } > "$WORK/dup.ndjson"
"$SCIMCTL" --db "$WORK/b" import "$WORK/dup.ndjson" > /dev/null 2> "$WORK/err"
is "$?" 1 "a write that fails stops the import"
ok $(grep -q 'line 12001' "$WORK/err"; echo $?) "...naming the line"
ok $(grep -q '10000 records were stored before the failure' "$WORK/err"; echo $?) \
    "...and saying what was kept"
is "$(count "$WORK/b" users)" 10000 "the first batch is stored, nothing after"
is "$("$SCIMCTL" --db "$WORK/b" verify)" "0 problems found" "verify: consistent"

# Groups first, their members later in the stream (across batches).
awk -v g="$G" 'BEGIN { printf "{\"schemas\":[\"%s\"],\"displayName\":\"early\",\"members\":[" \
    "{\"value\":\"00000000-0000-4000-8000-000000000001\"},{\"value\":\"00000000-0000-4000-8000-000000015000\"}]}\n", g }' \
    > "$WORK/m.ndjson"
awk -v u="$U" 'BEGIN { for (i = 1; i <= 15000; i++)
    printf "{\"schemas\":[\"%s\"],\"id\":\"00000000-0000-4000-8000-%012d\",\"userName\":\"m%d\"}\n", u, i, i }' \
    >> "$WORK/m.ndjson"
"$SCIMCTL" --db "$WORK/c" import "$WORK/m.ndjson" > "$WORK/out"
is "$(cat "$WORK/out")" "15001 imported, 0 rejected" "a group before its 15,000 members"
is "$("$SCIMCTL" --db "$WORK/c" group list | jq -r 'select(.displayName == "early") | .id' | wc -l)" 1 \
    "...stored"
n=$("$SCIMCTL" --db "$WORK/c" export groups | jq '.members | length')
is "$n" 2 "...with both members, the first and the last of the stream"

# A ListResponse on a later line, and one spread over many lines.
{ users 1 2; jq -cn --arg u "$U" '{Resources: [{schemas: [$u], userName: "l1"},
    {schemas: [$u], userName: "l2"}]}'; } > "$WORK/l.ndjson"
"$SCIMCTL" --db "$WORK/d" import "$WORK/l.ndjson" > "$WORK/out"
is "$(cat "$WORK/out")" "4 imported, 0 rejected" "NDJSON then a ListResponse line"
jq -n --arg u "$U" '{schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    Resources: [{schemas: [$u], userName: "w1"}, {schemas: [$u], userName: "w2"},
    {schemas: [$u], userName: "w3"}]}' > "$WORK/w.json"
"$SCIMCTL" --db "$WORK/e" import "$WORK/w.json" > "$WORK/out"
is "$(cat "$WORK/out")" "3 imported, 0 rejected" "a multi-line ListResponse"
is "$(count "$WORK/e" users)" 3 "...stored"
done_testing
