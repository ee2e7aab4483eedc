#!/usr/bin/env bash
# Benchmarks: criterion benches of storage and evaluator, then resident memory of 1M group partitions.
# Usage: scripts/bench.sh [criterion filter]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p burrow-storage --bench storage -- "${@}"
cargo bench -p burrow-eval --bench eval -- "${@}"
cargo run --release -q -p burrow-storage --example memory -- 1000000 10
