#!/bin/bash
# valgrind.sh: memcheck over the unit tests, the fuzz corpus replays, and
# end-to-end runs with every scimd process (FastCGI under lighttpd) run
# by valgrind.  Any invalid access, use of uninitialised memory or
# definite/indirect leak fails.  TAP on stdout; .ci/run counts it.
#	top_builddir=. top_srcdir=. tests/valgrind.sh
. "$(dirname "$0")/e2e/lib.sh"
need valgrind command -v valgrind >/dev/null
VG=(valgrind --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect)
OUT=$(mktemp -d /tmp/scimd-valgrind.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# Unit tests: the program's own checks and memcheck's verdict.
for t in t_store t_verify t_schema t_filter t_plan t_patch t_http t_jsonx \
    t_alloc t_scimstore t_username t_authz t_op t_unique; do
	(cd "$top_builddir" && "${VG[@]}" "tests/$t") > "$OUT/$t.log" 2>&1
	rc=$?
	ok $([ $rc -eq 0 ] && ! grep -q '^not ok' "$OUT/$t.log"; echo $?) "$t under memcheck"
	[ $rc -eq 0 ] || grep -E '^==[0-9]+== ' "$OUT/$t.log" | head -n 20 | sed 's/^/# /'
done

# Fuzz corpora, through the same harness code the fuzzers run.
for h in filter patch json http request authz; do
	files=("$top_srcdir"/tests/fuzz/corpus/$h/*)
	"${VG[@]}" "$top_builddir/tests/fuzz/replay_$h" "${files[@]}" > "$OUT/replay_$h.log" 2>&1
	rc=$?
	ok $rc "fuzz_$h corpus (${#files[@]} inputs) under memcheck"
	[ $rc -eq 0 ] || grep -E '^==[0-9]+== ' "$OUT/replay_$h.log" | head -n 20 | sed 's/^/# /'
done

# End to end: lighttpd starts the wrapper, which runs scimd under
# valgrind with one log per process.
mkdir -p "$OUT/vg"
# valgrind's own calls are not a serving scimd's: no seccomp filter.
printf 'sandbox = none\n' > "$OUT/vg.conf"
cat > "$OUT/scimd-vg" <<EOF
#!/bin/sh
# A test that names its own settings (authz-lighttpd.sh) keeps them and
# turns the filter off there (AUTHZ_CONF_EXTRA).
SCIMD_CONF=\${SCIMD_CONF:-$OUT/vg.conf}; export SCIMD_CONF
exec valgrind --log-file=$OUT/vg/scimd.%p --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    "$top_builddir/src/scimd" "\$@"
EOF
chmod 755 "$OUT/scimd-vg"
for e in users okta groups entra authz-lighttpd; do
	AUTHZ_CONF_EXTRA="sandbox = none" SCIMD_UNDER_TEST=$OUT/scimd-vg bash "$top_srcdir/tests/e2e/$e.sh" > "$OUT/$e.log" 2>&1
	rc=$?
	ok $([ $rc -eq 0 ] && ! grep -q '^not ok' "$OUT/$e.log"; echo $?) "e2e $e.sh with scimd under memcheck"
	[ $rc -eq 0 ] || grep '^not ok' "$OUT/$e.log" | head -n 5 | sed 's/^/# /'
done
# Each scimd writes its summary as it exits (lighttpd stops them at the
# end of each test); wait for the last ones, up to 60 s.  The running
# process is valgrind's tool (memcheck-ARCH-linux), not "valgrind": match
# on its log option.
for i in $(seq 1 300); do
	pgrep -f -- "--log-file=$OUT/vg/" >/dev/null || break
	sleep 0.2
done
logs=$(ls "$OUT"/vg/scimd.* 2>/dev/null | wc -l)
clean=$(grep -l 'ERROR SUMMARY: 0 errors' "$OUT"/vg/scimd.* 2>/dev/null | wc -l)
ok $([ "$logs" -gt 0 ] && [ "$clean" -eq "$logs" ]; echo $?) "$clean of $logs scimd processes exited with no memcheck errors or leaks"
for f in "$OUT"/vg/scimd.*; do
	grep -q 'ERROR SUMMARY: 0 errors' "$f" && continue
	echo "# $f:"
	grep -E '^==[0-9]+== ' "$f" | head -n 30 | sed 's/^/# /'
done
done_testing
