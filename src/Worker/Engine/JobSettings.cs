namespace Monolith.Worker.Engine;

/// <summary>
/// What a submitter may set on one job. Every null takes the job type's default (<see cref="JobDefaults"/>); see
/// <see cref="JobTypeDefinition.NewJob"/>, the one place a job is built from its type.
/// </summary>
/// <param name="RunAt">When it becomes due; null = now.</param>
/// <param name="Priority">Higher runs first within its queue; null = 0.</param>
/// <param name="CallbackUrl">Where the signed event goes when the job ends (docs/webhooks.md).</param>
public sealed record JobSettings(
    string? Queue = null,
    int? Priority = null,
    DateTimeOffset? RunAt = null,
    int? MaxAttempts = null,
    int? TimeoutSeconds = null,
    double? BackoffSeconds = null,
    int? ResultTtlSeconds = null,
    string? CallbackUrl = null,
    string? IdempotencyKey = null)
{
    public static readonly JobSettings Defaults = new();
}
