using FluentValidation;

namespace Monolith.Worker.Jobs.Syncs;

/// <param name="SyncId">The sync to run or resume (<c>POST /v1/syncs</c> creates it and submits this job).</param>
public sealed record SyncRecordsPayload(Guid SyncId);

public sealed class SyncRecordsPayloadValidator : AbstractValidator<SyncRecordsPayload>
{
    public SyncRecordsPayloadValidator() => RuleFor(p => p.SyncId).NotEmpty();
}
