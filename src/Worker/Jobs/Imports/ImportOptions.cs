using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Worker.Engine;
using Monolith.Worker.Storage;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>
/// Settings of CSV imports (<c>Imports__*</c>). A gzip or zip file is read under the dataset limits
/// (<c>Datasets__MaxDecompressedBytes</c>, <c>Datasets__MaxCompressionRatio</c>, <c>Datasets__MaxZipEntries</c>).
/// </summary>
public sealed class ImportOptions
{
    public const string Section = "Imports";

    /// <summary>Largest file <c>POST /v1/imports</c> accepts, counted while it streams in (default 1 GiB).</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;

    /// <summary>Share of bad rows (0 to 1) above which an import fails, when the request gives no <c>maxBadRowShare</c> (default 0.01, 1 %).</summary>
    public double DefaultMaxBadRowShare { get; set; } = 0.01;

    /// <summary>Rows read per committed batch (records upserted and checkpoint advanced in one transaction; default 5,000).</summary>
    public int BatchSize { get; set; } = 5_000;

    /// <summary>Most columns a file may have (default 1,000); a wider header or first row fails the import.</summary>
    public int MaxColumns { get; set; } = 1_000;
}

public static class ImportExtensions
{
    /// <summary>What imports need: their settings, the file store, their commands and what writes a job's end on its row.</summary>
    public static IServiceCollection AddImports(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0 && o.DefaultMaxBadRowShare is >= 0 and <= 1 && o.BatchSize > 0 && o.MaxColumns > 0,
                "Imports: MaxUploadBytes, BatchSize and MaxColumns must be positive, DefaultMaxBadRowShare between 0 and 1.");
        services.AddFileStore(configuration);
        services.AddScoped<ImportCommands>();
        services.AddSingleton<IJobEndedHandler, ImportJobEnded>();
        return services;
    }
}
