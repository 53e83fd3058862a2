using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Transfers;
using Monolith.Worker.Outbound;

namespace Monolith.Api.Features.Transfers;

/// <summary>Move a document from a source to a destination with a <c>transfer_document</c> job; watch, cancel, retry it (docs/transfers.md).</summary>
public static class TransfersApi
{
    public const int DefaultPageSize = 50;

    public static RouteGroupBuilder MapTransfersApi(this IEndpointRouteBuilder routes)
    {
        var transfers = routes.MapGroup("/v1/transfers").WithTags("Transfers").RequireAuthorization();
        transfers.MapPost("/", CreateTransfer).WithName("CreateTransfer").WithValidation<CreateTransferRequest>()
            .WithSummary("Move a document from a source (upload, url) to a destination (http, directory)")
            .WithDescription("Checked before it is accepted: the upload exists, URLs resolve to addresses the service may call " +
                             "(not loopback, private or link-local unless in Transfers__AllowedHosts), a directory path stays under its " +
                             "root. Header and form values are encrypted at rest and never shown again. 202 with the transfer id, the job id and Location.");
        transfers.MapGet("/", ListTransfers).WithName("ListTransfers").ProducesValidationProblem()
            .WithParameterFacts("limit", minimum: 1, maximum: TransferQueries.MaxPageSize)
            .WithSummary("List transfers, newest first, with cursor paging");
        transfers.MapGet("/{id:guid}", GetTransfer).WithName("GetTransfer").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A transfer's state, bytes moved, SHA-256 sent, the destination's answer, attempts and errors");
        transfers.MapPost("/{id:guid}/cancel", CancelTransfer).WithName("CancelTransfer")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Cancel a transfer: a waiting one never starts, a running one stops within about a second");
        transfers.MapPost("/{id:guid}/retry", RetryTransfer).WithName("RetryTransfer")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Run a failed or cancelled transfer again (the same Idempotency-Key, the same verified source)");
        return transfers;
    }

    public static async Task<Results<Accepted<TransferCreatedResponse>, ValidationProblem>> CreateTransfer(
        CreateTransferRequest request, ClaimsPrincipal user, TransferQueries queries, OutboundAddressPolicy addresses, DirectoryPaths paths,
        SecretProtector secrets, MonolithDbContext db, JobClient client, CancellationToken ct)
    {
        var tenantId = user.TenantId();
        var source = request.Source!;
        var destination = request.Destination!;
        var errors = new Dictionary<string, string[]>();
        if (source.Type == TransferSource.UploadType && await queries.GetUploadAsync(tenantId, source.UploadId!.Value, ct) is null)
        {
            errors["source.uploadId"] = [$"No upload {source.UploadId} is visible to this API key."];
        }
        if (source.Type == TransferSource.UrlType && await addresses.CheckAsync(new Uri(source.Url!), ct) is { } sourceRefused)
        {
            errors["source.url"] = [sourceRefused];
        }
        if (destination.Type == TransferDestination.HttpType && await addresses.CheckAsync(new Uri(destination.Url!), ct) is { } destinationRefused)
        {
            errors["destination.url"] = [destinationRefused];
        }
        if (request.CallbackUrl is { } callbackUrl && await CallbackUrls.CheckAsync(callbackUrl, addresses, ct) is { } callbackRefused)
        {
            errors["callbackUrl"] = [callbackRefused];
        }
        if (destination.Type == TransferDestination.DirectoryType)
        {
            try
            {
                paths.Resolve(tenantId, destination.Path);
            }
            catch (PathRefusedException ex)
            {
                errors["destination.path"] = [ex.Message];
            }
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var id = Guid.CreateVersion7();
        var transfer = new Transfer
        {
            Id = id,
            TenantId = tenantId,
            Source = JsonSerializer.Serialize(new TransferSource(source.Type!, source.UploadId, source.Url,
                source.Headers is null ? null : secrets.ProtectValues(source.Headers, Transfer.HeaderPurpose)), Transfer.Json),
            Destination = JsonSerializer.Serialize(new TransferDestination(destination.Type!, destination.Url, destination.Method?.ToUpperInvariant(),
                destination.Headers is null ? null : secrets.ProtectValues(destination.Headers, Transfer.HeaderPurpose),
                destination.Form is null ? null : secrets.ProtectValues(destination.Form, Transfer.FormPurpose),
                destination.Path), Transfer.Json),
            Metadata = JsonSerializer.Serialize(request.Metadata ?? [], Transfer.Json),
            SourceUploadId = source.Type == TransferSource.UploadType ? source.UploadId : null,
            State = TransferState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
        };

        var job = (await client.SubmitWithRowAsync(tenantId, new TransferDocumentPayload(id), new JobSettings(CallbackUrl: request.CallbackUrl),
            async (job, ct) =>
            {
                transfer.JobId = job.Id;
                db.Transfers.Add(transfer);
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
                return true;
            }, ct))!;
        return TypedResults.Accepted($"/v1/transfers/{id}", new TransferCreatedResponse(id, job.Id, TransferState.Queued.ToName()));
    }

    public static async Task<Results<Ok<TransferResponse>, ProblemHttpResult>> GetTransfer(
        Guid id, ClaimsPrincipal user, TransferQueries transfers, JobQueries jobs, CancellationToken ct)
    {
        var transfer = await transfers.GetAsync(user.TenantScope(), id, ct);
        if (transfer is null) return NotFound(id);
        var job = transfer.JobId is { } jobId ? await jobs.GetAsync(user.TenantScope(), jobId, ct) : null;
        return TypedResults.Ok(TransferResponse.From(transfer, job));
    }

    /// <param name="cursor">The <c>nextCursor</c> of the previous page.</param>
    /// <param name="limit">Page size, 1 to 200 (default 50).</param>
    public static async Task<Results<Ok<TransferListResponse>, ValidationProblem>> ListTransfers(
        string? cursor, int? limit, ClaimsPrincipal user, TransferQueries transfers, MonolithDbContext db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        Guid? after = null;
        if (cursor is not null)
        {
            if (Guid.TryParse(cursor, out var parsed)) after = parsed;
            else errors["cursor"] = ["Not a cursor from a previous page."];
        }
        if (limit is < 1 or > TransferQueries.MaxPageSize) errors["limit"] = [$"Must be between 1 and {TransferQueries.MaxPageSize}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var pageSize = limit ?? DefaultPageSize;
        var page = await transfers.ListAsync(user.TenantScope(), after, pageSize, ct);
        var jobIds = page.Where(t => t.JobId is not null).Select(t => t.JobId!.Value).ToList();
        var jobs = await db.Jobs.AsNoTracking().Include(j => j.Attempts).Where(j => jobIds.Contains(j.Id)).ToDictionaryAsync(j => j.Id, ct);
        var next = page.Count == pageSize ? page[^1].Id.ToString() : null;
        return TypedResults.Ok(new TransferListResponse(
            page.Select(t => TransferResponse.From(t, t.JobId is { } jobId ? jobs.GetValueOrDefault(jobId) : null)).ToList(), next));
    }

    public static async Task<Results<Accepted<TransferResponse>, ProblemHttpResult>> CancelTransfer(
        Guid id, ClaimsPrincipal user, TransferQueries transfers, JobQueries jobs, JobClient client, CancellationToken ct) =>
        await AnswerAsync(id, user, transfers, jobs, await CancelAsync(user.TenantScope(), id, transfers, client, ct), "cancelled",
            "It has already finished.", ct);

    public static async Task<Results<Accepted<TransferResponse>, ProblemHttpResult>> RetryTransfer(
        Guid id, ClaimsPrincipal user, TransferQueries transfers, JobQueries jobs, JobClient client, MonolithDbContext db, CancellationToken ct) =>
        await AnswerAsync(id, user, transfers, jobs, await RetryAsync(user.TenantScope(), id, transfers, client, db, ct), "retried",
            "Only a failed or cancelled transfer can be retried.", ct);

    /// <summary>Cancel a transfer's job (the API's and the dashboard's way); null when no such transfer is visible.</summary>
    public static async Task<CommandOutcome?> CancelAsync(Guid? tenantScope, Guid id, TransferQueries transfers, JobClient client, CancellationToken ct) =>
        (await transfers.GetAsync(tenantScope, id, ct))?.JobId is { } jobId ? await client.CancelAsync(tenantScope, jobId, ct) : null;

    /// <summary>
    /// Retry a transfer's job (the API's and the dashboard's way): the transfer follows its job, so a retried one is
    /// queued again at once. Null when no such transfer is visible.
    /// </summary>
    public static async Task<CommandOutcome?> RetryAsync(
        Guid? tenantScope, Guid id, TransferQueries transfers, JobClient client, MonolithDbContext db, CancellationToken ct)
    {
        if ((await transfers.GetAsync(tenantScope, id, ct))?.JobId is not { } jobId) return null;
        var outcome = await client.RetryAsync(tenantScope, jobId, ct);
        if (outcome.Status == CommandStatus.Done)
        {
            await db.Transfers.Where(t => t.Id == id && t.State != TransferState.Completed).ExecuteUpdateAsync(s => s
                .SetProperty(t => t.State, TransferState.Queued)
                .SetProperty(t => t.Error, (string?)null)
                .SetProperty(t => t.FinishedAt, (DateTimeOffset?)null), ct);
        }
        return outcome;
    }

    private static async Task<Results<Accepted<TransferResponse>, ProblemHttpResult>> AnswerAsync(
        Guid id, ClaimsPrincipal user, TransferQueries transfers, JobQueries jobs, CommandOutcome? outcome, string verb, string conflict,
        CancellationToken ct)
    {
        if (outcome is null || outcome.Status == CommandStatus.NotFound) return NotFound(id);
        if (outcome.Status == CommandStatus.Conflict)
        {
            return TypedResults.Problem(title: $"The transfer cannot be {verb}.", detail: $"Transfer {id}: {conflict}",
                statusCode: StatusCodes.Status409Conflict);
        }
        var current = (await transfers.GetAsync(user.TenantScope(), id, ct))!;
        return TypedResults.Accepted($"/v1/transfers/{id}", TransferResponse.From(current, await jobs.GetAsync(user.TenantScope(), current.JobId!.Value, ct)));
    }

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Transfer not found.", detail: $"No transfer {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);
}
