#!/bin/bash
# style.sh: scripts/check-style finds what it says it finds.  Each rule
# gets a small C file breaking it once (and a clean twin it must pass);
# the allow marker covers exactly one line and one rule and must give a
# reason.  The tree itself is checked by `make check-style` and .ci/run.
. "$(dirname "$0")/e2e/lib.sh"
CS="$top_srcdir/scripts/check-style"
T=$(mktemp -d /tmp/scimd-style.XXXXXX)
trap 'rm -rf "$T"' EXIT

# rule NAME FILE: check-style reports rule NAME in FILE (and fails).
rule() {
	out=$(perl "$CS" "$2" 2>&1)
	rc=$?
	ok $([ $rc -eq 1 ] && echo "$out" | grep -q ": $1: "; echo $?) "$1 found in $(basename "$2")"
	[ $rc -eq 1 ] || echo "# exit $rc: $out"
}
# clean FILE: check-style passes FILE.
clean() {
	out=$(perl "$CS" "$1" 2>&1)
	ok $? "$(basename "$1") passes"
	echo "$out" | grep -v 'no problem' | sed 's/^/# /'
}

cat > "$T/good.c" <<'C'
/* A comment above. */
int
good(int a)
{
	return a + 1;
}

static int
short_one(void)
{
	return 0;
}
C
clean "$T/good.c"

printf '/* x */\nint\nf(void)\n{\n\tchar b[8];\n\n\tsprintf(b, "%%d", 1);\n\treturn 0;\n}\n' > "$T/banned.c"
rule BANNED "$T/banned.c"
for fn in strcpy strcat gets atoi atol sscanf strtok gmtime localtime vsprintf strncpy; do
	printf '/* x */\nint\nf(char *s)\n{\n\treturn (int)%s(s);\n}\n' "$fn" > "$T/b-$fn.c"
	out=$(perl "$CS" "$T/b-$fn.c")
	ok $(echo "$out" | grep -q "BANNED: $fn()"; echo $?) "$fn() is banned"
done
printf '/* x */\nint\nf(char *s)\n{\n\t/* sprintf(s) in a comment */\n\treturn s[0] == *"atoi(";\n}\n' > "$T/incomment.c"
clean "$T/incomment.c"

printf '/* x */\nlong\nf(const char *s)\n{\n\treturn strtol(s, NULL, 10);\n}\n' > "$T/strto.c"
rule STRTONULL "$T/strto.c"
printf '/* x */\nchar *\nf(void *j)\n{\n\treturn json_dumps(j, 0);\n}\n' > "$T/dump.c"
rule JSONDUMP "$T/dump.c"

{ printf '/* x */\nint\nf(void)\n{\n\treturn 1;\t/* '; printf 'x%.0s' $(seq 1 60); printf ' */\n}\n'; } > "$T/long.c"
rule LONGLINE "$T/long.c"
# 72 columns of text after a tab: 80 exactly, allowed.
{ printf '/* x */\nint\nf(void)\n{\n\t/* '; printf 'x%.0s' $(seq 1 66); printf ' */\n\treturn 1;\n}\n'; } > "$T/eighty.c"
clean "$T/eighty.c"

printf 'int\nf(void)\n{\n\treturn 1;\n}\n' > "$T/nocomment.c"
rule FUNCCOMMENT "$T/nocomment.c"
{ printf 'static int\nlong_one(void)\n{\n\tint a = 0;\n'; for i in $(seq 1 12); do printf '\ta += %d;\n' $i; done; printf '\treturn a;\n}\n'; } > "$T/longstatic.c"
rule FUNCCOMMENT "$T/longstatic.c"
# The comment may sit above a prototype just before the definition
# (the form an __attribute__ needs).
printf '/* x */\nint\nf(int) __attribute__((const));\n\nint\nf(int a)\n{\n\treturn a;\n}\n' > "$T/proto.c"
clean "$T/proto.c"
printf 'int\nf(int) __attribute__((const));\n\nint\nf(int a)\n{\n\treturn a;\n}\n' > "$T/proto-bare.c"
rule FUNCCOMMENT "$T/proto-bare.c"
printf '/* x */\nint f(void)\n{\n\treturn 1;\n}\n' > "$T/knf.c"
rule KNFHEAD "$T/knf.c"
printf '/* x */\nint\nf(void)\n{\n\treturn 1; \n}\n' > "$T/trail.c"
rule TRAILSPACE "$T/trail.c"
printf '/* x */\nint\nf(void)\n{\n        return 1;\n}\n' > "$T/spaces.c"
rule SPACEINDENT "$T/spaces.c"
printf '/* x */\nint\nf(void)\n{\n\treturn 1;\t// one\n}\n' > "$T/cpp.c"
rule CPPCOMMENT "$T/cpp.c"

# The allow marker: on the line or alone above it, one rule, a reason.
printf '/* x */\nint\nf(char *s)\n{\n\t/* check-style: allow BANNED: a test of the marker */\n\treturn atoi(s);\n}\n' > "$T/allow.c"
clean "$T/allow.c"
printf '/* x */\nint\nf(char *s)\n{\n\t/* check-style: allow BANNED: a test */\n\treturn atoi(s) + atoi(s + 1);\n}\n' > "$T/allow2.c"
clean "$T/allow2.c"
printf '/* x */\nint\nf(char *s)\n{\n\t/* check-style: allow BANNED: only the next line */\n\ts++;\n\treturn atoi(s);\n}\n' > "$T/allow-far.c"
rule BANNED "$T/allow-far.c"
printf '/* x */\nint\nf(char *s)\n{\n\treturn atoi(s);\t/* check-style: allow LONGLINE: wrong rule */\n}\n' > "$T/allow-wrong.c"
rule BANNED "$T/allow-wrong.c"
rule UNUSEDALLOW "$T/allow-wrong.c"
printf '/* x */\nint\nf(char *s)\n{\n\treturn atoi(s);\t/* check-style: allow BANNED */\n}\n' > "$T/allow-noreason.c"
rule BADALLOW "$T/allow-noreason.c"

# Without arguments: src/ of the tree the script is in.
mkdir -p "$T/tree/scripts" "$T/tree/src"
cp "$CS" "$T/tree/scripts/"
cp "$T/nocomment.c" "$T/tree/src/x.c"
out=$(perl "$T/tree/scripts/check-style")
ok $(echo "$out" | grep -q 'src/x.c:[0-9]*: FUNCCOMMENT'; echo $?) "no arguments: the tree's src/*.c"
done_testing
