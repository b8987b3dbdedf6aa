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

# Debian's Chromium: the printable protocol is rendered to PDF (server/tests/api/shmt.rs; with
# CI=true a missing Chromium fails that test).
if [ ! -x /usr/bin/chromium ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

# The browser voter client's crypto (web/): byte-identical to the Rust vectors.
(cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
node --test web/test/

# The mobile bridge through its generated Python bindings (UniFFI, issue 6).
mobile-bridge/tests/run_python.sh

cargo test --workspace --locked

# Fuzzing smoke run (issue 7, fuzz/README.md): every cargo-fuzz target for a short time, starting
# from seed corpora made from vectors/ and a simulated election. Needs the nightly toolchain and
# cargo-fuzz (installed here if missing). FUZZ_SECONDS=0 skips it.
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
if [ "$FUZZ_SECONDS" != 0 ]; then
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
  rm -rf fuzz/seeds && cargo run -q --locked -p dobush-tests --bin fuzz_seeds -- fuzz/seeds
  for target in ballot record verifier api_bodies; do
    mkdir -p "fuzz/corpus/$target"
    log="fuzz/corpus/$target.log"
    if ! cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
      tail -n 60 "$log" >&2
      echo "fuzz target $target failed; the failing input is under fuzz/artifacts/$target" >&2
      exit 1
    fi
    echo "fuzz $target: $(grep -E '^stat::number_of_executed_units' "$log" | tr -d ' ')"
  done
fi
