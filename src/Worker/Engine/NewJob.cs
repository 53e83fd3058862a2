namespace Monolith.Worker.Engine;

/// <summary>A validated submission, ready to store. Defaults from the job type are already applied.</summary>
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
    string? RequestHash);
