using FluentValidation;

namespace Monolith.Worker.Jobs.Imports;

/// <param name="ImportId">The import to run or resume (<c>POST /v1/imports</c> creates it and submits this job).</param>
public sealed record ImportRecordsPayload(Guid ImportId);

public sealed class ImportRecordsPayloadValidator : AbstractValidator<ImportRecordsPayload>
{
    public ImportRecordsPayloadValidator() => RuleFor(p => p.ImportId).NotEmpty();
}
