using FluentValidation;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Diagnostics;

/// <summary>Sleeps for <c>ms</c> milliseconds in ten steps, reporting progress after each; cancellable at any moment.</summary>
public sealed class SleepJob : IJobHandler<SleepPayload>
{
    public const int Steps = 10;

    public async Task<object?> HandleAsync(SleepPayload payload, JobContext context, CancellationToken ct)
    {
        // Each step sleeps until its own deadline on one clock, so the timer's granularity (a few ms here) is not paid
        // ten times over: a 50 ms sleep takes about 50 ms, not 80.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 1; i <= Steps; i++)
        {
            var left = TimeSpan.FromMilliseconds(payload.Ms * i / (double)Steps) - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left > TimeSpan.Zero) await Task.Delay(left, ct);
            else ct.ThrowIfCancellationRequested();
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
