namespace Monolith.Worker.Hosting;

/// <summary>What one process of the service does, from <c>SERVICE_TYPE</c>.</summary>
public enum ServiceType
{
    /// <summary>HTTP API and Swagger UI; schedules jobs into the clustered store and executes none.</summary>
    Api,
    /// <summary>Executes jobs; its HTTP serves only /health/* and /metrics.</summary>
    Worker,
    /// <summary>Both (the default, for one machine).</summary>
    All,
}

public static class ServiceTypes
{
    public static ServiceType Parse(string? value) => (value ?? "").Trim().ToLowerInvariant() switch
    {
        "" or "all" => ServiceType.All,
        "api" => ServiceType.Api,
        "worker" => ServiceType.Worker,
        _ => throw new InvalidOperationException(
            $"SERVICE_TYPE '{value}' is not known: use 'api' (HTTP only), 'worker' (executes jobs) or 'all' (both; the default)."),
    };

    public static bool ServesApi(this ServiceType type) => type is ServiceType.Api or ServiceType.All;
    public static bool ExecutesJobs(this ServiceType type) => type is ServiceType.Worker or ServiceType.All;
}
