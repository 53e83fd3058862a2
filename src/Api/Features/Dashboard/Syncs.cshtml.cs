using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Features.Syncs;
using Monolith.Domain.Jobs;
using Monolith.Domain.Syncs;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Syncs;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Syncs of every tenant, newest first (keyset paging as for jobs), each as <c>GET /v1/syncs/{id}</c> shows it
/// (<see cref="SyncResponse.From(Sync, Job?, SyncStatus, DateTimeOffset)"/>: the same status, progress and ETA, header names only); cancel and retry by the same
/// commands as <c>POST /v1/syncs/{id}/cancel|retry</c> (<see cref="SyncCommands"/>).
/// </summary>
public sealed class SyncsModel(SyncQueries queries, JobQueries jobQueries, SyncCommands commands) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<(Sync Sync, SyncStatus Status, SyncResponse View)> Items { get; private set; } = [];
    public Guid? Next { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var page = await queries.ListAsync(null, null, After, PageSize, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(s => s.JobId), ct);
        var now = DateTimeOffset.UtcNow;
        Items = page.Select(s =>
        {
            var job = s.JobId is { } id ? jobs.GetValueOrDefault(id) : null;
            var status = SyncStatuses.Of(s, job, now);
            return (s, status, SyncResponse.From(s, job, status, now));
        }).ToList();
        Next = page.Count == PageSize ? page[^1].Id : null;
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid id, CancellationToken ct) =>
        Done(await commands.CancelAsync(null, id, ct), id, "Cancel requested: it stops between pages.",
            "has already finished: there is nothing to cancel");

    public async Task<IActionResult> OnPostRetryAsync(Guid id, CancellationToken ct) =>
        Done(await commands.RetryAsync(null, id, ct), id, "Retried: it resumes from its checkpoint.",
            "is not failed or cancelled: it cannot be retried");

    private IActionResult Done(RowCommandOutcome<Sync> outcome, Guid id, string done, string conflict)
    {
        if (outcome.Status == CommandStatus.NotFound) return NotFound();
        if (outcome.Status == CommandStatus.Conflict) TempData["Error"] = $"Sync {id} {conflict}.";
        else TempData["Flash"] = $"Sync {id}: {done}";
        return Redirect(After is { } after ? $"/dashboard/syncs?after={after}" : "/dashboard/syncs");
    }
}
