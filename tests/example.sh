#!/bin/bash
# example.sh: examples/scimstore-who.c builds with the very line its
# comment gives (cc ... $(pkg-config --cflags --libs scimstore)) against
# libscimstore as `make install` lays it out (library, header, .pc file,
# copied here under a temporary prefix), and reads a real store.
. "$(dirname "$0")/e2e/lib.sh"
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed"
command -v cc >/dev/null || skip_all "no C compiler"
WORK=$(mktemp -d /tmp/scimd-example.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/prefix/lib/pkgconfig" "$WORK/prefix/include" "$WORK/build"
cp "$top_builddir/src/libscimstore.a" "$WORK/prefix/lib/"
cp "$top_srcdir/src/scimstore.h" "$WORK/prefix/include/"
sed "s|^prefix=.*|prefix=$WORK/prefix|" "$top_builddir/scimstore.pc" \
    > "$WORK/prefix/lib/pkgconfig/scimstore.pc"
cp "$top_srcdir/examples/scimstore-who.c" "$WORK/build/"

line=$(sed -n 's/^ \*[[:space:]]*\(cc -o who scimstore-who\.c .*\)$/\1/p' "$top_srcdir/examples/scimstore-who.c")
ok $([ -n "$line" ]; echo $?) "the example names its build line: $line"
# A sanitizer build's library needs its runtime at link time: the line
# is run as written, with the build's LDFLAGS added to cc when it has
# any (none in a normal build).
ldflags=$(sed -n 's/^LDFLAGS = //p' "$top_builddir/Makefile")
if [ -n "$ldflags" ]; then
	cc() { command cc "$@" $ldflags; }
fi
(cd "$WORK/build" && PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig" eval "$line") > "$WORK/cc.out" 2>&1
rc=$?
ok $rc "...and it builds as written"
[ $rc -eq 0 ] || sed 's/^/# /' "$WORK/cc.out" | head -n 20

printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen","emails":[{"value":"bjensen@example.com"}]}\n' > "$WORK/users.ndjson"
"$SCIMCTL" --db "$WORK/db" import "$WORK/users.ndjson" > /dev/null 2>&1
ok $? "a store with one user"
if [ -x "$WORK/build/who" ]; then
	"$WORK/build/who" "$WORK/db" bjensen@example.com > "$WORK/who.out" 2>&1
	ok $? "./who finds the user by email"
	ok $(grep -q '"userName":"bjensen"' "$WORK/who.out"; echo $?) "...and prints the record"
else
	skip "./who was not built"
	skip "...prints"
fi
done_testing
