using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Worker.Blockers;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Dashboard;

/// <summary>One job: what holds it back (docs/why.md), payload (secrets masked), live progress, attempts with their errors, result, timestamps; cancel, retry, delete.</summary>
public sealed class JobModel(JobQueries queries, JobClient client, JobBlockers blockers) : PageModel
{
    public Job? Job { get; private set; }
    public JobState State { get; private set; }

    /// <summary>What holds the job back, or how its run stands (as <c>GET /v1/jobs/{id}/why</c> answers).</summary>
    public JobWhy? Why { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct)
    {
        Job = await queries.GetAsync(null, id, ct);
        if (Job is null) return NotFound();
        State = JobQueries.EffectiveState(Job, DateTimeOffset.UtcNow);
        Why = await blockers.ExplainAsync(null, id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid id, CancellationToken ct) =>
        Done(await client.CancelAsync(null, id, ct), id, "Cancel requested.", "has already finished: there is nothing to cancel");

    public async Task<IActionResult> OnPostRetryAsync(Guid id, CancellationToken ct) =>
        Done(await client.RetryAsync(null, id, ct), id, "Retried: a new run starts.", "is not failed or cancelled: it cannot be retried");

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken ct)
    {
        var outcome = await client.DeleteAsync(null, id, ct);
        if (outcome.Status != CommandStatus.Done) return Done(outcome, id, "", "has not finished: cancel it before deleting it");
        TempData["Flash"] = $"Job {id} deleted.";
        return Redirect("/dashboard/jobs");
    }

    private IActionResult Done(CommandOutcome outcome, Guid id, string done, string conflict)
    {
        if (outcome.Status == CommandStatus.NotFound) return NotFound();
        if (outcome.Status == CommandStatus.Conflict) TempData["Error"] = $"Job {id} is {outcome.Job!.State.ToName()} and {conflict}.";
        else TempData["Flash"] = done;
        return Redirect($"/dashboard/jobs/{id}");
    }
}
