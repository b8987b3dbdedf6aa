#!/usr/bin/env bash
# The one command that runs every test (named in the README). Safe to run on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
