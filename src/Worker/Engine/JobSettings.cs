using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// What a submitter may set on one job. Every null takes the job type's default (<see cref="JobDefaults"/>); see
/// <see cref="JobTypeDefinition.NewJob"/>, the one place a job is built from its type.
/// </summary>
/// <param name="RunAt">When it becomes due; null = now.</param>
/// <param name="Priority">Higher runs first within its queue; null = 0.</param>
/// <param name="CallbackUrl">Where the signed event goes when the job ends (docs/webhooks.md).</param>
/// <param name="UniqueKey">At most one job of the tenant with this key inside its window (docs/unique-jobs.md).</param>
/// <param name="UniqueScope">The key's window; null with a key = <see cref="Domain.Jobs.UniqueScope.UntilExecuted"/>.</param>
public sealed record JobSettings(
    string? Queue = null,
    int? Priority = null,
    DateTimeOffset? RunAt = null,
    int? MaxAttempts = null,
    int? TimeoutSeconds = null,
    double? BackoffSeconds = null,
    int? ResultTtlSeconds = null,
    string? CallbackUrl = null,
    string? IdempotencyKey = null,
    string? UniqueKey = null,
    UniqueScope? UniqueScope = null)
{
    public static readonly JobSettings Defaults = new();
}
