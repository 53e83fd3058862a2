using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Domain.Jobs;
using Monolith.Domain.Queues;
using Monolith.Worker.Engine;
using Monolith.Worker.Hosting;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// The overview: jobs per state and queue (counters and the live index, never a scan of finished jobs), the last
/// hour's attempts per minute, the nodes that run jobs, and pausing queues.
/// </summary>
public sealed class IndexModel(
    QueueFigures figures, QueueSelector queues, JobQueries jobs, ClusterNodes nodes, NodeIdentity self, IConfiguration configuration) : PageModel
{
    public IReadOnlyList<QueueFigure> Queues { get; private set; } = [];
    public IReadOnlyList<MinuteThroughput> LastHour { get; private set; } = [];
    public IReadOnlyList<ClusterNode> Nodes { get; private set; } = [];
    public NodeIdentity Self => self;

    /// <summary>What this node was started as (<c>SERVICE_TYPE</c>: api or all, the nodes that serve this page).</summary>
    public ServiceType SelfType => ServiceTypes.Parse(configuration["SERVICE_TYPE"]);
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public long Total(JobState state) => Queues.Sum(q => q.Counts[state]);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Queues = await figures.ListAsync(null, queues.Names, Now, ct);
        LastHour = ThroughputChart.Minutes(await jobs.ThroughputAsync(ThroughputChart.Since(Now), ct), Now);
        Nodes = await nodes.ListAsync(ct);
    }

    public async Task<IActionResult> OnPostPauseAsync(string queue, [FromServices] QueuePausing pausing, CancellationToken ct)
    {
        if (!queues.IsKnown(queue)) return Refused(queues.UnknownQueueMessage);
        await pausing.PauseAsync(queue, User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "admin", ct);
        return Done($"Queue {queue} paused: workers start none of its jobs.");
    }

    public async Task<IActionResult> OnPostResumeAsync(string queue, [FromServices] QueuePausing pausing, CancellationToken ct)
    {
        if (!queues.IsKnown(queue)) return Refused(queues.UnknownQueueMessage);
        await pausing.ResumeAsync(queue, ct);
        return Done($"Queue {queue} resumed.");
    }

    private RedirectToPageResult Done(string message)
    {
        TempData["Flash"] = message;
        return RedirectToPage();
    }

    private RedirectToPageResult Refused(string error)
    {
        TempData["Error"] = error;
        return RedirectToPage();
    }
}
