using FluentValidation;
using Monolith.Api.Features.Jobs;

namespace Monolith.Api.Features.Schedules;

/// <summary>A new schedule: cron or interval (one of them), a valid time zone and policies, and a job template as POST /v1/jobs checks it (errors named <c>job.payload.ms</c>).</summary>
public sealed class CreateScheduleRequestValidator : AbstractValidator<CreateScheduleRequest>
{
    public CreateScheduleRequestValidator(IValidator<SubmitJobRequest> job)
    {
        RuleFor(r => r.Name).Name();
        RuleFor(r => r.Cron).NotEmpty().When(r => r.IntervalSeconds is null).WithMessage("Give cron (a Quartz cron expression) or intervalSeconds.");
        RuleFor(r => r.Cron).Cron();
        RuleFor(r => r.IntervalSeconds).Null().When(r => r.Cron is not null).WithMessage("Give either cron or intervalSeconds, not both.");
        RuleFor(r => r.IntervalSeconds).Interval();
        RuleFor(r => r.TimeZone).TimeZone();
        RuleFor(r => r.Job).NotNull().WithMessage("The job to submit at each fire time is required (as POST /v1/jobs takes it).");
        RuleFor(r => r.Job).JobTemplate(job);
        RuleFor(r => r.EndAt).GreaterThan(r => r.StartAt).When(r => r.StartAt is not null && r.EndAt is not null).WithMessage("endAt must be after startAt.");
        RuleFor(r => r.Overlap).Overlap();
        RuleFor(r => r.Misfire).Misfire();
    }
}
