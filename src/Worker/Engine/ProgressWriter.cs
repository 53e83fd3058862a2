using Microsoft.Extensions.DependencyInjection;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// Writes the progress handlers report (<see cref="JobContext.ReportProgressAsync"/>), fenced by the attempt's lease:
/// when the write matches no row (another node took the job over), the attempt is told (<c>leaseLost</c>).
/// </summary>
public sealed class ProgressWriter(IServiceScopeFactory scopes)
{
    /// <summary>Writes one report; false when the lease was no longer current.</summary>
    public async Task<bool> Report(Job claimed, int percent, string? message, Action leaseLost, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var current = await scope.ServiceProvider.GetRequiredService<JobStore>()
            .ReportProgressAsync(claimed.Id, claimed.LeaseToken!.Value, percent, message, ct);
        if (!current) leaseLost();
        return current;
    }

    /// <summary>The attempt of <paramref name="jobId"/> ended: nothing more is written for it.</summary>
    public void Forget(Guid jobId)
    {
    }
}
