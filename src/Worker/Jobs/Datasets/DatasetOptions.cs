using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>Settings of dataset uploads and parsing (<c>Datasets__*</c>).</summary>
public sealed class DatasetOptions
{
    public const string Section = "Datasets";

    /// <summary>Largest file <c>POST /v1/datasets</c> accepts, counted while it streams in (default 1 GiB).</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;

    /// <summary>Share of bad lines (0 to 1) above which a dataset fails instead of completing (default 0.01, 1 %).</summary>
    public double MaxBadLineShare { get; set; } = 0.01;

    /// <summary>Rows per binary COPY; progress is reported and cancellation checked between batches.</summary>
    public int BatchSize { get; set; } = 10_000;

    /// <summary>
    /// Most bytes a gzip or zip file may decompress to, all entries together (default 4 GiB: the US national history
    /// is about 30 MB, the by-state one about 150 MB). Past it the parse fails at once and keeps nothing.
    /// </summary>
    public long MaxDecompressedBytes { get; set; } = 4L << 30;

    /// <summary>
    /// Most a gzip or zip file may expand, decompressed bytes over compressed bytes read so far (default 100; names
    /// files expand 3 to 10 times, a compression bomb about 1,000). Judged from the first MiB out on.
    /// </summary>
    public double MaxCompressionRatio { get; set; } = 100;

    /// <summary>Most entries a zip may hold, folders and skipped files included (default 10,000; the public zips hold 52 and 146).</summary>
    public int MaxZipEntries { get; set; } = 10_000;
}

public static class DatasetExtensions
{
    /// <summary>What datasets need: their settings, the file store, their commands and what marks a dataset failed when its job ends.</summary>
    public static IServiceCollection AddDatasets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatasetOptions>().BindConfiguration(DatasetOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0 && o.MaxBadLineShare is >= 0 and <= 1 && o.BatchSize > 0
                           && o.MaxDecompressedBytes > 0 && o.MaxCompressionRatio >= 1 && o.MaxZipEntries > 0,
                "Datasets: MaxUploadBytes, BatchSize, MaxDecompressedBytes and MaxZipEntries must be positive, " +
                "MaxCompressionRatio at least 1, MaxBadLineShare between 0 and 1.");
        services.AddFileStore(configuration);
        services.AddScoped<DatasetRemoval>();
        services.AddScoped<DatasetCommands>();
        services.AddSingleton<IJobEndedHandler, DatasetJobEnded>();
        return services;
    }
}
