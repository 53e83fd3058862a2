# syntax=docker/dockerfile:1
# One image for every role: SERVICE_TYPE=all | api | worker selects what the process runs.
#   docker build -t monolith .
#   docker run -e DATABASE_URL=postgres://user:pass@host:5432/monolith -e ADMIN_API_KEY=... -p 8080:8080 monolith

# ---------- build ----------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
ENV DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# Restore first with only the files that affect it, so the layer is cached until a
# package or project reference changes. Only the Api project's closure is restored
# (the test projects are not in the image). global.json / nuget.config are optional.
COPY Directory.Build.props Directory.Packages.props global.json* nuget.config* NuGet.Config* ./
COPY src/Domain/Monolith.Domain.csproj src/Domain/
COPY src/Worker/Monolith.Worker.csproj src/Worker/
COPY src/Api/Monolith.Api.csproj src/Api/
RUN dotnet restore src/Api/Monolith.Api.csproj

COPY src/ src/
# The Api project links appsettings.json from the repository root into its output.
COPY appsettings.json ./
RUN dotnet publish src/Api/Monolith.Api.csproj -c Release -o /app --no-restore -p:UseAppHost=false

# ---------- runtime ----------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./

ENV ASPNETCORE_URLS=http://+:8080 \
    SERVICE_TYPE=all \
    Storage__Root=/data/files \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080

# Uploaded files (datasets): mount a volume shared by every node here.
RUN mkdir -p /data/files && chown "$APP_UID" /data/files

# Non-root: the official .NET images define the `app` user and APP_UID (1654).
USER $APP_UID

# No HEALTHCHECK: the aspnet image ships neither curl nor wget. Orchestrators should
# probe the service's HTTP health endpoint themselves (e.g. a Kubernetes httpGet probe).

ENTRYPOINT ["dotnet", "Monolith.Api.dll"]
