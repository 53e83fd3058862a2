namespace Monolith.Worker.Engine;

/// <summary>
/// The code of one job type. Implement it, add the payload and its validator beside it, and add one line to
/// Jobs/JobTypes.cs.
/// <para>
/// <b>Delivery guarantee: at least once.</b> An accepted job is stored before the client hears back and is run
/// until it succeeds, fails for good or is cancelled. When a node dies, is frozen past the recovery bound, or is
/// stopped mid-run, another node runs the job again, so a handler can see the same job more than once (even
/// after it has done its work, if the node died before recording that). Handlers must therefore be
/// idempotent: write with keys derived from <see cref="JobContext.JobId"/>, upsert rather than insert, and
/// check for work already done. Each run's writes to the jobs table are fenced, so a stale run can never
/// overwrite the outcome of the run that replaced it.
/// </para>
/// </summary>
/// <typeparam name="TPayload">The payload record, deserialised from the submitted JSON and already validated.</typeparam>
public interface IJobHandler<in TPayload>
{
    /// <summary>
    /// Does the work. Return a value to store as the job's result (serialised as JSON), or null. Throw
    /// <see cref="PermanentJobException"/> to fail the job at once; any other exception is retried with backoff
    /// until the attempts run out. Honour <paramref name="ct"/>: it fires on cancel, on timeout and on shutdown.
    /// </summary>
    Task<object?> HandleAsync(TPayload payload, JobContext context, CancellationToken ct);
}
