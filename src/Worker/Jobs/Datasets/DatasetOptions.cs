using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
}

public static class DatasetExtensions
{
    /// <summary>What datasets need: their settings and the file store.</summary>
    public static IServiceCollection AddDatasets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatasetOptions>().BindConfiguration(DatasetOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0 && o.MaxBadLineShare is >= 0 and <= 1 && o.BatchSize > 0,
                "Datasets: MaxUploadBytes and BatchSize must be positive, MaxBadLineShare between 0 and 1.");
        services.AddFileStore(configuration);
        services.AddScoped<DatasetRemoval>();
        return services;
    }
}
