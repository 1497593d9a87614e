#!/bin/sh
# scim-user.sh: may USER use the site?  Active, and (with GROUP) in that
# group; for cron jobs and CGI scripts (docs/scripts.md).
#
#   scim-user.sh NAME-OR-EMAIL [GROUP]
#
# Exit status: 0 yes, 1 no (unknown, inactive, not in GROUP), 2 the
# store cannot be read or usage.  Needs scimctl and jq.
db=${SCIMD_DB:-/var/lib/scimd/example.org}
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 NAME-OR-EMAIL [GROUP]" >&2; exit 2; }
user=$(scimctl --db "$db" user find "$1" --json)
case $? in
0) ;;
3) echo "$1: no such user" >&2; exit 1 ;;
*) exit 2 ;;
esac
# find may print several users sharing an email: the first decides.
printf '%s\n' "$user" | head -n 1 | jq -e --arg g "${2-}" '
	.active == true and
	($g == "" or any(.groups[]; (.display | ascii_downcase) == ($g | ascii_downcase)))
' > /dev/null || { echo "$1: not allowed" >&2; exit 1; }
