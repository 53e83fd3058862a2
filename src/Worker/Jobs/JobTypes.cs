using Monolith.Worker.Engine;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Jobs.Diagnostics;
using Monolith.Worker.Jobs.Transfers;
using Monolith.Worker.Jobs.Syncs;
using Monolith.Worker.Jobs.HttpRequests;
using Monolith.Worker.Jobs.Imports;
using Monolith.Worker.Jobs.Webhooks;

namespace Monolith.Worker.Jobs;

/// <summary>
/// The list of job types: one line each, with the kind clients submit (a stable string: renaming a class must
/// never strand stored jobs) and the type's defaults. Adding a job type is a folder under Jobs/ and a line here.
/// </summary>
public static class JobTypes
{
    public static JobTypeRegistry Register(JobTypeRegistry types) => types
        .Add<NoopJob, NoopPayload, NoopPayloadValidator>("noop", new JobDefaults(MaxAttempts: 3, TimeoutSeconds: 60, BackoffSeconds: 1))
        .Add<SleepJob, SleepPayload, SleepPayloadValidator>("sleep", new JobDefaults(MaxAttempts: 3, TimeoutSeconds: 3_700, BackoffSeconds: 1))
        .Add<FailJob, FailPayload, FailPayloadValidator>("fail", new JobDefaults(MaxAttempts: 5, TimeoutSeconds: 60, BackoffSeconds: 1))
        .Add<ParseDatasetJob, ParseDatasetPayload, ParseDatasetPayloadValidator>("parse_dataset", new JobDefaults(MaxAttempts: 3, TimeoutSeconds: 3_600, BackoffSeconds: 5))
        .Add<ReprocessDatasetJob, ReprocessDatasetPayload, ReprocessDatasetPayloadValidator>("reprocess_dataset", new JobDefaults(MaxAttempts: 3, TimeoutSeconds: 3_600, BackoffSeconds: 5))
        .Add<TransferDocumentJob, TransferDocumentPayload, TransferDocumentPayloadValidator>("transfer_document", new JobDefaults(MaxAttempts: 8, TimeoutSeconds: 3_600, BackoffSeconds: 1))
        .Add<SyncRecordsJob, SyncRecordsPayload, SyncRecordsPayloadValidator>("sync_records", new JobDefaults(MaxAttempts: 5, TimeoutSeconds: 21_600, BackoffSeconds: 5))
        .Add<ImportRecordsJob, ImportRecordsPayload, ImportRecordsPayloadValidator>("import_records", new JobDefaults(MaxAttempts: 5, TimeoutSeconds: 21_600, BackoffSeconds: 5))
        .Add<HttpRequestJob, HttpRequestPayload, HttpRequestPayloadValidator>("http_request", new JobDefaults(MaxAttempts: 5, TimeoutSeconds: 330, BackoffSeconds: 2, ResultTtlSeconds: 60, SecretResult: true))
        // Submitted by the engine only (Internal); attempts and backoff per delivery come from WebhookOptions.
        .Add<DeliverWebhookJob, DeliverWebhookPayload, DeliverWebhookPayloadValidator>(WebhookEvents.JobType,
            new JobDefaults(MaxAttempts: WebhookOptions.DefaultMaxAttempts, TimeoutSeconds: WebhookOptions.DefaultTimeoutSeconds + 5,
                BackoffSeconds: WebhookOptions.DefaultBackoffSeconds, Internal: true));
}
