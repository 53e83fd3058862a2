using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Monolith.Api.Features.Transfers;
using Monolith.Domain.Transfers;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// Transfers of every tenant, newest first (keyset paging as for jobs), each as <c>GET /v1/transfers/{id}</c> shows it
/// (<see cref="TransferResponse.From"/>: the same state, header names only), with its job's progress.
/// </summary>
public sealed class TransfersModel(TransferQueries queries) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }

    public IReadOnlyList<(Transfer Transfer, TransferResponse View)> Items { get; private set; } = [];
    public Guid? Next { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var page = await queries.ListAsync(null, After, PageSize, ct);
        var jobs = await queries.JobsAsync(page.Where(t => t.JobId is not null).Select(t => t.JobId!.Value), ct);
        Items = page.Select(t => (t, TransferResponse.From(t, t.JobId is { } id ? jobs.GetValueOrDefault(id) : null))).ToList();
        Next = page.Count == PageSize ? page[^1].Id : null;
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
