using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Features.Syncs;
using Monolith.Domain.Syncs;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Syncs of every tenant, newest first (keyset paging as for jobs), each as <c>GET /v1/syncs/{id}</c> shows it
/// (<see cref="SyncResponse.From"/>: the same state, progress and ETA, header names only).
/// </summary>
public sealed class SyncsModel(SyncQueries queries) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<(Sync Sync, SyncResponse View)> Items { get; private set; } = [];
    public Guid? Next { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var page = await queries.ListAsync(null, null, After, PageSize, ct);
        var jobs = await queries.JobsAsync(page.Where(s => s.JobId is not null).Select(s => s.JobId!.Value), ct);
        var now = DateTimeOffset.UtcNow;
        Items = page.Select(s => (s, SyncResponse.From(s, s.JobId is { } id ? jobs.GetValueOrDefault(id) : null, now))).ToList();
        Next = page.Count == PageSize ? page[^1].Id : null;
    }
}
