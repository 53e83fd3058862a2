using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Domain.Schedules;
using Monolith.Worker.Engine;
using Monolith.Worker.Schedules;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Schedules of every tenant, newest first (keyset paging as for jobs), with their status and next fire time as
/// <c>GET /v1/schedules</c> shows them; pause, resume and run now by the same commands as
/// <c>POST /v1/schedules/{id}/pause|resume|run</c> (<see cref="ScheduleCommands"/>).
/// </summary>
public sealed class SchedulesModel(ScheduleQueries queries, ScheduleTriggers triggers, ScheduleCommands commands) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<(Schedule Schedule, ScheduleStatus Status, DateTimeOffset? Next)> Items { get; private set; } = [];
    public Guid? Next { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var page = await queries.ListAsync(null, After, PageSize, ct);
        var items = new List<(Schedule, ScheduleStatus, DateTimeOffset?)>(page.Count);
        foreach (var schedule in page)
        {
            var next = (await triggers.NextFireTimesAsync(schedule.Id, 1, ct)) is [var first, ..] ? first : (DateTimeOffset?)null;
            items.Add((schedule, ScheduleStatuses.Of(schedule, next), next));
        }
        Items = items;
        Next = page.Count == PageSize ? page[^1].Id : null;
    }

    public async Task<IActionResult> OnPostPauseAsync(Guid id, CancellationToken ct) =>
        Done((await commands.PauseAsync(null, id, ct)).Status, id, "paused.", "is already paused");

    public async Task<IActionResult> OnPostResumeAsync(Guid id, CancellationToken ct) =>
        Done((await commands.ResumeAsync(null, id, ct)).Status, id, "resumed: it fires again from now on.", "is not paused, or has no fire time left");

    public async Task<IActionResult> OnPostRunAsync(Guid id, CancellationToken ct)
    {
        var outcome = await commands.RunNowAsync(null, id, ct);
        return Done(outcome.Status, id, $"job {outcome.Job?.Id} submitted.", "");
    }

    private IActionResult Done(CommandStatus status, Guid id, string done, string conflict)
    {
        if (status == CommandStatus.NotFound) return NotFound();
        if (status == CommandStatus.Conflict) TempData["Error"] = $"Schedule {id} {conflict}.";
        else TempData["Flash"] = $"Schedule {id}: {done}";
        return Redirect(After is { } after ? $"/dashboard/schedules?after={after}" : "/dashboard/schedules");
    }
}
