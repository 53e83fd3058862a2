using Monolith.Domain.Jobs;
using Monolith.Domain.Queues;

namespace Monolith.Api.Features.Queues;

/// <summary>Every queue's figures: the configured queues first, then any other that has jobs or is paused.</summary>
/// <param name="Items">One entry per queue.</param>
/// <param name="MeasuredAt" example="2026-11-23T13:00:00Z">The clock the figures were read at.</param>
public sealed record QueueListResponse(IReadOnlyList<QueueResponse> Items, DateTimeOffset MeasuredAt);

/// <summary>
/// One queue. A tenant's key counts that tenant's jobs only; the admin key counts every tenant's. Paused is the
/// same for everyone: queues are shared.
/// </summary>
/// <param name="Name" example="default">The queue's name.</param>
/// <param name="Paused" example="false">Whether workers are held off the queue (POST /v1/queues/{name}/pause).</param>
/// <param name="PausedAt">When it was paused; null when it is not.</param>
/// <param name="Counts">Jobs in each state, as GET /v1/jobs reads them: a scheduled or retrying job whose time has come counts as queued.</param>
/// <param name="OldestQueuedAgeSeconds" example="4.25">How long the oldest queued job has waited since it became due, in seconds; 0 when none is queued.</param>
public sealed record QueueResponse(string Name, bool Paused, DateTimeOffset? PausedAt, QueueCountsResponse Counts, double OldestQueuedAgeSeconds)
{
    public static QueueResponse From(QueueFigure figure) => new(
        figure.Queue,
        figure.Paused,
        figure.PausedAt,
        new QueueCountsResponse(
            figure.Counts[JobState.Scheduled],
            figure.Counts[JobState.Queued],
            figure.Counts[JobState.Running],
            figure.Counts[JobState.Retrying],
            figure.Counts[JobState.Succeeded],
            figure.Counts[JobState.Failed],
            figure.Counts[JobState.Cancelled]),
        figure.OldestQueuedAgeSeconds);
}

/// <summary>Jobs per state (see docs/job-states.md).</summary>
/// <param name="Scheduled" example="12">Waiting for their runAt.</param>
/// <param name="Queued" example="40">Due, waiting for a worker.</param>
/// <param name="Running" example="8">Claimed by a worker.</param>
/// <param name="Retrying" example="3">Waiting out a retry's backoff.</param>
/// <param name="Succeeded" example="1048576">Finished: succeeded.</param>
/// <param name="Failed" example="17">Finished: failed.</param>
/// <param name="Cancelled" example="5">Finished: cancelled.</param>
public sealed record QueueCountsResponse(long Scheduled, long Queued, long Running, long Retrying, long Succeeded, long Failed, long Cancelled);

/// <summary>A queue's pause state after a pause or resume.</summary>
/// <param name="Name" example="default">The queue's name.</param>
/// <param name="Paused" example="true">Whether workers are held off the queue.</param>
/// <param name="PausedAt" example="2026-11-23T13:00:00Z">When it was paused (the first pause, when paused twice); null when it is not.</param>
/// <param name="PausedBy" example="admin">The key that paused it; null when it is not paused.</param>
public sealed record QueuePauseResponse(string Name, bool Paused, DateTimeOffset? PausedAt, string? PausedBy)
{
    public static QueuePauseResponse From(string name, QueuePause? pause) =>
        new(name, pause is not null, pause?.PausedAt, pause?.PausedBy);
}
