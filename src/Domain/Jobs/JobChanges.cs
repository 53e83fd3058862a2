namespace Monolith.Domain.Jobs;

/// <summary>
/// The NOTIFY channel that tells every node "these jobs changed" (state, progress), so a client waiting on a job
/// (<c>GET /v1/jobs/{id}?wait=</c>, <c>GET /v1/jobs/{id}/events</c>) on any node hears of it at once. The payload
/// is job ids separated by commas; a statement that changes many jobs sends one notification per
/// <see cref="MaxIdsPerNotification"/> ids (PostgreSQL refuses payloads of 8,000 bytes or more). Notifications
/// are sent at commit, so a waiter never sees one before the change is readable. They can be lost (a listener's
/// connection drops), so waiters also read the job again every so often.
/// </summary>
public static class JobChanges
{
    public const string Channel = "monolith_job_changed";

    /// <summary>Ids per notification: 200 × 37 characters stays well under the 8,000-byte limit.</summary>
    public const int MaxIdsPerNotification = 200;

    /// <summary>The job ids of one notification's payload (malformed entries are skipped).</summary>
    public static IEnumerable<Guid> Parse(string payload)
    {
        foreach (var part in payload.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Guid.TryParse(part, out var id)) yield return id;
        }
    }
}
