namespace Monolith.Api.Features.Uploads;

/// <summary>Settings of <c>POST /v1/uploads</c> (<c>Uploads__*</c>).</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>Largest document accepted, counted while it streams in: 413 past it, nothing kept (default 2 GiB).</summary>
    public long MaxBytes { get; set; } = 2L << 30;
}
