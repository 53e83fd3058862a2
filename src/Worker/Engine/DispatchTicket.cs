namespace Monolith.Worker.Engine;

/// <summary>
/// The input of one Quartz trigger of <see cref="DispatchJob"/>: "run up to <paramref name="Count"/> due jobs".
/// A ticket is written in the same transaction as the jobs it stands for, so every waiting job has one.
/// Tickets do not name jobs: when one fires it claims the best due jobs (priority, queue weights), which is
/// how priorities hold under saturation. Jobs it claimed carry its <paramref name="Id"/>, so if its node dies
/// Quartz's recovery re-fires the ticket elsewhere and it takes those jobs back.
/// </summary>
/// <param name="Id">Unique per ticket (a fresh UUIDv7); the Quartz trigger's name. Enqueueing is idempotent by job id
/// anyway: a job's row and its share of a ticket are written in one transaction, and its id is the primary key.</param>
/// <param name="Count">How many jobs the ticket may claim.</param>
public sealed record DispatchTicket(Guid Id, int Count);
