using Monolith.Worker.Engine;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// OpenTelemetry tracing, on only when an OTLP endpoint is configured through the standard variables
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>; the SDK reads the rest itself:
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>_HEADERS</c>, <c>OTEL_SERVICE_NAME</c>, <c>OTEL_RESOURCE_ATTRIBUTES</c>,
/// <c>OTEL_TRACES_SAMPLER</c>…). Spans: incoming HTTP requests (health and metrics left out), each job attempt
/// (<see cref="JobTracing"/>, parented on the submitting request's trace), and Quartz's own (source "Quartz").
/// Without an endpoint nothing is registered, so untraced nodes pay nothing (docs/observability.md).
/// </summary>
public static class Tracing
{
    public const string ServiceName = "monolith";

    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

    public static void AddTracing(this WebApplicationBuilder builder)
    {
        if (IsConfigured(builder.Configuration)) AddOpenTelemetry(builder);
    }

    /// <summary>A method of its own, so that the JIT loads OpenTelemetry's assemblies only where tracing is on.</summary>
    private static void AddOpenTelemetry(WebApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r =>
            {
                // OTEL_SERVICE_NAME, when set, names the service (the SDK reads it); else "monolith".
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"])) r.AddService(ServiceName);
            })
            .WithTracing(t => t
                .AddSource(JobTracing.SourceName, Quartz.Diagnostics.QuartzInstrumentation.ActivitySourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = http =>
                    !http.Request.Path.StartsWithSegments("/health") && !http.Request.Path.StartsWithSegments("/metrics"))
                .AddOtlpExporter());
    }
}
