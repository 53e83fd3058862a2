namespace Monolith.Worker.Storage;

/// <summary>
/// The store failed, or what it holds or answered does not check out (a checksum that does not match, an object cut
/// short). An <see cref="IOException"/>, as the local disk's failures are, so callers treat both stores alike:
/// retried where a disk error would be.
/// </summary>
public sealed class FileStoreException(string message, Exception? inner = null) : IOException(message, inner);
