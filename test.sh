#!/bin/bash
# test.sh: build scimd from scratch and run the whole test suite
# (unit tests and end-to-end tests through a real lighttpd on 127.0.0.1).
# Usage: ./test.sh    (the README's one test command)
set -eu
cd "$(dirname "$0")"
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j2
make -s -j2 check || { cat test-suite.log; exit 1; }
