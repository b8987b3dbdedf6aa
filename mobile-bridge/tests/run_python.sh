#!/usr/bin/env bash
# Builds the mobile bridge, generates its Python bindings with the workspace's pinned
# uniffi-bindgen (library mode) and runs tests/test_bridge.py against them.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3 >/dev/null
fi

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
# Built with the features *and the targets* of scripts/test.sh's
# `cargo test --workspace --features dobush-fuzz/api`, so that the bridge and the binding generator
# reuse that build's dependencies. `--all-targets` matters: without it the dev-dependencies' features
# are not unified in (resolver 2), about forty dependencies (openidconnect, reqwest, …) are built a
# second time with another feature set, and this step took 9–10 minutes of CI instead of one.
cargo build --locked --workspace --all-targets --features dobush-fuzz/api
lib="$target_dir/debug/libdobush_mobile_bridge.so"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$target_dir/debug/uniffi-bindgen" generate --library "$lib" --language python --out-dir "$out" >/dev/null
cp "$lib" "$out/"   # the generated module loads the library from its own directory

PYTHONPATH="$out" python3 mobile-bridge/tests/test_bridge.py
