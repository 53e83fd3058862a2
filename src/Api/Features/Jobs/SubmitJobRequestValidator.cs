using FluentValidation;
using Monolith.Api.Infrastructure;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Api.Features.Jobs;

/// <summary>The envelope's rules, then the payload's rules of the job type (from the registry).</summary>
public sealed class SubmitJobRequestValidator : AbstractValidator<SubmitJobRequest>
{
    public const int MaxDelaySeconds = 366 * 24 * 3600;
    public const int MaxResultTtlSeconds = 30 * 24 * 3600;
    public const int MaxUniqueKeyLength = 200;

    /// <summary>What a unique key may hold: ASCII letters, digits and a few separators (no spaces, no control characters).</summary>
    public const string UniqueKeyPattern = "^[A-Za-z0-9_.:/@-]+$";

    public SubmitJobRequestValidator(JobTypeRegistry types, QueueSelector queues, OutboundAddressPolicy outbound, IServiceProvider services)
    {
        RuleFor(r => r.CallbackUrl).CustomAsync(async (url, context, ct) =>
        {
            if (await CallbackUrls.CheckAsync(url!, outbound, ct) is { } reason) context.AddFailure("callbackUrl", reason);
        }).When(r => r.CallbackUrl is not null);
        RuleFor(r => r.Type).NotEmpty().WithMessage("A job type is required.")
            .Must(t => types.Find(t!) is { Defaults.Internal: false })
            .WithMessage(_ => $"Unknown job type. Known types: {string.Join(", ", types.All.Where(t => !t.Defaults.Internal).Select(t => t.Kind))}.")
            .When(r => !string.IsNullOrEmpty(r.Type), ApplyConditionTo.CurrentValidator);
        RuleFor(r => r.Queue).Must(q => queues.IsKnown(q!))
            .WithMessage(_ => queues.UnknownQueueMessage)
            .When(r => r.Queue is not null);
        RuleFor(r => r.Priority).InclusiveBetween(-100, 100);
        RuleFor(r => r.DelaySeconds).InclusiveBetween(0, MaxDelaySeconds);
        RuleFor(r => r.RunAt).Null().When(r => r.DelaySeconds is not null)
            .WithMessage("Give either runAt or delaySeconds, not both.");
        RuleFor(r => r.RunAt).LessThan(_ => DateTimeOffset.UtcNow.AddSeconds(MaxDelaySeconds))
            .WithMessage("runAt may be at most a year ahead.");
        RuleFor(r => r.MaxAttempts).InclusiveBetween(1, 100);
        RuleFor(r => r.TimeoutSeconds).InclusiveBetween(1, 86_400);
        RuleFor(r => r.BackoffSeconds).InclusiveBetween(0, 3_600);
        RuleFor(r => r.ResultTtlSeconds).InclusiveBetween(1, MaxResultTtlSeconds);
        RuleFor(r => r.UniqueKey).Cascade(CascadeMode.Stop).NotEmpty().WithMessage("A unique key is 1 to 200 characters.")
            .MaximumLength(MaxUniqueKeyLength).WithMessage($"At most {MaxUniqueKeyLength} characters.")
            .Matches(UniqueKeyPattern).WithMessage("Letters, digits and - _ . : / @ only.")
            .When(r => r.UniqueKey is not null);
        RuleFor(r => r.UniqueScope).Must(s => UniqueScopes.TryParse(s, out _))
            .WithMessage($"One of: {string.Join(", ", UniqueScopes.Names)}.")
            .When(r => r.UniqueScope is not null);
        RuleFor(r => r.UniqueScope).Null().WithMessage("A unique scope needs a uniqueKey.")
            .When(r => r.UniqueScope is not null && r.UniqueKey is null);
        RuleFor(r => r.Payload).Custom((payload, context) =>
        {
            var definition = types.Find(context.InstanceToValidate.Type ?? "");
            if (definition is null) return;
            if (payload is null)
            {
                context.AddFailure("payload", "A payload is required (an empty object {} where the type needs nothing).");
                return;
            }
            foreach (var (path, messages) in definition.Validate(payload.Value, services))
            {
                foreach (var message in messages) context.AddFailure(path, message);
            }
        });
    }
}
