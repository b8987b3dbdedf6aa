#!/usr/bin/env bash
# The one command that runs every test (named in the README). Safe to run on a fresh machine:
# it installs or starts what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts, with the time taken so far (CI must stay under 40 minutes).
step() { echo "== scripts/test.sh: $* (at $((SECONDS / 60)) min $((SECONDS % 60)) s)"; }
trap 'echo "== scripts/test.sh: finished after $((SECONDS / 60)) min $((SECONDS % 60)) s (exit $?)"' EXIT

# The verifier is an independent implementation: it must not depend on any crate of this
# workspace (docs/protocol/README.md).
if cargo tree -p dobush-verifier --edges normal --prefix none --format '{p}' 2>/dev/null \
    | grep -E '^dobush-(crypto|server|mobile-bridge|tests) ' >/dev/null; then
  echo "dobush-verifier depends on a workspace crate; it must stay independent" >&2
  exit 1
fi

step "PostgreSQL, the OpenID provider's packages"
# dobush-server: its integration suite runs on PostgreSQL and SQLite and logs in through a real
# OpenID provider (node + npm package oidc-provider). PostgreSQL unreachable = failing tests, never
# skipped ones.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
(cd server/tests/oidc && npm ci --no-audit --no-fund)

step "Chromium"
# Debian's Chromium: the server suite drives the browser voter app in it
# (server/tests/api/browser.rs, playwright-core from web/package.json) and renders the printable
# protocol to PDF (server/tests/api/shmt.rs). With CI=true a missing Chromium fails those tests.
if [ ! -x /usr/bin/chromium ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

step "the web app's tests"
# The browser voter app (web/): its crypto byte-identical to the Rust vectors, the committed
# bundle web/dist/ exactly what web/build.mjs makes.
(cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
node --test web/test/

step "the mobile bridge from Python"
# The mobile bridge through its generated Python bindings (UniFFI, issue 6).
mobile-bridge/tests/run_python.sh

step "cargo test --workspace"
cargo test --workspace --locked

step "fuzz smoke run"
# Fuzzing smoke run (issue 7, docs/fuzzing.md), on stable: every target of dobush-fuzz on its
# seed corpus (made from vectors/ and a simulated election), the committed regression inputs and
# a fixed budget of mutated inputs (FUZZ_INPUTS per target, at most FUZZ_SECONDS each). A crash
# fails the run; the input is saved under fuzz/artifacts/<target>/. FUZZ_INPUTS=0 runs the seeds
# and regressions only. Long coverage-guided runs: cargo-fuzz (fuzz/libfuzzer/, docs/fuzzing.md).
rm -rf fuzz/seeds && cargo run -q --locked -p dobush-tests --bin fuzz_seeds -- fuzz/seeds
cargo run -q --locked -p dobush-fuzz --features api --bin fuzz_smoke -- \
  --inputs "${FUZZ_INPUTS:-3000}" --seconds "${FUZZ_SECONDS:-10}"
