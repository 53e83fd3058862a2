using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Monolith.Domain.Jobs;
using Monolith.Domain.Persistence;
using Monolith.Domain.Schedules;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Schedules;

/// <summary>
/// What clients do to schedules (the API's <c>/v1/schedules</c> and the dashboard's buttons) and what a firing does
/// (docs/schedules.md). Every change to a schedule is written with its Quartz trigger in one transaction
/// (<see cref="ScheduleTriggers"/>); every firing writes its run and its job in one transaction. A tenant scope is a
/// tenant's id, or null for the admin.
/// </summary>
public sealed class ScheduleCommands(
    MonolithDbContext db,
    ScheduleQueries schedules,
    JobClient client,
    JobTypeRegistry types,
    JobSecrets secrets,
    ScheduleTriggers triggers,
    IServiceProvider services)
{
    /// <summary>
    /// Stores the schedule (its template's payload as a job's is stored: secrets encrypted) and, unless it is created
    /// paused, its trigger. Invalid, keyed by the request's fields, when the job type's checks on stored state refuse
    /// the payload or the schedule would never fire.
    /// </summary>
    public async Task<RowCommandOutcome<Schedule>> CreateAsync(Guid tenantId, NewSchedule input, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var schedule = new Schedule
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenantId,
            TimeZone = "UTC",
            CreatedAt = now,
        };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        return await SaveAsync(schedule, input, isNew: true, tx, ct);
    }

    /// <summary>Changes what <paramref name="input"/> gives (nulls keep what the schedule has) and rewrites its trigger from now.</summary>
    public async Task<RowCommandOutcome<Schedule>> UpdateAsync(Guid? tenantScope, Guid id, NewSchedule input, CancellationToken ct)
    {
        if (await schedules.GetAsync(tenantScope, id, ct) is null) return RowCommandOutcome<Schedule>.NotFound;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await LockAsync(id, ct) is not { } schedule) return RowCommandOutcome<Schedule>.NotFound;
        return await SaveAsync(schedule, input, isNew: false, tx, ct);
    }

    /// <summary>Stops firing: the trigger is deleted. Conflict when it is already paused.</summary>
    public Task<RowCommandOutcome<Schedule>> PauseAsync(Guid? tenantScope, Guid id, CancellationToken ct) => SetPausedAsync(tenantScope, id, true, ct);

    /// <summary>Fires again from now on (no catching up on the time it was paused). Conflict when it is not paused, or has no fire time left.</summary>
    public Task<RowCommandOutcome<Schedule>> ResumeAsync(Guid? tenantScope, Guid id, CancellationToken ct) => SetPausedAsync(tenantScope, id, false, ct);

    /// <summary>Deletes the schedule, its trigger and its runs (the jobs it submitted stay, as jobs).</summary>
    public async Task<RowCommandOutcome<Schedule>> DeleteAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if (await schedules.GetAsync(tenantScope, id, ct) is not { } schedule) return RowCommandOutcome<Schedule>.NotFound;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await triggers.RemoveAsync(tx.GetDbTransaction(), id, ct);
        await db.Schedules.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return RowCommandOutcome<Schedule>.Done(schedule, null);
    }

    /// <summary>
    /// Submits the schedule's job now, outside its timing ("run now"; paused or not, whatever the overlap policy): a
    /// manual run at the current time.
    /// </summary>
    public async Task<RowCommandOutcome<ScheduleRun>> RunNowAsync(Guid? tenantScope, Guid id, CancellationToken ct)
    {
        if (await schedules.GetAsync(tenantScope, id, ct) is null) return RowCommandOutcome<ScheduleRun>.NotFound;
        var (run, job) = await FireAsync(id, DateTimeOffset.UtcNow, ct, manual: true);
        return run is null ? RowCommandOutcome<ScheduleRun>.NotFound : RowCommandOutcome<ScheduleRun>.Done(run, job);
    }

    /// <summary>
    /// One firing of schedule <paramref name="scheduleId"/> at <paramref name="fireTime"/> (Quartz's scheduled time): at
    /// most one run per schedule and fire time, written with its job in one transaction under a lock on the schedule's
    /// row, so a firing repeated by Quartz (a node died mid-way) or racing another finds the run and does nothing.
    /// Overlap "skip": while the previous run's job is waiting or running, the run is recorded skipped, with no job.
    /// (Misfires are Quartz's: <see cref="ScheduleTriggers.Build"/>.) Returns nothing when the schedule is gone or
    /// paused, or the fire time already has its run.
    /// </summary>
    public async Task<(ScheduleRun? Run, Job? Job)> FireAsync(Guid scheduleId, DateTimeOffset fireTime, CancellationToken ct, bool manual = false)
    {
        var now = DateTimeOffset.UtcNow;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var schedule = await LockAsync(scheduleId, ct);
        if (schedule is null || (schedule.Paused && !manual)) return (null, null);
        if (await db.ScheduleRuns.AnyAsync(r => r.ScheduleId == scheduleId && r.FireTime == fireTime, ct)) return (null, null);

        var run = new ScheduleRun
        {
            Id = Guid.CreateVersion7(now),
            TenantId = schedule.TenantId,
            ScheduleId = scheduleId,
            FireTime = fireTime,
            Manual = manual,
            CreatedAt = now,
            Outcome = !manual && await OverlapsAsync(schedule, ct) ? ScheduleRunOutcome.Skipped : ScheduleRunOutcome.Submitted,
        };
        Job? job = null;
        if (run.Outcome == ScheduleRunOutcome.Submitted)
        {
            var type = types.Find(schedule.JobType) ?? throw new InvalidOperationException($"Schedule {scheduleId}: job type {schedule.JobType} is not registered.");
            job = await client.SubmitWithRowAsync(type.NewJobOfStoredPayload(schedule.TenantId, schedule.Payload, new JobSettings(
                Queue: schedule.Queue,
                Priority: schedule.Priority,
                MaxAttempts: schedule.MaxAttempts,
                TimeoutSeconds: schedule.TimeoutSeconds,
                BackoffSeconds: schedule.BackoffSeconds,
                ResultTtlSeconds: schedule.ResultTtlSeconds,
                CallbackUrl: schedule.CallbackUrl), now), run, ct);
        }
        else
        {
            db.ScheduleRuns.Add(run);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        await tx.CommitAsync(ct);
        return (run, job);
    }

    /// <summary>Overlap "skip" and the previous run's job still waiting or running.</summary>
    private async Task<bool> OverlapsAsync(Schedule schedule, CancellationToken ct)
    {
        if (schedule.Overlap != ScheduleOverlap.Skip) return false;
        var previous = await db.ScheduleRuns.Where(r => r.ScheduleId == schedule.Id && r.JobId != null)
            .OrderByDescending(r => r.FireTime).Select(r => r.JobId).FirstOrDefaultAsync(ct);
        var state = previous is { } jobId ? await db.Jobs.Where(j => j.Id == jobId).Select(j => (JobState?)j.State).FirstOrDefaultAsync(ct) : null;
        return state is { } s && !s.IsTerminal();
    }

    /// <summary>
    /// The schedule's row, locked until the caller's transaction ends: changes, pauses and firings of one schedule take
    /// turns, so none is lost to another and a firing sees the schedule as it is.
    /// </summary>
    private async Task<Schedule?> LockAsync(Guid id, CancellationToken ct) =>
        (await db.Schedules.FromSql($"SELECT * FROM schedules WHERE id = {id} FOR UPDATE").AsNoTracking().ToListAsync(ct)).FirstOrDefault();

    private async Task<RowCommandOutcome<Schedule>> SetPausedAsync(Guid? tenantScope, Guid id, bool paused, CancellationToken ct)
    {
        if (await schedules.GetAsync(tenantScope, id, ct) is null) return RowCommandOutcome<Schedule>.NotFound;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await LockAsync(id, ct) is not { } schedule) return RowCommandOutcome<Schedule>.NotFound;
        if (schedule.Paused == paused) return RowCommandOutcome<Schedule>.Conflict(schedule, null);
        var outcome = await SaveAsync(schedule, new NewSchedule(Paused: paused), isNew: false, tx, ct);
        // Resuming a schedule with no fire time left (past its end) changes nothing: it cannot fire.
        return outcome.Status == CommandStatus.Invalid ? RowCommandOutcome<Schedule>.Conflict(schedule, null) : outcome;
    }

    private async Task<RowCommandOutcome<Schedule>> SaveAsync(
        Schedule schedule, NewSchedule input, bool isNew, IDbContextTransaction tx, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.Name is not null) schedule.Name = input.Name;
        if (input.Cron is not null) (schedule.Cron, schedule.IntervalSeconds) = (input.Cron, null);
        if (input.IntervalSeconds is not null) (schedule.Cron, schedule.IntervalSeconds) = (null, input.IntervalSeconds);
        if (input.TimeZone is not null) schedule.TimeZone = input.TimeZone;
        if (input.StartAt is not null) schedule.StartAt = input.StartAt;
        if (input.EndAt is not null) schedule.EndAt = input.EndAt;
        if (input.Overlap is { } overlap) schedule.Overlap = overlap;
        if (input.Misfire is { } misfire) schedule.Misfire = misfire;
        if (input.Paused is { } paused) schedule.Paused = paused;
        if (input.Job is { } template)
        {
            var type = types.Find(template.Type)!;
            foreach (var (path, messages) in await type.CheckAsync(template.Payload, schedule.TenantId, services, ct)) errors["job." + path] = messages;
            schedule.JobType = type.Kind;
            schedule.Payload = type.PreparePayload(template.Payload, schedule.TenantId, secrets);
            schedule.Queue = template.Queue;
            schedule.Priority = template.Priority;
            schedule.MaxAttempts = template.MaxAttempts;
            schedule.TimeoutSeconds = template.TimeoutSeconds;
            schedule.BackoffSeconds = template.BackoffSeconds;
            schedule.ResultTtlSeconds = template.ResultTtlSeconds;
            schedule.CallbackUrl = template.CallbackUrl;
        }
        if (schedule.StartAt is { } start && schedule.EndAt is { } end && end <= start) errors["endAt"] = ["endAt must be after startAt."];
        else if (!schedule.Paused && schedule.EndAt <= DateTimeOffset.UtcNow) errors["endAt"] = ["endAt is in the past: the schedule would never fire."];
        else if (!schedule.Paused && ScheduleTriggers.FirstFireTime(schedule, DateTimeOffset.UtcNow) is null)
        {
            errors[schedule.EndAt is null ? (schedule.Cron is null ? "intervalSeconds" : "cron") : "endAt"] =
                ["The schedule would never fire: no fire time is left before its end."];
        }
        if (errors.Count > 0) return RowCommandOutcome<Schedule>.Invalid(errors);

        schedule.UpdatedAt = DateTimeOffset.UtcNow;
        if (isNew) db.Schedules.Add(schedule);
        else db.Schedules.Update(schedule);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        await triggers.WriteAsync(tx.GetDbTransaction(), schedule, ct);
        await tx.CommitAsync(ct);
        return RowCommandOutcome<Schedule>.Done(schedule, null);
    }
}
