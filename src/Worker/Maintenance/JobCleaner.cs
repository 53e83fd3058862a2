using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monolith.Domain.Datasets;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Schedules;
using Monolith.Worker.Jobs.Datasets;
using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// Retention (docs/housekeeping.md): on the schedule of <see cref="RetentionOptions.Schedule"/>, on one node of the
/// cluster, deletes finished jobs older than their state's age (their attempts go with them, by the foreign key),
/// schedule runs older than <see cref="RetentionOptions.ScheduleRunsDays"/> (<see cref="ScheduleRunPruning"/>), and, when
/// <see cref="RetentionOptions.DatasetsDays"/> is set, datasets older than that. Jobs go in batches of
/// <see cref="RetentionOptions.BatchSize"/>, one short transaction each (<see cref="JobStore.DeleteFinishedBeforeAsync"/>),
/// oldest first from the partial index <c>ix_jobs_finished</c>, skipping rows another transaction holds, so no long
/// lock is taken and the engine is never kept waiting. The queue figures follow by themselves: the delete trigger subtracts what it removes, so
/// <c>GET /v1/queues</c> counts the finished jobs still kept.
/// </summary>
[DisallowConcurrentExecution]
public sealed class JobCleaner(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, ILogger<JobCleaner> logger) : IJob
{
    public static readonly JobKey Key = new(nameof(JobCleaner));

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        var o = options.Value;
        var now = DateTimeOffset.UtcNow;
        foreach (var (state, days) in new[] { (JobState.Succeeded, o.SucceededDays), (JobState.Failed, o.FailedDays), (JobState.Cancelled, o.CancelledDays) })
        {
            if (days <= 0) continue;
            var deleted = await DeleteJobsAsync(state, now - TimeSpan.FromDays(days), o.BatchSize, ct);
            if (deleted > 0) logger.LogInformation("Retention: deleted {Count} {State} job(s) finished over {Days} day(s) ago", deleted, state.ToName(), days);
        }
        if (o.ScheduleRunsDays > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            var pruned = await scope.ServiceProvider.GetRequiredService<ScheduleRunPruning>()
                .DeleteFiredBeforeAsync(now - TimeSpan.FromDays(o.ScheduleRunsDays), o.BatchSize, ct);
            if (pruned > 0) logger.LogInformation("Retention: deleted {Count} schedule run(s) fired over {Days} day(s) ago", pruned, o.ScheduleRunsDays);
        }
        if (o.DatasetsDays > 0)
        {
            var removed = await DeleteDatasetsAsync(now - TimeSpan.FromDays(o.DatasetsDays), o.BatchSize, ct);
            if (removed > 0) logger.LogInformation("Retention: removed {Count} dataset(s) uploaded over {Days} day(s) ago", removed, o.DatasetsDays);
        }
    }

    private async Task<long> DeleteJobsAsync(JobState state, DateTimeOffset cutoff, int batch, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<JobStore>();
        long total = 0;
        while (!ct.IsCancellationRequested)
        {
            var deleted = await store.DeleteFinishedBeforeAsync(state, cutoff, batch, ct);
            total += deleted;
            if (deleted < batch) break;
        }
        return total;
    }

    private async Task<int> DeleteDatasetsAsync(DateTimeOffset cutoff, int batch, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MonolithDbContext>();
        var removal = scope.ServiceProvider.GetRequiredService<DatasetRemoval>();
        var removed = 0;
        while (!ct.IsCancellationRequested)
        {
            var old = await db.Datasets.AsNoTracking()
                .Where(d => d.CreatedAt < cutoff && (d.State == DatasetState.Completed || d.State == DatasetState.Failed))
                .OrderBy(d => d.CreatedAt).Take(batch).ToListAsync(ct);
            var before = removed;
            foreach (var dataset in old)
            {
                if (await removal.RemoveAsync(dataset, dataset.State, dataset.JobId, ct)) removed++;
            }
            if (old.Count < batch || removed == before) break;
        }
        return removed;
    }
}
