using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Monolith.Worker.Jobs.Transfers;
using Monolith.Worker.Storage;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// The one reader of uploaded files (<c>POST /v1/datasets</c>, <c>POST /v1/uploads</c>): streams a multipart/form-data
/// body part by part (<see cref="ReadFormAsync"/>: the file part into the file store through the size limit, the form's
/// small text fields with a length cap, other parts drained), or a raw body (<see cref="ReadBodyAsync"/>). A body past
/// the limit is <see cref="UploadRead.TooLarge"/> (nothing kept); a malformed or cut-short body a 400 on <c>body</c>.
/// The stored file is deleted when the reader is disposed, whatever went wrong, unless the caller <see cref="Keep"/>s it
/// (once its row is committed).
/// </summary>
public sealed class UploadReader : IAsyncDisposable
{
    private readonly HttpRequest _request;
    private readonly IFileStore _store;
    private readonly long _maxBytes;
    private readonly bool _hash;
    private bool _kept;

    /// <param name="computeSha256">Hash the bytes while they stream in (<see cref="Sha256"/>).</param>
    public UploadReader(HttpContext http, IFileStore store, string storageKey, long maxBytes, bool computeSha256 = false)
    {
        _request = http.Request;
        _store = store;
        _maxBytes = maxBytes;
        _hash = computeSha256;
        StorageKey = storageKey;
        // The server's own body limit (Kestrel: 30 MB) must not cut an allowed file short; the limit is counted here,
        // and a multipart's framing and other parts get a little room beside the file.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = maxBytes + 1024 * 1024;
        }
    }

    public string StorageKey { get; }

    /// <summary>Whether the file was stored (it is deleted on disposal unless kept).</summary>
    public bool Stored { get; private set; }

    public long SizeBytes { get; private set; }

    /// <summary>Lower-case hex SHA-256 of the stored bytes, when asked for.</summary>
    public string? Sha256 { get; private set; }

    /// <summary>Whether the request's body is multipart/form-data.</summary>
    public static bool IsMultipart(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
        && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>A client's file name without any path (either slash), or null when none was given.</summary>
    public static string? FileNameOf(string? given) => given is null ? null : Path.GetFileName(given.Replace('\\', '/'));

    /// <summary>The file name a Content-Disposition gives (<c>filename*</c> first), unquoted.</summary>
    public static string? GivenFileName(ContentDispositionHeaderValue disposition) =>
        HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;

    /// <summary>
    /// Reads a multipart/form-data body to its end: the first part named <c>file</c> with a file name is stored (after
    /// <see cref="IUploadForm.FileAsync"/>), the form's text fields are read and handed over, every other part is
    /// drained. A body that is not multipart/form-data with a boundary is a 400 on <c>file</c> saying <paramref name="notMultipart"/>.
    /// </summary>
    public Task<UploadRead> ReadFormAsync(IUploadForm form, string notMultipart, CancellationToken ct) => GuardAsync(async () =>
    {
        if (!MediaTypeHeaderValue.TryParse(_request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return Invalid("file", notMultipart);
        }
        var reader = new MultipartReader(boundary, _request.Body);
        var fileSeen = false;
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                continue; // not a form field: drained by the next read
            }
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
            ValidationProblem? problem = null;
            if (disposition.IsFileDisposition() && name == "file" && !fileSeen)
            {
                fileSeen = true;
                problem = await form.FileAsync(FileNameOf(GivenFileName(disposition)), section.ContentType, ct);
                if (problem is null) await StoreAsync(section.Body, ct);
            }
            else if (!disposition.IsFileDisposition() && name is not null && form.MaxLength(name) is { } maxLength)
            {
                problem = await form.FieldAsync(name, await ReadFieldAsync(section.Body, maxLength, ct), ct);
            }
            else
            {
                await section.Body.DrainAsync(ct); // an unknown part is ignored
            }
            if (problem is not null) return problem;
        }
        return null;
    });

    /// <summary>Stores the whole request body as the file.</summary>
    public Task<UploadRead> ReadBodyAsync(CancellationToken ct) => GuardAsync(async () =>
    {
        await StoreAsync(_request.Body, ct);
        return null;
    });

    /// <summary>The file stays: its row is committed.</summary>
    public void Keep() => _kept = true;

    public async ValueTask DisposeAsync()
    {
        if (Stored && !_kept) await _store.DeleteQuietlyAsync(StorageKey);
    }

    private static async Task<UploadRead> GuardAsync(Func<Task<ValidationProblem?>> read)
    {
        try
        {
            return await read() is { } problem ? new UploadRead(problem, false) : UploadRead.Read;
        }
        catch (FileTooLargeException)
        {
            return new UploadRead(null, true); // the store kept nothing
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && ex is not (BadHttpRequestException or FileStoreException))
        {
            // Malformed framing, or a body that ends before its closing boundary ("Unexpected end of Stream"), perhaps
            // after the file was stored. A body the server cut short itself (too large, client gone) is its
            // BadHttpRequestException, answered as such; a failure of the store is a 503 (FileStoreUnavailableExceptionHandler).
            return new UploadRead(Invalid("body", $"The multipart body is malformed or cut short: {ex.Message}"), false);
        }
    }

    /// <summary>Streams the bytes to the store through the size limit (and a SHA-256 when asked), with one fixed buffer.</summary>
    private async Task StoreAsync(Stream body, CancellationToken ct)
    {
        var limited = new LimitedReadStream(body, _maxBytes);
        if (!_hash)
        {
            await using (limited) SizeBytes = await _store.WriteAsync(StorageKey, limited, ct);
            Stored = true;
            return;
        }
        await using var hashing = new TransferStream(limited, expectedSha256: null, expectedLength: null);
        try
        {
            SizeBytes = await _store.WriteAsync(StorageKey, hashing, ct);
        }
        catch (SourceReadException ex)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException!); // the body's own error: too large, malformed, client gone
        }
        Stored = true;
        Sha256 = hashing.Sha256!;
    }

    private static async Task<string> ReadFieldAsync(Stream body, int maxLength, CancellationToken ct)
    {
        var buffer = new char[maxLength + 1];
        using var reader = new StreamReader(body);
        var read = await reader.ReadBlockAsync(buffer, ct);
        await body.DrainAsync(ct);
        return new string(buffer, 0, read).Trim();
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
