namespace Monolith.Worker.Engine;

/// <summary>Exponential backoff with jitter between attempts: base × 2^(attempt−1), ±20 %, capped at one hour.</summary>
public static class Backoff
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromHours(1);

    /// <param name="baseSeconds">The job's backoff base (the first retry's delay).</param>
    /// <param name="attempt">The attempt that just failed, from 1.</param>
    public static TimeSpan Delay(double baseSeconds, int attempt)
    {
        var exponential = baseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var jittered = exponential * (0.8 + 0.4 * Random.Shared.NextDouble());
        return TimeSpan.FromSeconds(Math.Min(jittered, MaxDelay.TotalSeconds));
    }
}
