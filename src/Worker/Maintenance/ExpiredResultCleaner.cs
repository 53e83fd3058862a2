using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;
using Quartz;

namespace Monolith.Worker.Maintenance;

/// <summary>
/// Deletes results whose time to live has passed (<c>resultTtlSeconds</c>; <c>http_request</c> keeps its results
/// 60 s by default): every <see cref="Interval"/>, on one node of the cluster, it sets <c>jobs.result</c> to NULL and
/// <c>result_expired</c> to true in batches of <see cref="BatchSize"/> (partial index <c>ix_jobs_result_expiry</c>),
/// until none is left. The data is gone from the table, not only hidden. Between the deadline and the sweep,
/// <c>GET /v1/jobs/{id}</c> already treats the result as expired (<see cref="Job.IsResultExpired"/>).
/// </summary>
[DisallowConcurrentExecution]
public sealed class ExpiredResultCleaner(IServiceScopeFactory scopes, ILogger<ExpiredResultCleaner> logger) : IJob
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>Results deleted per statement: short transactions that never hold many row locks.</summary>
    public const int BatchSize = 1000;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<JobStore>();
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.DeleteExpiredResultsAsync(BatchSize, ct);
            total += deleted;
        } while (deleted == BatchSize && !ct.IsCancellationRequested);
        if (total > 0) logger.LogDebug("Deleted {Count} expired job result(s)", total);
    }
}
