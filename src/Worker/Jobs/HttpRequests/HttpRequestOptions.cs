using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>Settings of vendor calls, the <c>http_request</c> job (<c>HttpRequests__*</c>).</summary>
public sealed class HttpRequestOptions
{
    public const string Section = "HttpRequests";
    public const int DefaultMaxResponseBytes = 1 << 20;
    public const int DefaultDefaultTimeoutSeconds = 30;

    /// <summary>Most bytes of a response body kept in the result; a longer body is cut there and marked truncated (default 1 MiB).</summary>
    public int MaxResponseBytes { get; set; } = DefaultMaxResponseBytes;

    /// <summary>A call's timeout when its payload gives none, in seconds (default 30).</summary>
    public int DefaultTimeoutSeconds { get; set; } = DefaultDefaultTimeoutSeconds;
}

public static class HttpRequestExtensions
{
    public static IServiceCollection AddHttpRequests(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HttpRequestOptions>().BindConfiguration(HttpRequestOptions.Section)
            .Validate(o => o.MaxResponseBytes > 0 && o.DefaultTimeoutSeconds is > 0 and <= HttpRequestPayloadValidator.MaxTimeoutSeconds,
                $"HttpRequests: MaxResponseBytes must be positive and DefaultTimeoutSeconds between 1 and {HttpRequestPayloadValidator.MaxTimeoutSeconds}.")
            .ValidateOnStart();
        services.AddScoped<EncryptedDocuments>();
        services.AddScoped<Engine.IPayloadCheck<HttpRequestPayload>, HttpRequestDocumentsCheck>();
        return services;
    }
}
