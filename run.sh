#!/usr/bin/env bash
# Run the Monolith service locally.
#
#   ./run.sh [args passed to the app...]
#
# Environment (all optional):
#   DATABASE_URL / ConnectionStrings__Postgres   use this database; when both are unset a project-local
#                                               PostgreSQL (.local/pg-dev, 127.0.0.1:55432) is started
#                                               and left running
#   SERVICE_TYPE     all | api | worker          (default: all)
#   ASPNETCORE_URLS                              (default: http://127.0.0.1:8080)
#   ADMIN_API_KEY                                (default: dev-admin-key, development only)
#   Secrets__Keys__<id>, Secrets__CurrentKeyId   key(s) encrypting secrets at rest (default: a development
#                                               key generated once into .local/dev-secret-key)
#   Transfers__AllowedHosts__0, __1, ...         hosts/addresses/networks outbound calls may reach even
#                                               though they are loopback or private (e.g. 127.0.0.1)
#   Logging__Console__FormatterName  json | simple   (default: simple when stdout is a terminal, else json;
#                                               the service itself and the image default to json)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [[ -z "${DATABASE_URL:-}" && -z "${ConnectionStrings__Postgres:-}" ]]; then
  # shellcheck source=scripts/postgres.sh
  source scripts/postgres.sh
  monolith_start_postgres dev 55432
  echo "Local PostgreSQL (dev) stays running after exit. Stop it with:"
  echo "  bash -c 'source scripts/postgres.sh && monolith_stop_postgres dev'"
fi

export SERVICE_TYPE="${SERVICE_TYPE:-all}"
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://127.0.0.1:8080}"
export Storage__Root="${Storage__Root:-$(pwd -P)/.local/files}"   # uploaded files, kept out of the build output
if [[ -z "${ADMIN_API_KEY:-}" ]]; then
  export ADMIN_API_KEY="dev-admin-key"
  echo "WARNING: ADMIN_API_KEY not set; using the development key 'dev-admin-key'. Never use it in production." >&2
fi

if ! env | grep -q '^Secrets__Keys__'; then
  # A development key kept under .local, so secrets stored by earlier runs still decrypt.
  mkdir -p .local
  [[ -s .local/dev-secret-key ]] || head -c 32 /dev/urandom | base64 > .local/dev-secret-key
  export Secrets__Keys__dev="$(cat .local/dev-secret-key)"
  echo "WARNING: Secrets__Keys__* not set; using the development key in .local/dev-secret-key." >&2
fi

# A person at a terminal reads one line per entry; piped or redirected output stays JSON lines for tools.
if [[ -t 1 && -z "${Logging__Console__FormatterName:-}" ]]; then
  export Logging__Console__FormatterName=simple
fi

echo "SERVICE_TYPE=$SERVICE_TYPE"
echo "Swagger UI: ${ASPNETCORE_URLS%%;*}/swagger"
exec dotnet run --project src/Api -c Release -- "$@"
