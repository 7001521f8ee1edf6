#!/usr/bin/env bash
# Runs one of overlay-net's benchmark harnesses (a class with a main in src/test, kept out of
# `mvn verify`) with net-baseline.sh's path as its first argument:
#   overlay-net/bench/run-harness.sh CLASS [RUNS=3] [DURATION_S=5] [RR_N=20000]
set -euo pipefail
cd "$(dirname "$0")/../.."
CLASS=$1; shift
BASELINE=${BASELINE:-$(cd .. && pwd)/shared/bench/net-baseline.sh}
[[ -f $BASELINE ]] || BASELINE=/work/shared/bench/net-baseline.sh
# -am: the classpath names sibling modules (proto, testhosts) by their target/classes, nothing installed
mvn -B -o -q -pl overlay-net -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
java -XX:+UseSerialGC -Xmx256m \
  -cp "overlay-net/target/test-classes:overlay-net/target/classes:$(cat overlay-net/target/cp.txt)" \
  "$CLASS" "$BASELINE" "${1:-3}" "${2:-5}" "${3:-20000}"
