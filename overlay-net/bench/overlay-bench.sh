#!/usr/bin/env bash
# Overlay benchmark: raw underlay vs hand-built kernel VXLAN (../shared/bench/net-baseline.sh's
# setup) vs Berth's data plane, in one run, between two test hosts (network namespaces this
# harness creates and deletes). Kept out of `mvn verify`.
#   sudo overlay-net/bench/overlay-bench.sh [RUNS=3] [DURATION_S=5] [RR_N=20000]
exec "$(dirname "$0")/run-harness.sh" dev.berth.net.bench.OverlayBenchmark "$@"
