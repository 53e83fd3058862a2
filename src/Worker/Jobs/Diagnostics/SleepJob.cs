using FluentValidation;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Diagnostics;

/// <summary>Sleeps for <c>ms</c> milliseconds in ten steps, reporting progress after each; cancellable at any moment.</summary>
public sealed class SleepJob : IJobHandler<SleepPayload>
{
    public const int Steps = 10;

    public async Task<object?> HandleAsync(SleepPayload payload, JobContext context, CancellationToken ct)
    {
        var step = TimeSpan.FromMilliseconds(payload.Ms / (double)Steps);
        for (var i = 1; i <= Steps; i++)
        {
            await Task.Delay(step, ct);
            await context.ReportProgressAsync(i * 100 / Steps, $"slept {i * payload.Ms / Steps} of {payload.Ms} ms", ct);
        }
        return new { sleptMs = payload.Ms };
    }
}

/// <param name="Ms">How long to sleep, in milliseconds (0 to 3,600,000).</param>
public sealed record SleepPayload(int Ms);

public sealed class SleepPayloadValidator : AbstractValidator<SleepPayload>
{
    public SleepPayloadValidator() => RuleFor(p => p.Ms).InclusiveBetween(0, 3_600_000);
}
