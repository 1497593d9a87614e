# .ci/deps.sh: sourced by test.sh and .ci/run.  deps_missing prints the
# packages of .ci/packages that are not installed; deps_install installs
# them as root, or, when not root, prints the one apt-get line to run and
# returns 1.
deps_list() {
	sed 's/#.*//' "$(dirname "${BASH_SOURCE[0]}")/packages" | tr -s ' \t\n' '\n' | grep -v '^$'
}

deps_missing() {
	local p
	for p in $(deps_list); do
		dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null |
		    grep -qx installed || echo "$p"
	done
}

deps_install() {
	local missing
	missing=$(deps_missing | tr '\n' ' ')
	missing=${missing% }
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "These packages are missing; as root, run:" >&2
		echo "  apt-get install -y --no-install-recommends $missing" >&2
		return 1
	fi
	echo "installing: $missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null || {
		echo "apt-get install failed for: $missing" >&2
		return 1
	}
}
