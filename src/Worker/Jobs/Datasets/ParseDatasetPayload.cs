using FluentValidation;

namespace Monolith.Worker.Jobs.Datasets;

/// <param name="DatasetId">The dataset to parse (<c>POST /v1/datasets</c> creates it and submits this job).</param>
public sealed record ParseDatasetPayload(Guid DatasetId);

public sealed class ParseDatasetPayloadValidator : AbstractValidator<ParseDatasetPayload>
{
    public ParseDatasetPayloadValidator() => RuleFor(p => p.DatasetId).NotEmpty();
}
