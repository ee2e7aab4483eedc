#!/usr/bin/env bash
# burrow-storage and burrow-eval are pure: no I/O, no async runtime, time passed in. This fails
# when either gains a normal (non-dev) dependency, direct or transitive, on tokio or on a crate
# that does network, file or process I/O, so that the boundary cannot erode unnoticed.
# Usage: scripts/check-pure.sh   (run by scripts/test.sh; CHECK_PURE_CRATES="a b" checks others,
# e.g. CHECK_PURE_CRATES=burrow-ingest shows it failing)
set -euo pipefail
cd "$(dirname "$0")/.."

# Crates that bring an async runtime or I/O. A new I/O crate belongs here too.
forbidden='^(tokio|tokio-[a-z-]+|mio|async-std|smol|futures-io|hyper|hyper-[a-z-]+|reqwest|socket2|rustls|tokio-rustls|native-tls|openssl|kafka-protocol|burrow-kafka|burrow-ingest|burrow-http|burrow-notify|burrow-zk|burrow-cli|zookeeper-client|lettre|tracing-subscriber|tempfile|notify|walkdir|memmap2)$'

status=0
for crate in ${CHECK_PURE_CRATES:-burrow-storage burrow-eval}; do
  deps=$(cargo tree --locked -p "$crate" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
  bad=$(grep -E "$forbidden" <<<"$deps" || true)
  if [[ -n "$bad" ]]; then
    echo "check-pure: $crate must stay pure (no I/O, no tokio) but depends on:" >&2
    sed 's/^/  /' <<<"$bad" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "check-pure: burrow-storage and burrow-eval depend on no I/O or async crate"
exit $status
