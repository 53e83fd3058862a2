using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Webhooks;

/// <summary>How webhooks are delivered; section <c>Webhooks</c> (docs/webhooks.md).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";
    public const int DefaultMaxAttempts = 12;
    public const double DefaultBackoffSeconds = 10;
    public const int DefaultTimeoutSeconds = 10;

    /// <summary>Deliveries tried before the <c>deliver_webhook</c> job fails. Default 12 (about 6 h of retries at the default backoff).</summary>
    public int MaxAttempts { get; set; } = DefaultMaxAttempts;

    /// <summary>The first retry's delay in seconds, doubled each time (jitter ±20 %, at most 1 h). Default 10.</summary>
    public double BackoffSeconds { get; set; } = DefaultBackoffSeconds;

    /// <summary>How long the receiver has to answer one delivery, in seconds. Default 10.</summary>
    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;
}

public static class WebhookExtensions
{
    /// <summary>What webhooks need: their settings, and <see cref="WebhookEvents"/> as the engine's handler of ended jobs.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section);
        services.AddSingleton<IJobEndedHandler, WebhookEvents>();
        return services;
    }
}
