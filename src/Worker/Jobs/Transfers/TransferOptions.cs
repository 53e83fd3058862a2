using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>Settings of transfers (<c>Transfers__*</c>; <c>Transfers:AllowedHosts</c> is read by the outbound address policy).</summary>
public sealed class TransferOptions
{
    public const string Section = "Transfers";

    /// <summary>
    /// The root of the directory destination: <c>{type: "directory", path}</c> writes under it and nowhere else
    /// (default none: directory destinations are refused). Relative to the content root, or absolute.
    /// </summary>
    public string? DirectoryRoot { get; set; }

    /// <summary>How often (bytes moved) a running transfer reports its progress (default 8 MiB).</summary>
    public long ProgressIntervalBytes { get; set; } = 8L << 20;
}

public static class TransferExtensions
{
    /// <summary>What transfers need: settings, the file store, and one <see cref="ISource"/>/<see cref="IDestination"/> per kind.</summary>
    public static IServiceCollection AddTransfers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TransferOptions>().BindConfiguration(TransferOptions.Section)
            .Validate(o => o.ProgressIntervalBytes > 0, "Transfers:ProgressIntervalBytes must be positive.");
        services.AddFileStore(configuration);
        services.AddSingleton<DirectoryPaths>();
        services.AddScoped<ISource, UploadSource>();
        services.AddScoped<ISource, UrlSource>();
        services.AddScoped<IDestination, HttpDestination>();
        services.AddScoped<IDestination, DirectoryDestination>();
        return services;
    }
}
