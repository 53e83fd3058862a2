namespace Monolith.Domain.Jobs;

/// <summary>How one attempt ended, as the engine writes it: the job's next state and the attempt's record.</summary>
/// <param name="NextState">Succeeded, Failed, Cancelled, or Retrying (then <paramref name="RetryAt"/> is set).</param>
/// <param name="Outcome">The attempt row's outcome: succeeded, failed, cancelled, timed_out or lost.</param>
public sealed record AttemptResult(
    JobState NextState,
    string Outcome,
    string? Error = null,
    string? ResultJson = null,
    DateTimeOffset? RetryAt = null);
