#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/integration/property tests, doctests.
# Usage: scripts/test.sh   (run from anywhere; installs nothing beyond the Rust toolchain yet)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --doc --locked
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-targets --locked --no-fail-fast
else
  cargo test --workspace --all-targets --locked --no-fail-fast
fi
