using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Monolith.Worker.Uploads;

/// <summary>
/// Removes pre-signed uploads never completed (<see cref="DirectUploads.RemoveExpiredAsync"/>): every
/// <see cref="Interval"/>, on one node of the cluster, the rows still pending past their URL's expiry and
/// <c>Uploads:PendingGraceSeconds</c>, with whatever the client PUT.
/// </summary>
[DisallowConcurrentExecution]
public sealed class PendingUploadCleaner(IServiceScopeFactory scopes) : IJob
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DirectUploads>().RemoveExpiredAsync(DateTimeOffset.UtcNow, ct);
    }
}
