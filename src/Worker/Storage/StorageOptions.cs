using Microsoft.Extensions.Options;

namespace Monolith.Worker.Storage;

/// <summary>Which file store the service uses (<c>Storage:Kind</c>).</summary>
public enum StorageKind
{
    /// <summary>Local disk under <c>Storage:Root</c> (<see cref="LocalFileStore"/>): one machine, or a shared volume.</summary>
    Local,

    /// <summary>An S3-compatible object store (<see cref="S3FileStore"/>, settings under <c>Storage:S3</c>): no shared disk.</summary>
    S3,
}

/// <summary>
/// Settings of the file store that keeps uploads and dataset files (<c>Storage__*</c>): local disk by default, or an
/// S3-compatible store. Checked at start: a node with an unusable store does not start.
/// </summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>Local</c> (default) or <c>S3</c>.</summary>
    public StorageKind Kind { get; set; } = StorageKind.Local;

    /// <summary>The local store's directory (default <c>.local/files</c>, relative to the content root); unused with S3.</summary>
    public string? Root { get; set; }

    /// <summary>The S3 store's settings (<c>Storage:S3:*</c>); used when <see cref="Kind"/> is <c>S3</c>.</summary>
    public S3StorageOptions S3 { get; set; } = new();

    /// <summary>Start-up check of the chosen store's settings; the S3 credentials are never part of a message.</summary>
    public sealed class Validator : IValidateOptions<StorageOptions>
    {
        public ValidateOptionsResult Validate(string? name, StorageOptions options) =>
            options.Kind == StorageKind.S3 && options.S3.Problem() is { } problem
                ? ValidateOptionsResult.Fail($"Storage:S3: {problem}")
                : ValidateOptionsResult.Success;
    }
}
