using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>What a handler knows about the run it is in, and how it reports progress.</summary>
public sealed class JobContext(Job claimed, Action<int, string?> reportProgress)
{
    public Guid JobId => claimed.Id;
    public Guid TenantId => claimed.TenantId;
    public string Type => claimed.Type;

    /// <summary>1 for the first attempt of this run, 2 for the first retry, and so on.</summary>
    public int Attempt => claimed.Attempt;
    public int MaxAttempts => claimed.MaxAttempts;

    /// <summary>
    /// This attempt's lease: while the job row still holds it (and is running), this run is the current one. A
    /// handler that commits progress of its own (a checkpoint) fences the commit on it, in the same transaction:
    /// <c>SELECT 1 FROM jobs WHERE id = … AND lease_token = … AND state = 'running' FOR SHARE</c>, so a run that
    /// was presumed dead and replaced can never move the work back.
    /// </summary>
    public Guid LeaseToken => claimed.LeaseToken ?? Guid.Empty;

    /// <summary>
    /// Reports progress (0 to 100 and an optional message) where <c>GET /v1/jobs/{id}</c> shows it. Returns at once,
    /// without waiting for the database: the node writes each job's latest report in batches, a job's first report at
    /// once and later ones at most every <c>Worker:ProgressIntervalMs</c> (250 ms), so a report may be replaced by the
    /// next before it is stored. A canceled <paramref name="ct"/> gives a canceled task, as any awaited call would.
    /// </summary>
    public Task ReportProgressAsync(int percent, string? message, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return Task.FromCanceled(ct);
        reportProgress(Math.Clamp(percent, 0, 100), message);
        return Task.CompletedTask;
    }

    /// <summary>True once the handler said it stored outside text with characters replaced (<see cref="NoteTextReplaced"/>).</summary>
    public bool TextReplaced { get; private set; }

    /// <summary>
    /// Says that this attempt stored text from outside (a source's records, names in a file) with the characters
    /// PostgreSQL cannot store replaced (<see cref="Domain.Text.StorableText"/>): the attempt's record then notes it
    /// (<see cref="AttemptResult.TextReplacedNote"/>), where <c>GET /v1/jobs/{id}</c> shows it.
    /// </summary>
    public void NoteTextReplaced() => TextReplaced = true;
}
