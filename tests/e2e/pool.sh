#!/bin/bash
# pool.sh: `scimd -w N`, the pool the systemd socket unit starts
# (deploy/systemd/scimd.socket, scimd.service: the listening socket on
# descriptor 0).  A few lines of python3 hand the socket over the way
# systemd does (bind, listen, descriptor 0, exec; stderr kept); a real
# lighttpd connects to it.  The pool starts N workers, replaces a
# killed one, serves throughout, and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"
need python3 command -v python3 >/dev/null
need lighttpd [ -x "$LIGHTTPD" ]
need curl command -v curl >/dev/null

WORK=$(mktemp -d /tmp/scimd-pool.XXXXXX)
BODY=$WORK/body
HEADERS=$WORK/headers
stop_all() {
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null
	[ -n "${PPID_POOL:-}" ] && kill "$PPID_POOL" 2>/dev/null
	sleep 0.3
	[ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT
mkdir -p "$WORK/www"
TOKEN=$("$SCIMCTL" --db "$WORK/db" token add pool 2>/dev/null | tail -n 1)
printf 'db = %s\n' "$WORK/db" > "$WORK/scimd.conf"

# children PID: the pids of PID's children, one a line.
children() { ps -o pid= --ppid "$1" | tr -d ' '; }

# listen_exec SOCKET PROGRAM ARGS...: PROGRAM with SOCKET listening on fd 0.
listen_exec() {
	exec python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(64)
os.dup2(s.fileno(), 0)
os.execv(sys.argv[2], sys.argv[2:])' "$@"
}
listen_exec "$WORK/scimd.sock" "$SCIMD" -w 3 -c "$WORK/scimd.conf" \
    < /dev/null > /dev/null 2> "$WORK/pool.log" &
PPID_POOL=$!
# wait_workers N: until PPID_POOL has N children (at most 10 s: python
# and the forks are slow on a loaded machine).
wait_workers() {
	local i
	for i in $(seq 1 100); do
		[ "$(children "$PPID_POOL" | wc -l)" -eq "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_workers 3
ok $(kill -0 "$PPID_POOL"; echo $?) "scimd -w 3 started on a listening socket on descriptor 0"
is "$(children "$PPID_POOL" | wc -l)" 3 "three workers"

port=$(free_port)
cat > "$WORK/lighttpd.conf" <<CONF
server.document-root = "$WORK/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$WORK/error.log"
server.modules = ( "mod_fastcgi" )
fastcgi.server = ( "/scim/v2" => (( "socket" => "$WORK/scimd.sock", "check-local" => "disable" )) )
CONF
"$LIGHTTPD" -D -f "$WORK/lighttpd.conf" 2>> "$WORK/error.log" &
LPID=$!
for i in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
BASE="http://127.0.0.1:$port/scim/v2"

# burst N: N requests in a row; prints how many were not 200.
burst() {
	local bad=0 i s
	for i in $(seq 1 "$1"); do
		s=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/Users?count=0")
		[ "$s" = 200 ] || bad=$((bad + 1))
	done
	echo "$bad"
}
is "$(burst 20)" 0 "20 requests through the pool: all 200"

victim=$(children "$PPID_POOL" | head -n 1)
kill -9 "$victim"
# Replaced at once, or a second after its start if it was younger.
for i in $(seq 1 100); do
	children "$PPID_POOL" | grep -qx "$victim" || break
	sleep 0.1
done
wait_workers 3
now=$(children "$PPID_POOL")
is "$(echo "$now" | wc -l)" 3 "a killed worker is replaced: three workers again"
ok $(echo "$now" | grep -qx "$victim"; [ $? -ne 0 ]; echo $?) "...the killed one is gone"
ok $(grep -q "pool: worker $victim ended by signal 9; starting another" "$WORK/pool.log"; echo $?) "...and the log says so"
is "$(burst 20)" 0 "20 more requests after the kill: all 200"

kids=$(children "$PPID_POOL" | tr '\n' ' ')
kill -TERM "$PPID_POOL"
gone=1
for i in $(seq 1 100); do
	if ! kill -0 "$PPID_POOL" 2>/dev/null; then gone=0; break; fi
	sleep 0.1
done
ok $gone "SIGTERM: the pool stops"
left=0
for k in $kids; do kill -0 "$k" 2>/dev/null && left=$((left + 1)); done
is "$left" 0 "...with every worker"
PPID_POOL=

"$SCIMD" -w 2 -c "$WORK/scimd.conf" < /dev/null 2> "$WORK/notsock.log"
is "$?" 1 "-w without a listening socket on descriptor 0: exit status 1"
ok $(grep -q "descriptor 0 is not a listening socket" "$WORK/notsock.log"; echo $?) "...saying why"
"$SCIMD" -w 0 < /dev/null 2>/dev/null
is "$?" 2 "-w 0: usage error"
done_testing
