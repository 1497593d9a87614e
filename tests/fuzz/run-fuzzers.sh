#!/bin/bash
# run-fuzzers.sh: builds each harness with libFuzzer, ASan and UBSan
# (Debian's clang and libclang-rt-14-dev) and runs it on its corpus for
# SECONDS (0: build only).  One TAP line per harness: ok with the
# executions and coverage reached, not ok on a finding (libFuzzer's
# report and the input's path follow as comments).  .ci/run runs this
# for a short time on every change; docs/reliability.md records long runs.
#	tests/fuzz/run-fuzzers.sh [SECONDS_EACH] [harness...]
# FUZZ_OUT (default /tmp/scimd-fuzz) keeps the binaries, the grown
# corpora (corpus-NAME) and any crashing input (NAME-crash-...).
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-60}
shift || true
HARNESSES=${*:-filter patch json http request authz}
OUT=${FUZZ_OUT:-/tmp/scimd-fuzz}
[ -f config.h ] || { echo "Bail out! run ./configure first"; exit 1; }
command -v clang >/dev/null || { echo "1..0 # SKIP clang is not installed"; exit 0; }
mkdir -p "$OUT/obj"

CFLAGS="-std=gnu11 -g -O1 -DFUZZ_LIBFUZZER -fno-sanitize-recover=undefined
    -DSCIMD_SYSCONF_FILE=\"/etc/scimd/scimd.conf\"
    -I. -Isrc -Itests $(pkg-config --cflags jansson)"
LIBS="-ljansson -lunistring -llmdb -lsodium -lfcgi"
if grep -q '^#define HAVE_SECCOMP 1' config.h; then
	LIBS="$LIBS $(pkg-config --libs libseccomp)"
	# sandbox.c loads the filter make compiles (src/sandbox_gen).
	[ -f src/sandbox_bpf.h ] || make -s src/sandbox_bpf.h ||
	    { echo "Bail out! cannot make src/sandbox_bpf.h"; exit 1; }
fi

# scimd's sources once, instrumented for coverage; then one link each.
objs=()
for src in $(ls src/*.c | grep -v -e src/scimd.c -e src/scimctl.c \
    -e src/sandbox_gen.c) tests/memreq.c; do
	obj=$OUT/obj/$(basename "$src" .c).o
	clang $CFLAGS -fsanitize=fuzzer-no-link,address,undefined \
	    -c "$src" -o "$obj" || { echo "Bail out! cannot compile $src"; exit 1; }
	objs+=("$obj")
done
n=0
for h in $HARNESSES; do
	clang $CFLAGS -fsanitize=fuzzer,address,undefined \
	    tests/fuzz/fuzz_$h.c "${objs[@]}" -o "$OUT/fuzz_$h" $LIBS ||
	    { echo "Bail out! cannot link fuzz_$h"; exit 1; }
done
[ "$SECS" -gt 0 ] || exit 0

for h in $HARNESSES; do
	n=$((n + 1))
	mkdir -p "$OUT/corpus-$h"
	"$OUT/fuzz_$h" -max_total_time="$SECS" -max_len=8192 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$OUT/$h-" \
	    "$OUT/corpus-$h" tests/fuzz/corpus/$h > "$OUT/$h.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$h.log")
	cov=$(grep -o 'cov: [0-9]*' "$OUT/$h.log" | tail -n 1 | cut -d' ' -f2)
	if [ $rc -eq 0 ]; then
		echo "ok $n - fuzz_$h: ${execs:-?} executions in ${SECS} s, coverage ${cov:-?}, no finding"
	else
		echo "not ok $n - fuzz_$h: a finding (exit $rc)"
		grep -E 'ERROR|SUMMARY|Test unit written|^    #[0-9]' "$OUT/$h.log" |
		    head -n 20 | sed 's/^/# /'
	fi
done
echo "1..$n"
