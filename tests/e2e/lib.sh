# lib.sh: shared by the end-to-end tests.  Starts a real lighttpd on
# 127.0.0.1 that spawns scimd as FastCGI over a fresh LMDB store, gives
# a bearer token, and offers TAP helpers.  Everything is stopped (by
# PID) and removed when the test exits.
#
# Variables for tests: BASE (http://127.0.0.1:PORT/scim/v2), TOKEN,
# STATUS, BODY (file), HEADERS (file), WORK (temp dir).

set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
SCIMD=${SCIMD_UNDER_TEST:-"$top_builddir/src/scimd"}
# scimd refuses to serve as root unless told; CI runs everything as root.
# faults.sh checks the refusal itself with this unset.
[ "$(id -u)" -ne 0 ] || export SCIMD_ALLOW_ROOT=yes
SCIMCTL=${SCIMCTL_UNDER_TEST:-"$top_builddir/src/scimctl"}
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}

tap_n=0
tap_failed=0

ok() {	# ok CONDITION-STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $2"
		if [ -s "${BODY:-/dev/null}" ]; then
			echo "# status $STATUS, body: $(head -c 600 "$BODY")"
		fi
	fi
}

is() {	# is GOT WANT NAME
	local r=0
	[ "$1" = "$2" ] || r=1
	ok $r "$3"
	[ $r -eq 0 ] || echo "#   got: '$1'  want: '$2'"
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

skip() {	# skip NAME: a check this machine cannot make
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - # SKIP $1"
}

# A suite never skips silently: what it needs and cannot find fails it,
# unless SCIMD_SKIP_SERVERS names that thing (a space or comma separated
# list, e.g. SCIMD_SKIP_SERVERS="nginx spawn-fcgi", or "all").

# skipping_allowed NAME: true when SCIMD_SKIP_SERVERS lists NAME or all.
skipping_allowed() {
	case " ${SCIMD_SKIP_SERVERS:-} " in
	*" $1 "*|*" all "*) return 0 ;;
	esac
	case ",${SCIMD_SKIP_SERVERS:-}," in
	*",$1,"*|*",all,"*) return 0 ;;
	esac
	return 1
}

# skip_all REASON [NAME]: this suite cannot run here.  It is skipped only
# when SCIMD_SKIP_SERVERS allows NAME (default: the first word of REASON,
# e.g. "nginx is not installed" -> nginx); otherwise the suite fails.
skip_all() {
	local name=${2:-${1%% *}}
	if skipping_allowed "$name"; then
		echo "1..0 # SKIP $1 (SCIMD_SKIP_SERVERS=${SCIMD_SKIP_SERVERS})"
		exit 0
	fi
	echo "Bail out! $1: install it (every package is listed in .ci/packages;" \
	    "./test.sh installs them as root), or skip this on purpose with" \
	    "SCIMD_SKIP_SERVERS=$name"
	exit 1
}

# need NAME COMMAND...: runs COMMAND (a test such as [ -x "$NGINX" ]);
# when it fails, skip_all "NAME is not installed" NAME.
need() {
	local name=$1
	shift
	"$@" || skip_all "$name is not installed" "$name"
}

# free_port: a loopback TCP port for a test's server: below Linux's
# ephemeral range (32768 and up, where curl's, wrk's and the servers' own
# outgoing connections take theirs, so a random port there can be busy),
# and not listening now.  Two tests may still draw the same one; the
# servers' start-up retries (start_lighttpd) or the test fails loudly.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM % 12000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
	done
	echo "$p"
}

# jq over the last body.
j() { jq -r "$@" < "$BODY"; }

# Header value from the last response (case-insensitive name).
header() {
	grep -i "^$1:" "$HEADERS" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# req METHOD PATH [BODY [CONTENT-TYPE]] : sends with the token.
req() {
	local method=$1 path=$2 data=${3-} ctype=${4:-application/scim+json}
	local args=(-s -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method"
		-H "Authorization: Bearer $TOKEN" -H "Accept: application/scim+json")
	if [ -n "$data" ]; then
		args+=(-H "Content-Type: $ctype" --data-binary "$data")
	fi
	STATUS=$(curl "${args[@]}" "$BASE$path")
}

# raw curl with the usual outputs; caller gives every option.
rawreq() {
	STATUS=$(curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' "$@")
}

stop_servers() {
	if [ -n "${SERVER_PID:-}" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	# A test that mounted something under WORK unmounts it first.
	declare -F release_store >/dev/null && release_store
	if [ -n "${WORK:-}" ] && [ -z "${KEEP_WORK:-}" ]; then
		rm -rf "$WORK"
	fi
}

# start_lighttpd [MOUNT] : lighttpd spawning scimd (FastCGI, 2 procs).
# With SCIMD_CONF_FILE set, scimd reads that settings file.  With
# SCIMD_SERVER_DB set, scimd is given the store $WORK/$SCIMD_SERVER_DB
# instead of $WORK/db (where the token is made): hosting.sh starts it
# over a store that is not there yet.
start_lighttpd() {
	local mount=${1:-/scim/v2} port tries=0
	need curl command -v curl >/dev/null
	need jq command -v jq >/dev/null
	# Against an endpoint someone else runs (tests/package/run.sh: the
	# installed package behind the system's Apache): SCIMD_E2E_BASE is
	# its SCIM root, SCIMD_E2E_TOKEN a token, SCIMD_E2E_DB its store.
	if [ -n "${SCIMD_E2E_BASE:-}" ]; then
		WORK=$(mktemp -d /tmp/scimd-e2e.XXXXXX)
		trap stop_servers EXIT
		BODY=$WORK/body
		HEADERS=$WORK/headers
		[ -z "${SCIMD_E2E_DB:-}" ] || ln -s "$SCIMD_E2E_DB" "$WORK/db"
		BASE=$SCIMD_E2E_BASE
		TOKEN=$SCIMD_E2E_TOKEN
		return 0
	fi
	need lighttpd [ -x "$LIGHTTPD" ]
	WORK=$(mktemp -d /tmp/scimd-e2e.XXXXXX)
	trap stop_servers EXIT
	BODY=$WORK/body
	HEADERS=$WORK/headers
	mkdir -p "$WORK/www"
	# A test may put the store somewhere special first (faults.sh: tmpfs).
	declare -F prepare_store >/dev/null && prepare_store "$WORK/db"
	TOKEN=$("$SCIMCTL" --db "$WORK/db" token add e2e 2>/dev/null | tail -n 1)
	[ -n "$TOKEN" ] || { echo "Bail out! scimctl token add failed"; exit 1; }
	while :; do
		port=$(free_port)
		cat > "$WORK/lighttpd.conf" <<CONF
server.document-root = "$WORK/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$WORK/error.log"
server.modules = ( "mod_fastcgi" )
fastcgi.server = ( "$mount" => ((
	"bin-path" => "$SCIMD",
	"socket" => "$WORK/scimd.sock",
	"max-procs" => 2,
	"check-local" => "disable",
	"bin-environment" => ( "SCIMD_DB" => "$WORK/${SCIMD_SERVER_DB:-db}"${SCIMD_CONF_FILE:+, \"SCIMD_CONF\" => \"$SCIMD_CONF_FILE\"} )
)) )
CONF
		"$LIGHTTPD" -D -f "$WORK/lighttpd.conf" 2>>"$WORK/error.log" &
		SERVER_PID=$!
		BASE="http://127.0.0.1:$port$mount"
		local i
		# Up to 10 s: lighttpd listens only once it has started its
		# scimd processes, slow under valgrind on a loaded machine; a
		# lighttpd that could not bind exits and is retried at once.
		# (Killing a slow one would leave killed scimd processes.)
		for i in $(seq 1 100); do
			if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
				return 0
			fi
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
		tries=$((tries + 1))
		if [ $tries -ge 5 ]; then
			echo "Bail out! lighttpd did not start:"
			sed 's/^/# /' "$WORK/error.log"
			exit 1
		fi
	done
}
