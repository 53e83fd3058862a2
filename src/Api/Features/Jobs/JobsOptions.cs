namespace Monolith.Api.Features.Jobs;

/// <summary>Settings of the jobs API (<c>Jobs__*</c>).</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";
    public const int DefaultMaxWaitSeconds = 60;

    /// <summary>Longest <c>GET /v1/jobs/{id}?wait=</c> holds a request, in seconds; a longer wait is cut to it (default 60).</summary>
    public int MaxWaitSeconds { get; set; } = DefaultMaxWaitSeconds;

    /// <summary>
    /// Longest <c>GET /v1/jobs/{id}/events</c> stays open, in seconds (default 600): then the stream ends with a
    /// <c>state</c> event of the job as it is, and the client reconnects if it still wants to watch.
    /// </summary>
    public int MaxStreamSeconds { get; set; } = 600;

    /// <summary>Most requests waiting on jobs (<c>?wait=</c> and <c>/events</c> together) one node holds for one tenant (default 100).</summary>
    public int MaxWaitersPerTenant { get; set; } = 100;

    /// <summary>Most requests waiting on jobs (<c>?wait=</c> and <c>/events</c> together) one node holds in all (default 1,000).</summary>
    public int MaxWaiters { get; set; } = 1000;
}
