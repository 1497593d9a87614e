#!/bin/bash
# sandbox.sh: scimd's seccomp filter.  It is on by default (sandbox =
# auto), so every other e2e suite already runs confined; here: the
# processes lighttpd spawns really are filtered (and are not with
# sandbox = none), a forbidden call is stopped, logged by number, and
# kills the process (SIGSYS), plain CGI works under the filter, and a
# wrong setting is refused.  Skipped when scimd was built without
# libseccomp (sanitizer builds are configured --without-seccomp).
. "$(dirname "$0")/lib.sh"
need curl command -v curl >/dev/null
need jq command -v jq >/dev/null
grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" 2>/dev/null ||
    skip_all "scimd built without libseccomp" seccomp

OUT=$(mktemp -d /tmp/scimd-sandbox.XXXXXX)
listener=
cleanup() {
	stop_servers
	# A stand-in syslog listener (below) and the /dev/log it made.
	if [ -n "$listener" ]; then kill "$listener" 2>/dev/null; rm -f /dev/log; fi
	rm -rf "$OUT"
}
trap cleanup EXIT

# seccomp_mode: the Seccomp line of /proc/PID/status of each scimd that
# lighttpd spawned (2 = filtered, 0 = not), one per line.
seccomp_modes() {
	local p
	for p in $(pgrep -P "$SERVER_PID" -f "^$SCIMD"); do
		awk '/^Seccomp:/ {print $2}' "/proc/$p/status"
	done
}

# ---- 1. By default, lighttpd's scimd processes are confined -------------
start_lighttpd /scim/v2
trap cleanup EXIT	# start_lighttpd sets its own
req GET '/Users?count=0'
is "$STATUS" 200 "default settings: served"
modes=$(seccomp_modes | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
is "$modes" "2x2 " "...by 2 processes, both under a seccomp filter (Seccomp: 2)"
cores=$(for p in $(pgrep -P "$SERVER_PID" -f "^$SCIMD"); do
	awk '/^Max core file size/ {print $5 "/" $6}' "/proc/$p/limits"
done | sort -u | tr '\n' ' ')
is "$cores" "0/0 " "...and may not dump core (RLIMIT_CORE 0: tokens never reach a core file)"
req POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"confined"}'
is "$STATUS" 201 "a write under the filter: 201"
ok $(! grep -q 'forbidden system call' "$WORK/error.log"; echo $?) "...and no call was stopped"
stop_servers

printf 'sandbox = none\n' > "$OUT/none.conf"
SCIMD_CONF_FILE=$OUT/none.conf start_lighttpd /scim/v2
trap cleanup EXIT	# start_lighttpd sets its own
req GET '/Users?count=0'
is "$STATUS" 200 "sandbox = none: served"
is "$(seccomp_modes | sort -u | tr '\n' ' ')" "0 " "...by processes without a filter (Seccomp: 0)"
stop_servers

# ---- 2. A forbidden call, as plain CGI so the exit status is ours -------
# cgi CONF: GET /Users as plain CGI with settings CONF; status printed,
# answer in $OUT/cgi.out, log in $OUT/cgi.err.
"$SCIMCTL" --db "$OUT/db" token add t > "$OUT/token" 2>/dev/null
cgi() {
	env -i ${SCIMD_ALLOW_ROOT:+SCIMD_ALLOW_ROOT=$SCIMD_ALLOW_ROOT} \
	    SCIMD_CONF="$1" GATEWAY_INTERFACE=CGI/1.1 \
	    REQUEST_METHOD=GET SCRIPT_NAME=/scim/v2 PATH_INFO=/Users \
	    HTTP_HOST=127.0.0.1 HTTP_AUTHORIZATION="Bearer $(tail -n 1 "$OUT/token")" \
	    "$SCIMD" < /dev/null > "$OUT/cgi.out" 2> "$OUT/cgi.err"
	echo $?
}
cgi_status() { sed -n 's/^Status: \([0-9]*\).*/\1/p' "$OUT/cgi.out"; }

printf 'db = %s\nsandbox = seccomp-selftest\n' "$OUT/db" > "$OUT/selftest.conf"
rc=$(cgi "$OUT/selftest.conf")
is "$rc" $((128 + 31)) "a forbidden call after entering the sandbox: killed by SIGSYS"
ok $(grep -q 'sandbox self-test: making a forbidden call' "$OUT/cgi.err"; echo $?) "...after saying so in the log"
getuid_nr=$(printf '#include <sys/syscall.h>\nSYS_getuid\n' | cpp -P 2>/dev/null | tail -n 1)
case "$getuid_nr" in
[0-9]*)	ok $(grep -q "sandbox: forbidden system call $getuid_nr stopped" "$OUT/cgi.err"; echo $?) \
	    "...and the log names the stopped call ($getuid_nr, getuid)" ;;
*)	skip "the number of getuid (no cpp here)" ;;
esac
is "$(wc -c < "$OUT/cgi.out")" 0 "...and nothing was answered"

# ---- 3. Plain CGI under the filter; the settings ------------------------
for mode in auto seccomp; do
	printf 'db = %s\nsandbox = %s\n' "$OUT/db" "$mode" > "$OUT/cgi.conf"
	rc=$(cgi "$OUT/cgi.conf")
	is "$rc" 0 "plain CGI with sandbox = $mode: exits normally"
	is "$(cgi_status)" 200 "...and answers 200"
done
# log = syslog under the filter: glibc's syslog() reconnects to /dev/log
# as needed (socket, connect, sendto: allowed).  Where no syslog daemon
# listens and we may, a listener stands in for one to see the lines.
printf 'db = %s\nsandbox = seccomp\nlog = syslog\nlog_level = debug\n' "$OUT/db" > "$OUT/cgi.conf"
if [ ! -e /dev/log ] && [ "$(id -u)" -eq 0 ] && command -v python3 >/dev/null; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as f:
	while True:
		f.write(s.recv(65536) + b"\n")
' "$OUT/syslog" &
	listener=$!
	for i in $(seq 1 50); do [ -e "$OUT/syslog.ready" ] && break; sleep 0.1; done
fi
rc=$(cgi "$OUT/cgi.conf")
is "$rc" 0 "log = syslog under the filter: exits normally"
is "$(cgi_status)" 200 "...and answers 200"
if [ -n "$listener" ]; then
	sleep 0.2
	kill "$listener" 2>/dev/null
	wait "$listener" 2>/dev/null
	rm -f /dev/log
	listener=
	ok $(grep -q 'scimd\[[0-9]*\]: .*GET /Users 200' "$OUT/syslog"; echo $?) "...and its request line reached syslog's socket"
else
	skip "the syslog line (a syslog daemon owns /dev/log here, or no python3)"
fi

printf 'db = %s\nsandbox = strict\n' "$OUT/db" > "$OUT/cgi.conf"
rc=$(cgi "$OUT/cgi.conf")
is "$(cgi_status)" 503 "sandbox = strict: 503, nothing served"
ok $(sed '1,/^\r\{0,1\}$/d' "$OUT/cgi.out" | jq -r .detail | grep -q 'sandbox must be auto, none, seccomp or seccomp-selftest'; echo $?) "...naming the values it takes"
done_testing
