namespace Monolith.Worker.Engine;

/// <summary>Settings of the engine, bound from section <c>Worker</c> (environment: <c>Worker__Concurrency</c> and so on).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";
    public const int DefaultConcurrency = 8;
    public const int DefaultShutdownGraceSeconds = 30;

    public const string DefaultClusterName = "monolith";

    /// <summary>
    /// The Quartz cluster's name (Quartz's <c>sched_name</c>): identical on every node that shares the database.
    /// Default "monolith". Quartz keeps schedulers in a process-wide registry by this name, so two nodes hosted in
    /// one process (tests) need different names.
    /// </summary>
    public string ClusterName { get; set; } = DefaultClusterName;

    /// <summary>Jobs one node runs at once. Default 8; <c>WORKER_CONCURRENCY</c> sets it too.</summary>
    public int Concurrency { get; set; } = DefaultConcurrency;

    /// <summary>
    /// How much work the node claims ahead of its free slots, in milliseconds of handler time per slot at the recent mean
    /// attempt duration. Default 10: behind jobs of a few microseconds a claim carries up to <see cref="MaxPrefetch"/>
    /// extra jobs, behind 50 ms jobs one or two, behind long jobs none (a buffered job waits only on its own node). 0 turns
    /// claiming ahead off.
    /// </summary>
    public double PrefetchMilliseconds { get; set; } = 10;

    /// <summary>The most jobs a node claims ahead of its free slots. Default 128.</summary>
    public int MaxPrefetch { get; set; } = 128;

    /// <summary>
    /// Most jobs of one tenant running at once across the whole cluster (<c>Worker__TenantConcurrency=4</c>), so one
    /// tenant's backlog can never hold every slot. Default 0: no cap (tenants still take turns in every claim).
    /// </summary>
    public int TenantConcurrency { get; set; }

    /// <summary>
    /// Seconds a stopping node (SIGTERM) lets running jobs finish before it cancels them and hands them back
    /// for another node to run. Default 30; keep the orchestrator's grace period a few seconds longer.
    /// </summary>
    public int ShutdownGraceSeconds { get; set; } = DefaultShutdownGraceSeconds;

    /// <summary>
    /// The queues and their weights. A free slot picks a queue at random in proportion to its weight, then
    /// falls back to the others, so a low queue is slowed but never starved. Default critical 6, default 3, low 1.
    /// </summary>
    public Dictionary<string, int> Queues { get; set; } = new();

    /// <summary>How often a node writes its cluster check-in, in seconds. Default 2.</summary>
    public double CheckinIntervalSeconds { get; set; } = 2;

    /// <summary>
    /// How late a check-in may be before peers take the node for dead and recover its running jobs, in
    /// seconds. Default 5. Lower recovers sooner but risks recovering a node that was only paused (fencing
    /// keeps that safe, at the cost of a duplicate run).
    /// </summary>
    public double CheckinMisfireThresholdSeconds { get; set; } = 5;

    /// <summary>How long an idle node waits between polls for due work when nothing wakes it, in seconds. Default 1.</summary>
    public double IdleWaitSeconds { get; set; } = 1;

    /// <summary>
    /// How often a client waiting on a job (<c>?wait=</c>, <c>/events</c>) reads it again when no notification
    /// came, in seconds: the most a lost notification delays it. Default 1.
    /// </summary>
    public double WaiterRecheckSeconds { get; set; } = 1;

    /// <summary>
    /// How long, in seconds, an attempt's outcome may wait to be written (the database away, or the write blocked)
    /// before <c>/health/ready</c> reports the node unhealthy (check <c>outcomes</c>). Default 60.
    /// </summary>
    public double OutcomeStallSeconds { get; set; } = 60;

    /// <summary>
    /// The shortest time between two progress writes of one job, in milliseconds. Default 250. A job's first report is
    /// written at once; later ones wait for this time to pass since its last write and only the latest is written
    /// (the engine's progress writer). 0 writes each report as soon as the writer's previous round is done.
    /// </summary>
    public int ProgressIntervalMs { get; set; } = 250;

    /// <summary>
    /// Most jobs of a queue running at once across the whole cluster (<c>Worker__QueueConcurrency__low=2</c>). Default:
    /// none (a queue is limited only by the nodes' slots). See docs/housekeeping.md.
    /// </summary>
    public Dictionary<string, int> QueueConcurrency { get; set; } = new();

    /// <summary>
    /// Most jobs of a type running at once across the whole cluster (<c>Worker__TypeConcurrency__parse_dataset=2</c>).
    /// Default: none.
    /// </summary>
    public Dictionary<string, int> TypeConcurrency { get; set; } = new();

    /// <summary>
    /// Most jobs of a type started per second across the whole cluster (<c>Worker__TypeRateLimits__http_request=5</c>),
    /// counted in fixed one-second windows. Default: none.
    /// </summary>
    public Dictionary<string, int> TypeRateLimits { get; set; } = new();

    /// <summary>The caps as the claim takes them; empty when none is configured (the claim then costs nothing extra).</summary>
    public Domain.Jobs.ClaimCaps Caps() => new(
        QueueConcurrency.Where(c => c.Value > 0).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal),
        TypeConcurrency.Where(c => c.Value > 0).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal),
        TypeRateLimits.Where(c => c.Value > 0).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal));

    public static readonly IReadOnlyDictionary<string, int> DefaultQueues =
        new Dictionary<string, int> { ["critical"] = 6, ["default"] = 3, ["low"] = 1 };

    /// <summary>The configured queues, or the defaults when none are configured.</summary>
    public IReadOnlyDictionary<string, int> EffectiveQueues => Queues.Count > 0 ? Queues : DefaultQueues;
}
