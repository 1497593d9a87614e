#!/bin/bash
# hooks.sh: scimctl watch --exec, the change hook, against a store that
# lighttpd's scimd processes write: a change runs the program with the
# change as JSON; a restart resumes without losing a change; a program
# killed mid-change gets it again (at least once); a failing program is
# retried, not skipped; an idle watcher makes no system calls.
. "$(dirname "$0")/lib.sh"
start_lighttpd /scim/v2
U='urn:ietf:params:scim:schemas:core:2.0:User'
DB=$WORK/db
WATCH_PID=

release_store() {	# called by stop_servers on exit
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	WATCH_PID=
}

# The hook program: appends its stdin and environment to hook.log; exits
# 1 while fail-N files remain for the change (one removed per run);
# sleeps while slow-SEQ exists.
cat > "$WORK/hook" <<EOF
#!/bin/sh
line=\$(cat)
echo "\$line" >> "$WORK/hook.log"
echo "env \$SCIM_SEQ \$SCIM_OP \$SCIM_RESOURCE_TYPE \$SCIM_ID" >> "$WORK/hook.env"
echo "\$SCIM_SEQ" >> "$WORK/hook.runs"
if [ -e "$WORK/slow-\$SCIM_SEQ" ]; then rm -f "$WORK/slow-\$SCIM_SEQ"; sleep 2; exit 1; fi
f=\$(ls "$WORK"/fail-\$SCIM_SEQ-* 2>/dev/null | head -n 1)
if [ -n "\$f" ]; then rm -f "\$f"; exit 1; fi
echo "\$SCIM_SEQ" >> "$WORK/hook.done"
EOF
chmod +x "$WORK/hook"
: > "$WORK/hook.done"

start_watch() {
	"$SCIMCTL" --db "$DB" watch --state "$WORK/state" --exec "$WORK/hook" 2>> "$WORK/watch.err" &
	WATCH_PID=$!
	sleep 0.3
}

# wait_for SEQ: until the hook has taken change SEQ (at most 10 s).
wait_for() {
	local i
	for i in $(seq 1 100); do
		grep -qx "$1" "$WORK/hook.done" && return 0
		sleep 0.1
	done
	return 1
}

last_seq() { "$SCIMCTL" --db "$DB" audit | tail -n 1 | jq .seq; }

# 1. A change runs the program.
start_watch
S0=$(cat "$WORK/state")
is "$S0" "$(last_seq)" "a first start begins after the newest change (state = $S0)"
req POST /Users '{"schemas":["'$U'"],"userName":"hooked"}'
ID=$(j .id)
S1=$(last_seq)
wait_for "$S1"
ok $? "creating a user runs the program"
grep "\"seq\":$S1," "$WORK/hook.log" | tail -n 1 > "$WORK/one"
is "$(jq -r '[.seq, .op, .resourceType, .id, .token] | map(tostring) | join(" ")' < "$WORK/one")" "$S1 create User $ID e2e" "...with the change as JSON on stdin: seq, op, resourceType, id, token"
ok $(jq -e '.time and .version' < "$WORK/one" > /dev/null; echo $?) "...and time and version, as the trail holds them"
is "$(grep "^env $S1 " "$WORK/hook.env")" "env $S1 create User $ID" "...and SCIM_SEQ, SCIM_OP, SCIM_RESOURCE_TYPE, SCIM_ID in its environment"
sleep 0.2
is "$(cat "$WORK/state")" "$S1" "the state file holds the delivered sequence number"
is "$(stat -c %a "$WORK/state")" 600 "...mode 0600"

# 2. No busy poll: an idle watcher makes (almost) no system calls.
if command -v strace > /dev/null; then
	timeout -s INT 3 strace -qq -p "$WATCH_PID" -o "$WORK/strace" 2>/dev/null
	n=$(grep -vc 'detached\|resumed\|restart_syscall' "$WORK/strace")
	ok $([ "$n" -le 2 ]; echo $?) "idle for 3 s: $n system calls (it sleeps in poll on inotify; a 200 ms poll loop would make 15+)"
else
	echo "Bail out! strace is needed"; exit 1
fi
t0=$(awk '{print $14 + $15}' "/proc/$WATCH_PID/stat")
sleep 2
t1=$(awk '{print $14 + $15}' "/proc/$WATCH_PID/stat")
ok $([ $((t1 - t0)) -le 1 ]; echo $?) "idle for 2 s: $((t1 - t0)) clock ticks of CPU"
req PATCH "/Users/$ID" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}'
S2=$(last_seq)
wait_for "$S2"
ok $? "after the idle time (and strace), the next change still arrives at once"

# 3. A restart resumes without losing a change.
kill "$WATCH_PID"; wait "$WATCH_PID"
is "$?" 0 "SIGTERM stops the watcher with status 0"
WATCH_PID=
for n in 1 2 3; do
	req POST /Users '{"schemas":["'$U'"],"userName":"while-down-'$n'"}'
done
"$SCIMCTL" --db "$DB" token add while-down > /dev/null 2>&1
S3=$(last_seq)
start_watch
wait_for "$S3"
ok $? "restarted, it delivers the changes made while it was down"
want=$(seq $((S0 + 1)) "$S3" | tr '\n' ' ')
got=$(sort -n -u "$WORK/hook.done" | tr '\n' ' ')
is "$got" "$want" "every change from $((S0 + 1)) to $S3 delivered, none lost, in order"
ok $(sort -n -c "$WORK/hook.done" 2>/dev/null; echo $?) "...in sequence order"

# 4. At least once: killed (SIGKILL) while the program runs, the change
# is delivered again after the restart.
S4=$((S3 + 1))
touch "$WORK/slow-$S4"
req POST /Users '{"schemas":["'$U'"],"userName":"killed-mid-change"}'
for i in $(seq 1 50); do grep -qx "$S4" "$WORK/hook.runs" && break; sleep 0.1; done
kill -9 "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null
WATCH_PID=
is "$(cat "$WORK/state")" "$S3" "killed mid-change: the state still names the change before"
start_watch
wait_for "$S4"
ok $? "...and after the restart the change is delivered"
ok $([ "$(grep -cx "$S4" "$WORK/hook.runs")" -ge 2 ]; echo $?) "...again: at least once ($(grep -cx "$S4" "$WORK/hook.runs") runs)"

# 5. A failing program is retried with backoff, not skipped.
S5=$((S4 + 1))
touch "$WORK/fail-$S5-1" "$WORK/fail-$S5-2"
req POST /Users '{"schemas":["'$U'"],"userName":"fails-twice"}'
req POST /Users '{"schemas":["'$U'"],"userName":"after-the-failures"}'
S6=$(last_seq)
wait_for "$S6"
ok $? "the change after a failing one is delivered"
is "$(grep -cx "$S5" "$WORK/hook.runs")" 3 "the failing change ran 3 times (2 failures, then success)"
ok $(grep -qx "$S5" "$WORK/hook.done"; echo $?) "...and was taken, not skipped"
is "$(awk -v a="$S5" -v b="$S6" '$1 == a || $1 == b' "$WORK/hook.done" | tr '\n' ' ')" "$S5 $S6 " "...before the next one"
ok $(grep -q "seq $S5: .* exited with status 1; again in 500 ms" "$WORK/watch.err" && grep -q "seq $S5: .* exited with status 1; again in 1000 ms" "$WORK/watch.err"; echo $?) "the retries back off (500 ms, then 1000 ms), logged on stderr"
sleep 0.2
is "$(cat "$WORK/state")" "$S6" "the state file follows"

# 6. Usage.
"$SCIMCTL" --db "$DB" watch --state "$WORK/state" > /dev/null 2>&1
is "$?" 2 "watch without --exec: usage, exit 2"
echo junk > "$WORK/bad-state"
"$SCIMCTL" --db "$DB" watch --state "$WORK/bad-state" --exec true > /dev/null 2> "$WORK/err"
is "$?" 1 "a state file without a sequence number: exit 1"
ok $(grep -q 'does not hold a sequence number' "$WORK/err"; echo $?) "...saying so (never silently starting over)"

# 7. The shipped systemd unit's command line works as written (paths
# moved into the test's folder).
unit=$top_srcdir/deploy/systemd/scimd-hook.service
ok $(grep -q '^Restart=on-failure' "$unit" && grep -q '^User=www-data' "$unit"; echo $?) "scimd-hook.service: runs as www-data, Restart=on-failure"
echo "db = $DB" > "$WORK/unit.conf"
cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed -e "s#/usr/bin/scimctl#$SCIMCTL#" \
	-e "s#/etc/scimd/scimd.conf#$WORK/unit.conf#" \
	-e "s#/var/lib/scimd-hook/state#$WORK/unit-state#" -e "s#/usr/local/lib/scimd/on-change#$WORK/hook#")
ok $(echo "$cmd" | grep -q "^$SCIMCTL -c $WORK/unit.conf watch --state $WORK/unit-state --exec $WORK/hook\$"; echo $?) "the unit's ExecStart: scimctl -c (the settings' store) watch --state --exec"
env -u SCIMD_DB $cmd 2> "$WORK/unit.err" &
UNIT_PID=$!
sleep 0.3
req POST /Users '{"schemas":["'$U'"],"userName":"via-the-unit"}'
S7=$(last_seq)
for i in $(seq 1 50); do [ "$(cat "$WORK/unit-state" 2>/dev/null)" = "$S7" ] && break; sleep 0.1; done
is "$(cat "$WORK/unit-state")" "$S7" "the unit's ExecStart delivers changes"
kill "$UNIT_PID"; wait "$UNIT_PID"

release_store
done_testing
