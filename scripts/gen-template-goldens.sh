#!/usr/bin/env bash
# Renders the Go-template corpus with Go's own text/template (the oracle,
# crates/burrow-notify/tests/go-oracle/main.go: Burrow 1.9.5's data and helpers) into
# crates/burrow-notify/tests/go-templates/goldens/. tests/go_templates.rs compares burrow-rs's
# output with these files byte for byte. Needs `go` (Debian: golang-go).
#
# usage: scripts/gen-template-goldens.sh [OUT_DIR]   (default: the committed goldens)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/crates/burrow-notify/tests/go-templates
out=${1:-$dir/goldens}
command -v go >/dev/null || { echo "gen-template-goldens: go is not installed (apt-get install golang-go)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/burrow-rs/go-build}
export GOFLAGS=-mod=mod GO111MODULE=off
TZ=UTC go run "$root/crates/burrow-notify/tests/go-oracle/main.go" \
  "$dir/scenarios.json" "$out" "$dir/burrow" "$dir/corpus"
echo "gen-template-goldens: $(ls "$out" | wc -l) outputs in $out ($(go version))"
