namespace Monolith.Worker.Engine;

/// <summary>
/// Thrown by a handler for a failure that may pass (a timeout, a 503). Any exception other than
/// <see cref="PermanentJobException"/> is retried the same way; this type only says so explicitly and can ask
/// for a minimum delay (a vendor's Retry-After).
/// </summary>
public class RetryableJobException(string message, Exception? inner = null, TimeSpan? retryAfter = null) : Exception(message, inner)
{
    /// <summary>The earliest the next attempt may start, if the failing party said so.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
