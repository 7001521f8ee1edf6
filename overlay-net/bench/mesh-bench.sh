#!/usr/bin/env bash
# Routing-mesh benchmark: mesh vs direct connections on loopback, same client concurrency,
# interleaved in one run (iperf3 throughput 1 and 4 streams, 1-byte TCP request/response).
# Kept out of `mvn verify`.
#   sudo overlay-net/bench/mesh-bench.sh [RUNS=3] [DURATION_S=5] [RR_N=20000]
set -euo pipefail
cd "$(dirname "$0")/../.."
BASELINE=${BASELINE:-$(cd .. && pwd)/shared/bench/net-baseline.sh}
[[ -f $BASELINE ]] || BASELINE=/work/shared/bench/net-baseline.sh
mvn -B -o -q -pl overlay-net -am test-compile -DskipTests
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
mvn -B -o -q -pl overlay-net dependency:build-classpath -Dmdep.outputFile="$CP_FILE" >/dev/null
exec java -XX:+UseSerialGC -Xmx256m \
  -cp "overlay-net/target/test-classes:overlay-net/target/classes:proto/target/classes:$(cat "$CP_FILE")" \
  dev.berth.net.bench.MeshBenchmark "$BASELINE" "${1:-3}" "${2:-5}" "${3:-20000}"
