using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;

namespace Monolith.Worker.Engine;

/// <summary>
/// What a feature writes when jobs reach a terminal state (succeeded, failed, cancelled), in the same transaction as
/// that state, so it is never lost and never written for a state that was rolled back. The engine calls every
/// registered handler at the two places a job ends: <see cref="AttemptRecorder"/> with each batch of outcomes, and
/// <see cref="JobClient.CancelAsync"/> for a waiting job cancelled. A running job cancelled ends through its outcome.
/// The webhooks feature is one (<c>Jobs/Webhooks/WebhookEvents</c>); the engine knows no job type. Register as a
/// singleton of this interface.
/// </summary>
public interface IJobEndedHandler
{
    /// <summary>
    /// Whether this handler writes anything when <paramref name="job"/> ends in <paramref name="state"/>. Asked for every
    /// job that ends, on the outcome writer's hot path: decide from the job alone (no I/O), and cheaply. Only jobs it is
    /// concerned with are passed to <see cref="JobsEndedAsync"/>; a cancel opens a transaction only for them.
    /// </summary>
    bool Concerns(Job job, JobState state);

    /// <summary>
    /// Adds this handler's writes for <paramref name="ended"/> (one or more jobs it is concerned with, whose terminal
    /// state is written but not yet committed) to that transaction. <paramref name="db"/> and <paramref name="jobs"/>
    /// write in it: a feature's row updated (a dataset marked failed), jobs submitted
    /// (<see cref="JobClient.SubmitBatchAsync"/>) commit or roll back with the terminal states.
    /// </summary>
    Task JobsEndedAsync(IReadOnlyList<TerminalJob> ended, MonolithDbContext db, JobClient jobs, CancellationToken ct);
}
