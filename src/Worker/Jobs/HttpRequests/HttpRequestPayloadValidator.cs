using FluentValidation;

namespace Monolith.Worker.Jobs.HttpRequests;

public sealed class HttpRequestPayloadValidator : AbstractValidator<HttpRequestPayload>
{
    public static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    /// <summary>Headers the HTTP stack sets itself; a payload may not set them.</summary>
    public static readonly string[] ReservedHeaders = ["Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Expect", "Keep-Alive", "TE", "Trailer"];

    public const int MaxHeaders = 50, MaxHeaderValueLength = 8_192, MaxSensitive = 100, MaxTimeoutSeconds = 300, MaxBodyChars = 1_048_576, MaxUrlLength = 8_192;

    public HttpRequestPayloadValidator()
    {
        // A .When() applies to every rule before it in the chain unless told otherwise: here it guards only the
        // format check, so an absent method or url is still the 400 it must be.
        RuleFor(p => p.Method).NotEmpty().WithMessage("A method is required.")
            .Must(m => Methods.Contains(m!.ToUpperInvariant())).When(p => !string.IsNullOrEmpty(p.Method), ApplyConditionTo.CurrentValidator)
            .WithMessage($"Unknown method. Methods: {string.Join(", ", Methods)}.");
        RuleFor(p => p.Url).NotEmpty().WithMessage("A url is required.")
            .MaximumLength(MaxUrlLength)
            .Must(u => Uri.TryCreate(u, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            .When(p => !string.IsNullOrEmpty(p.Url), ApplyConditionTo.CurrentValidator).WithMessage("Must be an absolute http:// or https:// URL.");
        RuleFor(p => p.Headers).Must(h => h!.Count <= MaxHeaders).WithMessage($"At most {MaxHeaders} headers.")
            .Must(h => h!.Keys.All(IsToken)).WithMessage("A header name is not a valid HTTP token.")
            .Must(h => !h!.Keys.Any(k => ReservedHeaders.Contains(k, StringComparer.OrdinalIgnoreCase)))
            .WithMessage($"These headers are set by the service: {string.Join(", ", ReservedHeaders)}.")
            .Must(h => h!.Values.All(v => v is not null && v.Length <= MaxHeaderValueLength && v.All(IsHeaderValueChar)))
            .WithMessage($"A header value must be a string of at most {MaxHeaderValueLength:N0} printable ASCII characters (spaces and tabs allowed; no line breaks, control or non-ASCII characters).")
            .When(p => p.Headers is not null);
        RuleFor(p => p.Body).Must(b => b!.Value.GetRawText().Length <= MaxBodyChars)
            .WithMessage($"The body may be at most {MaxBodyChars:N0} characters of JSON.").When(p => p.Body is not null);
        RuleFor(p => p.TimeoutSeconds).InclusiveBetween(1, MaxTimeoutSeconds);
        RuleFor(p => p.ResponseHeaders).Must(h => h!.Count <= MaxHeaders && h.All(IsToken))
            .WithMessage($"At most {MaxHeaders} header names, each a valid HTTP token.").When(p => p.ResponseHeaders is not null);
        RuleFor(p => p.Sensitive).Custom((paths, context) =>
        {
            if (paths is null) return;
            var payload = context.InstanceToValidate;
            if (paths.Count > MaxSensitive) { context.AddFailure("sensitive", $"At most {MaxSensitive} paths."); return; }
            if (paths.Count > 0 && payload.Body is null) { context.AddFailure("sensitive", "Sensitive paths need a body to point into."); return; }
            var parsed = new List<BodyPath>();
            for (var i = 0; i < paths.Count; i++)
            {
                var field = $"sensitive[{i}]";
                if (BodyPath.Parse(paths[i], out var error) is not { } path) { context.AddFailure(field, error!); continue; }
                // A path that names nothing would leave the value it was meant to hide in plain text: refuse it.
                if (!path.ExistsIn(System.Text.Json.Nodes.JsonNode.Parse(payload.Body!.Value.GetRawText())))
                {
                    context.AddFailure(field, "The body has no value at this path.");
                    continue;
                }
                if (parsed.FirstOrDefault(p => p.Overlaps(path)) is { } other)
                {
                    context.AddFailure(field, $"Overlaps '{other.Text}': name each value once (a path inside another is covered by it).");
                    continue;
                }
                parsed.Add(path);
            }
        });
        RuleFor(p => p.Documents).Custom((_, context) => HttpRequestDocumentRules.Check(context.InstanceToValidate, context))
            .When(p => p.Documents is not null);
    }

    /// <summary>An HTTP field name: an RFC 9110 token.</summary>
    /// <summary>What the HTTP client sends as a header value: visible ASCII, space and tab (it refuses anything else at send time, which would only be found after the job's retries).</summary>
    private static bool IsHeaderValueChar(char c) => c is '\t' or (>= ' ' and <= '~');

    private static bool IsToken(string? name) =>
        name is { Length: > 0 } && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));
}
