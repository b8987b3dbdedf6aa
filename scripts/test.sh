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

# crypto does no I/O (ARCHITECTURE.md): no runtime, database, web or network crate in its
# dependency tree, and no file, network, process or environment access in its source.
if cargo tree -p dobush-crypto --edges normal --prefix none --format '{p}' 2>/dev/null \
    | grep -E '^(tokio|mio|diesel|actix[a-z_-]*|hyper|reqwest|async-std|libsqlite3-sys|pq-sys) ' >/dev/null; then
  echo "dobush-crypto depends on an I/O crate; it must do no I/O" >&2
  exit 1
fi
if grep -rnE 'std::(fs|net|process|env)\b|File::(open|create)' crypto/src >&2; then
  echo "dobush-crypto's source does I/O (above); it must not" >&2
  exit 1
fi

step "rustfmt, clippy"
# The workspace's format (rustfmt.toml) and lints (clippy.toml; the crates deny unwrap, expect and
# panic outside tests): any warning fails, as a failing test does.
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked --features dobush-fuzz/api -- -D warnings
# The production build leaves the demo code out (cargo feature `demo`, docs/deploy.md): it must
# build, warning-free, without it.
cargo clippy -p dobush-server --lib --bins --locked --no-default-features -- -D warnings

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

step "cargo test --workspace"
# dobush-fuzz's `api` feature turns on its smoke test (fuzz/tests/smoke.rs, docs/fuzzing.md):
# every fuzz target of dobush-fuzz on its seed corpus (written afresh from vectors/ and a
# simulated election), the committed regression inputs and a fixed budget of mutated inputs
# (FUZZ_INPUTS per target, at most FUZZ_SECONDS each; FUZZ_INPUTS=0 runs the seeds and
# regressions only); a crashing input is saved under fuzz/artifacts/<target>/. It runs here, in
# the one build of the workspace's tests: as a separate `cargo run` it built the server again
# with other features (≈ 4 minutes of CI). Long coverage-guided runs: cargo-fuzz
# (fuzz/libfuzzer/, docs/fuzzing.md).
cargo test --workspace --locked --features dobush-fuzz/api

step "the mobile bridge from Python"
# The mobile bridge through its generated Python bindings (UniFFI, mobile-bridge/README.md §Tests),
# after the workspace's tests, whose build it reuses.
mobile-bridge/tests/run_python.sh
