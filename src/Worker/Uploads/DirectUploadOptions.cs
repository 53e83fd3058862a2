using Microsoft.Extensions.Options;

namespace Monolith.Worker.Uploads;

/// <summary>Settings of pre-signed uploads (<c>Uploads__*</c>, beside the API's <c>Uploads__MaxBytes</c>).</summary>
public sealed class DirectUploadOptions
{
    public const string Section = "Uploads";

    /// <summary>How long a pre-signed PUT URL works, in seconds (default 900; 1 to 604800, SigV4's week).</summary>
    public int PresignedExpirySeconds { get; set; } = 900;

    /// <summary>
    /// How long past its URL's expiry an upload may still be completed, in seconds (default 3600): after it, an upload
    /// still pending is removed with its object by <see cref="PendingUploadCleaner"/>.
    /// </summary>
    public int PendingGraceSeconds { get; set; } = 3600;

    /// <summary>Start-up check.</summary>
    public sealed class Validator : IValidateOptions<DirectUploadOptions>
    {
        public ValidateOptionsResult Validate(string? name, DirectUploadOptions options) =>
            options.PresignedExpirySeconds is < 1 or > 604_800 ? ValidateOptionsResult.Fail("Uploads:PresignedExpirySeconds must be between 1 and 604800.")
            : options.PendingGraceSeconds < 0 ? ValidateOptionsResult.Fail("Uploads:PendingGraceSeconds must not be negative.")
            : ValidateOptionsResult.Success;
    }
}
