#!/bin/bash
# test.sh: build scimd from scratch and run the whole test suite: unit
# tests, the fuzz corpus replays, and every end-to-end suite through real
# lighttpd, Apache and nginx on 127.0.0.1.
# Usage: ./test.sh    (the README's one test command)
#
# As root it first installs every package of .ci/packages that is
# missing (the list .ci/run uses); otherwise it stops with the one
# apt-get line to run.  A suite whose server is missing fails; to skip
# one on purpose, name it: SCIMD_SKIP_SERVERS="nginx spawn-fcgi" ./test.sh
set -eu
cd "$(dirname "$0")"
. .ci/deps.sh
deps_install || exit 1
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j2
make -s -j2 check || { cat test-suite.log; exit 1; }
