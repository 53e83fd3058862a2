using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Features.Transfers;
using Monolith.Domain.Jobs;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Transfers;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Transfers of every tenant, newest first (keyset paging as for jobs), each as <c>GET /v1/transfers/{id}</c> shows it
/// (<see cref="TransferResponse.From(Transfer, Job?, TransferStatus)"/>: the same status, header names only), with its job's progress; cancel and
/// retry by the same commands as <c>POST /v1/transfers/{id}/cancel|retry</c> (<see cref="TransferCommands"/>).
/// </summary>
public sealed class TransfersModel(TransferQueries queries, JobQueries jobQueries, TransferCommands commands) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<(Transfer Transfer, TransferStatus Status, TransferResponse View)> Items { get; private set; } = [];
    public Guid? Next { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var page = await queries.ListAsync(null, After, PageSize, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(t => t.JobId), ct);
        var now = DateTimeOffset.UtcNow;
        Items = page.Select(t =>
        {
            var job = t.JobId is { } id ? jobs.GetValueOrDefault(id) : null;
            var status = TransferStatuses.Of(t, job, now);
            return (t, status, TransferResponse.From(t, job, status));
        }).ToList();
        Next = page.Count == PageSize ? page[^1].Id : null;
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid id, CancellationToken ct) =>
        Done(await commands.CancelAsync(null, id, ct), id, "Cancel requested.", "has already finished: there is nothing to cancel");

    public async Task<IActionResult> OnPostRetryAsync(Guid id, CancellationToken ct) =>
        Done(await commands.RetryAsync(null, id, ct), id, "Retried: a new run starts.", "is not failed or cancelled: it cannot be retried");

    private IActionResult Done(RowCommandOutcome<Transfer> outcome, Guid id, string done, string conflict)
    {
        if (outcome.Status == CommandStatus.NotFound) return NotFound();
        if (outcome.Status == CommandStatus.Conflict) TempData["Error"] = $"Transfer {id} {conflict}.";
        else TempData["Flash"] = $"Transfer {id}: {done}";
        return Redirect(After is { } after ? $"/dashboard/transfers?after={after}" : "/dashboard/transfers");
    }

    /// <summary>Where a URL points, without its query (which may carry a token): host, port and path.</summary>
    public static string HostAndPath(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority + uri.AbsolutePath : "";

    public static string Describe(TransferSourceView source) =>
        source.Type == TransferSource.UploadType ? $"upload {source.UploadId}" : $"{source.Type} {HostAndPath(source.Url)}";

    public static string Describe(TransferDestinationView destination) =>
        destination.Type == TransferDestination.DirectoryType ? $"directory {destination.Path}"
            : $"{destination.Type} {destination.Method} {HostAndPath(destination.Url)}";
}
