namespace Monolith.Worker.Engine;

/// <summary>
/// A validated submission, ready to store. Defaults from the job type are already applied, and the payload's
/// secrets are already encrypted (<see cref="JobTypeDefinition.PreparePayload"/>).
/// </summary>
public sealed record NewJob(
    Guid TenantId,
    string Type,
    string PayloadJson,
    string Queue,
    int Priority,
    DateTimeOffset RunAt,
    int MaxAttempts,
    int? TimeoutSeconds,
    double BackoffSeconds,
    string? IdempotencyKey,
    string? RequestHash,
    int? ResultTtlSeconds = null);
