using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Domain.Jobs;
using Monolith.Domain.Queues;
using Prometheus;

namespace Monolith.Worker.Engine;

/// <summary>
/// Fills <see cref="EngineMetrics.QueueDepth"/> when /metrics is scraped, from the same cheap figures as
/// <c>GET /v1/queues</c> (<see cref="QueueFigures"/>: live states from a partial index, finished ones from the trigger
/// counters, no scan of finished jobs). At most one read per <see cref="MinInterval"/>, however often it is scraped;
/// a failed read keeps the last values (and is logged), so a scrape never fails because the database is away.
/// </summary>
public sealed class QueueDepthMetrics(IServiceScopeFactory scopes, QueueSelector queues, ILogger<QueueDepthMetrics> logger) : IHostedService
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private volatile bool _stopped;

    public Task StartAsync(CancellationToken ct)
    {
        // The registry is process-wide and keeps its callbacks: a stopped host's callback must do nothing.
        Metrics.DefaultRegistry.AddBeforeCollectCallback(RefreshAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct)
    {
        _stopped = true;
        return Task.CompletedTask;
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        if (_stopped || DateTimeOffset.UtcNow - _readAt < MinInterval || !await _gate.WaitAsync(0, ct)) return;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var now = DateTimeOffset.UtcNow;
            var figures = await scope.ServiceProvider.GetRequiredService<QueueFigures>().ListAsync(null, queues.Names, now, ct);
            foreach (var figure in figures)
            {
                foreach (var (state, count) in figure.Counts) EngineMetrics.QueueDepth.WithLabels(figure.Queue, state.ToName()).Set(count);
            }
            _readAt = now;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !_stopped)
        {
            logger.LogWarning(ex, "Could not read the queue figures for /metrics; the last values stay");
        }
        finally
        {
            _gate.Release();
        }
    }
}
