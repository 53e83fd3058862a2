namespace Monolith.Api.Features.Jobs;

/// <summary>Settings of the jobs API (<c>Jobs__*</c>).</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";
    public const int DefaultMaxWaitSeconds = 60;

    /// <summary>Longest <c>GET /v1/jobs/{id}?wait=</c> holds a request, in seconds; a longer wait is cut to it (default 60).</summary>
    public int MaxWaitSeconds { get; set; } = DefaultMaxWaitSeconds;
}
