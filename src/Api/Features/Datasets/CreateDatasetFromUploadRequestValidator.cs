using FluentValidation;
using Monolith.Worker.Outbound;

namespace Monolith.Api.Features.Datasets;

/// <summary>
/// The shape of <see cref="CreateDatasetFromUploadRequest"/>; the country and format are checked against the upload by
/// the command, the callback URL's addresses by the endpoint.
/// </summary>
public sealed class CreateDatasetFromUploadRequestValidator : AbstractValidator<CreateDatasetFromUploadRequest>
{
    public CreateDatasetFromUploadRequestValidator()
    {
        RuleFor(r => r.UploadId).NotEmpty().WithMessage("The id of a ready upload (POST /v1/uploads) is required.");
        RuleFor(r => r.Country).NotEmpty().MaximumLength(100).WithMessage("A country (US or FR) is required.");
        RuleFor(r => r.Format).MaximumLength(100);
        RuleFor(r => r.CallbackUrl).MaximumLength(CallbackUrls.MaxLength);
    }
}
