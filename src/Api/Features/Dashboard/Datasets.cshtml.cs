using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;

namespace Monolith.Api.Features.Dashboard;

/// <summary>Datasets, newest first (keyset paging as for jobs), with their status (<see cref="DatasetStatuses"/>) and their job's progress.</summary>
public sealed class DatasetsModel(DatasetQueries queries, JobQueries jobQueries) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<Dataset> Items { get; private set; } = [];
    public IReadOnlyDictionary<Guid, Job> Jobs { get; private set; } = new Dictionary<Guid, Job>();
    public Guid? Next { get; private set; }

    /// <summary>When the page was read: the status rule's clock.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Items = await queries.ListAsync(null, null, After, PageSize, ct);
        Jobs = await jobQueries.ByIdsAsync(Items.Select(d => d.JobId), ct);
        Next = Items.Count == PageSize ? Items[^1].Id : null;
    }

    public Job? JobOf(Dataset dataset) => dataset.JobId is { } id ? Jobs.GetValueOrDefault(id) : null;
}
