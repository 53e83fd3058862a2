using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Monolith.Api.Infrastructure;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Transfers;

namespace Monolith.Api.Features.Transfers;

/// <summary>Move a document from a source to a destination with a <c>transfer_document</c> job; watch, cancel, retry it (docs/transfers.md).</summary>
public static class TransfersApi
{

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
        CreateTransferRequest request, ClaimsPrincipal user, TransferCommands commands, CancellationToken ct)
    {
        var outcome = await commands.CreateAsync(user.TenantId(), request.ToNewTransfer(), ct);
        if (outcome.Status == CommandStatus.Invalid) return TypedResults.ValidationProblem(new Dictionary<string, string[]>(outcome.Errors!));
        var transfer = outcome.Row!;
        return TypedResults.Accepted($"/v1/transfers/{transfer.Id}",
            new TransferCreatedResponse(transfer.Id, outcome.Job!.Id, TransferStatuses.Of(transfer, outcome.Job, DateTimeOffset.UtcNow).ToName()));
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
        string? cursor, int? limit, ClaimsPrincipal user, TransferQueries transfers, JobQueries jobQueries, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = PageRequest.Read(cursor, limit, TransferQueries.MaxPageSize, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await transfers.ListAsync(user.TenantScope(), paging.After, paging.Size, ct);
        var jobs = await jobQueries.ByIdsAsync(page.Select(t => t.JobId), ct, withAttempts: true);
        var next = paging.NextCursor(page, row => row.Id);
        return TypedResults.Ok(new TransferListResponse(
            page.Select(t => TransferResponse.From(t, t.JobId is { } jobId ? jobs.GetValueOrDefault(jobId) : null)).ToList(), next));
    }

    public static async Task<Results<Accepted<TransferResponse>, ProblemHttpResult>> CancelTransfer(
        Guid id, ClaimsPrincipal user, TransferCommands commands, CancellationToken ct) =>
        Answer(id, await commands.CancelAsync(user.TenantScope(), id, ct), "cancelled", "It has already finished.");

    public static async Task<Results<Accepted<TransferResponse>, ProblemHttpResult>> RetryTransfer(
        Guid id, ClaimsPrincipal user, TransferCommands commands, CancellationToken ct) =>
        Answer(id, await commands.RetryAsync(user.TenantScope(), id, ct), "retried", "Only a failed or cancelled transfer can be retried.");

    private static Results<Accepted<TransferResponse>, ProblemHttpResult> Answer(
        Guid id, RowCommandOutcome<Transfer> outcome, string verb, string conflict) => outcome.Status switch
    {
        CommandStatus.NotFound => NotFound(id),
        CommandStatus.Conflict => TypedResults.Problem(title: $"The transfer cannot be {verb}.", detail: $"Transfer {id}: {conflict}",
            statusCode: StatusCodes.Status409Conflict),
        _ => TypedResults.Accepted($"/v1/transfers/{id}", TransferResponse.From(outcome.Row!, outcome.Job)),
    };

    private static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        title: "Transfer not found.", detail: $"No transfer {id} is visible to this API key.", statusCode: StatusCodes.Status404NotFound);
}
