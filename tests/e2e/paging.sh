#!/bin/bash
# paging.sh: startIndex paging over real HTTP returns exactly the right
# ids at many offsets (it seeks through id_counts, docs/storage.md):
# users imported by scimctl, then created and deleted over HTTP, groups,
# and the root endpoint across both types; scimctl verify finds the
# counts exact throughout.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2
U='urn:ietf:params:scim:schemas:core:2.0:User'
G='urn:ietf:params:scim:schemas:core:2.0:Group'
N=3000

awk -v n=$N -v u="$U" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"schemas\":[\"%s\"],\"userName\":\"p%05d\"}\n", u, i }' > "$WORK/users.ndjson"
awk -v g="$G" 'BEGIN { for (i = 1; i <= 40; i++)
    printf "{\"schemas\":[\"%s\"],\"displayName\":\"g%02d\"}\n", g, i }' > "$WORK/groups.ndjson"
"$SCIMCTL" --db "$WORK/db" import "$WORK/users.ndjson" > /dev/null
ok $? "$N users imported"
"$SCIMCTL" --db "$WORK/db" import "$WORK/groups.ndjson" > /dev/null
ok $? "40 groups imported"
out=$("$SCIMCTL" --db "$WORK/db" verify)
is "$out" "0 problems found" "verify: counts exact after import"

# ids TYPE: every id of users or groups, in id order (export's order).
ids() {
	"$SCIMCTL" --db "$WORK/db" export "$1" | jq -r .id > "$WORK/ids-$1"
}

# pages WHAT PATH IDFILE OFFSETS...: each page of 7 at each offset
# holds the ids of IDFILE from that line, and totalResults is its size.
pages() {
	local what=$1 path=$2 file=$3 total bad=0 at got want
	shift 3
	total=$(wc -l < "$file")
	for at in "$@"; do
		req GET "$path?startIndex=$at&count=7&attributes=id"
		got=$(j '.Resources[].id' | tr '\n' ' ')
		want=$(sed -n "${at},$((at + 6))p" "$file" | tr '\n' ' ')
		if [ "$STATUS" != 200 ] || [ "$got" != "$want" ] ||
		    [ "$(j .totalResults)" != "$total" ] ||
		    [ "$(j .startIndex)" != "$at" ]; then
			echo "# $what at $at: $STATUS got [$got] want [$want]"
			bad=$((bad + 1))
		fi
	done
	ok $bad "$what: pages at $# offsets hold exactly the right ids"
}

offsets() {	# offsets N: the first, last and edges, and 40 at random
	local n=$1
	echo 1 2 7 8 99 100 101 $((n / 2)) $((n - 7)) $((n - 6)) $((n - 1)) $n \
	    $((n + 1)) $(shuf -i 1-"$n" -n 40)
}

ids users
pages "users after import" /Users "$WORK/ids-users" $(offsets $N)

# Creates and deletes over HTTP, then the same checks.
for i in $(seq 1 30); do
	req POST /Users '{"schemas":["'$U'"],"userName":"new'$i'"}'
done
is "$STATUS" 201 "30 users created over HTTP"
bad=0
for id in $(shuf -n 50 "$WORK/ids-users"); do
	req DELETE "/Users/$id"
	[ "$STATUS" = 204 ] || bad=$((bad + 1))
done
ok $bad "50 users deleted over HTTP"
# A failed create (userName taken) changes nothing.
req POST /Users '{"schemas":["'$U'"],"userName":"new1"}'
is "$STATUS" 409 "a create of a taken userName fails"
ids users
is "$(wc -l < "$WORK/ids-users")" $((N - 20)) "the store holds $((N - 20)) users"
pages "users after creates and deletes" /Users "$WORK/ids-users" $(offsets $((N - 20)))

ids groups
pages "groups" /Groups "$WORK/ids-groups" $(seq 1 41)

# The root lists users, then groups.
cat "$WORK/ids-users" "$WORK/ids-groups" > "$WORK/ids-all"
n=$(wc -l < "$WORK/ids-all")
pages "the root, across types" / "$WORK/ids-all" $((n - 45)) $((n - 44)) \
    $((n - 41)) $((n - 40)) $((n - 39)) $((n - 3)) 1 500

out=$("$SCIMCTL" --db "$WORK/db" verify)
is "$out" "0 problems found" "verify: counts exact after HTTP writes"
out=$("$SCIMCTL" --db "$WORK/db" reindex)
ok $? "reindex"
pages "users after reindex" /Users "$WORK/ids-users" $(offsets $((N - 20)))
done_testing
