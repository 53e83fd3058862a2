using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// Group commit for single submissions: the ones that arrive while the previous write is in flight are stored
/// together, in one transaction with shared tickets (<see cref="JobClient.SubmitBatchAsync"/>). Each request is
/// answered only after the transaction holding its job and ticket committed, so an accepted job is as durable as
/// before; a failed write fails every request of that batch (503), and none of their jobs exists.
/// </summary>
public sealed class SubmitCoalescer(IServiceScopeFactory scopes) : BackgroundService
{
    /// <summary>The most single submissions stored in one transaction.</summary>
    public const int MaxBatch = 100;

    private readonly BatchQueue<NewJob, Job> _queue = new(MaxBatch);

    /// <summary>Stores <paramref name="job"/> with whatever else is being submitted now; its stored row.</summary>
    public Task<Job> SubmitAsync(NewJob job, CancellationToken ct) => _queue.EnqueueAsync(job, ct);

    protected override Task ExecuteAsync(CancellationToken stopping) => _queue.RunAsync(WriteAsync, stopping);

    private async Task WriteAsync(IReadOnlyList<BatchQueue<NewJob, Job>.Entry> batch, CancellationToken stopping)
    {
        await using var scope = scopes.CreateAsyncScope();
        var client = scope.ServiceProvider.GetRequiredService<JobClient>();
        var stored = await client.SubmitBatchAsync(batch.Select(e => e.Item).ToList(), CancellationToken.None);
        for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(stored[i]);
    }
}
