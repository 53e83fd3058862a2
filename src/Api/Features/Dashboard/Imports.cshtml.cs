using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Features.Imports;
using Monolith.Domain.Imports;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Imports;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// CSV imports of every tenant, newest first (keyset paging as for jobs), each as <c>GET /v1/imports/{id}</c> shows it
/// (<see cref="ImportResponse.From"/>); cancel, retry and reprocess by the same commands as
/// <c>POST /v1/imports/{id}/cancel|retry|reprocess</c> (<see cref="ImportCommands"/>).
/// </summary>
public sealed class ImportsModel(ImportQueries queries, JobQueries jobQueries, ImportCommands commands) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<(Import Import, ImportStatus Status, ImportResponse View)> Items { get; private set; } = [];
    public Guid? Next { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var page = await queries.ListAsync(null, null, After, PageSize, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(i => i.JobId), ct);
        var now = DateTimeOffset.UtcNow;
        Items = page.Select(i =>
        {
            var job = i.JobId is { } id ? jobs.GetValueOrDefault(id) : null;
            return (i, ImportStatuses.Of(i, job, now), ImportResponse.From(i, job, now));
        }).ToList();
        Next = page.Count == PageSize ? page[^1].Id : null;
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid id, CancellationToken ct) =>
        Done(await commands.CancelAsync(null, id, ct), id, "Cancel requested: it stops between batches.",
            "has already finished: there is nothing to cancel");

    public async Task<IActionResult> OnPostRetryAsync(Guid id, CancellationToken ct) =>
        Done(await commands.RetryAsync(null, id, ct), id, "Retried: it resumes from its checkpoint.",
            "is not failed or cancelled: it cannot be retried");

    public async Task<IActionResult> OnPostReprocessAsync(Guid id, CancellationToken ct) =>
        Done(await commands.ReprocessAsync(null, id, ct), id, "Reprocessing: the file is read again from its start.",
            "is queued or running: it cannot be reprocessed yet");

    private IActionResult Done(RowCommandOutcome<Import> outcome, Guid id, string done, string conflict)
    {
        if (outcome.Status == CommandStatus.NotFound) return NotFound();
        if (outcome.Status == CommandStatus.Conflict) TempData["Error"] = $"Import {id} {conflict}.";
        else TempData["Flash"] = $"Import {id}: {done}";
        return Redirect(After is { } after ? $"/dashboard/imports?after={after}" : "/dashboard/imports");
    }
}
