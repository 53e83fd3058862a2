#!/usr/bin/env bash
# Benchmark run: builds the solution (Release), starts a private PostgreSQL (name `bench`, port 55434),
# runs bench/Monolith.Bench with the given arguments and writes bench/RESULTS.md. PostgreSQL is stopped on exit.
#
#   bash bench/run.sh                 # 20,000 jobs per drain / end-to-end scenario
#   bash bench/run.sh --jobs 5000     # smaller N (bench/RESULTS-baseline.md used 3,000)
#   bash bench/run.sh --concurrency 8 # WORKER_CONCURRENCY of the nodes (default 16)
#   bash bench/run.sh --only 1,4      # only some scenarios (1 submit, 2 drain, 3 end to end + 6 RSS, 4 latency, 5 recovery,
#                                     # 7 dataset parse vs psql \copy, 8 document transfer vs curl -T,
#                                     # 9 dashboard page times at 1,000,000 jobs)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$BENCH_DIR/.." && pwd -P)"
PG_NAME=bench
PG_PORT=55434
COMMAND="bash bench/run.sh${*:+ $*}"

cd "$REPO"
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
