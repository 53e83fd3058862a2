using FluentValidation;
using Monolith.Api.Features.Jobs;

namespace Monolith.Api.Features.Schedules;

/// <summary>A schedule's change: each field given is checked as at create.</summary>
public sealed class UpdateScheduleRequestValidator : AbstractValidator<UpdateScheduleRequest>
{
    public UpdateScheduleRequestValidator(IValidator<SubmitJobRequest> job)
    {
        RuleFor(r => r.Name).Name();
        RuleFor(r => r.Cron).Cron();
        RuleFor(r => r.IntervalSeconds).Null().When(r => r.Cron is not null).WithMessage("Give either cron or intervalSeconds, not both.");
        RuleFor(r => r.IntervalSeconds).Interval();
        RuleFor(r => r.TimeZone).TimeZone();
        RuleFor(r => r.Job).JobTemplate(job);
        RuleFor(r => r.EndAt).GreaterThan(r => r.StartAt).When(r => r.StartAt is not null && r.EndAt is not null).WithMessage("endAt must be after startAt.");
        RuleFor(r => r.Overlap).Overlap();
        RuleFor(r => r.Misfire).Misfire();
    }
}
