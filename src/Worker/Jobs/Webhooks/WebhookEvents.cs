using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Secrets;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Webhooks;

/// <summary>
/// Turns terminal transitions into <c>deliver_webhook</c> jobs. The engine calls it where jobs end
/// (<see cref="IJobEndedHandler"/>), and the deliveries are stored in the same transaction as the terminal state
/// (<see cref="AttemptRecorder"/> for outcomes, <see cref="JobClient.CancelAsync"/> for a waiting job cancelled), so an
/// event is never lost and never sent for a state that was rolled back. One event per
/// terminal transition of a job with a <c>callbackUrl</c>: intermediate retries send nothing; a client's retry of a
/// failed or cancelled job starts a new run, which ends with an event of its own. Deliveries of webhooks never cause
/// webhooks (they carry no callback).
/// </summary>
public sealed class WebhookEvents(IOptions<WebhookOptions> options) : IJobEndedHandler
{
    public const string JobType = "deliver_webhook";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A job with a callback URL that is not itself a delivery: its terminal state sends an event.</summary>
    public bool Concerns(Job job, JobState state) => job.CallbackUrl is not null && job.Type != JobType && state.IsTerminal();

    /// <summary>Stores the delivery jobs of <paramref name="ended"/> in the transaction that ends them.</summary>
    public async Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct)
    {
        var deliveries = For(ended);
        if (deliveries.Count > 0) await jobs.SubmitBatchAsync(deliveries, ct);
    }

    /// <summary>The delivery jobs for those of <paramref name="finished"/> that have a callback URL.</summary>
    public IReadOnlyList<NewJob> For(IEnumerable<TerminalJob> finished)
    {
        var o = options.Value;
        var now = DateTimeOffset.UtcNow;
        var deliveries = new List<NewJob>();
        foreach (var (job, state, error, resultJson) in finished)
        {
            if (job.CallbackUrl is null || job.Type == JobType || !state.IsTerminal()) continue;
            var @event = new JsonObject
            {
                ["id"] = Guid.CreateVersion7(now).ToString(),
                ["type"] = "job." + state.ToName(),
                ["occurredAt"] = now,
                ["job"] = new JsonObject
                {
                    ["id"] = job.Id.ToString(),
                    ["type"] = job.Type,
                    ["queue"] = job.Queue,
                    ["state"] = state.ToName(),
                    ["attempt"] = job.Attempt,
                    ["result"] = IsShareable(resultJson) ? JsonNode.Parse(resultJson!) : null,
                    ["error"] = error,
                },
            };
            var payload = new JsonObject { ["url"] = job.CallbackUrl, ["event"] = @event };
            deliveries.Add(new NewJob(
                TenantId: job.TenantId,
                Type: JobType,
                PayloadJson: payload.ToJsonString(Json),
                Queue: "default",
                Priority: 0,
                RunAt: now,
                MaxAttempts: o.MaxAttempts,
                TimeoutSeconds: o.TimeoutSeconds + 5,
                BackoffSeconds: o.BackoffSeconds,
                IdempotencyKey: null,
                RequestHash: null,
                CallbackUrl: null,
                TraceParent: job.TraceParent));
        }
        return deliveries;
    }

    /// <summary>
    /// A result stored encrypted (a type with <c>SecretResult</c>, such as <c>http_request</c>) stays out of the event:
    /// the delivery job's payload would keep it in plain text, and its cipher text means nothing to the receiver, who
    /// reads it with <c>GET /v1/jobs/{id}</c> before it expires.
    /// </summary>
    private static bool IsShareable(string? resultJson) =>
        resultJson is not null
        && !(resultJson.StartsWith('"') && SecretProtector.IsProtected(JsonSerializer.Deserialize<string>(resultJson)));
}
