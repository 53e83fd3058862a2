using FluentValidation;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Monolith.Domain.Text;

namespace Monolith.Api.Features.Uploads;

/// <summary>The shape of a pre-signed upload's declarations (<see cref="PresignedUploadRequest"/>).</summary>
public sealed class PresignedUploadRequestValidator : AbstractValidator<PresignedUploadRequest>
{
    public PresignedUploadRequestValidator(IOptions<UploadOptions> options)
    {
        var maxBytes = options.Value.MaxBytes;
        RuleFor(r => r.FileName).Must(n => n is { Length: > 0 and <= 255 } && StorableText.IsStorable(n) && n.IndexOfAny(['/', '\\']) < 0)
            .WithMessage("A file name of 1 to 255 characters, without a path, is required.");
        RuleFor(r => r.SizeBytes).NotNull().InclusiveBetween(0, maxBytes)
            .WithMessage($"The document's size in bytes, 0 to {maxBytes} (Uploads__MaxBytes), is required.");
        RuleFor(r => r.Sha256).Must(h => h is { Length: 64 } && h.All(char.IsAsciiHexDigit))
            .WithMessage("The SHA-256 of the bytes, 64 hex digits, is required.");
        RuleFor(r => r.ContentType).Must(t => t is { Length: > 0 and <= 255 } && StorableText.IsStorable(t)
                && MediaTypeHeaderValue.TryParse(t, out var parsed) && parsed.Type.HasValue && parsed.SubType.HasValue)
            .WithMessage("A Content-Type (type/subtype) of at most 255 characters is required: the PUT must carry it.");
        RuleFor(r => r.ExpiresInSeconds).GreaterThan(0).When(r => r.ExpiresInSeconds is not null)
            .WithMessage("At least 1 second (at most Uploads__PresignedExpirySeconds is given).");
    }
}
