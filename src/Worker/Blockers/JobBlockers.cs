using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Worker.Engine;
using Monolith.Worker.Hosting;

namespace Monolith.Worker.Blockers;

/// <summary>
/// Why a job is not running, or how its run stands (<c>GET /v1/jobs/{id}/why</c>, the dashboard's job page;
/// docs/why.md): the blockers of a waiting job from its row, its queue's pause, the concurrency caps
/// (<see cref="WorkerOptions"/> as this node is configured: keep every node's settings alike), and the worker nodes'
/// check-ins and running counts (<see cref="ClusterNodes"/>); for a running job, its node and whether that node still
/// checks in. Read-only, a handful of small queries: a diagnostic, not a hot path.
/// </summary>
public sealed class JobBlockers(MonolithDbContext db, JobQueries queries, ClusterNodes nodes, IOptions<WorkerOptions> options)
{
    /// <summary>The most of the caller's own job ids shown as holding a cap.</summary>
    public const int MaxHeldBy = 20;

    /// <summary>
    /// The answer for job <paramref name="jobId"/> of <paramref name="tenantId"/> (null: the admin, any tenant's job, and
    /// every tenant's ids in <see cref="JobBlocker.HeldBy"/>); null when no such job is visible.
    /// </summary>
    public async Task<JobWhy?> ExplainAsync(Guid? tenantId, Guid jobId, CancellationToken ct)
    {
        if (await queries.GetAsync(tenantId, jobId, ct) is not { } job) return null;
        var now = DateTimeOffset.UtcNow;
        var state = JobQueries.EffectiveState(job, now);
        if (state.IsTerminal()) return new JobWhy(job, state, [], null);

        var settings = options.Value;
        var raw = await nodes.ListAsync(ct);
        var cluster = raw.Select(n => new NodeCheckin(n.Id, n.LastCheckin, IsLive(n, now), n.RunningJobs, settings.Concurrency)).ToList();
        if (job.State == JobState.Running)
        {
            var node = cluster.FirstOrDefault(n => n.Id == job.Node);
            var run = new JobRun(job.Node ?? "", job.StartedAt, job.ProgressPercent, job.ProgressMessage, node?.LastCheckin, node?.Live ?? false);
            var blockers = new List<JobBlocker>();
            if (!run.NodeLive)
            {
                var recovery = node?.LastCheckin is { } last ? last + CheckinInterval(job.Node, raw) + Threshold : (DateTimeOffset?)null;
                blockers.Add(new JobBlocker(JobBlockerKinds.NodeNotCheckingIn,
                    $"Node {job.Node}, which runs this job, has not checked in since {Show(node?.LastCheckin)}.",
                    "A live worker node recovers the job (a new attempt) once the node's check-in is late by Worker:CheckinMisfireThresholdSeconds; " +
                    "if the node resumes first, it finishes the attempt.")
                { Node = job.Node, Since = node?.LastCheckin, Until = recovery });
            }
            return new JobWhy(job, state, blockers, run);
        }
        return new JobWhy(job, state, await WaitingBlockersAsync(job, tenantId, cluster, now, ct), null);
    }

    private async Task<List<JobBlocker>> WaitingBlockersAsync(Job job, Guid? tenantId, List<NodeCheckin> cluster, DateTimeOffset now, CancellationToken ct)
    {
        var blockers = new List<JobBlocker>();
        var settings = options.Value;
        if (job.ScheduledAt > now && job.State == JobState.Retrying)
        {
            blockers.Add(new JobBlocker(JobBlockerKinds.RetryBackoff,
                $"Attempt {job.Attempt} of {job.MaxAttempts} failed; the next waits for its backoff.",
                "Clears at 'until' on its own.")
            { Until = job.ScheduledAt, Attempt = job.Attempt, Error = job.LastError });
        }
        else if (job.ScheduledAt > now)
        {
            blockers.Add(new JobBlocker(JobBlockerKinds.DueLater, "The job is due later (its runAt or delaySeconds).", "Clears at 'until' on its own.")
            { Until = job.ScheduledAt });
        }
        if (await db.QueuePauses.AsNoTracking().FirstOrDefaultAsync(p => p.Queue == job.Queue, ct) is { } pause)
        {
            blockers.Add(new JobBlocker(JobBlockerKinds.QueuePaused, $"Queue {job.Queue} is paused.",
                $"An admin resumes it: POST /v1/queues/{job.Queue}/resume.")
            { Since = pause.PausedAt, By = pause.PausedBy });
        }
        if (settings.QueueConcurrency.TryGetValue(job.Queue, out var queueCap) && queueCap > 0
            && await CapBlockerAsync(JobBlockerKinds.QueueCapFull, "queue:" + job.Queue, queueCap, j => j.Queue == job.Queue, tenantId, ct) is { } queueFull)
        {
            blockers.Add(queueFull);
        }
        if (settings.TypeConcurrency.TryGetValue(job.Type, out var typeCap) && typeCap > 0
            && await CapBlockerAsync(JobBlockerKinds.TypeCapFull, "type:" + job.Type, typeCap, j => j.Type == job.Type, tenantId, ct) is { } typeFull)
        {
            blockers.Add(typeFull);
        }
        if (settings.TenantConcurrency > 0
            && await CapBlockerAsync(JobBlockerKinds.TenantCapFull, "tenant", settings.TenantConcurrency, j => j.TenantId == job.TenantId, tenantId, ct) is { } tenantFull)
        {
            blockers.Add(tenantFull);
        }
        // A window lasts a second: it holds back only a job that is due now.
        if (job.ScheduledAt <= now && settings.TypeRateLimits.TryGetValue(job.Type, out var rate) && rate > 0
            && await db.TypeRateWindows.AsNoTracking().FirstOrDefaultAsync(w => w.Type == job.Type, ct) is { } window
            && window.WindowStart + RateWindow > now && window.Started >= rate)
        {
            blockers.Add(new JobBlocker(JobBlockerKinds.RateLimited,
                $"{window.Started} jobs of type {job.Type} started in the current one-second window; its rate is {rate} per second.",
                "The window reopens at 'until'; then the next claim may start this job.")
            { Key = "type:" + job.Type, Limit = rate, Since = window.WindowStart, Until = window.WindowStart + RateWindow });
        }
        var live = cluster.Where(n => n.Live).ToList();
        if (live.Count == 0)
        {
            blockers.Add(new JobBlocker(JobBlockerKinds.NoLiveWorker, "No worker node checks in: nothing claims jobs.",
                "Start a node with SERVICE_TYPE=worker (or all), or bring a stopped one back.")
            { Nodes = cluster });
        }
        else if (live.All(n => n.RunningJobs >= n.Slots))
        {
            blockers.Add(new JobBlocker(JobBlockerKinds.NoFreeSlot, "Every live worker node runs as many jobs as it has slots.",
                "A running job ends (the next free slot takes the best waiting job), or more nodes or Worker:Concurrency.")
            { Nodes = cluster });
        }
        return blockers;
    }

    /// <summary>A cap's blocker when as many jobs under it run as it allows; null while there is room.</summary>
    private async Task<JobBlocker?> CapBlockerAsync(
        string kind, string key, int cap, System.Linq.Expressions.Expression<Func<Job, bool>> under, Guid? tenantId, CancellationToken ct)
    {
        var running = db.Jobs.Where(j => j.State == JobState.Running).Where(under);
        var count = await running.CountAsync(ct);
        if (count < cap) return null;
        var own = await (tenantId is { } t ? running.Where(j => j.TenantId == t) : running)
            .OrderBy(j => j.StartedAt).Select(j => j.Id).Take(MaxHeldBy).ToListAsync(ct);
        return new JobBlocker(kind, $"{count} jobs run under the cap of {cap} on {key}.", "One of them ends; then the next claim may start this job.")
        { Key = key, Limit = cap, Running = count, HeldBy = own };
    }

    /// <summary>The fixed window of <see cref="WorkerOptions.TypeRateLimits"/> (<see cref="TypeRateWindow"/>).</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(1);

    private TimeSpan Threshold => TimeSpan.FromSeconds(options.Value.CheckinMisfireThresholdSeconds);

    /// <summary>Live as Quartz's cluster manager sees it: its last check-in is no later than its interval plus the misfire threshold.</summary>
    private bool IsLive(ClusterNode node, DateTimeOffset now) =>
        node.LastCheckin is { } last && last + (node.CheckinInterval ?? TimeSpan.Zero) + Threshold >= now;

    private static TimeSpan CheckinInterval(string? node, List<ClusterNode> cluster) =>
        cluster.FirstOrDefault(n => n.Id == node)?.CheckinInterval ?? TimeSpan.Zero;

    private static string Show(DateTimeOffset? at) => at?.ToString("u") ?? "ever (it never checked in, or its check-in row is gone)";
}

/// <summary>What <see cref="JobBlockers"/> found: the job, its state as clients see it, what holds it back, and its run while it runs.</summary>
public sealed record JobWhy(Job Job, JobState State, IReadOnlyList<JobBlocker> Blockers, JobRun? Run);

/// <summary>A running job's attempt: which node, since when, its last progress, and that node's last check-in.</summary>
public sealed record JobRun(string Node, DateTimeOffset? Since, int? ProgressPercent, string? ProgressMessage, DateTimeOffset? NodeLastCheckin, bool NodeLive);
