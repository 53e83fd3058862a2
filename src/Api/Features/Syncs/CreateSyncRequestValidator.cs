using System.Text.RegularExpressions;
using FluentValidation;
using Monolith.Domain.Syncs;
using Monolith.Worker.Jobs.Syncs;

namespace Monolith.Api.Features.Syncs;

/// <summary>The shape of a sync request; whether its URL may be called is checked after (OutboundAddressPolicy).</summary>
public sealed partial class CreateSyncRequestValidator : AbstractValidator<CreateSyncRequest>
{
    public const int MaxHeaders = 50;

    /// <summary>An HTTP header name (RFC 9110 token).</summary>
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderName();

    public CreateSyncRequestValidator()
    {
        RuleFor(r => r.Snapshot).NotEmpty().WithMessage("A snapshot name is required.")
            .Matches(SnapshotNames.Pattern()).WithMessage(SnapshotNames.Rule);
        RuleFor(r => r.Source).NotNull().WithMessage("A source is required.");
        When(r => r.Source is not null, () =>
        {
            RuleFor(r => r.Source!.Url).NotEmpty().WithMessage("The source's URL is required.")
                .MaximumLength(2000)
                .Must(u => Uri.TryCreate(u, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
                .WithMessage("Must be an absolute http:// or https:// URL.")
                .When(r => !string.IsNullOrEmpty(r.Source!.Url), ApplyConditionTo.CurrentValidator);
            RuleFor(r => r.Source!.Headers).Must(h => h!.Count <= MaxHeaders).WithMessage($"At most {MaxHeaders} headers.")
                .Must(h => h!.Keys.All(HeaderName().IsMatch)).WithMessage("Header names must be HTTP tokens (letters, digits, '-', …).")
                .Must(h => h!.Values.All(v => v is not null && v.Length <= 8000 && !v.Contains('\r') && !v.Contains('\n')))
                .WithMessage("Header values must be given, at most 8,000 characters, on one line.")
                .When(r => r.Source!.Headers is not null);
            RuleFor(r => r.Source!.ItemsPath).Must(JsonPath.IsValid).When(r => r.Source!.ItemsPath is not null).WithMessage(PathMessage);
            RuleFor(r => r.Source!.IdPath).NotEmpty().WithMessage("The path to a record's id is required (e.g. 'id').")
                .Must(JsonPath.IsValid).WithMessage(PathMessage);
            RuleFor(r => r.Source!.UpdatedAtPath).Must(p => p!.Length > 0 && JsonPath.IsValid(p)).When(r => r.Source!.UpdatedAtPath is not null).WithMessage(PathMessage);
            RuleFor(r => r.Source!.RateLimitPerSecond).InclusiveBetween(0.01, 1000);
            RuleFor(r => r.Source!.Pagination).NotNull().WithMessage("The pagination is required ({\"type\": \"page\"}, \"cursor\" or \"link\").");
            When(r => r.Source!.Pagination is not null, () =>
            {
                RuleFor(r => r.Source!.Pagination!.Type).NotEmpty().WithMessage("The pagination type is required.")
                    .Must(t => SyncPagination.Types.Contains(t)).WithMessage($"One of: {string.Join(", ", SyncPagination.Types)}.")
                    .When(r => !string.IsNullOrEmpty(r.Source!.Pagination!.Type), ApplyConditionTo.CurrentValidator);
                RuleFor(r => r.Source!.Pagination!.PageSize).InclusiveBetween(1, 100_000);
                RuleFor(r => r.Source!.Pagination!.StartPage).InclusiveBetween(0, 1_000_000);
                RuleFor(r => r.Source!.Pagination!.PageSize).NotNull().WithMessage("sizeParam needs a pageSize to send.")
                    .When(r => r.Source!.Pagination!.SizeParam is not null);
                RuleFor(r => r.Source!.Pagination!.NextCursorPath).NotEmpty()
                    .WithMessage("Cursor paging needs the path to the next cursor in a page (e.g. 'meta.next_cursor').")
                    .When(r => r.Source!.Pagination!.Type == SyncPagination.Cursor);
                foreach (var (name, get) in new (string, Func<SyncPaginationRequest, string?>)[]
                {
                    ("TotalPagesPath", p => p.TotalPagesPath), ("TotalPath", p => p.TotalPath),
                    ("NextCursorPath", p => p.NextCursorPath), ("NextLinkPath", p => p.NextLinkPath),
                })
                {
                    RuleFor(r => get(r.Source!.Pagination!)).Must(p => p!.Length > 0 && JsonPath.IsValid(p))
                        .When(r => get(r.Source!.Pagination!) is not null).WithMessage(PathMessage)
                        .OverridePropertyName($"Source.Pagination.{name}");
                }
                foreach (var (name, get) in new (string, Func<SyncPaginationRequest, string?>)[]
                {
                    ("PageParam", p => p.PageParam), ("SizeParam", p => p.SizeParam), ("CursorParam", p => p.CursorParam),
                })
                {
                    RuleFor(r => get(r.Source!.Pagination!)).Must(p => p!.Length is > 0 and <= 100)
                        .When(r => get(r.Source!.Pagination!) is not null).WithMessage("A query parameter name of 1 to 100 characters.")
                        .OverridePropertyName($"Source.Pagination.{name}");
                }
            });
        });
    }

    private const string PathMessage = "A dotted path of property names (e.g. 'data.items'; digits index an array).";
}
