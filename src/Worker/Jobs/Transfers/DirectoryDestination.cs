using System.Security.Cryptography;
using Monolith.Domain.Transfers;
using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Transfers;

/// <summary>
/// <c>{type: "directory", path}</c>: a file in the transfer's tenant's part of <see cref="TransferOptions.DirectoryRoot"/>
/// (the path checked by <see cref="DirectoryPaths"/>). The bytes go to a temporary name in the same directory
/// (<c>.{name}.{transfer id}.part</c>, the same on every attempt, so a retry after a crash overwrites what the crash
/// left), are flushed to disk, read back and hashed; only if that hash is the source's, and the path still resolves to
/// the same place (no link planted meanwhile), is the file renamed to its name, replacing any file there. A reader
/// never sees half a file, and a retry never leaves one. A path that cannot be written (a file where a folder should
/// be) fails the transfer at once: trying again would not help.
/// </summary>
public sealed class DirectoryDestination(DirectoryPaths paths) : IDestination
{
    public string Type => TransferDestination.DirectoryType;

    public async Task<DestinationAnswer> SendAsync(TransferDestination destination, OutgoingDocument document, CancellationToken ct)
    {
        var path = Resolve(destination, document);
        var directory = Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (IOException)
        {
            Resolve(destination, document); // a file that appeared where a folder should be: refused, at once
            throw;
        }
        var temporary = TemporaryPath(path, document.TransferId);
        try
        {
            File.Delete(temporary); // what an earlier attempt left; also never write through a link planted under this name
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                await document.Content.CopyToAsync(file, TransferStream.BufferSize, ct);
                file.Flush(flushToDisk: true);
            }
            if (!document.Content.Completed) throw new RetryableJobException("The document was not read to its end.");

            var written = await HashFileAsync(temporary, ct);
            if (!CryptographicOperations.FixedTimeEquals(written, document.Content.Sha256Bytes))
            {
                throw new RetryableJobException(
                    $"The file written has SHA-256 {Convert.ToHexStringLower(written)}, not the source's {document.Content.Sha256}; it was not kept.");
            }
            if (Resolve(destination, document) != path)
            {
                throw new PermanentJobException(
                    $"The destination path '{destination.Path}' led elsewhere once the file was written (a symbolic link changed); it was not kept.");
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        return new DestinationAnswer(null, destination.Path);
    }

    /// <summary>The real path to write, checked now; a refused one fails the transfer for good.</summary>
    private string Resolve(TransferDestination destination, OutgoingDocument document)
    {
        try
        {
            return paths.Resolve(document.TenantId, destination.Path);
        }
        catch (PathRefusedException ex)
        {
            throw new PermanentJobException($"The destination path '{destination.Path}' is refused: {ex.Message}");
        }
    }

    /// <summary>The temporary name beside <paramref name="path"/>: hidden, and the same for every attempt of a transfer.</summary>
    public static string TemporaryPath(string path, Guid transferId) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{transferId:N}.part");

    private static async Task<byte[]> HashFileAsync(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, TransferStream.BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await SHA256.HashDataAsync(file, ct);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the next attempt deletes it before writing.
        }
    }
}
