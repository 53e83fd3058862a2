namespace Monolith.Api.Infrastructure;

/// <summary>Settings of the failed-authentication throttle (<c>AuthThrottle__*</c>, <see cref="AuthThrottle"/>).</summary>
public sealed class AuthThrottleOptions
{
    public const string Section = "AuthThrottle";

    /// <summary>
    /// Failed authentications (an unknown or revoked <c>X-Api-Key</c>, a wrong key on <c>/dashboard/login</c>) one client
    /// address may make per window; past that its attempts are answered 429 until the window ends (default 20).
    /// </summary>
    public int MaxFailures { get; set; } = 20;

    /// <summary>The window the failures are counted in, in seconds (default 60).</summary>
    public int WindowSeconds { get; set; } = 60;
}
