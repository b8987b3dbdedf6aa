#!/usr/bin/env bash
# Load run (docs/load.md): starts dobush-server on a fresh database with demo mode on and
# rate limits off, plays VOTERS voters with the load generator (tests/src/bin/loadgen.rs), prints
# its summary and the server's CPU time, and stops the server.
#
#   scripts/load.sh postgres|sqlite [VOTERS] [CONCURRENCY]        (defaults 3000, 64)
#
# Binaries: $LOAD_BIN_DIR (default target/release) must hold dobush-server and loadgen:
#   cargo build --release -p dobush-server --bin dobush-server -p dobush-tests --bin loadgen
# PostgreSQL: a database is created on $LOAD_PG and dropped afterwards. By default the server
# reaches it as a server on the same host would, over the Unix socket (LOAD_PG_VIA=socket:
# postgres://postgres@%2Fvar%2Frun%2Fpostgresql); LOAD_PG_VIA=tcp goes through 127.0.0.1:5432
# instead (TLS when the database offers it, as libpq prefers). Everything runs under `nice -n 19`.
# It prints the machine's CPU time per ballot over the timed phase (steadier from run to run than
# the throughput on a shared VM), split into the server's, the generator's and the rest.
# LOAD_PERF=FILE records a profile of the whole machine over the timed phase (`perf record -a`;
# `perf report -i FILE --sort comm,dso`). LOAD_VERIFY=1 then closes the campaign, exports its
# election record and checks it with dobush-verifier (also wanted in $LOAD_BIN_DIR:
# `cargo build --release -p dobush-verifier`).
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:?usage: scripts/load.sh postgres|sqlite [VOTERS] [CONCURRENCY]}"
voters="${2:-3000}"
concurrency="${3:-64}"
bin="${LOAD_BIN_DIR:-target/release}"
port="${LOAD_PORT:-18480}"
work="$(mktemp -d /tmp/dobush-load.XXXXXX)"
case "${LOAD_PG_VIA:-socket}" in
  socket) pg="${LOAD_PG:-postgres://postgres@%2Fvar%2Frun%2Fpostgresql}" ;;
  tcp) pg="${LOAD_PG:-postgres://postgres@127.0.0.1:5432}" ;;
  *) echo "LOAD_PG_VIA must be socket or tcp" >&2; exit 2 ;;
esac
db="dobush_load_$$"

case "$backend" in
  postgres) psql -q "$pg/postgres" -c "CREATE DATABASE $db"; url="$pg/$db${LOAD_PG_PARAMS:-}" ;;
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
"$bin/dobush-server" generate-board-key --out "$work/board.key" >/dev/null
export DOBUSH_LOG__FILTER="${LOAD_LOG:-warn}"

nice -n 19 "$bin/dobush-server" 2>"$work/server.log" &
server=$!
cleanup() {
  kill -0 "$server" 2>/dev/null || { echo "the server stopped; its log:" >&2; head -5 "$work/server.log" >&2; }
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "$backend" = postgres ] && [ -z "${LOAD_KEEP_DB:-}" ]; then psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" || true; fi
  [ -n "${LOAD_KEEP_LOG:-}" ] && cp "$work/server.log" "$LOAD_KEEP_LOG"
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 0.2
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }   # user + system jiffies of a process
generator() { pgrep -n -x loadgen; }
out="${LOAD_OUT_DIR:-/tmp}/load-$backend-$voters.json"
# The timed phase, told by the generator's two lines on stderr (read as they come, no polling):
# the machine's and the server's CPU time over it (from /proc), and with LOAD_PERF=FILE a profile
# of the whole machine (`perf record -a`, call graphs unless LOAD_PERF_ARGS says otherwise).
machine() { awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat; }   # busy, idle (+iowait) jiffies
timed_phase() {
  local line busy0 idle0 server0 gen0 busy1 idle1 server1 gen1 casts=0 perf=""
  while IFS= read -r line; do
    printf '%s\n' "$line" >&2
    case "$line" in
      "timed phase: casting "*)
        casts="${line#timed phase: casting }"; casts="${casts%% *}"
        read -r busy0 idle0 < <(machine); server0="$(cpu "$server")"; gen0="$(cpu "$(generator)")"
        if [ -n "${LOAD_PERF:-}" ]; then
          # shellcheck disable=SC2086
          perf record -a ${LOAD_PERF_ARGS:--g} -F 997 -o "$LOAD_PERF" 2>/dev/null & perf=$!
        fi ;;
      "timed phase over")
        read -r busy1 idle1 < <(machine); server1="$(cpu "$server")"; gen1="$(cpu "$(generator)")"
        [ -n "$perf" ] && { kill -INT "$perf"; wait "$perf" 2>/dev/null || true; }
        awk -v b="$((busy1 - busy0))" -v i="$((idle1 - idle0))" -v s="$((server1 - server0))" -v g="$((gen1 - gen0))" \
            -v n="$casts" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n == 0) exit; ms = 1000 / hz / n;
          printf "timed phase     machine %.0f%% busy (%.0f%% idle); CPU per ballot: %.2f ms in all = %.2f the server + %.2f the generator + %.2f the rest (database, kernel)\n",
            100 * b / (b + i), 100 * i / (b + i), b * ms, s * ms, g * ms, (b - s - g > 0 ? b - s - g : 0) * ms }' ;;
    esac
  done
}
nice -n 19 "$bin/loadgen" --url "http://127.0.0.1:$port" --voters "$voters" --concurrency "$concurrency" \
  --options 5 --out "$out" 2> >(timed_phase) &
gen=$!
wait "$gen"
echo "summary: $out"
if [ -n "${LOAD_VERIFY:-}" ]; then
  # the whole election record of the run, checked by the independent verifier: the demo closing
  # (polls closed, totals decrypted by the demo key-holders, protocol signed), then export-record
  campaign="$(grep -o '"campaign": *"[^"]*"' "$out" | cut -d'"' -f4)"
  curl -fsS -X POST "http://127.0.0.1:$port/api/campaigns/$campaign/demo/close" >/dev/null
  "$bin/dobush-server" export-record --campaign "$campaign" --out "$work/record" >/dev/null
  "$bin/dobush-verifier" verify "$work/record" | tail -n 2
fi
