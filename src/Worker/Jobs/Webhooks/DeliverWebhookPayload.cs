using System.Text.Json;
using FluentValidation;

namespace Monolith.Worker.Jobs.Webhooks;

/// <summary>One event to POST: the receiver's URL and the event, sent as it is stored (docs/webhooks.md).</summary>
/// <param name="Url">The job's <c>callbackUrl</c>.</param>
/// <param name="Event">The JSON event: <c>{id, type, occurredAt, job: {...}}</c>.</param>
public sealed record DeliverWebhookPayload(string Url, JsonElement Event);

public sealed class DeliverWebhookPayloadValidator : AbstractValidator<DeliverWebhookPayload>
{
    public DeliverWebhookPayloadValidator()
    {
        RuleFor(p => p.Url).Must(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            .WithMessage("Must be an absolute http:// or https:// URL.");
        RuleFor(p => p.Event).Must(e => e.ValueKind == JsonValueKind.Object).WithMessage("The event must be a JSON object.");
    }
}
