namespace Monolith.Domain.Jobs;

/// <summary>
/// How many jobs of a rate-limited type started in the current one-second window, cluster-wide
/// (<c>Worker:TypeRateLimits</c>, docs/housekeeping.md). Written by the capped claim under the type's advisory lock.
/// </summary>
public sealed class TypeRateWindow
{
    public string Type { get; set; } = "";

    /// <summary>When the current window opened; a window lasts one second.</summary>
    public DateTimeOffset WindowStart { get; set; }

    /// <summary>Jobs of the type started since <see cref="WindowStart"/>.</summary>
    public int Started { get; set; }
}
