using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>Settings of transfers (<c>Transfers__*</c>; <c>Transfers:AllowedHosts</c> is read by the outbound address policy).</summary>
public sealed class TransferOptions
{
    public const string Section = "Transfers";

    /// <summary>
    /// The root of the directory destination: <c>{type: "directory", path}</c> writes under it and nowhere else, each
    /// tenant in its own part (<c>&lt;root&gt;/&lt;tenant id&gt;/</c>) (default none: directory destinations are refused).
    /// Relative to the content root, or absolute. It may not overlap <c>Storage:Root</c>: the service does not start.
    /// </summary>
    public string? DirectoryRoot { get; set; }

    /// <summary>How often (bytes moved) a running transfer reports its progress (default 8 MiB).</summary>
    public long ProgressIntervalBytes { get; set; } = 8L << 20;
}

public static class TransferExtensions
{
    /// <summary>
    /// What transfers need: settings, the file store, one <see cref="ISource"/>/<see cref="IDestination"/> per kind, the
    /// commands clients call (<see cref="TransferCommands"/>) and what a job's end writes on its row (<see cref="TransferJobEnded"/>).
    /// </summary>
    public static IServiceCollection AddTransfers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TransferOptions>().BindConfiguration(TransferOptions.Section)
            .Validate(o => o.ProgressIntervalBytes > 0, "Transfers:ProgressIntervalBytes must be positive.")
            .Validate<IFileStore, IServiceProvider>(
                (o, store, sp) => store is not LocalFileStore local
                                  || !DirectoryPaths.Overlap(DirectoryPaths.RootOf(o, sp.GetService<IHostEnvironment>()), local.Root),
                "Transfers:DirectoryRoot and Storage:Root overlap (one is the other or lies inside it, symbolic links followed): tenants' " +
                "directory deliveries could reach uploads, dataset files and the dashboard's key ring. Give them separate directories.")
            .ValidateOnStart();
        services.AddFileStore(configuration);
        services.AddSingleton<DirectoryPaths>();
        services.AddScoped<ISource, UploadSource>();
        services.AddScoped<ISource, UrlSource>();
        services.AddScoped<IDestination, HttpDestination>();
        services.AddScoped<IDestination, DirectoryDestination>();
        services.AddScoped<TransferCommands>();
        services.AddSingleton<IJobEndedHandler, TransferJobEnded>();
        return services;
    }
}
