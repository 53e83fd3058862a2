using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;
using Npgsql;

namespace Monolith.Worker.Engine;

/// <summary>
/// A node's ear on the database: one connection LISTENing on up to three channels (an <c>all</c> node on all three, a
/// <c>worker</c> node on the first two, an <c>api</c> node only on the last).
/// <list type="bullet">
/// <item><see cref="DispatchTickets.WakeChannel"/>: jobs became due (a submit on any node, a ticket firing on a busy node,
/// jobs handed back): this node's claim loop (<see cref="NodeDispatcher"/>) claims as soon as it has room.</item>
/// <item><see cref="JobClient.CancelChannel"/>: a client asked to cancel a job; if it runs here, fire its token.</item>
/// <item><see cref="JobChanges.Channel"/>: jobs changed state or progress: wake this node's clients waiting on them
/// (<see cref="JobWaiters"/>). After a reconnect every waiter is woken, as notifications may have been missed.</item>
/// </list>
/// Notifications can be missed while the connection is down, so every second it also asks the jobs table
/// which of this node's running jobs have a cancel request; a cancel therefore lands within about a second
/// even then, and a missed wake-up is made up by the jobs' dispatch tickets, which Quartz finds at its next poll (1 s).
/// </summary>
public sealed class EngineNotifications(
    NpgsqlDataSource dataSource,
    IServiceScopeFactory scopes,
    RunningJobs running,
    NodeDispatcher dispatcher,
    JobWaiters waiters,
    NodeIdentity node,
    ILogger<EngineNotifications> logger) : BackgroundService
{
    private static readonly TimeSpan CancelSweep = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = TimeSpan.FromMilliseconds(500);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Lost the notification connection; reconnecting in {Delay}", retry);
                await Task.Delay(retry, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var executes = node.ExecutesJobs;
        connection.Notification += (_, e) =>
        {
            if (e.Channel == JobChanges.Channel) waiters.Changed(JobChanges.Parse(e.Payload));
            else if (e.Channel == DispatchTickets.WakeChannel) dispatcher.Wake();
            else if (e.Channel == JobClient.CancelChannel && Guid.TryParse(e.Payload, out var jobId) && running.Cancel(jobId))
            {
                logger.LogInformation("Cancel request delivered to running job {JobId}", jobId);
            }
        };
        string[] channels =
        [
            .. node.ServesClients ? [JobChanges.Channel] : Array.Empty<string>(),
            .. executes ? [DispatchTickets.WakeChannel, JobClient.CancelChannel] : Array.Empty<string>(),
        ];
        await using (var listen = new NpgsqlCommand(string.Join("; ", channels.Select(c => $"LISTEN {c}")), connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }
        logger.LogInformation("Listening on {Channels}", string.Join(", ", channels));
        waiters.ChangedAll(); // changes made while we were not listening
        if (executes) dispatcher.Wake(); // anything submitted while we were not listening

        var nextSweep = DateTime.UtcNow + CancelSweep;
        while (!ct.IsCancellationRequested)
        {
            var untilSweep = nextSweep - DateTime.UtcNow;
            if (untilSweep > TimeSpan.Zero) await connection.WaitAsync(untilSweep, ct);
            if (DateTime.UtcNow < nextSweep) continue;
            nextSweep = DateTime.UtcNow + CancelSweep;
            await SweepCancelRequestsAsync(ct);
        }
    }

    private async Task SweepCancelRequestsAsync(CancellationToken ct)
    {
        var ids = running.Ids.ToArray();
        if (ids.Length == 0) return;
        await using var scope = scopes.CreateAsyncScope();
        foreach (var jobId in await scope.ServiceProvider.GetRequiredService<JobStore>().CancelRequestedAsync(ids, ct))
        {
            running.Cancel(jobId);
        }
    }
}
