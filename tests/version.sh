#!/bin/bash
# version.sh: one version number everywhere: configure.ac (AC_INIT),
# debian/changelog (its first entry), NEWS (its first heading),
# scimd --version and scimctl --version.
. "$(dirname "$0")/e2e/lib.sh"
ac=$(sed -n 's/^AC_INIT(\[scimd\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
ok $([ -n "$ac" ]; echo $?) "configure.ac: AC_INIT names a version ($ac)"
is "$(sed -n '1s/^scimd (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")" "$ac" "debian/changelog: the first entry"
is "$(sed -n '1s/^scimd \(.*\)$/\1/p' "$top_srcdir/NEWS")" "$ac" "NEWS: the first heading"
is "$("$SCIMD" --version)" "scimd $ac" "scimd --version"
is "$("$SCIMD" -V)" "scimd $ac" "scimd -V"
is "$("$SCIMCTL" --version)" "scimctl $ac" "scimctl --version"
if command -v dpkg-parsechangelog >/dev/null; then
	is "$(cd "$top_srcdir" && dpkg-parsechangelog -S Version)" "$ac" "dpkg-parsechangelog agrees"
fi
done_testing
