using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Worker.Engine;
using Quartz;

namespace Monolith.Worker.Hosting;

/// <summary>
/// SIGTERM/SIGINT on a node that executes jobs: stop taking new jobs at once (the scheduler goes to standby),
/// let running jobs finish for up to <see cref="WorkerOptions.ShutdownGraceSeconds"/>, then let Quartz shut
/// down, which cancels whatever still runs and hands those firings back in the same transaction for another
/// node to re-run at once (RecoverFiringsCancelledByShutdown). Nothing is lost: a handed-back job runs again.
/// Quartz's hosted service shuts the scheduler down in its <c>StoppingAsync</c>, so this runs in
/// <c>StoppingAsync</c> too, registered after it: lifecycle hooks run in reverse order, so this one goes first.
/// </summary>
public sealed class GracefulShutdown(
    ISchedulerFactory schedulers,
    RunningJobs running,
    JobSlots slots,
    NodeDispatcher dispatcher,
    IOptions<WorkerOptions> options,
    ILogger<GracefulShutdown> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        IScheduler scheduler;
        try
        {
            scheduler = await schedulers.GetScheduler(cancellationToken);
        }
        catch (SchedulerException)
        {
            return; // already shut down
        }
        if (scheduler.Status != SchedulerStatus.Running) return;

        await scheduler.Standby(cancellationToken);
        await slots.CloseAsync(cancellationToken); // nothing more is claimed; the buffer goes back to the cluster
        dispatcher.Wake(); // the claim loop sees the slots closed and ends
        var grace = TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds);
        logger.LogInformation("Shutting down: taking no new jobs; {Running} running job(s) have {Grace} to finish",
            running.Dispatches, grace);

        var deadline = DateTime.UtcNow + grace;
        while (running.Dispatches > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }
        if (running.Dispatches > 0)
        {
            logger.LogWarning("Grace period over: {Running} job(s) still running are cancelled and handed back to the cluster", running.Dispatches);
        }
    }
}
