namespace Monolith.Domain.Transfers;

/// <summary>
/// Where a transfer reads the document (stored as jsonb on <see cref="Transfer.Source"/>): <c>{type: "upload",
/// uploadId}</c> or <c>{type: "url", url, headers?}</c>. Header values are stored encrypted
/// (<see cref="Transfer.HeaderPurpose"/>); their names stay readable.
/// </summary>
public sealed record TransferSource(string Type, Guid? UploadId = null, string? Url = null, Dictionary<string, string>? Headers = null)
{
    public const string UploadType = "upload";
    public const string UrlType = "url";
}
