#!/bin/bash
# hosting.sh: running where users run it.
#  1. A FastCGI scimd that could not open its store recovers once the
#     admin fixes it, without a web server restart, and never shows a
#     caller a path of the host (the log names the path and the user).
#  2. Plain CGI: the bearer token does not stay in /proc/PID/environ
#     once scimd has read it.
#  3. Plain CGI run by hand, stdout on /dev/null or a terminal: not
#     killed by the sandbox.
# Root ignores permissions, so the broken stores here are ones that fail
# for root too: a file where the store's parent directory should be, an
# empty directory that is no store.
. "$(dirname "$0")/lib.sh"

# mem_count PID NEEDLE: how many times NEEDLE's bytes are in the writable
# memory of process PID (root reads any process's /proc/PID/mem), read
# in pieces.  Mappings over 1 GiB are reserved address space, not data
# (AddressSanitizer's shadow): skipped.
mem_count() {
	python3 - "$1" "$2" <<'PY'
import sys
pid, needle = sys.argv[1], sys.argv[2].encode()
n, piece = 0, 1 << 24
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if not f[1].startswith("rw") or hi - lo > 1 << 30:
            continue
        tail = b""
        for at in range(lo, hi, piece):
            try:
                mem.seek(at)
                data = tail + mem.read(min(piece, hi - at))
            except OSError:
                tail = b""
                continue
            n += data.count(needle)
            tail = data[-(len(needle) - 1):]
print(n)
PY
}

# ---- 1. A start that failed recovers ----------------------------------
SCIMD_SERVER_DB=late/db start_lighttpd /scim/v2
E='urn:ietf:params:scim:api:messages:2.0:Error'

# scimd_pids: the scimd processes lighttpd spawned, sorted.
scimd_pids() { pgrep -P "$SERVER_PID" -f "^$SCIMD" | sort -n | tr '\n' ' '; }
pids=$(scimd_pids)
ok $([ -n "$pids" ]; echo $?) "lighttpd spawned scimd: $pids"

# A: the store's parent is missing.
req GET '/Users?count=0'
is "$STATUS" 503 "store path missing: 503"
is "$(j '.schemas[0]')" "$E" "...a SCIM Error"
ok $(! grep -qF "$WORK" "$BODY"; echo $?) "...naming no path: $(j .detail)"
ok $(grep -q "cannot start: .*(store $WORK/late/db, running as uid $(id -u) ($(id -un)); trying again" "$WORK/error.log"; echo $?) \
    "...the log names the store's path and the user scimd runs as"

# B: a file where the store's parent directory should be.
: > "$WORK/late"
sleep 1.1
req GET '/Users?count=0'
is "$STATUS" 503 "a file where a directory should be: 503"
ok $(j .detail | grep -q 'Not a directory'; echo $?) "...the next attempt sees the new cause: $(j .detail)"
ok $(! grep -qF "$WORK" "$BODY"; echo $?) "...naming no path"

# C: an empty directory, which is no store (root can open it; the
# detail used to name the path).
rm -f "$WORK/late"
mkdir -p "$WORK/late/db"
sleep 1.1
req GET '/Users?count=0'
is "$STATUS" 503 "an empty directory instead of the store: 503"
ok $(j .detail | grep -q 'is not a scimd store'; echo $?) "...$(j .detail)"
ok $(! grep -qF "$WORK" "$BODY"; echo $?) "...naming no path"

# At most one attempt a second per process, however many requests come.
before=$(grep -c 'cannot start' "$WORK/error.log")
t0=$(date +%s.%N)
for i in $(seq 1 40); do req GET '/Users?count=0'; done
t1=$(date +%s.%N)
after=$(grep -c 'cannot start' "$WORK/error.log")
most=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print 2 * (int(b - a) + 2) }')
ok $([ $((after - before)) -le "$most" ]; echo $?) \
    "40 requests: $((after - before)) attempts to start (2 processes, at most one a second each: <= $most)"

# D: the admin puts the real store in place.  No restart.
rm -rf "$WORK/late/db"
mv "$WORK/db" "$WORK/late/db"
sleep 1.1
recovered=0
for i in 1 2 3 4 5 6; do
	req GET '/Users?count=0'
	[ "$STATUS" = 200 ] && recovered=$((recovered + 1))
done
is "$recovered" 6 "store fixed: the next requests succeed"
req POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"late"}'
is "$STATUS" 201 "...writes too"
is "$(scimd_pids)" "$pids" "...served by the processes lighttpd started (no restart)"
served=$(sed -n 's/.*scimd\[\([0-9]*\)\] info: req=[0-9]*-[0-9]* token=e2e GET \/Users 200.*/\1/p' "$WORK/error.log" | sort -u)
ok $([ -n "$served" ]; echo $?) "...the request log names them: $(echo $served)"
ok $(grep -q 'started after [0-9]* failed attempt' "$WORK/error.log"; echo $?) "...and says it started late"
if grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" 2>/dev/null; then
	modes=$(for p in $served; do awk '/^Seccomp:/ {print $2}' "/proc/$p/status"; done | sort -u | tr '\n' ' ')
	is "$modes" "2 " "...each confined by the sandbox once started (Seccomp: 2)"
else
	skipping_allowed seccomp ||
	    ok 1 "scimd built without libseccomp (SCIMD_SKIP_SERVERS=seccomp skips this)"
	skip "the sandbox (scimd built without libseccomp)"
fi
# A password through FastCGI: no copy stays in the serving processes
# (the body, the JSON strings, libfcgi's input buffer are wiped).
if command -v python3 >/dev/null; then
	pw="Pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	req POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fcgi-pw","password":"'$pw'"}'
	is "$STATUS" 201 "FastCGI: a create carrying a password"
	found=0
	for p in $(pgrep -P "$SERVER_PID" -f "^$SCIMD"); do
		found=$((found + $(mem_count "$p" "$pw")))
	done
	is "$found" 0 "...leaves no copy of it in the memory of lighttpd's scimd processes"
else
	skip "no python3 to search the memory"
	skip "...no copy"
fi
stop_servers
SERVER_PID=

# ---- plain CGI -----------------------------------------------------------
WORK=$(mktemp -d /tmp/scimd-hosting.XXXXXX)
trap stop_servers EXIT
BODY=$WORK/body
HEADERS=$WORK/headers
TOKEN=$("$SCIMCTL" --db "$WORK/db" token add cgi 2>/dev/null | tail -n 1)
[ -n "$TOKEN" ] || { echo "Bail out! scimctl token add failed"; exit 1; }
cgi_env=(env -i SCIMD_ALLOW_ROOT=yes SCIMD_DB="$WORK/db" GATEWAY_INTERFACE=CGI/1.1
	SCRIPT_NAME=/scim/v2 SERVER_NAME=127.0.0.1 SERVER_PORT=80 HTTP_HOST=127.0.0.1)

# A settings file with a mistake: the caller is told what, not where.
printf 'sandbox = strict\n' > "$WORK/bad.conf"
"${cgi_env[@]}" SCIMD_CONF="$WORK/bad.conf" REQUEST_METHOD=GET PATH_INFO=/Users \
    HTTP_AUTHORIZATION="Bearer $TOKEN" "$SCIMD" < /dev/null > "$WORK/cgi.out" 2> "$WORK/cgi.err"
sed '1,/^\r\{0,1\}$/d' "$WORK/cgi.out" > "$BODY"
ok $(j .detail | grep -q '^\[path\]:1: sandbox must be'; echo $?) "a bad settings file: $(j .detail)"
ok $(! grep -qF "$WORK" "$BODY"; echo $?) "...naming no path"
ok $(grep -qF "cannot start: $WORK/bad.conf:1: sandbox must be" "$WORK/cgi.err"; echo $?) "...the log does"

# ---- 2. The token leaves the environment once read ----------------------
# A POST whose body comes slowly: scimd has authenticated and is waiting
# for the rest; its environment is read meanwhile (root may read it; a
# process of the same user may not, since scimd is not dumpable).
mkfifo "$WORK/in"
body='{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"slow"}'
"${cgi_env[@]}" REQUEST_METHOD=POST PATH_INFO=/Users CONTENT_TYPE=application/scim+json \
    CONTENT_LENGTH=${#body} HTTP_AUTHORIZATION="Bearer $TOKEN" \
    "$SCIMD" < "$WORK/in" > "$WORK/cgi.out" 2> "$WORK/cgi.err" &
cgi_pid=$!
exec 3> "$WORK/in"
printf '%s' "${body:0:10}" >&3
# Wait until it blocks reading the body: read(0, ...) in /proc/PID/syscall.
for i in $(seq 1 100); do
	sc=$(cat "/proc/$cgi_pid/syscall" 2>/dev/null)
	case "$sc" in "0 0x0 "*) break ;; esac
	sleep 0.05
done
case "$sc" in
"0 0x0 "*) ok 0 "scimd waits for the rest of the body (read(0, ...))" ;;
*) ok 1 "scimd waits for the rest of the body (syscall: $sc)" ;;
esac
env_now=$(tr '\0' '\n' < "/proc/$cgi_pid/environ")
ok $(! printf '%s' "$env_now" | grep -qF "$TOKEN"; echo $?) "...and its /proc/PID/environ no longer holds the token"
ok $(printf '%s' "$env_now" | grep -q '^HTTP_AUTHORIZATION='; echo $?) "...(the variable is there, its bytes wiped)"
printf '%s' "${body:10}" >&3
exec 3>&-
wait "$cgi_pid"
is "$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$WORK/cgi.out")" 201 "...and the request it authenticated succeeds"

# ---- 2b. A password leaves no copy in memory ----------------------------
# A CGI POST carrying a password; scimd's answer is held back by a full
# stdout pipe, so the process waits, request done, while its memory is
# searched (as root) for the password's bytes.
if command -v python3 >/dev/null; then
	pw="Pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	body='{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"pw","password":"'$pw'"}'
	printf '%s' "$body" > "$WORK/pw.json"
	mkfifo "$WORK/out"
	exec 4<> "$WORK/out"
	head -c 65536 /dev/zero >&4	# the pipe is full: scimd's write will wait
	"${cgi_env[@]}" REQUEST_METHOD=POST PATH_INFO=/Users CONTENT_TYPE=application/scim+json \
	    CONTENT_LENGTH=${#body} HTTP_AUTHORIZATION="Bearer $TOKEN" \
	    "$SCIMD" < "$WORK/pw.json" > "$WORK/out" 2> "$WORK/cgi.err" &
	cgi_pid=$!
	for i in $(seq 1 100); do
		sc=$(cat "/proc/$cgi_pid/syscall" 2>/dev/null)
		case "$sc" in "1 0x1 "*) break ;; esac
		sleep 0.05
	done
	case "$sc" in
	"1 0x1 "*) ok 0 "a POST with a password: scimd done, waiting to write its answer" ;;
	*) ok 1 "a POST with a password: scimd waiting to write (syscall: $sc)" ;;
	esac
	found=$(mem_count "$cgi_pid" "$pw")
	is "$found" 0 "...its memory holds no copy of the password (body, JSON strings wiped)"
	cat <&4 > /dev/null &
	drain=$!
	wait "$cgi_pid"
	kill "$drain" 2>/dev/null
	exec 4>&-
	ok $(grep -q ' POST /Users 201 ' "$WORK/cgi.err"; echo $?) "...and the user was created"
else
	skip "no python3 to search the memory"
	skip "...no copy"
	skip "...created"
fi

# ---- 3. Run by hand: stdout on /dev/null, on a terminal -----------------
"${cgi_env[@]}" REQUEST_METHOD=GET PATH_INFO=/Users HTTP_AUTHORIZATION="Bearer $TOKEN" \
    "$SCIMD" < /dev/null > /dev/null 2> "$WORK/cgi.err"
rc=$?
is "$rc" 0 "plain CGI with stdout on /dev/null: exits 0"
ok $(! grep -q 'forbidden system call' "$WORK/cgi.err"; echo $?) "...no call stopped by the sandbox"
if command -v script >/dev/null; then
	script -qec "$(printf '%q ' "${cgi_env[@]}" REQUEST_METHOD=GET PATH_INFO=/Users \
	    HTTP_AUTHORIZATION="Bearer $TOKEN" "$SCIMD")" /dev/null > "$WORK/tty.out" 2>&1 < /dev/null
	rc=$?
	is "$rc" 0 "plain CGI with stdout on a terminal: exits 0"
	ok $(grep -q 'Status: 200' "$WORK/tty.out"; echo $?) "...and answers 200 on it"
	ok $(! grep -q 'forbidden system call' "$WORK/tty.out"; echo $?) "...no call stopped by the sandbox"
else
	skip "stdout on a terminal (no script(1))"
	skip "...answers"
	skip "...no call stopped"
fi
done_testing
