namespace Monolith.Domain.Jobs;

/// <summary>
/// Where a job is in its life. Stored lower-case in <c>jobs.state</c> and shown lower-case in JSON.
/// The transitions are drawn in docs/job-states.md; <see cref="JobStates"/> holds the groups the code asks about.
/// </summary>
public enum JobState
{
    /// <summary>Accepted, waiting for its <c>runAt</c>.</summary>
    Scheduled,
    /// <summary>Due: waiting for a free worker slot.</summary>
    Queued,
    /// <summary>Claimed by a node and executing.</summary>
    Running,
    /// <summary>An attempt failed with a retryable error; waiting for its backoff to pass.</summary>
    Retrying,
    /// <summary>Terminal: the handler finished.</summary>
    Succeeded,
    /// <summary>Terminal: a permanent error, or the attempts ran out.</summary>
    Failed,
    /// <summary>Terminal: cancelled by a client before or while it ran.</summary>
    Cancelled,
}

public static class JobStates
{
    /// <summary>States a worker may claim a job from once <c>scheduled_at</c> has passed.</summary>
    public static readonly JobState[] Waiting = [JobState.Scheduled, JobState.Queued, JobState.Retrying];

    /// <summary>States that never change again on their own (a client may still retry a failed or cancelled job).</summary>
    public static readonly JobState[] Terminal = [JobState.Succeeded, JobState.Failed, JobState.Cancelled];

    public static bool IsTerminal(this JobState state) => Array.IndexOf(Terminal, state) >= 0;

    /// <summary>Lower-case name as stored in the database and shown in JSON.</summary>
    public static string ToName(this JobState state) => (uint)state < (uint)Names.Length ? Names[(int)state] : state.ToString().ToLowerInvariant();

    private static readonly string[] Names = [.. Enum.GetValues<JobState>().Select(s => s.ToString().ToLowerInvariant())];

    public static bool TryParse(string? name, out JobState state) =>
        Enum.TryParse(name, ignoreCase: true, out state) && Enum.IsDefined(state) && !int.TryParse(name, out _);
}
