using FluentValidation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;
using Monolith.Api.Features.Admin;
using Monolith.Api.Features.Dashboard;
using Monolith.Api.Features.Datasets;
using Monolith.Api.Features.Imports;
using Monolith.Api.Features.Jobs;
using Monolith.Api.Features.Names;
using Monolith.Api.Features.Queues;
using Monolith.Api.Features.Snapshots;
using Monolith.Api.Features.Syncs;
using Monolith.Api.Features.Schedules;
using Monolith.Api.Features.Transfers;
using Monolith.Api.Features.Uploads;
using Monolith.Api.Infrastructure;
using Monolith.Worker.Hosting;
using Prometheus;

namespace Monolith.Api;

public static class ApiExtensions
{
    /// <summary>
    /// The HTTP side: JSON logs, RFC 9457 problem details for every error, and, on nodes that serve the API
    /// (<see cref="AddApiSurface"/>), API-key authentication, request validation, Swagger and the dashboard. Reads
    /// <c>SERVICE_TYPE</c> and returns it; an unknown value stops start-up.
    /// </summary>
    public static ServiceType AddApi(this WebApplicationBuilder builder)
    {
        var serviceType = ServiceTypes.Parse(builder.Configuration["SERVICE_TYPE"]);

        // Logs go to stdout as JSON lines (the image, and wherever logs are collected) unless the console logger's own
        // setting Logging:Console:FormatterName says "simple": one readable line per entry, for a person at a terminal
        // (./run.sh chooses it when its output is one). Either way the level filters of Logging:LogLevel apply.
        builder.Logging.ClearProviders().AddConsole();
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Json);
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        builder.AddTracing();
        var services = builder.Services;
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier);
        // Binding failures (bad JSON, a date or number of the wrong form) are thrown to BadRequestExceptionHandler,
        // which names the field, instead of ending as a bare 400.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<FileStoreUnavailableExceptionHandler>(); // before the database's: an unreachable store is a SocketException too
        services.AddExceptionHandler<DatabaseUnavailableExceptionHandler>();
        services.AddExceptionHandler<UnstorableJobExceptionHandler>();

        // Behind a TLS proxy: its forwarded scheme and client address, only when enabled and only from it.
        ForwardedHeadersSettings.AddTo(services);
        if (serviceType.ServesApi()) services.AddApiSurface();
        return serviceType;
    }

    /// <summary>
    /// What only <c>api</c> and <c>all</c> nodes register: authentication, validators, the features' options, Swagger
    /// and the dashboard's Razor Pages. A <c>worker</c> node serves only /health/* and /metrics, so it registers none
    /// of it, and since this is a method of its own, the JIT compiling <see cref="AddApi"/> there never loads the
    /// assemblies it names (FluentValidation's DI scan, Swashbuckle, Razor Pages, cookies, Data Protection).
    /// </summary>
    private static void AddApiSurface(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => StorableTextJson.AddTo(o.SerializerOptions)); // text PostgreSQL refuses: a 400 naming the field
        services.AddOptions<AuthThrottleOptions>().BindConfiguration(AuthThrottleOptions.Section)
            .Validate(o => o.MaxFailures > 0 && o.WindowSeconds > 0, "AuthThrottle:MaxFailures and AuthThrottle:WindowSeconds must be positive.")
            .ValidateOnStart();
        services.AddSingleton<AuthThrottle>();
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminApi.Policy, policy => policy.RequireRole(ApiKeyAuthentication.AdminRole));
        services.AddValidatorsFromAssemblyContaining<SubmitJobRequestValidator>(ServiceLifetime.Singleton);
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).Validate(o => o.MaxBytes > 0, "Uploads:MaxBytes must be positive.");
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section)
            .Validate(o => o.MaxWaitSeconds > 0, "Jobs:MaxWaitSeconds must be positive.")
            .Validate(o => o.MaxStreamSeconds > 0, "Jobs:MaxStreamSeconds must be positive.")
            .Validate(o => o.MaxWaitersPerTenant > 0 && o.MaxWaiters > 0, "Jobs:MaxWaitersPerTenant and Jobs:MaxWaiters must be positive.")
            .ValidateOnStart();
        services.AddSingleton<WaitingRequests>();

        services.AddOpenApiDocument();
        services.AddDashboard();
    }

    /// <summary>
    /// The middleware, health and metrics every node serves, then, on <c>api</c> and <c>all</c> nodes, the API
    /// (<see cref="UseApiSurface"/>).
    /// </summary>
    public static WebApplication UseApi(this WebApplication app, ServiceType serviceType)
    {
        ForwardedHeadersSettings.UseIn(app); // first: everything after sees the client's scheme and address
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<UnstorableQueryMiddleware>();
        app.UseMiddleware<JsonContentTypeMiddleware>();
        app.UseHttpMetrics();

        // Liveness: the process answers. Readiness: the database answers and, where jobs run, the scheduler is up.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapMetrics("/metrics");

        if (serviceType.ServesApi()) app.UseApiSurface();
        return app;
    }

    /// <summary>Authentication, Swagger, the features' endpoints and the dashboard (a method of its own: see <see cref="AddApiSurface"/>).</summary>
    private static void UseApiSurface(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseOpenApiDocument();

        app.MapJobsApi();
        app.MapAdminApi();
        app.MapQueuesApi();
        app.MapDatasetsApi();
        app.MapNamesApi();
        app.MapUploadsApi();
        app.MapTransfersApi();
        app.MapDashboard();
        app.MapSyncsApi();
        app.MapSnapshotsApi();
        app.MapSchedulesApi();
        app.MapImportsApi();
    }

    /// <summary>
    /// Health as JSON: the overall status and each check's status, nothing more. Anyone may ask, and a check's reason
    /// can carry a host, a database name or an exception's text; the health check service logs it instead (an
    /// unhealthy check at Error, with its description and exception).
    /// </summary>
    private static Task WriteHealthAsync(HttpContext http, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report) =>
        http.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString() }),
        });
}
