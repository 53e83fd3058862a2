namespace Monolith.Worker.Blockers;

/// <summary>
/// One thing that holds a job back (<see cref="JobBlockers"/>, <c>GET /v1/jobs/{id}/why</c>, docs/why.md). <see cref="Kind"/>
/// is the machine-readable name (<see cref="JobBlockerKinds"/>); the other fields are set when they apply to it.
/// </summary>
/// <param name="Kind">One of <see cref="JobBlockerKinds.All"/>.</param>
/// <param name="Detail">What holds the job, in a sentence.</param>
/// <param name="ClearsWhen">What would clear it: when it ends on its own, or who can act.</param>
public sealed record JobBlocker(string Kind, string Detail, string ClearsWhen)
{
    /// <summary>When it clears on its own: the job's due time, a backoff's end, a rate window's reopening, the recovery of a dead node's jobs.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Since when it holds: the pause, the rate window's start, the node's last check-in.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Who caused it (the key that paused the queue).</summary>
    public string? By { get; init; }

    /// <summary>The capped key: <c>queue:low</c>, <c>type:sleep</c>, <c>tenant</c> (a rate: <c>type:http_request</c>).</summary>
    public string? Key { get; init; }

    /// <summary>The cap, in running jobs (a rate: jobs started per second).</summary>
    public int? Limit { get; init; }

    /// <summary>Jobs running now under the cap (every tenant's: a count only).</summary>
    public int? Running { get; init; }

    /// <summary>The caller's own jobs among those holding the cap (another tenant's ids are never shown), oldest first, at most 20.</summary>
    public IReadOnlyList<Guid>? HeldBy { get; init; }

    /// <summary>The error of the attempt a retry waits after.</summary>
    public string? Error { get; init; }

    /// <summary>The attempt that failed (a retry's backoff).</summary>
    public int? Attempt { get; init; }

    /// <summary>The node concerned (one that stopped checking in).</summary>
    public string? Node { get; init; }

    /// <summary>The worker nodes as the cluster knows them (no live worker, no free slot).</summary>
    public IReadOnlyList<NodeCheckin>? Nodes { get; init; }
}

/// <summary>A worker node's last check-in and load, as <c>why</c> shows it.</summary>
/// <param name="Live">Its check-in is recent enough that peers do not take it for dead.</param>
/// <param name="Slots">Jobs a node runs at once (<c>Worker:Concurrency</c> as this node is configured).</param>
public sealed record NodeCheckin(string Id, DateTimeOffset? LastCheckin, bool Live, int RunningJobs, int Slots);

/// <summary>The kinds of <see cref="JobBlocker"/>: stable strings, documented in docs/why.md.</summary>
public static class JobBlockerKinds
{
    public const string DueLater = "due_later";
    public const string RetryBackoff = "retry_backoff";
    public const string QueuePaused = "queue_paused";
    public const string QueueCapFull = "queue_cap_full";
    public const string TypeCapFull = "type_cap_full";
    public const string TenantCapFull = "tenant_cap_full";
    public const string RateLimited = "rate_limited";
    public const string NoLiveWorker = "no_live_worker";
    public const string NoFreeSlot = "no_free_slot";
    public const string NodeNotCheckingIn = "node_not_checking_in";

    public static readonly string[] All =
        [DueLater, RetryBackoff, QueuePaused, QueueCapFull, TypeCapFull, TenantCapFull, RateLimited, NoLiveWorker, NoFreeSlot, NodeNotCheckingIn];
}
