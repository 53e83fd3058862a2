using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Jobs, newest first, filtered by state, type, queue and tenant, paged by the last id seen (keyset: no OFFSET,
/// no count); a job id typed in the search box opens that job. Retry all failed jobs of a type from here.
/// </summary>
public sealed class JobsModel(JobQueries queries, JobTypeRegistry types, QueueSelector queueSelector) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? State { get; set; }
    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(SupportsGet = true)] public string? Queue { get; set; }
    [BindProperty(SupportsGet = true)] public string? Tenant { get; set; }
    [BindProperty(SupportsGet = true)] public string? Id { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<Job> Items { get; private set; } = [];
    public Guid? Next { get; private set; }
    public List<string> Errors { get; } = [];
    public IEnumerable<string> Types => types.All.Select(t => t.Kind).Order();
    public IEnumerable<string> Queues => queueSelector.Names;
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(Id))
        {
            if (Guid.TryParse(Id.Trim(), out var id) && await queries.GetAsync(null, id, ct) is not null) return Redirect($"/dashboard/jobs/{id}");
            Errors.Add($"No job {Id.Trim()}.");
        }
        JobState? state = null;
        if (!string.IsNullOrEmpty(State))
        {
            if (JobStates.TryParse(State, out var parsed)) state = parsed;
            else Errors.Add($"Unknown state {State}.");
        }
        Guid? tenant = null;
        if (!string.IsNullOrWhiteSpace(Tenant))
        {
            if (Guid.TryParse(Tenant.Trim(), out var parsed)) tenant = parsed;
            else Errors.Add("The tenant is a tenant id (a UUID).");
        }
        if (Errors.Count > 0) return Page();

        Items = await queries.ListAsync(tenant, new JobFilter(state, Empty(Type), Empty(Queue)), After, PageSize, ct);
        Next = Items.Count == PageSize ? Items[^1].Id : null;
        return Page();
    }

    /// <summary>Every failed job of the type (of the tenant, when one is chosen) runs again: one statement, as a retry of each would.</summary>
    public async Task<IActionResult> OnPostRetryFailedAsync(string type, string? tenant, [FromServices] JobClient client, CancellationToken ct)
    {
        Guid? scope = Guid.TryParse(tenant, out var parsed) ? parsed : null;
        var retried = await client.RetryFailedAsync(scope, type, ct);
        TempData["Flash"] = $"{retried:N0} failed {type} job(s) retried.";
        return RedirectToPage(new { state = "failed", type, tenant });
    }

    /// <summary>The query string of this listing with some values changed (null drops one).</summary>
    public string Link(object changes)
    {
        var values = new Dictionary<string, string?>
        {
            ["state"] = State, ["type"] = Type, ["queue"] = Queue, ["tenant"] = Tenant, ["after"] = After?.ToString(),
        };
        foreach (var p in changes.GetType().GetProperties()) values[p.Name] = p.GetValue(changes)?.ToString();
        return "/dashboard/jobs" + Microsoft.AspNetCore.Http.QueryString.Create(values.Where(v => !string.IsNullOrEmpty(v.Value)));
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
