using Monolith.Domain.Text;

namespace Monolith.Domain.Jobs;

/// <summary>How one attempt ended, as the engine writes it: the job's next state and the attempt's record.</summary>
/// <param name="NextState">Succeeded, Failed, Cancelled, or Retrying (then <paramref name="RetryAt"/> is set).</param>
/// <param name="Outcome">The attempt row's outcome: succeeded, failed, cancelled, timed_out or lost.</param>
public sealed record AttemptResult(
    JobState NextState,
    string Outcome,
    string? Error = null,
    string? ResultJson = null,
    DateTimeOffset? RetryAt = null)
{
    /// <summary>
    /// What an attempt's error says when text from outside was stored with characters replaced: on its own for an
    /// attempt that had no error (a succeeded one), after the error otherwise.
    /// </summary>
    public const string TextReplacedNote =
        "Text that cannot be stored (a NUL character or an unpaired UTF-16 surrogate) was replaced with U+FFFD.";

    /// <summary>
    /// This outcome as PostgreSQL can store it (<see cref="StorableText"/>): every NUL and lone surrogate in the error
    /// and in the result's JSON replaced by U+FFFD, and, when anything was replaced here or
    /// <paramref name="replacedBefore"/> (the handler stored outside text of its own that way), the error noting it
    /// (<see cref="TextReplacedNote"/>). The same instance when nothing changes.
    /// </summary>
    public AttemptResult Storable(bool replacedBefore = false)
    {
        var error = StorableText.Sanitize(Error);
        var resultChanged = false;
        var result = ResultJson is null ? null : StorableText.SanitizeJson(ResultJson, out resultChanged);
        if (!replacedBefore && !resultChanged && ReferenceEquals(error, Error)) return this;
        return this with
        {
            Error = error is null ? TextReplacedNote : $"{error} ({TextReplacedNote})",
            ResultJson = result,
        };
    }
}
