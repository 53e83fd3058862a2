namespace Monolith.Worker.Storage;

/// <summary>
/// Where uploaded files are kept, by key (a relative, slash-separated path such as <c>datasets/{tenant}/{id}</c>).
/// Local disk by default (<see cref="LocalFileStore"/>), or an S3-compatible store (<see cref="S3FileStore"/>), as
/// <c>Storage:Kind</c> says. A key breaking <see cref="StorageKey"/>'s rule is refused with <see cref="ArgumentException"/>;
/// a failure of the store itself is an <see cref="IOException"/>.
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// Stores <paramref name="content"/> under <paramref name="key"/>, read to its end as a stream (never held in
    /// memory), and returns the bytes written. The file appears whole or not at all: if reading or writing fails
    /// (including <see cref="FileTooLargeException"/> from a limiting stream), nothing is left under the key.
    /// </summary>
    Task<long> WriteAsync(string key, Stream content, CancellationToken ct);

    /// <summary>
    /// Opens a stored file for reading, a stream to read to its end (not necessarily seekable: the S3 store's reads
    /// from the connection); throws <see cref="StoredFileNotFoundException"/> when there is none. The store checks
    /// what it can of the bytes as they pass (S3: the object's MD5 ETag) unless <paramref name="callerChecksContent"/>
    /// says the caller checks the whole content itself against a recorded SHA-256 (a transfer of an upload): then
    /// only the length is checked, and the store's hash is not paid for twice.
    /// </summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken ct, bool callerChecksContent = false);

    /// <summary>Removes a stored file; a missing one is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

public sealed class StoredFileNotFoundException(string key) : Exception($"No stored file under '{key}'.");

/// <summary>Thrown by <see cref="LimitedReadStream"/> when the content goes past its limit.</summary>
public sealed class FileTooLargeException(long limit) : Exception($"The file is larger than the limit of {limit} bytes.")
{
    public long Limit { get; } = limit;
}
