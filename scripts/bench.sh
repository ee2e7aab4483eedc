#!/usr/bin/env bash
# Benchmarks: criterion benches of storage, evaluator and decoder, resident memory of 1M group
# partitions, and Fetch throughput against a local broker (started here) beside confluent-kafka.
# Usage: scripts/bench.sh [criterion filter]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p burrow-storage --bench storage -- "${@}"
cargo bench -p burrow-eval --bench eval -- "${@}"
cargo run --release -q -p burrow-storage --example memory -- 1000000 10
cargo bench -p burrow-kafka --bench decode -- "${@}"
# Decoding and storing 1,000,000 fetched commit records in memory, one and two threads.
cargo bench -p burrow-ingest --bench process -- "${@}"
# /metrics with 10,000 groups, /lag under wrk (when installed), memory of 1,000,000 partitions.
cargo bench -p burrow-http --bench serve
# Warm restarts: saving and restoring the state file of 1,000,000 commits.
cargo bench -p burrow-cli --bench state
# Fetch throughput against a local broker, beside confluent-kafka reading the same topic.
scripts/test-services.sh start
trap 'scripts/test-services.sh stop' EXIT
set -a
# shellcheck disable=SC1091
. .test-services/env
set +a
cargo bench -p burrow-kafka --bench fetch
# 1,000,000 commit records: raw read rate beside the consumer module's ingest rate, the topic
# laid out as Kafka's group coordinator writes it, then as LZ4 batches of 2,000 records. The
# broker is restarted before each (a broker holding several of these topics gets slower).
scripts/test-services.sh stop
scripts/test-services.sh start
cargo bench -p burrow-ingest --bench ingest
scripts/test-services.sh stop
scripts/test-services.sh start
BURROW_BENCH_LAYOUT=lz4 cargo bench -p burrow-ingest --bench ingest
# Time to verdict of `burrow-cli check` for a 100-partition group.
cargo bench -p burrow-cli --bench check
