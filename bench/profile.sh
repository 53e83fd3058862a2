#!/usr/bin/env bash
# Profiles one drain: N noop jobs queued through the batch endpoint on an `api` node, then one `worker` node
# started; prints the drain rate, the worker's CPU per job, PostgreSQL commits per job and the statements that
# took the most time (pg_stat_statements). Its own PostgreSQL (name `profile`, port 55436), stopped on exit.
#
#   bash bench/profile.sh [N] [VAR=value ...]     e.g. bash bench/profile.sh 5000 WORKER_CONCURRENCY=32
#
# The VAR=value pairs are set on the worker node only. Build first: dotnet build Monolith.sln -c Release.
# PROFILE_TRACE=1 also samples the worker's CPU during the drain (dotnet-trace, installed under .local/tools on first
# use) and prints the methods where it spent most time; the trace is kept in .local/profile/worker.nettrace.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"
# shellcheck source=../scripts/postgres.sh
source scripts/postgres.sh
N="${1:-5000}"
shift || true
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  monolith_stop_postgres profile >/dev/null 2>&1 || true
}
trap cleanup EXIT
monolith_start_postgres profile 55436 >/dev/null
PSQL=("$(monolith_pg_bin)/psql" -h 127.0.0.1 -p 55436 -U postgres -qtA)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS profile WITH (FORCE)" -c "CREATE DATABASE profile" >/dev/null
"${PSQL[@]}" -d profile -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

DLL=src/Api/bin/Release/net10.0/Monolith.Api.dll
LOGS="$REPO/.local/profile"
mkdir -p "$LOGS"
export DATABASE_URL=postgres://postgres@127.0.0.1:55436/profile ADMIN_API_KEY=profile-admin-key-0123456789
export Secrets__Keys__profile=cHJvZmlsZS1rZXktcHJvZmlsZS1rZXktcHJvZmlsZS0=
wait_ready() { until curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null; do sleep 0.2; done; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

SERVICE_TYPE=api INSTANCE_ID=profile-api ASPNETCORE_URLS=http://127.0.0.1:18081 dotnet "$DLL" >"$LOGS/api.log" 2>&1 &
PIDS+=($!)
wait_ready 18081
BODY="$(python3 -c 'import json; print(json.dumps({"jobs": [{"type": "noop", "payload": {}}] * 1000}))')"
for _ in $(seq 1 $((N / 1000))); do
  curl -sf -o /dev/null -H "X-Api-Key: $ADMIN_API_KEY" -H 'Content-Type: application/json' -d "$BODY" \
    http://127.0.0.1:18081/v1/jobs/batch
done
echo "queued $((N / 1000 * 1000)) noop jobs; worker settings: ${*:-defaults}"

"${PSQL[@]}" -d profile -c "SELECT pg_stat_statements_reset()" >/dev/null
COMMITS0="$("${PSQL[@]}" -d profile -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'profile'")"
env SERVICE_TYPE=worker INSTANCE_ID=profile-worker ASPNETCORE_URLS=http://127.0.0.1:18082 "$@" dotnet "$DLL" >"$LOGS/worker.log" 2>&1 &
WORKER=$!
PIDS+=("$WORKER")
wait_ready 18082
CPU0="$(cpu_ticks "$WORKER")"
if [[ "${PROFILE_TRACE:-}" == 1 ]]; then
  TOOLS="$REPO/.local/tools"
  [[ -x "$TOOLS/dotnet-trace" ]] || dotnet tool install --tool-path "$TOOLS" dotnet-trace >/dev/null
  rm -f "$LOGS/worker.nettrace"
  # A fixed duration (PROFILE_TRACE_SECONDS, 5): a background job of a script ignores SIGINT, so it cannot be stopped early.
  "$TOOLS/dotnet-trace" collect -p "$WORKER" --profile dotnet-sampled-thread-time --duration "00:00:00:$(printf %02d "${PROFILE_TRACE_SECONDS:-5}")" \
    -o "$LOGS/worker.nettrace" >/dev/null 2>&1 &
  TRACER=$!
fi
DEADLINE=$((SECONDS + ${PROFILE_TIMEOUT:-300}))
while [[ "$("${PSQL[@]}" -d profile -c "SELECT count(*) FROM jobs WHERE state <> 'succeeded'")" != 0 ]]; do
  if (( SECONDS > DEADLINE )); then
    echo "drain did not finish within ${PROFILE_TIMEOUT:-300} s; jobs by state:" >&2
    "${PSQL[@]}" -d profile -c "SELECT state, count(*) FROM jobs GROUP BY state" >&2
    exit 1
  fi
  sleep 0.1
done
CPU1="$(cpu_ticks "$WORKER")"
if [[ -n "${TRACER:-}" ]]; then wait "$TRACER" 2>/dev/null || true; fi
COMMITS1="$("${PSQL[@]}" -d profile -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'profile'")"
TICK="$(getconf CLK_TCK)"
"${PSQL[@]}" -d profile -F ' ' -c "
  SELECT 'drain: ' || count(*) || ' jobs in ' || round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 2)
         || ' s = ' || round(count(*) / extract(epoch FROM max(finished_at) - min(started_at))::numeric) || ' jobs/s (first start to last finish)'
  FROM jobs"
echo "worker CPU: $(( (CPU1 - CPU0) * 1000 / TICK )) ms = $(( (CPU1 - CPU0) * 1000000 / TICK / N )) µs per job"
echo "commits in the database: $((COMMITS1 - COMMITS0)) = $(python3 -c "print(round(($COMMITS1 - $COMMITS0) / $N, 3))") per job"
echo "statements by total time (calls | ms | rows | statement):"
"${PSQL[@]}" -d profile -c "
  SELECT calls, round(total_exec_time::numeric), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 100)
  FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 8"
if [[ -n "${TRACER:-}" && -f "$LOGS/worker.nettrace" ]]; then
  echo "worker CPU samples, top methods (exclusive):"
  "$TOOLS/dotnet-trace" report "$LOGS/worker.nettrace" topN -n 40 2>&1 | tail -45
fi
