using FluentValidation;

namespace Monolith.Worker.Jobs.Transfers;

/// <param name="TransferId">The transfer to carry out (<c>POST /v1/transfers</c> creates it and submits this job).</param>
public sealed record TransferDocumentPayload(Guid TransferId);

public sealed class TransferDocumentPayloadValidator : AbstractValidator<TransferDocumentPayload>
{
    public TransferDocumentPayloadValidator() => RuleFor(p => p.TransferId).NotEmpty();
}
