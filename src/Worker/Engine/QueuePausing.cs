using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Monolith.Domain.Persistence;
using Monolith.Domain.Queues;

namespace Monolith.Worker.Engine;

/// <summary>
/// Pausing and resuming a queue (the admin's, through the API or the dashboard): while a queue's <see cref="QueuePause"/>
/// row exists the claims skip its jobs. The caller checks the queue is a configured one (<see cref="QueueSelector.IsKnown"/>).
/// </summary>
public sealed class QueuePausing(MonolithDbContext db, DispatchTickets tickets)
{
    /// <summary>Pauses <paramref name="queue"/>; pausing a paused queue changes nothing. Returns the pause as it stands.</summary>
    public async Task<QueuePause> PauseAsync(string queue, string pausedBy, CancellationToken ct) =>
        // One statement that answers with the pause as it stands, new or already there: a resume between an insert and
        // a read would leave nothing to read. The no-op update makes ON CONFLICT return the existing row unchanged.
        (await db.QueuePauses.FromSql($"""
            INSERT INTO queue_pauses (queue, paused_at, paused_by) VALUES ({queue}, {DateTimeOffset.UtcNow}, {pausedBy})
            ON CONFLICT (queue) DO UPDATE SET queue = EXCLUDED.queue
            RETURNING queue, paused_at, paused_by
            """).AsNoTracking().ToListAsync(ct)).Single();

    /// <summary>
    /// Deletes the pause and, in the same transaction, wakes the worker nodes: jobs that fell due during the pause had
    /// their wake-ups and tickets pass while claims skipped them, and would otherwise wait for TicketRescuer.
    /// Resuming a queue that is not paused changes nothing.
    /// </summary>
    public async Task ResumeAsync(string queue, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await db.QueuePauses.Where(p => p.Queue == queue).ExecuteDeleteAsync(ct) > 0)
        {
            await tickets.ScheduleAsync(tx.GetDbTransaction(), [DateTimeOffset.UtcNow], ct); // due now: one wake-up
        }
        await tx.CommitAsync(ct);
    }
}
