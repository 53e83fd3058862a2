namespace Monolith.Domain.Jobs;

/// <summary>
/// One submitted job: the source of truth for its state, attempts, progress, result and cancel request.
/// Quartz only carries the "run something now" signal (see Worker/Engine/DispatchJob.cs).
/// </summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary>The stable kind string from Worker/Jobs/JobTypes.cs, e.g. <c>noop</c>.</summary>
    public string Type { get; set; } = "";
    public string Queue { get; set; } = "default";

    /// <summary>Higher starts first among due jobs of a queue.</summary>
    public int Priority { get; set; }
    public JobState State { get; set; }

    /// <summary>The payload as the client sent it (jsonb).</summary>
    public string Payload { get; set; } = "{}";

    /// <summary>Attempts started so far in this run (a client's retry starts a new run at 0).</summary>
    public int Attempt { get; set; }
    public int MaxAttempts { get; set; }
    public int? TimeoutSeconds { get; set; }

    /// <summary>Base of the exponential backoff between attempts, in seconds.</summary>
    public double BackoffSeconds { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the job may next start: its runAt, or the end of a retry's backoff.</summary>
    public DateTimeOffset ScheduledAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    public int? ProgressPercent { get; set; }
    public string? ProgressMessage { get; set; }
    public string? LastError { get; set; }

    /// <summary>
    /// What the handler returned (jsonb), on success. For a job type whose results are secret (<c>http_request</c>)
    /// it is one JSON string, the whole result encrypted (<c>"enc:v1:…"</c>); NULL again once it expired.
    /// </summary>
    public string? Result { get; set; }

    /// <summary>How long the result is kept after the job finishes, in seconds; null = kept with the job.</summary>
    public int? ResultTtlSeconds { get; set; }

    /// <summary>When the result stops being shown and is deleted (finish time + <see cref="ResultTtlSeconds"/>).</summary>
    public DateTimeOffset? ResultExpiresAt { get; set; }

    /// <summary>True once the expired result was deleted from the row (Worker/Maintenance/ExpiredResultCleaner).</summary>
    public bool ResultExpired { get; set; }
    public DateTimeOffset? CancelRequestedAt { get; set; }

    public string? IdempotencyKey { get; set; }

    /// <summary>
    /// While the job is inside its <see cref="UniqueScope"/> window, another submit of this key by the same tenant gets
    /// this job instead of a new one (index <c>ux_jobs_unique_key</c>, docs/unique-jobs.md). Null: no such rule.
    /// </summary>
    public string? UniqueKey { get; set; }

    /// <summary>How long <see cref="UniqueKey"/> holds; set exactly when it is.</summary>
    public UniqueScope? UniqueScope { get; set; }

    /// <summary>SHA-256 of the submitted body, to tell a replay (same body) from a conflict (other body).</summary>
    public string? RequestHash { get; set; }

    /// <summary>
    /// The fencing token of the current attempt: set anew on every claim. A state write that does not carry
    /// the current token changes nothing, so a node presumed dead cannot overwrite a re-run's outcome.
    /// </summary>
    public Guid? LeaseToken { get; set; }

    /// <summary>The node (Quartz instance id) running the current attempt.</summary>
    public string? Node { get; set; }

    /// <summary>The dispatch ticket (Quartz trigger) whose firing claimed the job; used to recover it after a crash.</summary>
    public Guid? TicketId { get; set; }

    /// <summary>
    /// Where the service POSTs a signed event when the job reaches a terminal state (docs/webhooks.md); null for none.
    /// </summary>
    public string? CallbackUrl { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that submitted the job: its execution continues that trace on
    /// whichever node runs it (docs/observability.md). Null when the submitter had no trace.
    /// </summary>
    public string? TraceParent { get; set; }

    public List<JobAttempt> Attempts { get; set; } = [];

    /// <summary>
    /// True when the result has expired: deleted already, or past its time and waiting for the next sweep (an
    /// expired result is never shown, whether or not the sweep has run yet).
    /// </summary>
    public bool IsResultExpired(DateTimeOffset now) => ResultExpired || ResultExpiresAt <= now;
}
