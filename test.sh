#!/usr/bin/env bash
# Build the solution and run every test project against a project-local PostgreSQL.
#
#   ./test.sh [extra dotnet test args...]     e.g. ./test.sh --filter "FullyQualifiedName~Orders"
#
# Uses $DATABASE_URL when set; otherwise starts .local/pg-test on 127.0.0.1:55433 and stops it
# at the end. Tests read MONOLITH_TEST_DATABASE_URL and create their own databases from it.
# The last line printed is always "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
REPO="$(pwd -P)"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# No lingering MSBuild worker nodes holding this script's stdout open after it exits.
export MSBUILDDISABLENODEREUSE=1

# shellcheck source=scripts/postgres.sh
source "$REPO/scripts/postgres.sh"

STARTED_PG=0
stop_pg() {
  if [[ "$STARTED_PG" == 1 ]]; then
    STARTED_PG=0
    monolith_stop_postgres test >/dev/null 2>&1 || true
  fi
}
trap stop_pg EXIT

if [[ -z "${DATABASE_URL:-}" ]]; then
  monolith_start_postgres test 55433
  STARTED_PG=1
fi
export MONOLITH_TEST_DATABASE_URL="$DATABASE_URL"
echo "MONOLITH_TEST_DATABASE_URL=$MONOLITH_TEST_DATABASE_URL"

RESULTS_DIR="$REPO/.local/test-results"
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

build_rc=0
test_rc=0
dotnet build Monolith.sln -c Release || build_rc=$?
# LogFilePrefix (not LogFileName=results.trx): with several test projects a fixed LogFileName is
# overwritten by each project in turn (microsoft/vstest#3026); the prefix gives each project its
# own results_<tfm>_<timestamp>.trx, and all of them are counted below.
if [[ "$build_rc" == 0 ]]; then
  dotnet test Monolith.sln -c Release --no-build \
    --logger "trx;LogFilePrefix=results" \
    --results-directory "$RESULTS_DIR" \
    --logger "console;verbosity=normal" \
    "$@" || test_rc=$?
else
  echo "dotnet build failed (exit $build_rc); tests not run" >&2
fi

# In CI, shut down compiler/MSBuild servers so no process outlives the run.
if [[ -n "${CI:-}" ]]; then dotnet build-server shutdown >/dev/null 2>&1 || true; fi
stop_pg

# Count <UnitTestResult outcome="..."> over every TRX file produced by this run.
count_trx() {
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$RESULTS_DIR" <<'PY'
import pathlib, re, sys
passed = failed = skipped = 0
elem = re.compile(r"<UnitTestResult\b[^>]*>", re.S)
outcome = re.compile(r"\boutcome\s*=\s*\"([^\"]*)\"")
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.trx")):
    text = f.read_text(encoding="utf-8-sig", errors="replace")
    for m in elem.finditer(text):
        o = outcome.search(m.group(0))
        o = o.group(1) if o else ""
        if o == "Passed":
            passed += 1
        elif o in ("NotExecuted", "Inconclusive", "Pending", "Disconnected", "Warning", "Completed", "InProgress", "NotRunnable"):
            skipped += 1
        else:  # Failed, Error, Timeout, Aborted, ...
            failed += 1
print(passed, failed, skipped)
PY
  else
    local p=0 f=0 s=0 trx tags
    while IFS= read -r -d '' trx; do
      tags="$(tr '\n\r' '  ' <"$trx" | grep -o '<UnitTestResult [^>]*>' || true)"
      p=$((p + $(grep -c 'outcome="Passed"' <<<"$tags" || true)))
      f=$((f + $(grep -Ec 'outcome="(Failed|Error|Timeout|Aborted)"' <<<"$tags" || true)))
      s=$((s + $(grep -c 'outcome="NotExecuted"' <<<"$tags" || true)))
    done < <(find "$RESULTS_DIR" -name '*.trx' -print0)
    echo "$p $f $s"
  fi
}

# Name every failed test with the start of its message, so the end of a long CI log says what broke.
summarize_failures() {
  command -v python3 >/dev/null 2>&1 || return 0
  python3 - "$RESULTS_DIR" <<'PY'
import pathlib, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.trx")):
    try:
        root = ET.parse(f).getroot()
    except ET.ParseError as e:
        print(f"could not read {f}: {e}")
        continue
    for r in root.iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") in ("Passed", "NotExecuted"):
            continue
        msg = r.findtext(".//t:ErrorInfo/t:Message", default="", namespaces=ns).strip().splitlines()
        print(f"FAILED {r.get('testName')} ({r.get('duration')})")
        for line in msg[:20]:
            print(f"    {line}")
PY
}

read -r passed failed skipped < <(count_trx)
if [[ "$failed" != 0 ]]; then summarize_failures || true; fi
trx_count="$(find "$RESULTS_DIR" -name '*.trx' | wc -l)"
echo "Test results: $RESULTS_DIR ($trx_count TRX file(s)); build exit $build_rc, test exit $test_rc"

rc=0
if [[ "$build_rc" != 0 || "$test_rc" != 0 || "$failed" != 0 ]]; then rc=1; fi
if [[ "$passed" == 0 && "$failed" == 0 ]]; then
  echo "No tests were executed." >&2
  rc=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
