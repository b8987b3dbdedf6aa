#!/usr/bin/env bash
# Load run (issue 7; docs/load.md): starts dobush-server on a fresh database with demo mode on and
# rate limits off, plays VOTERS voters with the load generator (tests/src/bin/loadgen.rs), prints
# its summary and the server's CPU time, and stops the server.
#
#   scripts/load.sh postgres|sqlite [VOTERS] [CONCURRENCY]        (defaults 3000, 64)
#
# Binaries: $LOAD_BIN_DIR (default target/release) must hold dobush-server and loadgen:
#   cargo build --release -p dobush-server --bin dobush-server -p dobush-tests --bin loadgen
# PostgreSQL: $LOAD_PG (default postgres://postgres@127.0.0.1:5432), a database is created and
# dropped afterwards. Everything runs under `nice -n 19`.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:?usage: scripts/load.sh postgres|sqlite [VOTERS] [CONCURRENCY]}"
voters="${2:-3000}"
concurrency="${3:-64}"
bin="${LOAD_BIN_DIR:-target/release}"
port="${LOAD_PORT:-18480}"
work="$(mktemp -d /tmp/dobush-load.XXXXXX)"
pg="${LOAD_PG:-postgres://postgres@127.0.0.1:5432}"
db="dobush_load_$$"

case "$backend" in
  postgres) createdb -h 127.0.0.1 -U postgres "$db"; url="$pg/$db${LOAD_PG_PARAMS:-}" ;;
  sqlite) url="sqlite://$work/load.sqlite3" ;;
  *) echo "backend must be postgres or sqlite" >&2; exit 2 ;;
esac

export DOBUSH_DATABASE__URL="$url"
export DOBUSH_DATABASE__MAX_CONNECTIONS="${LOAD_POOL:-16}"
export DOBUSH_SERVER__PORT="$port"
export DOBUSH_CAMPAIGNS__ALLOW_DEMO_MODE=true
export DOBUSH_RATE_LIMIT__PER_ADDRESS_PER_MINUTE=0
export DOBUSH_RATE_LIMIT__PER_VOTER_PER_MINUTE=0
export DOBUSH_BOARD__KEY_PATH="$work/board.key"
export DOBUSH_LOG__FILTER="${LOAD_LOG:-warn}"

nice -n 19 "$bin/dobush-server" 2>"$work/server.log" &
server=$!
cleanup() {
  kill -0 "$server" 2>/dev/null || { echo "the server stopped; its log:" >&2; head -5 "$work/server.log" >&2; }
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "$backend" = postgres ] && [ -z "${LOAD_KEEP_DB:-}" ]; then dropdb -h 127.0.0.1 -U postgres --if-exists "$db" || true; fi
  [ -n "${LOAD_KEEP_LOG:-}" ] && cp "$work/server.log" "$LOAD_KEEP_LOG"
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 0.2
done

cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
out="${LOAD_OUT_DIR:-/tmp}/load-$backend-$voters.json"
nice -n 19 "$bin/loadgen" --url "http://127.0.0.1:$port" --voters "$voters" --concurrency "$concurrency" \
  --options 5 --out "$out" &
gen=$!
# the server's CPU use, sampled every second (100 = one core): the casts are the busiest stretch
hz="$(getconf CLK_TCK)"
start="$(cpu)"; last="$start"; peak=0
while kill -0 "$gen" 2>/dev/null; do
  sleep 1
  now="$(cpu)"; pct=$(( (now - last) * 100 / hz )); last="$now"
  [ "$pct" -gt "$peak" ] && peak="$pct"
done
wait "$gen"
echo "server CPU: $(( (last - start) / hz )) s over the whole run (setup, casts, check); busiest second ${peak}% of one core"
echo "summary: $out"
