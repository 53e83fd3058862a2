using System.Net.Http.Headers;

namespace Monolith.Tests.Infrastructure;

/// <summary>A file on disk POSTed as a browser's form would: text fields, then the file streamed as the <c>file</c> part.</summary>
public static class MultipartUpload
{
    /// <param name="path">The file; null sends the fields alone.</param>
    /// <param name="fileName">The part's file name; null: the file's own.</param>
    public static async Task<HttpResponseMessage> PostAsync(this HttpClient client, string url, string? path, IEnumerable<KeyValuePair<string, string>> fields,
        string? fileName = null, string contentType = "application/octet-stream")
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        FileStream? file = null;
        if (path is not null)
        {
            file = File.OpenRead(path);
            var content = new StreamContent(file);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            form.Add(content, "file", fileName ?? Path.GetFileName(path));
        }
        try
        {
            return await client.PostAsync(url, form);
        }
        finally
        {
            if (file is not null) await file.DisposeAsync();
        }
    }
}
