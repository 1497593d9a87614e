#!/bin/bash
# scripts.sh: reading the store from scripts (docs/scripts.md): scimctl
# user get|find --json with groups and its exit statuses; the PHP, Python
# (python3-lmdb over the store) and shell examples run against a store
# provisioned through SCIM by a live scimd; the page holds each example
# exactly as examples/ has it.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
DB=$WORK/db
EX=$top_srcdir/examples
PY=/usr/bin/python3	# Debian's, which has python3-lmdb
command -v php > /dev/null || { echo "Bail out! php-cli is needed"; exit 1; }
"$PY" -c 'import lmdb' 2> /dev/null || { echo "Bail out! python3-lmdb is needed"; exit 1; }
export PATH="$top_builddir/src:$PATH" SCIMD_DB=$DB

req POST /Users '{"schemas":["'$U'"],"userName":"Bjensen","active":true,"emails":[{"value":"Barbara@Example.com","primary":true}]}'
BJ=$(j .id)
req POST /Users '{"schemas":["'$U'"],"userName":"Ärger","active":true}'
AE=$(j .id)
req POST /Users '{"schemas":["'$U'"],"userName":"idle","active":false}'
req POST /Groups '{"schemas":["'$G'"],"displayName":"Staff","members":[{"value":"'$BJ'"}]}'
STAFF=$(j .id)
req POST /Groups '{"schemas":["'$G'"],"displayName":"Ops","members":[{"value":"'$BJ'"},{"value":"'$AE'"}]}'
OPS=$(j .id)

# scimctl --json and its exit statuses.
scimctl --db "$DB" user find bjensen --json > "$WORK/bj.json"
is "$?" 0 "user find --json: exit 0 when found"
is "$(jq -r .id < "$WORK/bj.json")" "$BJ" "...the user"
is "$(jq -r '[.groups[].display] | sort | join(",")' < "$WORK/bj.json")" "Ops,Staff" "...with its groups' names"
is "$(jq -r '[.groups[].value] | sort | join(",")' < "$WORK/bj.json")" "$(printf '%s\n' "$STAFF" "$OPS" | sort | paste -sd,)" "...and ids"
is "$(jq -r 'keys_unsorted | last' < "$WORK/bj.json")" meta "...meta last, as stored"
is "$(scimctl --db "$DB" user get "$BJ" --json | jq -r '.groups | length')" 2 "user get ID --json: the same groups"
is "$(scimctl --db "$DB" user find BARBARA@example.COM --json | jq -r .id)" "$BJ" "user find by email, any case"
is "$(scimctl --db "$DB" user get "$BJ" | jq -r 'has("groups")')" false "without --json: the record as stored"
is "$(scimctl --db "$DB" group get "$OPS" --json | jq -r '[.members[].value] | sort | join(",")')" "$(printf '%s\n' "$BJ" "$AE" | sort | paste -sd,)" "group get --json: with its members"
scimctl --db "$DB" user find nobody --json > "$WORK/out" 2> "$WORK/err"
is "$?" 3 "not found: exit 3"
ok $([ ! -s "$WORK/out" ] && grep -q 'no such user' "$WORK/err"; echo $?) "...nothing on stdout, the reason on stderr"
is "$(scimctl --db "$DB" user get 00000000-0000-4000-8000-000000000000 > /dev/null 2>&1; echo $?)" 3 "user get of an unknown id: exit 3"
is "$(scimctl --db "$DB" group get 00000000-0000-4000-8000-000000000000 > /dev/null 2>&1; echo $?)" 3 "group get of an unknown id: exit 3"
is "$(scimctl --db "$DB" user frobnicate > /dev/null 2>&1; echo $?)" 2 "usage error: exit 2"
is "$(scimctl --db "$WORK/no-store" user find bjensen > /dev/null 2>&1; echo $?)" 1 "a store that cannot be opened: exit 1"
is "$(scimctl --db "$DB" user list --json | wc -l)" 3 "user list --json: one user a line"
scimctl --help | grep -q '3 not found'
ok $? "the usage names the exit statuses"
grep -q '^3 on user' "$top_srcdir/docs/scimctl.8"
ok $? "...and so does scimctl(8)"

# PHP, calling scimctl.
php "$EX/scim-user.php" bjensen > "$WORK/php.json"
is "$?" 0 "PHP example: found"
is "$(jq -r '.id + " " + ([.groups[].display] | sort | join(","))' < "$WORK/php.json")" "$BJ Ops,Staff" "...the user and their groups"
php "$EX/scim-user.php" nobody > /dev/null 2>&1
is "$?" 3 "...not found: 3"
is "$(php "$EX/scim-user.php" bjensen staff > /dev/null; echo $?)" 0 "...active and in Staff: 0"
is "$(php "$EX/scim-user.php" ärger staff > /dev/null; echo $?)" 1 "...not in Staff: 1"

# Python, python3-lmdb over the store while scimd serves it.
"$PY" "$EX/scim-user.py" --db "$DB" bjensen > "$WORK/py.json"
is "$?" 0 "Python example: found"
is "$(jq -cS . < "$WORK/py.json")" "$(jq -cS . < "$WORK/bj.json")" "...exactly what scimctl --json prints"
is "$("$PY" "$EX/scim-user.py" --db "$DB" barbara@EXAMPLE.com | jq -r .id)" "$BJ" "...by email, any case"
is "$("$PY" "$EX/scim-user.py" --db "$DB" äRGER | jq -r '.id + " " + .groups[0].display')" "$AE Ops" "...a non-ASCII userName in another case"
"$PY" "$EX/scim-user.py" --db "$DB" nobody > /dev/null 2>&1
is "$?" 3 "...not found: 3"
"$PY" "$EX/scim-user.py" --db "$WORK/no-store" bjensen > /dev/null 2>&1
is "$?" 1 "...no store: 1"
req PATCH "/Groups/$STAFF" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"'$BJ'\"]"}]}'
is "$("$PY" "$EX/scim-user.py" --db "$DB" bjensen | jq -r '[.groups[].display] | join(",")')" "Ops" "...a membership removed through SCIM is gone at once"

# Shell.
is "$("$EX/scim-user.sh" bjensen ops 2> /dev/null; echo $?)" 0 "shell example: active and in Ops: 0"
is "$("$EX/scim-user.sh" bjensen staff 2> /dev/null; echo $?)" 1 "...no longer in Staff: 1"
is "$("$EX/scim-user.sh" idle 2> /dev/null; echo $?)" 1 "...inactive: 1"
is "$("$EX/scim-user.sh" nobody 2> /dev/null; echo $?)" 1 "...unknown: 1"
is "$(SCIMD_DB=$WORK/no-store "$EX/scim-user.sh" bjensen 2> /dev/null; echo $?)" 2 "...no store: 2"

# The page holds each example exactly.
for f in scim-user.php scim-user.py scim-user.sh; do
	"$PY" -c 'import sys; sys.exit(open(sys.argv[2]).read() not in open(sys.argv[1]).read())' \
		"$top_srcdir/docs/scripts.md" "$EX/$f"
	ok $? "docs/scripts.md holds examples/$f as it is"
done

done_testing
