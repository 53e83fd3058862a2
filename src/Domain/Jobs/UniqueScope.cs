namespace Monolith.Domain.Jobs;

/// <summary>
/// How long a job's <see cref="Job.UniqueKey"/> keeps other submits of the same key (of the same tenant) from creating a
/// second job: they get the job that holds the key instead (docs/unique-jobs.md). Stored lower-case in
/// <c>jobs.unique_scope</c> (<c>until_started</c>, <c>until_executed</c>).
/// </summary>
public enum UniqueScope
{
    /// <summary>While the job waits to start for the first time: scheduled or queued. Once claimed, a new job may be created.</summary>
    UntilStarted,
    /// <summary>Until the job ends: scheduled, queued, running or waiting for a retry. Once it succeeded, failed or was cancelled, a new one may be created.</summary>
    UntilExecuted,
}

public static class UniqueScopes
{
    /// <summary>
    /// The window in SQL: the predicate of the partial unique index <c>ux_jobs_unique_key</c> on (tenant_id, unique_key),
    /// and the <c>ON CONFLICT</c> arbiter of a submit (<see cref="JobStore.InsertAsync"/>). A job moves only out of its
    /// window on its own (until_started: never back from running; until_executed: never back from an end), so the engine's
    /// state writes never collide on it; only a client's retry of an ended job may, and is refused then.
    /// </summary>
    public const string WindowSql =
        "unique_key IS NOT NULL AND (state IN ('scheduled', 'queued') OR (unique_scope = 'until_executed' AND state IN ('running', 'retrying')))";

    public static string ToName(this UniqueScope scope) => scope == UniqueScope.UntilStarted ? "until_started" : "until_executed";

    public static readonly string[] Names = ["until_started", "until_executed"];

    public static bool TryParse(string? name, out UniqueScope scope)
    {
        scope = name == "until_started" ? UniqueScope.UntilStarted : UniqueScope.UntilExecuted;
        return name is "until_started" or "until_executed";
    }
}
