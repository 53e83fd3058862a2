namespace Monolith.Worker.Outbound;

/// <summary>
/// The one check of a <c>callbackUrl</c> (jobs, datasets, transfers, syncs, and whatever else takes one): absolute http or https, at
/// most <see cref="MaxLength"/> characters, and an address the service may call (<see cref="OutboundAddressPolicy"/>:
/// not loopback, private or link-local unless allow-listed). The delivery checks the address again when it connects.
/// </summary>
public static class CallbackUrls
{
    public const int MaxLength = 2000;

    /// <summary>Why <paramref name="url"/> is not an acceptable callback (a sentence for a 400), or null when it is.</summary>
    public static async Task<string?> CheckAsync(string url, OutboundAddressPolicy policy, CancellationToken ct)
    {
        if (url.Length > MaxLength) return $"At most {MaxLength} characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return "Must be an absolute http:// or https:// URL.";
        return await policy.CheckAsync(uri, ct);
    }
}
