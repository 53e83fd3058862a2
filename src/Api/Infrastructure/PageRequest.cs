namespace Monolith.Api.Infrastructure;

/// <summary>
/// Keyset paging of the list endpoints: <c>cursor</c> (the <c>nextCursor</c> of the previous page: its last row's id)
/// and <c>limit</c> (the page size).
/// </summary>
public readonly record struct PageRequest(Guid? After, int Size)
{
    public const int DefaultSize = 50;

    /// <summary>Reads <paramref name="cursor"/> and <paramref name="limit"/>, adding what is wrong to <paramref name="errors"/> under the parameter's name.</summary>
    public static PageRequest Read(string? cursor, int? limit, int maxSize, Dictionary<string, string[]> errors)
    {
        Guid? after = null;
        if (cursor is not null)
        {
            if (Guid.TryParse(cursor, out var parsed)) after = parsed;
            else errors["cursor"] = ["Not a cursor from a previous page."];
        }
        if (limit < 1 || limit > maxSize) errors["limit"] = [$"Must be between 1 and {maxSize}."];
        return new PageRequest(after, limit ?? DefaultSize);
    }

    /// <summary>The <c>nextCursor</c> of a page read with this request: its last row's id when it is full, null on the last page.</summary>
    public string? NextCursor<T>(IReadOnlyList<T> page, Func<T, Guid> id) => page.Count == Size ? id(page[^1]).ToString() : null;
}
