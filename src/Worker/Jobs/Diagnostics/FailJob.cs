using FluentValidation;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Diagnostics;

/// <summary>Fails its first <c>failTimes</c> attempts (retryably or not), then succeeds. Used to test retries.</summary>
public sealed class FailJob : IJobHandler<FailPayload>
{
    public Task<object?> HandleAsync(FailPayload payload, JobContext context, CancellationToken ct)
    {
        if (context.Attempt <= payload.FailTimes)
        {
            var message = $"fail job: attempt {context.Attempt} of the {payload.FailTimes} meant to fail";
            throw payload.Retryable ? new RetryableJobException(message) : new PermanentJobException(message);
        }
        return Task.FromResult<object?>(new { succeededOnAttempt = context.Attempt });
    }
}

/// <param name="FailTimes">How many attempts fail before one succeeds (0 to 100).</param>
/// <param name="Retryable">Whether the failures may be retried (default true); false fails the job at once.</param>
public sealed record FailPayload(int FailTimes, bool Retryable = true);

public sealed class FailPayloadValidator : AbstractValidator<FailPayload>
{
    public FailPayloadValidator() => RuleFor(p => p.FailTimes).InclusiveBetween(0, 100);
}
