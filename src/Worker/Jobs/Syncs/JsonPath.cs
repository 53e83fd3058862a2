using System.Text.Json;

namespace Monolith.Worker.Jobs.Syncs;

/// <summary>
/// The simple paths a sync names values by: property names joined by dots (<c>data.items</c>, <c>meta.next</c>);
/// a segment of digits indexes an array (<c>results.0.id</c>); the empty path is the value itself. No wildcards,
/// filters or escaping: a property whose name holds a dot cannot be named.
/// </summary>
public static class JsonPath
{
    /// <summary>True when <paramref name="path"/> is well formed: empty, or non-empty segments joined by single dots.</summary>
    public static bool IsValid(string? path) =>
        path is not null && (path.Length == 0 || path.Split('.').All(s => s.Length > 0 && s.Trim() == s));

    /// <summary>The value at <paramref name="path"/>, or null when a step is missing (absent property, index past the end, not an object).</summary>
    public static JsonElement? Find(JsonElement root, string path)
    {
        var current = root;
        if (path.Length == 0) return current;
        foreach (var segment in path.Split('.'))
        {
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var child)) current = child;
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, out var index) && index >= 0 && index < current.GetArrayLength()) current = current[index];
            else return null;
        }
        return current;
    }

    /// <summary>A scalar at <paramref name="path"/> as text (a string's value, a number's digits); null when absent, null, empty or not a scalar.</summary>
    public static string? FindText(JsonElement root, string path) => Find(root, path) switch
    {
        { ValueKind: JsonValueKind.String } s when s.GetString() is { Length: > 0 } text => text,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    /// <summary>A whole number at <paramref name="path"/> (a number, or a string of digits); null otherwise.</summary>
    public static long? FindLong(JsonElement root, string path) =>
        FindText(root, path) is { } text && long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
}
