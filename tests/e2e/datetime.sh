#!/bin/bash
# datetime.sh: dateTime values over real HTTP (RFC 7643 2.3.5: an
# xsd:dateTime, RFC 3339 5.6): a site extension with a dateTime attribute
# takes valid ones, as given; a malformed or out-of-range one in a POST,
# PUT or PATCH is refused with 400 invalidValue and changes nothing; a
# filter comparing a dateTime with one that is not is 400 invalidFilter;
# dateTimes with offsets compare as instants.
. "$(dirname "$0")/lib.sh"
WORK0=$(mktemp -d /tmp/scimd-dt.XXXXXX)
cat > "$WORK0/hr.json" <<'JSON'
{"id":"urn:example:params:scim:schemas:extension:hr:2.0:User","name":"HrUser",
 "description":"HR dates","resourceType":"User",
 "attributes":[
  {"name":"hired","type":"dateTime","multiValued":false,"required":false,"mutability":"readWrite","returned":"default","uniqueness":"none"}]}
JSON
printf 'schemas = %s/hr.json\n' "$WORK0" > "$WORK0/scimd.conf"
[ -n "${SCIMD_CONF_FILE:-}" ] && cat "$SCIMD_CONF_FILE" >> "$WORK0/scimd.conf"
SCIMD_CONF_FILE=$WORK0/scimd.conf
start_lighttpd /scim/v2
trap 'stop_servers; rm -rf "$WORK0"' EXIT

U='urn:ietf:params:scim:schemas:core:2.0:User'
H='urn:example:params:scim:schemas:extension:hr:2.0:User'
P='urn:ietf:params:scim:api:messages:2.0:PatchOp'
# user NAME HIRED: the body of a create
user() { echo '{"schemas":["'$U'","'$H'"],"userName":"'$1'","'$H'":{"hired":"'$2'"}}'; }

req POST /Users "$(user early 2011-05-13T04:42:34Z)"
is "$STATUS" 201 "a valid dateTime: 201"
is "$(j ".\"$H\".hired")" 2011-05-13T04:42:34Z "...kept as given"
id=$(j .id)
req POST /Users "$(user late 2011-05-13T08:42:34.250+02:00)"
is "$STATUS" 201 "with a fraction and an offset: 201"
req POST /Users "$(user leap 2016-12-31T23:59:60Z)"
is "$STATUS" 201 "the leap second of 2016: 201"

for bad in 2011-05-13T04:-2:34Z 2011-02-29T00:00:00Z 2011-05-13T24:00:00Z \
    2011-05-13T04:42:34 2011-05-13 "2011-05-13 04:42:34Z" \
    2011-05-13T04:42:34+0200 2011-05-13T04:42:60Z; do
	req POST /Users "$(user "bad-$RANDOM" "$bad")"
	is "$STATUS/$(j .scimType)" 400/invalidValue "POST with hired \"$bad\": 400 invalidValue"
done
req GET "/Users?filter=userName%20sw%20%22bad-%22"
is "$(j .totalResults)" 0 "...none of them was created"

req PUT "/Users/$id" "$(user early 2011-13-01T00:00:00Z)"
is "$STATUS/$(j .scimType)" 400/invalidValue "PUT with month 13: 400 invalidValue"
req PATCH "/Users/$id" '{"schemas":["'$P'"],"Operations":[{"op":"replace","path":"'$H':hired","value":"2011-05-13T04:42:3Z"}]}'
is "$STATUS/$(j .scimType)" 400/invalidValue "PATCH with a short second: 400 invalidValue"
req GET "/Users/$id"
is "$(j ".\"$H\".hired")" 2011-05-13T04:42:34Z "...the value is unchanged"

# Instants, not text: 08:42:34.250+02:00 is 06:42:34.250Z.
req GET "/Users?filter=$H:hired%20gt%20%222011-05-13T06:00:00Z%22"
is "$(j '[.Resources[].userName] | sort | join(",")')" late,leap "filter gt compares instants"
req GET "/Users?filter=$H:hired%20eq%20%222011-05-13T06:42:34.25Z%22"
is "$(j '.Resources[0].userName')" late "...eq too, across offsets"
req GET "/Users?filter=$H:hired%20gt%20%222011-05-13T04:-2:34Z%22"
is "$STATUS/$(j .scimType)" 400/invalidFilter "filter with a malformed dateTime: 400 invalidFilter"
req GET "/Users?filter=meta.lastModified%20gt%20%222011-02-30T00:00:00Z%22"
is "$STATUS/$(j .scimType)" 400/invalidFilter "meta.lastModified against 30 February: 400 invalidFilter"
req GET "/Users?filter=meta.lastModified%20gt%20%222011-05-13T04:42:34Z%22"
is "$(j .totalResults)" 3 "meta.lastModified gt a valid dateTime: all three"
done_testing
