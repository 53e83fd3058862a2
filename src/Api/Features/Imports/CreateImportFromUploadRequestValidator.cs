using FluentValidation;
using Monolith.Worker.Jobs.Imports;
using Monolith.Worker.Outbound;

namespace Monolith.Api.Features.Imports;

/// <summary>
/// The shape of <see cref="CreateImportFromUploadRequest"/>: an upload id and bounded texts. What the fields mean
/// (snapshot name, idColumn, delimiter, encoding, share) is judged by the command (<see cref="ImportRules"/>), as for a form.
/// </summary>
public sealed class CreateImportFromUploadRequestValidator : AbstractValidator<CreateImportFromUploadRequest>
{
    public CreateImportFromUploadRequestValidator()
    {
        RuleFor(r => r.UploadId).NotEmpty().WithMessage("The id of a ready upload (POST /v1/uploads) is required.");
        RuleFor(r => r.Snapshot).MaximumLength(100);
        RuleFor(r => r.IdColumn).MaximumLength(ImportRules.MaxIdColumnLength);
        RuleFor(r => r.Delimiter).MaximumLength(10);
        RuleFor(r => r.Encoding).MaximumLength(20);
        RuleFor(r => r.CallbackUrl).MaximumLength(CallbackUrls.MaxLength);
    }
}
