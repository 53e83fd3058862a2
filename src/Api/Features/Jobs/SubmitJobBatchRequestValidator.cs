using FluentValidation;

namespace Monolith.Api.Features.Jobs;

/// <summary>1 to <see cref="MaxJobs"/> jobs, each checked by the rules of a single submission (errors named <c>jobs[3].payload.ms</c>).</summary>
public sealed class SubmitJobBatchRequestValidator : AbstractValidator<SubmitJobBatchRequest>
{
    public const int MaxJobs = 1000;

    public SubmitJobBatchRequestValidator(IValidator<SubmitJobRequest> job)
    {
        RuleFor(r => r.Jobs).NotEmpty().WithMessage($"Give 1 to {MaxJobs:N0} jobs.")
            .Must(j => j!.Count <= MaxJobs).WithMessage(r => $"At most {MaxJobs:N0} jobs in one batch; this one has {r.Jobs!.Count:N0}.")
            .When(r => r.Jobs is { Count: > 0 }, ApplyConditionTo.CurrentValidator);
        RuleForEach(r => r.Jobs).NotNull().WithMessage("A job is required here (an object, not null).")
            .SetValidator(job!).When(r => r.Jobs is { Count: <= MaxJobs });
    }
}
