#!/bin/bash
# sandbox.sh: scimd under its seccomp filter (sandbox = seccomp).  The
# users, Okta, groups, Entra, query and bulk suites pass through lighttpd with the filter on;
# with sandbox = seccomp-selftest scimd makes one forbidden call after
# entering it and the kernel kills it (SIGSYS).  Skipped when scimd was
# built without libseccomp, and in sanitizer builds (their runtimes make
# calls a serving scimd does not).
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" 2>/dev/null ||
    skip_all "scimd built without libseccomp"
ldd "$SCIMD" 2>/dev/null | grep -q -e libasan -e libubsan &&
    skip_all "sanitizer build"

OUT=$(mktemp -d /tmp/scimd-sandbox.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
printf 'sandbox = seccomp\n' > "$OUT/sandbox.conf"
for e in users okta groups entra query bulk; do
	SCIMD_CONF_FILE=$OUT/sandbox.conf bash "$top_srcdir/tests/e2e/$e.sh" > "$OUT/$e.log" 2>&1
	rc=$?
	ok $([ $rc -eq 0 ] && ! grep -q '^not ok' "$OUT/$e.log"; echo $?) "$e.sh passes with scimd under its seccomp filter"
	[ $rc -eq 0 ] || grep '^not ok' "$OUT/$e.log" | head -n 5 | sed 's/^/# /'
done

# The self-test, as plain CGI so that the exit status is ours to see.
"$SCIMCTL" --db "$OUT/db" token add t > "$OUT/token" 2>/dev/null
printf 'db = %s\nsandbox = seccomp-selftest\n' "$OUT/db" > "$OUT/selftest.conf"
env -i SCIMD_CONF="$OUT/selftest.conf" GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=GET SCRIPT_NAME=/scim/v2 PATH_INFO=/Users \
    HTTP_HOST=127.0.0.1 HTTP_AUTHORIZATION="Bearer $(tail -n 1 "$OUT/token")" \
    "$SCIMD" < /dev/null > "$OUT/selftest.out" 2> "$OUT/selftest.err"
rc=$?
is "$rc" $((128 + 31)) "a forbidden call after entering the sandbox: killed by SIGSYS"
ok $(grep -q 'sandbox self-test: making a forbidden call' "$OUT/selftest.err"; echo $?) "...after saying so in the log"
is "$(wc -c < "$OUT/selftest.out")" 0 "...and nothing was answered"

# With the filter on and no self-test, the same CGI request is answered.
printf 'db = %s\nsandbox = seccomp\n' "$OUT/db" > "$OUT/cgi.conf"
env -i SCIMD_CONF="$OUT/cgi.conf" GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=GET SCRIPT_NAME=/scim/v2 PATH_INFO=/Users \
    HTTP_HOST=127.0.0.1 HTTP_AUTHORIZATION="Bearer $(tail -n 1 "$OUT/token")" \
    "$SCIMD" < /dev/null > "$OUT/cgi.out" 2> "$OUT/cgi.err"
is "$?" 0 "plain CGI under the filter: exits normally"
is "$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$OUT/cgi.out")" 200 "...and answers 200"
done_testing
