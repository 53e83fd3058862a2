using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>Settings of record syncs (<c>Syncs__*</c>).</summary>
public sealed class SyncOptions
{
    public const string Section = "Syncs";

    /// <summary>Requests per second to one source (per tenant and origin, across every node) when the sync does not say (default 10).</summary>
    public double DefaultRateLimitPerSecond { get; set; } = 10;

    /// <summary>How long one page request may take, in seconds (default 60); past it the attempt is retried.</summary>
    public int RequestTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest page body read, in bytes (default 16 MiB); a larger page fails the sync.</summary>
    public long MaxPageBytes { get; set; } = 16L << 20;

    /// <summary>
    /// A 429 whose Retry-After is at most this many seconds (default 30) is waited out inside the job and the same
    /// page asked again (every node's requests to that source wait too); a longer one ends the attempt, and the job
    /// is retried after it, from the checkpoint.
    /// </summary>
    public int MaxInlineRetryAfterSeconds { get; set; } = 30;
}

public static class SyncExtensions
{
    /// <summary>
    /// What syncs need: their settings, the cluster-wide rate limiter, the commands clients call (<see cref="SyncCommands"/>)
    /// and what a job's end writes on its row (<see cref="SyncJobEnded"/>).
    /// </summary>
    public static IServiceCollection AddSyncs(this IServiceCollection services)
    {
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.Section)
            .Validate(o => o.DefaultRateLimitPerSecond > 0 && o.RequestTimeoutSeconds > 0 && o.MaxPageBytes > 0 && o.MaxInlineRetryAfterSeconds >= 0,
                "Syncs: DefaultRateLimitPerSecond, RequestTimeoutSeconds and MaxPageBytes must be positive, MaxInlineRetryAfterSeconds not negative.");
        services.AddSingleton<SourceRateLimiter>();
        services.AddScoped<SyncCommands>();
        services.AddSingleton<IJobEndedHandler, SyncJobEnded>();
        return services;
    }
}
