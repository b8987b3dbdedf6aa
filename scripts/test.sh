#!/usr/bin/env bash
# The one command that runs every test (named in the README). Safe to run on a fresh machine:
# it installs or starts what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

# The verifier is an independent implementation: it must not depend on any crate of this
# workspace (docs/protocol/README.md).
if cargo tree -p dobush-verifier --edges normal --prefix none --format '{p}' 2>/dev/null \
    | grep -E '^dobush-(crypto|server|mobile-bridge|tests) ' >/dev/null; then
  echo "dobush-verifier depends on a workspace crate; it must stay independent" >&2
  exit 1
fi

cargo test --workspace --locked
