using Monolith.Api.Features.Jobs;
using Monolith.Api.Infrastructure.OpenApi;
using Monolith.Domain.Jobs;
using Monolith.Domain.Transfers;

namespace Monolith.Api.Features.Transfers;

/// <summary>A document to move: where from, where to, and fields to send with it.</summary>
/// <param name="Metadata">Text fields (at most 50) sent with the document: form fields of a multipart POST.</param>
/// <param name="CallbackUrl">An absolute http(s) URL: when the transfer's job ends (succeeded, failed for good, cancelled) a signed
/// JSON event is POSTed there (docs/webhooks.md).</param>
public sealed record CreateTransferRequest(
    TransferSourceRequest? Source, TransferDestinationRequest? Destination, Dictionary<string, string>? Metadata = null, string? CallbackUrl = null)
{
    /// <summary>The input of <c>TransferCommands.CreateAsync</c>, once <see cref="CreateTransferRequestValidator"/> has passed the request.</summary>
    public NewTransfer ToNewTransfer() => new(
        new TransferSource(Source!.Type!, Source.UploadId, Source.Url, Source.Headers),
        new TransferDestination(Destination!.Type!, Destination.Url, Destination.Method, Destination.Headers, Destination.Form, Destination.Path),
        Metadata,
        CallbackUrl);
}

/// <summary><c>{type: "upload", uploadId}</c> or <c>{type: "url", url, headers?}</c>.</summary>
/// <param name="Headers">Sent with the GET (e.g. Authorization); their values are encrypted at rest and never shown again.</param>
public sealed record TransferSourceRequest(
    [property: EnumValues(TransferSource.UploadType, TransferSource.UrlType)] string? Type, Guid? UploadId = null, string? Url = null, Dictionary<string, string>? Headers = null);

/// <summary><c>{type: "http", url, method: PUT|POST, headers?, form?}</c> or <c>{type: "directory", path}</c>.</summary>
/// <param name="Method">PUT (the document as the body, the default) or POST (multipart: form fields, metadata, file, sha256).</param>
/// <param name="Headers">Sent with the request (e.g. Authorization); their values are encrypted at rest and never shown again.</param>
/// <param name="Form">Extra text fields of a multipart POST.</param>
/// <param name="Path">A file path relative to the service's directory root (Transfers__DirectoryRoot).</param>
public sealed record TransferDestinationRequest(
    [property: EnumValues(TransferDestination.HttpType, TransferDestination.DirectoryType)] string? Type, string? Url = null,
    [property: EnumValues("PUT", "POST")] string? Method = null, Dictionary<string, string>? Headers = null, Dictionary<string, string>? Form = null,
    string? Path = null);

/// <summary>An accepted transfer: its id and the job that carries it out.</summary>
public sealed record TransferCreatedResponse(Guid Id, Guid JobId, [property: EnumValues(typeof(TransferStatus))] string State);

/// <summary>A transfer as clients see it. Header values are never shown: only their names.</summary>
/// <param name="State">queued, running, retrying, completed, failed or cancelled (<see cref="TransferStatuses.Of"/>).</param>
/// <param name="BytesMoved">Bytes sent so far (all of them once completed).</param>
/// <param name="Sha256">SHA-256 (hex) of what the destination received, once completed.</param>
/// <param name="DestinationAnswer">The destination's HTTP status and Location (a directory: the file's path).</param>
/// <param name="Attempts">Every finished attempt of the job, with its error.</param>
public sealed record TransferResponse(
    Guid Id,
    [property: EnumValues(typeof(TransferStatus))] string State,
    TransferSourceView Source,
    TransferDestinationView Destination,
    IReadOnlyDictionary<string, string> Metadata,
    long BytesMoved,
    long? SizeBytes,
    string? Sha256,
    DestinationAnswerResponse? DestinationAnswer,
    string? Error,
    RowJobResponse? Job,
    IReadOnlyList<JobAttemptResponse> Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>The transfer as clients see it now: its status by <see cref="TransferStatuses.Of"/>, the one rule.</summary>
    public static TransferResponse From(Transfer transfer, Job? job) => From(transfer, job, TransferStatuses.Of(transfer, job, DateTimeOffset.UtcNow));

    /// <summary>The transfer as clients see it, in <paramref name="status"/> (<see cref="TransferStatuses.Of"/>).</summary>
    public static TransferResponse From(Transfer transfer, Job? job, TransferStatus status)
    {
        var source = transfer.ReadSource();
        var destination = transfer.ReadDestination();
        var ended = status is TransferStatus.Failed or TransferStatus.Cancelled;
        return new TransferResponse(
            transfer.Id,
            status.ToName(),
            new TransferSourceView(source.Type, source.UploadId, source.Url, HeaderNames(source.Headers)),
            new TransferDestinationView(destination.Type, destination.Url, destination.Method, HeaderNames(destination.Headers),
                destination.Form?.Keys.Order(StringComparer.Ordinal).ToList(), destination.Path),
            transfer.ReadMetadata(),
            transfer.BytesMoved,
            transfer.SizeBytes,
            transfer.Sha256,
            transfer.DestinationStatus is null && transfer.DestinationLocation is null
                ? null : new DestinationAnswerResponse(transfer.DestinationStatus, transfer.DestinationLocation),
            status == TransferStatus.Cancelled ? "The transfer was cancelled." : transfer.Error ?? (status == TransferStatus.Failed ? job?.LastError : null),
            RowJobResponse.From(job, DateTimeOffset.UtcNow),
            job?.Attempts.OrderBy(a => a.Id).Select(a => new JobAttemptResponse(a.Attempt, a.Node, a.Outcome, a.Error, a.StartedAt, a.FinishedAt)).ToList() ?? [],
            transfer.CreatedAt,
            transfer.StartedAt,
            transfer.FinishedAt ?? (ended ? job?.FinishedAt : null));
    }

    private static IReadOnlyList<string> HeaderNames(Dictionary<string, string>? headers) => headers?.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList() ?? [];
}

/// <summary>The source as given, header values left out.</summary>
public sealed record TransferSourceView([property: EnumValues(TransferSource.UploadType, TransferSource.UrlType)] string Type, Guid? UploadId, string? Url, IReadOnlyList<string> HeaderNames);

/// <summary>The destination as given, header values and form values left out.</summary>
public sealed record TransferDestinationView(
    [property: EnumValues(TransferDestination.HttpType, TransferDestination.DirectoryType)] string Type, string? Url, string? Method, IReadOnlyList<string> HeaderNames, IReadOnlyList<string>? FormFields, string? Path);

public sealed record DestinationAnswerResponse(int? Status, string? Location);

/// <summary>One page of transfers, newest first.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record TransferListResponse(IReadOnlyList<TransferResponse> Items, string? NextCursor);
