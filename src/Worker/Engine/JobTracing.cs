using System.Diagnostics;
using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>
/// Traces across nodes (docs/observability.md): a job keeps the W3C <c>traceparent</c> of the request that submitted
/// it (<see cref="Job.TraceParent"/>), and each attempt runs in an activity of <see cref="SourceName"/> whose parent is
/// that context, so the submit on an api node and the execution on a worker node are one trace. Without a listener
/// (no exporter configured, no test listening) <see cref="StartExecution"/> returns null and costs nothing.
/// </summary>
public static class JobTracing
{
    public const string SourceName = "Monolith.Jobs";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The current trace as a W3C traceparent, or null when there is none (or it is not W3C).</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>Starts the activity of one attempt, child of the submitter's trace when the job has one.</summary>
    public static Activity? StartExecution(Job claimed, string node)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext.TryParse(claimed.TraceParent, null, isRemote: true, out var parent);
        var activity = Source.StartActivity($"{claimed.Type} execute", ActivityKind.Consumer, parent);
        if (activity is null) return null;
        activity.SetTag("job.id", claimed.Id.ToString());
        activity.SetTag("job.type", claimed.Type);
        activity.SetTag("job.queue", claimed.Queue);
        activity.SetTag("job.attempt", claimed.Attempt);
        activity.SetTag("node", node);
        return activity;
    }

    /// <summary>Marks the attempt's activity with how it ended.</summary>
    public static void RecordOutcome(Activity? activity, AttemptResult result)
    {
        if (activity is null) return;
        activity.SetTag("job.outcome", result.Outcome);
        activity.SetTag("job.state", result.NextState.ToName());
        if (result.Outcome is "failed" or "timed_out") activity.SetStatus(ActivityStatusCode.Error, result.Error);
        else activity.SetStatus(ActivityStatusCode.Ok);
    }
}
