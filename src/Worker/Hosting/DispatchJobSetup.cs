using Microsoft.Extensions.Hosting;
using Monolith.Worker.Engine;
using Quartz;

namespace Monolith.Worker.Hosting;

/// <summary>
/// Stores the one durable Quartz job that every dispatch ticket hangs off (<see cref="DispatchJob"/>, with
/// RequestRecovery) at start-up, before any request is served. Quartz's one-call ScheduleJob would store it on
/// its first call in a process, but two first calls at once race: the second finds it "already ensured" and
/// inserts a trigger for a job the first has not committed yet (seen as "the job referenced by the trigger does
/// not exist" on a busy fresh node).
/// </summary>
public sealed class DispatchJobSetup(ISchedulerFactory schedulers) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = SchedulerConstants.ScheduledJobKey<DispatchJob>();
        if (await scheduler.Exists(key, cancellationToken)) return;
        var job = JobBuilder.Create<DispatchJob>().WithIdentity(key).StoreDurably().RequestRecovery().Build();
        try
        {
            await scheduler.AddJob(job, new AddJobOptions(), cancellationToken);
        }
        catch (JobPersistenceException)
        {
            if (!await scheduler.Exists(key, cancellationToken)) throw;
            // Another node stored it at the same moment.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
