#!/bin/bash
# replay.sh: every fuzz harness over its seed corpus (and the inputs of
# past findings, regress-*), built without libFuzzer; under the ASan
# build a crash or leak fails the test.  One TAP line per harness.
. "$(dirname "$0")/../e2e/lib.sh"
for h in filter patch json http request authz; do
	files=("$top_srcdir"/tests/fuzz/corpus/$h/*)
	"$top_builddir/tests/fuzz/replay_$h" "${files[@]}" > /dev/null
	ok $? "fuzz_$h replays ${#files[@]} corpus inputs"
done
done_testing
