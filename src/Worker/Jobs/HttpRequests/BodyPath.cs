using System.Text.Json.Nodes;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// A path to one value inside a request body, as <c>sensitive</c> lists them: field names joined by dots, array
/// indexes in brackets, with or without a leading <c>$.</c> (<c>ssn</c>, <c>$.person.ssn</c>, <c>applicants[0].dob</c>).
/// Field names containing dots or brackets cannot be named.
/// </summary>
public sealed class BodyPath
{
    private readonly object[] _segments; // string (field) or int (index)

    private BodyPath(string text, object[] segments)
    {
        Text = text;
        _segments = segments;
    }

    public string Text { get; }

    /// <summary>Reads a path; null (and the reason) when it is not one.</summary>
    public static BodyPath? Parse(string? text, out string? error)
    {
        const string Shape = "Not a path: give field names joined by dots, with [n] for array items (person.ssn, items[0].dob).";
        error = null;
        var path = (text ?? "").Trim();
        var rest = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.StartsWith('$') ? path[1..] : path;
        var segments = new List<object>();
        var pos = 0;
        while (pos < rest.Length)
        {
            if (rest[pos] == '[')
            {
                var close = rest.IndexOf(']', pos);
                if (close < 0 || !int.TryParse(rest.AsSpan(pos + 1, close - pos - 1), System.Globalization.NumberStyles.None, null, out var index))
                {
                    error = "Not a path: an array index is written [n] with n a whole number, e.g. items[0].dob.";
                    return null;
                }
                segments.Add(index);
                pos = close + 1;
            }
            else
            {
                var end = rest.IndexOfAny(['.', '[', ']'], pos);
                if (end < 0) end = rest.Length;
                if (end == pos) { error = Shape; return null; }
                segments.Add(rest[pos..end]);
                pos = end;
            }
            if (pos < rest.Length && rest[pos] == '.')
            {
                pos++;
                if (pos == rest.Length || rest[pos] is '.' or '[') { error = Shape; return null; }
            }
            else if (pos < rest.Length && rest[pos] != '[') { error = Shape; return null; }
        }
        if (segments.Count == 0)
        {
            error = "Not a path: name a value inside the body (person.ssn); the body as a whole cannot be marked.";
            return null;
        }
        return new BodyPath(path, [.. segments]);
    }

    /// <summary>True when one path lies inside the other (or they are the same).</summary>
    public bool Overlaps(BodyPath other)
    {
        var shorter = Math.Min(_segments.Length, other._segments.Length);
        for (var i = 0; i < shorter; i++)
        {
            if (!_segments[i].Equals(other._segments[i])) return false;
        }
        return true;
    }

    /// <summary>True when <paramref name="root"/> has a value (null included) at this path.</summary>
    public bool ExistsIn(JsonNode? root)
    {
        var node = root;
        return _segments.All(segment => TryGet(node, segment, out node));
    }

    /// <summary>Replaces the value at this path in <paramref name="root"/>; false when the body has no such value.</summary>
    public bool Replace(JsonNode? root, Func<JsonNode?, JsonNode?> replace)
    {
        var parent = root;
        for (var i = 0; i < _segments.Length - 1; i++)
        {
            if (!TryGet(parent, _segments[i], out parent)) return false;
        }
        var last = _segments[^1];
        if (!TryGet(parent, last, out var value)) return false;
        var replacement = replace(value);
        if (last is string name) parent!.AsObject()[name] = replacement;
        else parent!.AsArray()[(int)last] = replacement;
        return true;
    }

    /// <summary>
    /// Sets the value at this path in <paramref name="root"/>, adding the last field to its object when it is not
    /// there; false when the path's parent is not in the body (or a last array index is past the end).
    /// </summary>
    public bool Set(JsonNode? root, JsonNode? value)
    {
        var parent = root;
        for (var i = 0; i < _segments.Length - 1; i++)
        {
            if (!TryGet(parent, _segments[i], out parent)) return false;
        }
        switch (_segments[^1])
        {
            case string name when parent is JsonObject o:
                o[name] = value;
                return true;
            case int index when parent is JsonArray a && index < a.Count:
                a[index] = value;
                return true;
            default:
                return false;
        }
    }

    private static bool TryGet(JsonNode? node, object segment, out JsonNode? value)
    {
        value = null;
        switch (segment)
        {
            case string name when node is JsonObject o:
                return o.TryGetPropertyValue(name, out value);
            case int index when node is JsonArray a && index < a.Count:
                value = a[index];
                return true;
            default:
                return false;
        }
    }
}
