#!/bin/bash
# run-fuzzers.sh: builds each harness with libFuzzer, ASan and UBSan
# (Debian's clang and libclang-rt) and runs it on its corpus.
#	tests/fuzz/run-fuzzers.sh [SECONDS_EACH] [harness...]
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-60}
shift || true
HARNESSES=${*:-filter patch json http request}
OUT=${FUZZ_OUT:-/tmp/scimd-fuzz}
mkdir -p "$OUT"
[ -f config.h ] || { echo "run ./configure first" >&2; exit 1; }
SRCS=$(ls src/*.c | grep -v -e src/scimd.c -e src/scimctl.c)
for h in $HARNESSES; do
	clang -std=gnu11 -g -O1 -DFUZZ_LIBFUZZER \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -I. -Isrc $(pkg-config --cflags jansson) \
	    tests/fuzz/fuzz_$h.c $SRCS -o "$OUT/fuzz_$h" \
	    -ljansson -lunistring -llmdb -lsodium -lfcgi
	mkdir -p "$OUT/corpus-$h"
	echo "== fuzz_$h for ${SECS}s"
	"$OUT/fuzz_$h" -max_total_time="$SECS" -max_len=8192 -timeout=10 \
	    -print_final_stats=1 "$OUT/corpus-$h" tests/fuzz/corpus/$h 2>&1 |
	    grep -E 'stat::number_of_executed_units|cov:|ERROR|SUMMARY' | tail -n 4
done
