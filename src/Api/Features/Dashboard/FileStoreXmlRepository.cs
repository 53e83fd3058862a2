using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Monolith.Worker.Storage;

namespace Monolith.Api.Features.Dashboard;

/// <summary>
/// The dashboard's Data Protection key ring in the S3 bucket, under <c>dataprotection-keys/</c>, one object per key,
/// so that every api node reads the cookies and antiforgery tokens another issued with no shared disk (with the
/// local store the ring is a folder of <c>Storage:Root</c>, <see cref="DashboardExtensions"/>). Data Protection calls
/// it rarely (at start, when a key is made, when its cache expires) and synchronously, so it waits on the store.
/// A key is never rewritten: each is written once under its own name, so two nodes making one at once keep both.
/// </summary>
public sealed partial class FileStoreXmlRepository(S3FileStore store) : IXmlRepository
{
    public const string Prefix = "dataprotection-keys/";

    public IReadOnlyCollection<XElement> GetAllElements() => GetAllElementsAsync().GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName)
    {
        var name = SafeName().IsMatch(friendlyName) ? friendlyName : Guid.NewGuid().ToString();
        var bytes = Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting));
        store.WriteAsync($"{Prefix}{name}.xml", new MemoryStream(bytes, writable: false), CancellationToken.None).GetAwaiter().GetResult();
    }

    private async Task<IReadOnlyCollection<XElement>> GetAllElementsAsync()
    {
        var elements = new List<XElement>();
        foreach (var key in await store.ListAsync(Prefix, CancellationToken.None))
        {
            if (!key.EndsWith(".xml", StringComparison.Ordinal)) continue;
            try
            {
                await using var stream = await store.OpenReadAsync(key, CancellationToken.None);
                elements.Add(await XElement.LoadAsync(stream, LoadOptions.None, CancellationToken.None));
            }
            catch (StoredFileNotFoundException)
            {
                // Removed since the listing.
            }
        }
        return elements;
    }

    [GeneratedRegex("^[A-Za-z0-9-]{1,100}$")]
    private static partial Regex SafeName();
}
