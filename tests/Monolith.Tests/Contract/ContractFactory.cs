using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Contract;

/// <summary>
/// The service with a file store and a directory-destination root under fresh temporary directories and small
/// upload limits, so that a contract test can walk every feature (and reach a 413) without large files.
/// </summary>
public class ContractFactory : MonolithFactory
{
    public const long MaxUploadBytes = 64 * 1024;

    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), "monolith-contract-" + Guid.NewGuid().ToString("N"));
    public string DirectoryRoot { get; } = Directory.CreateTempSubdirectory("monolith-contract-outbox-").FullName;

    protected override Dictionary<string, string?> Settings => new(base.Settings)
    {
        ["Storage:Root"] = StorageRoot,
        ["Transfers:DirectoryRoot"] = DirectoryRoot,
        ["Uploads:MaxBytes"] = MaxUploadBytes.ToString(),
        ["Datasets:MaxUploadBytes"] = MaxUploadBytes.ToString(),
        ["Syncs:DefaultRateLimitPerSecond"] = "500",
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        if (Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
        if (Directory.Exists(DirectoryRoot)) Directory.Delete(DirectoryRoot, recursive: true);
    }
}
