#!/usr/bin/env bash
# Routing-mesh benchmark: direct vs mesh (splice) vs mesh (copy) vs a C splice relay vs the kernel
# mesh (nftables DNAT) over Berth's ingress overlay
# between two test hosts, same client concurrency, interleaved in one run (iperf3 throughput 1 and
# 4 streams, 1-byte TCP request/response). Kept out of `mvn verify`.
#   sudo overlay-net/bench/mesh-bench.sh [RUNS=3] [DURATION_S=5] [RR_N=20000]
exec "$(dirname "$0")/run-harness.sh" dev.berth.net.bench.MeshBenchmark "$@"
