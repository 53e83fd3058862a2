using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// What a job-backed feature's command (create, cancel, retry, reprocess, delete of a dataset, transfer or sync) did:
/// its row and its job as they are now, or why nothing was done. Endpoints and dashboard pages turn it into their
/// answer (docs/job-backed-features.md).
/// </summary>
/// <param name="Errors">With <see cref="CommandStatus.Invalid"/>: what is wrong, keyed by the request field.</param>
public sealed record RowCommandOutcome<TRow>(CommandStatus Status, TRow? Row, Job? Job, IReadOnlyDictionary<string, string[]>? Errors = null)
    where TRow : class
{
    public static RowCommandOutcome<TRow> Done(TRow row, Job? job) => new(CommandStatus.Done, row, job);

    public static readonly RowCommandOutcome<TRow> NotFound = new(CommandStatus.NotFound, null, null);

    /// <summary>The row exists but is in no state for the command (a finished transfer cancelled, a parsing dataset deleted).</summary>
    public static RowCommandOutcome<TRow> Conflict(TRow row, Job? job) => new(CommandStatus.Conflict, row, job);

    public static RowCommandOutcome<TRow> Invalid(IReadOnlyDictionary<string, string[]> errors) => new(CommandStatus.Invalid, null, null, errors);
}
