namespace Monolith.Domain.Syncs;

/// <summary>
/// The next free request slot of one rate-limited source, shared by every node: a caller reserves a slot by
/// moving <see cref="NextAt"/> forward in one atomic statement, then waits until the slot it got
/// (Worker/Jobs/Syncs/SourceRateLimiter).
/// </summary>
public sealed class RateLimitSlot
{
    /// <summary>Whose requests share the limit (<c>sync:{tenant}:{scheme://host:port}</c>).</summary>
    public string Key { get; set; } = "";

    /// <summary>The earliest time the next request may go.</summary>
    public DateTimeOffset NextAt { get; set; }
}
