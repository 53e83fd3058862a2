using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Features.Queues;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
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

    public async Task<IActionResult> OnPostPauseAsync(string queue, [FromServices] MonolithDbContext db, CancellationToken ct) =>
        Done(await QueuesApi.PauseQueue(queue, User, db, queues, ct), $"Queue {queue} paused: workers start none of its jobs.");

    public async Task<IActionResult> OnPostResumeAsync(string queue, [FromServices] MonolithDbContext db, [FromServices] DispatchTickets tickets, CancellationToken ct) =>
        Done(await QueuesApi.ResumeQueue(queue, db, queues, tickets, ct), $"Queue {queue} resumed.");

    private RedirectToPageResult Done(Microsoft.AspNetCore.Http.HttpResults.Results<Microsoft.AspNetCore.Http.HttpResults.Ok<QueuePauseResponse>,
        Microsoft.AspNetCore.Http.HttpResults.ValidationProblem> result, string message)
    {
        if (result.Result is Microsoft.AspNetCore.Http.HttpResults.ValidationProblem problem)
            TempData["Error"] = string.Join(" ", problem.ProblemDetails.Errors.SelectMany(e => e.Value));
        else TempData["Flash"] = message;
        return RedirectToPage();
    }
}
