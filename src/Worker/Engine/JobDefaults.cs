namespace Monolith.Worker.Engine;

/// <summary>A job type's defaults; a submission may override each of them.</summary>
/// <param name="Queue">The queue jobs of this type go to.</param>
/// <param name="MaxAttempts">Attempts before the job fails (1 = no retries).</param>
/// <param name="TimeoutSeconds">How long one attempt may run before it is cancelled and counted as a failure; null = no limit.</param>
/// <param name="BackoffSeconds">The first retry's delay; each later one doubles it (with jitter, capped at <see cref="Backoff.MaxDelay"/>).</param>
/// <param name="ResultTtlSeconds">How long a result is kept after the job finishes, then deleted; null = kept with the job.</param>
/// <param name="SecretResult">True when results may hold secrets: stored encrypted (<see cref="JobSecrets"/>), decrypted only for <c>GET</c>.</param>
/// <param name="Internal">True for a type only the service itself submits (<c>deliver_webhook</c>): POST /v1/jobs refuses it.</param>
public sealed record JobDefaults(
    string Queue = "default",
    int MaxAttempts = 5,
    int? TimeoutSeconds = 300,
    double BackoffSeconds = 5,
    int? ResultTtlSeconds = null,
    bool SecretResult = false,
    bool Internal = false);
