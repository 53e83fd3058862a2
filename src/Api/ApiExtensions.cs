using FluentValidation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Monolith.Api.Features.Admin;
using Monolith.Api.Features.Jobs;
using Monolith.Api.Features.Uploads;
using Monolith.Api.Infrastructure;
using Monolith.Worker.Hosting;
using Prometheus;

namespace Monolith.Api;

public static class ApiExtensions
{
    /// <summary>
    /// The HTTP side: JSON logs, RFC 9457 problem details for every error, API-key authentication, request
    /// validation, Swagger. Reads <c>SERVICE_TYPE</c> and returns it; an unknown value stops start-up.
    /// </summary>
    public static ServiceType AddApi(this WebApplicationBuilder builder)
    {
        var serviceType = ServiceTypes.Parse(builder.Configuration["SERVICE_TYPE"]);

        builder.Logging.ClearProviders().AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        builder.AddTracing();
        var services = builder.Services;
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier);
        // Binding failures (bad JSON, a date or number of the wrong form) are thrown to BadRequestExceptionHandler,
        // which names the field, instead of ending as a bare 400.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<DatabaseUnavailableExceptionHandler>();

        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminApi.Policy, policy => policy.RequireRole(ApiKeyAuthentication.AdminRole));
        services.AddValidatorsFromAssemblyContaining<SubmitJobRequestValidator>(ServiceLifetime.Singleton);
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).Validate(o => o.MaxBytes > 0, "Uploads:MaxBytes must be positive.");
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section)
            .Validate(o => o.MaxWaitSeconds > 0, "Jobs:MaxWaitSeconds must be positive.").ValidateOnStart();

        services.AddOpenApiDocument();
        return serviceType;
    }

    public static WebApplication UseApi(this WebApplication app, ServiceType serviceType)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHttpMetrics();

        // Liveness: the process answers. Readiness: the database answers and, where jobs run, the scheduler is up.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapMetrics("/metrics");

        if (serviceType.ServesApi())
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.UseOpenApiDocument();
        }
        return app;
    }

    /// <summary>Health as JSON: the overall status and each check's status and reason.</summary>
    private static Task WriteHealthAsync(HttpContext http, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report) =>
        http.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
}
