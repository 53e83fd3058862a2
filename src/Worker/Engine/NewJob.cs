using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// A validated submission, ready to store. Defaults from the job type are already applied, and the payload's
/// secrets are already encrypted (<see cref="JobTypeDefinition.PreparePayload"/>).
/// </summary>
/// <param name="CallbackUrl">Where to POST the signed event when the job reaches a terminal state (docs/webhooks.md).</param>
/// <param name="TraceParent">The submitter's W3C traceparent; <see cref="JobClient"/> fills it from the current trace when null.</param>
/// <param name="RequestHash">The keyed hash of the request (with an <paramref name="IdempotencyKey"/>), stored to compare later replays.</param>
/// <param name="SameRequestHashes">What a job stored from the same request may hold as its hash (the request hashed
/// under every configured secret key, so replays survive a key rotation); null: only <paramref name="RequestHash"/>.</param>
/// <param name="UniqueKey">While a job of this tenant with this key is inside its <paramref name="UniqueScope"/> window,
/// the submit returns that job instead of storing this one (docs/unique-jobs.md).</param>
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
    int? ResultTtlSeconds = null,
    string? CallbackUrl = null,
    string? TraceParent = null,
    IReadOnlyList<string>? SameRequestHashes = null,
    string? UniqueKey = null,
    UniqueScope? UniqueScope = null);
