using System.Text.RegularExpressions;
using FluentValidation;
using Monolith.Domain.Transfers;
using Monolith.Worker.Jobs.Transfers;

namespace Monolith.Api.Features.Transfers;

/// <summary>
/// The shape of <c>POST /v1/transfers</c>: each kind's fields, absolute http(s) URLs, header names that are
/// tokens and not ones the service sets itself. What needs the outside world (the upload exists, the URL's
/// addresses are allowed, the path stays under the root) is checked by the endpoint after this.
/// </summary>
public sealed partial class CreateTransferRequestValidator : AbstractValidator<CreateTransferRequest>
{
    private const int MaxFields = 50, MaxNameLength = 100, MaxValueLength = 8_000, MaxUrlLength = 2_000;

    public CreateTransferRequestValidator()
    {
        RuleFor(r => r.Source).NotNull().WithMessage("A source is required: {type: \"upload\", uploadId} or {type: \"url\", url, headers?}.");
        RuleFor(r => r.Destination).NotNull()
            .WithMessage("A destination is required: {type: \"http\", url, method, headers?, form?} or {type: \"directory\", path}.");

        When(r => r.Source is not null, () =>
        {
            RuleFor(r => r.Source!.Type).Must(t => t is TransferSource.UploadType or TransferSource.UrlType)
                .WithMessage("Must be \"upload\" or \"url\".");
            When(r => r.Source!.Type == TransferSource.UploadType, () =>
            {
                RuleFor(r => r.Source!.UploadId).NotEmpty().WithMessage("The id of an upload (POST /v1/uploads) is required.");
                RuleFor(r => r.Source!.Url).Null().WithMessage("An upload source takes no url.");
                RuleFor(r => r.Source!.Headers).Null().WithMessage("An upload source takes no headers.");
            });
            When(r => r.Source!.Type == TransferSource.UrlType, () =>
            {
                RuleFor(r => r.Source!.Url).Must(BeHttpUrl).WithMessage($"An absolute http:// or https:// URL of at most {MaxUrlLength} characters is required.");
                RuleFor(r => r.Source!.UploadId).Null().WithMessage("A url source takes no uploadId.");
                RuleFor(r => r.Source!.Headers).Must(BeValidHeaders!).When(r => r.Source!.Headers is not null).WithMessage(HeaderRule);
            });
        });

        When(r => r.Destination is not null, () =>
        {
            RuleFor(r => r.Destination!.Type).Must(t => t is TransferDestination.HttpType or TransferDestination.DirectoryType)
                .WithMessage("Must be \"http\" or \"directory\".");
            When(r => r.Destination!.Type == TransferDestination.HttpType, () =>
            {
                RuleFor(r => r.Destination!.Url).Must(BeHttpUrl).WithMessage($"An absolute http:// or https:// URL of at most {MaxUrlLength} characters is required.");
                RuleFor(r => r.Destination!.Method).Must(m => m is null || m.ToUpperInvariant() is "PUT" or "POST").WithMessage("Must be PUT or POST.");
                RuleFor(r => r.Destination!.Headers).Must(BeValidHeaders!).When(r => r.Destination!.Headers is not null).WithMessage(HeaderRule);
                RuleFor(r => r.Destination!.Form).Must(BeValidFields!).When(r => r.Destination!.Form is not null)
                    .WithMessage($"At most {MaxFields} fields, names of 1 to {MaxNameLength} characters, values of at most {MaxValueLength}.");
                RuleFor(r => r.Destination!.Form).Null().When(r => r.Destination!.Method?.ToUpperInvariant() != "POST")
                    .WithMessage("Form fields are sent by a multipart POST only (method \"POST\").");
                RuleFor(r => r.Destination!.Path).Null().WithMessage("An http destination takes no path.");
            });
            When(r => r.Destination!.Type == TransferDestination.DirectoryType, () =>
            {
                RuleFor(r => r.Destination!.Path).NotEmpty().WithMessage("A file path relative to the directory root is required.");
                RuleFor(r => r.Destination!.Url).Null().WithMessage("A directory destination takes no url.");
                RuleFor(r => r.Destination!.Headers).Null().WithMessage("A directory destination takes no headers.");
            });
        });

        RuleFor(r => r.Metadata).Must(BeValidFields!).When(r => r.Metadata is not null)
            .WithMessage($"At most {MaxFields} fields, names of 1 to {MaxNameLength} characters, values of at most {MaxValueLength}.");
    }

    private static readonly string HeaderRule =
        $"At most {MaxFields} headers, names that are HTTP tokens (not {string.Join(", ", TransferHeaders.Reserved.Order())}), values of at most {MaxValueLength} characters without line breaks.";

    private static bool BeHttpUrl(string? url) =>
        url is { Length: <= MaxUrlLength } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    private static bool BeValidHeaders(Dictionary<string, string> headers) =>
        headers.Count <= MaxFields && headers.All(h => Token().IsMatch(h.Key) && h.Key.Length <= MaxNameLength && !TransferHeaders.Reserved.Contains(h.Key)
                                                       && h.Value is { Length: <= MaxValueLength } && !h.Value.Any(c => c is '\r' or '\n' or '\0'));

    private static bool BeValidFields(Dictionary<string, string> fields) =>
        fields.Count <= MaxFields && fields.All(f => f.Key.Length is > 0 and <= MaxNameLength && f.Value is { Length: <= MaxValueLength });

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex Token();
}
