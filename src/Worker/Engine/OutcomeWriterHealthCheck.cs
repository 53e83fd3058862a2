using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Monolith.Worker.Engine;

/// <summary>
/// Readiness of a node that runs jobs: unhealthy while the outcome being written (<see cref="AttemptRecorder.WaitingFor"/>)
/// has waited longer than <see cref="WorkerOptions.OutcomeStallSeconds"/>, the database away or the write blocked. Until
/// it is written, that node's finished jobs still read <c>running</c>, so the node must not look green. The
/// description gives the wait, never an exception's text.
/// </summary>
public sealed class OutcomeWriterHealthCheck(AttemptRecorder recorder, IOptions<WorkerOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var waiting = recorder.WaitingFor;
        var limit = TimeSpan.FromSeconds(options.Value.OutcomeStallSeconds);
        return Task.FromResult(waiting <= limit
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy(
                $"Attempt outcomes have not been written for {waiting.TotalSeconds:0} s (limit {limit.TotalSeconds:0} s, Worker:OutcomeStallSeconds): " +
                "this node's finished jobs still read running."));
    }
}
