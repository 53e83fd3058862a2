using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Datasets;

/// <param name="DatasetId">The dataset to parse again (<c>POST /v1/datasets/{id}/reprocess</c> submits this job).</param>
public sealed record ReprocessDatasetPayload(Guid DatasetId);

public sealed class ReprocessDatasetPayloadValidator : AbstractValidator<ReprocessDatasetPayload>
{
    public ReprocessDatasetPayloadValidator() => RuleFor(p => p.DatasetId).NotEmpty();
}

/// <summary>
/// Parses a dataset's stored file again: the very code of <see cref="ParseDatasetJob"/>, whose one transaction
/// deletes the dataset's records and inserts the new ones (so the old records stay queryable until the new ones
/// are committed, and a failed reprocess keeps none).
/// </summary>
public sealed class ReprocessDatasetJob(IServiceProvider services) : IJobHandler<ReprocessDatasetPayload>
{
    public Task<object?> HandleAsync(ReprocessDatasetPayload payload, JobContext context, CancellationToken ct) =>
        ActivatorUtilities.CreateInstance<ParseDatasetJob>(services)
            .HandleAsync(new ParseDatasetPayload(payload.DatasetId), context, ct);
}
