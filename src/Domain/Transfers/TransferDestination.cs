namespace Monolith.Domain.Transfers;

/// <summary>
/// Where a transfer delivers the document (stored as jsonb on <see cref="Transfer.Destination"/>):
/// <c>{type: "http", url, method: PUT|POST, headers?, form?}</c> or <c>{type: "directory", path}</c>. Header values
/// and form values are stored encrypted (<see cref="Transfer.HeaderPurpose"/>, <see cref="Transfer.FormPurpose"/>);
/// their names stay readable.
/// </summary>
public sealed record TransferDestination(
    string Type,
    string? Url = null,
    string? Method = null,
    Dictionary<string, string>? Headers = null,
    Dictionary<string, string>? Form = null,
    string? Path = null)
{
    public const string HttpType = "http";
    public const string DirectoryType = "directory";
}
