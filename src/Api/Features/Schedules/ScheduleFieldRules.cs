using FluentValidation;
using Monolith.Api.Features.Jobs;
using Monolith.Domain.Schedules;
using Quartz;

namespace Monolith.Api.Features.Schedules;

/// <summary>The rules of a schedule's fields, shared by create and update (each checks a field only when given).</summary>
public static class ScheduleFieldRules
{
    public const int MaxIntervalSeconds = 366 * 24 * 3600;

    public static void Cron<T>(this IRuleBuilder<T, string?> rule) => rule.Custom((cron, context) =>
    {
        if (cron is null) return;
        if (cron.Length > Schedule.MaxCronLength)
        {
            context.AddFailure($"At most {Schedule.MaxCronLength} characters.");
            return;
        }
        try
        {
            CronExpression.Parse(cron);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            context.AddFailure($"Not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year], e.g. \"0 0 2 * * ?\"): {ex.Message}");
        }
    });

    public static void TimeZone<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(zone => zone is null || (zone.Length <= 100 && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var found) && found.HasIanaId))
        .WithMessage("An IANA time zone id is required here, such as \"Europe/Paris\" or \"UTC\".");

    public static void Interval<T>(this IRuleBuilder<T, int?> rule) => rule.InclusiveBetween(1, MaxIntervalSeconds);

    public static void Name<T>(this IRuleBuilder<T, string?> rule) => rule.MaximumLength(Schedule.MaxNameLength);

    public static void Overlap<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(o => o is null || SchedulePolicies.ParseOverlap(o) is not null)
        .WithMessage($"One of: {string.Join(", ", SchedulePolicies.OverlapNames)}.");

    public static void Misfire<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(m => m is null || SchedulePolicies.ParseMisfire(m) is not null)
        .WithMessage($"One of: {string.Join(", ", SchedulePolicies.MisfireNames)}.");

    /// <summary>The job template: a POST /v1/jobs body (its validator), without a due time of its own.</summary>
    public static void JobTemplate<T>(this IRuleBuilder<T, SubmitJobRequest?> rule, IValidator<SubmitJobRequest> job) => rule
        .Must(j => j is null || (j.RunAt is null && j.DelaySeconds is null))
        .WithMessage("A schedule's job runs at its fire times: leave runAt and delaySeconds out.")
        .SetValidator(job!);
}
