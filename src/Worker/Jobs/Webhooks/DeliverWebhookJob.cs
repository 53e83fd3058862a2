using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Domain.Tenants;
using Monolith.Worker.Engine;
using Monolith.Worker.Outbound;

namespace Monolith.Worker.Jobs.Webhooks;

/// <summary>
/// POSTs one event to a job's <c>callbackUrl</c>, signed with the tenant's secret (<see cref="WebhookSignature"/>).
/// A 2xx delivers it. Failures follow <see cref="OutboundFailures"/>: network errors, timeouts, 5xx, 408 and 429 are
/// retried with backoff (the job's long schedule, <see cref="WebhookOptions"/>); other 4xx and refused addresses fail
/// the delivery at once. Each attempt is signed afresh (a new timestamp); the event id stays the same, so receivers
/// can drop duplicates (delivery is at least once).
/// </summary>
public sealed class DeliverWebhookJob(
    IHttpClientFactory http, MonolithDbContext db, SecretProtector secrets, IOptions<WebhookOptions> options)
    : IJobHandler<DeliverWebhookPayload>
{
    private const string Receiver = "The webhook receiver";

    public async Task<object?> HandleAsync(DeliverWebhookPayload payload, JobContext context, CancellationToken ct)
    {
        var stored = await db.Tenants.AsNoTracking().Where(t => t.Id == context.TenantId).Select(t => t.WebhookSecret).FirstOrDefaultAsync(ct)
            ?? throw new PermanentJobException(
                $"Tenant {context.TenantId} has no webhook signing secret; the admin makes one with POST /v1/admin/tenants/{context.TenantId}/webhook-secret.");
        var secret = secrets.Unprotect(stored, Tenant.WebhookSecretPurpose);

        var body = payload.Event.GetRawText();
        using var request = new HttpRequestMessage(HttpMethod.Post, payload.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Header(secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body));
        if (payload.Event.TryGetProperty("id", out var eventId)) request.Headers.Add("Monolith-Event-Id", eventId.GetString());

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        try
        {
            using var response = await http.CreateClient(OutboundHttp.ClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            OutboundFailures.ThrowIfFailed(response, Receiver);
            return new { status = (int)response.StatusCode };
        }
        catch (Exception ex) when (OutboundFailures.Classify(ex, Receiver, ct) is { } verdict)
        {
            throw verdict;
        }
    }
}
