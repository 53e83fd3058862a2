using FluentValidation;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Diagnostics;

/// <summary>Succeeds at once. Used by tests and benchmarks to measure the engine itself.</summary>
public sealed class NoopJob : IJobHandler<NoopPayload>
{
    public Task<object?> HandleAsync(NoopPayload payload, JobContext context, CancellationToken ct) =>
        Task.FromResult<object?>(payload.Echo is null ? null : new { echo = payload.Echo });
}

/// <param name="Echo">Optional text returned as the result, to check results end to end.</param>
public sealed record NoopPayload(string? Echo = null);

public sealed class NoopPayloadValidator : AbstractValidator<NoopPayload>
{
    public NoopPayloadValidator() => RuleFor(p => p.Echo).MaximumLength(1000);
}
