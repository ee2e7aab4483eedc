#!/usr/bin/env bash
# A long run of `burrow-cli serve` through the test kit's fault proxy with live commits
# (crates/burrow-cli/tests/soak.rs): faults in turn for 10 s out of every 20, then checks that no
# commit was lost and nothing panicked, and prints RSS at start and end.
# Usage: scripts/fault-soak.sh [seconds]   (default 600; starts and stops the test services)
set -euo pipefail
cd "$(dirname "$0")/.."
export BURROW_SOAK_SECONDS="${1:-600}"
scripts/test-services.sh start
trap 'scripts/test-services.sh stop' EXIT
set -a
# shellcheck disable=SC1091
. .test-services/env
set +a
cargo test --release --locked -p burrow-cli --test soak -- --ignored --nocapture
