using System.Text;
using System.Text.Json;

namespace Monolith.Domain.Text;

/// <summary>
/// The one rule for text PostgreSQL can store. A <c>text</c> or <c>jsonb</c> value cannot hold U+0000 (PostgreSQL
/// refuses it: 22021 / 22P05), and a lone UTF-16 surrogate has no UTF-8 form (Npgsql's strict encoder throws).
/// Everything else Unicode allows is stored as given.
/// <list type="bullet">
/// <item>From a client: find the first bad value and refuse the request with a 400 naming its field
/// (<see cref="FindUnstorable(string?)"/>, <see cref="FirstUnstorablePath"/>).</item>
/// <item>From the outside world during a job (a vendor's answer, an exception message, a file's contents): store it
/// with each bad character replaced by U+FFFD (<see cref="Sanitize(string?)"/>, <see cref="SanitizeJson"/>), and say
/// so where the result is shown.</item>
/// </list>
/// </summary>
public static class StorableText
{
    /// <summary>What an unstorable character is replaced with: U+FFFD REPLACEMENT CHARACTER.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>The reason given to a client whose value holds an unstorable character.</summary>
    public const string Reason = "The value contains a NUL character (\\u0000) or an unpaired UTF-16 surrogate, which cannot be stored.";

    /// <summary>The index of the first NUL or lone surrogate in <paramref name="text"/>, or -1 when it can be stored.</summary>
    public static int FindUnstorable(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') return i;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
                return i;
            }
            if (char.IsLowSurrogate(c)) return i;
        }
        return -1;
    }

    /// <inheritdoc cref="FindUnstorable(ReadOnlySpan{char})"/>
    public static int FindUnstorable(string? text) => text is null ? -1 : FindUnstorable(text.AsSpan());

    /// <summary>True when <paramref name="text"/> (null included) can be stored as it is.</summary>
    public static bool IsStorable(string? text) => FindUnstorable(text) < 0;

    /// <summary><paramref name="text"/> with every NUL and lone surrogate replaced by U+FFFD (the same instance when none).</summary>
    public static string? Sanitize(string? text)
    {
        if (text is null) return null;
        var first = FindUnstorable(text.AsSpan());
        if (first < 0) return text;
        var builder = new StringBuilder(text.Length);
        builder.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (c == '\0' || char.IsSurrogate(c))
            {
                builder.Append(Replacement);
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// The JSON path (<c>payload.items[2].name</c>, as a client wrote it, under <paramref name="path"/>) of the first
    /// property name or string value in <paramref name="element"/> that cannot be stored, or null when all can. Text
    /// that cannot even be decoded (invalid UTF-8, an escaped lone surrogate such as <c>\ud800</c>, which a parsed
    /// <see cref="JsonElement"/> keeps as it came) cannot be stored either; a property name of that kind is reported
    /// at its object's path, since it has no name to show.
    /// </summary>
    public static string? FirstUnstorablePath(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Decoded(element.GetString) is { } text && IsStorable(text) ? null : path;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (Decoded(() => property.Name) is not { } name) return path;
                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    if (!IsStorable(name)) return child;
                    if (FirstUnstorablePath(property.Value, child) is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstUnstorablePath(item, $"{path}[{index++}]") is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>A JSON string's text, or null when it is not valid UTF-8 or UTF-16 (System.Text.Json throws on reading it).</summary>
    private static string? Decoded(Func<string?> read)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="json"/> (a JSON document from outside) with every unstorable character in its property names
    /// and strings replaced by U+FFFD; <paramref name="changed"/> says whether anything was replaced. The same string
    /// comes back when nothing needed replacing.
    /// </summary>
    public static string SanitizeJson(string json, out bool changed)
    {
        // What PostgreSQL's jsonb refuses are mostly escapes (\u0000, a lone \ud800), which System.Text.Json cannot even
        // decode into a string; raw lone surrogates cannot be encoded at all. So the text is scanned as it is: each
        // escape is judged by the character it stands for (an escaped backslash is skipped whole), each raw character
        // as itself, and only a bad one is replaced (an escape by the escape \uFFFD). Nothing else changes.
        changed = false;
        if (json.IndexOf("\\u", StringComparison.Ordinal) < 0 && IsStorable(json)) return json;
        StringBuilder? clean = null;
        var copied = 0;
        void Replace(int at, int length, string with)
        {
            clean ??= new StringBuilder(json.Length);
            clean.Append(json, copied, at - copied).Append(with);
            copied = at + length;
        }
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (c == '\\' && i + 1 < json.Length)
            {
                if (json[i + 1] != 'u' || !TryEscaped(json, i, out var code)) { i++; continue; }
                if (char.IsHighSurrogate(code) && TryEscaped(json, i + 6, out var low) && char.IsLowSurrogate(low)) { i += 11; continue; }
                if (code == '\0' || char.IsSurrogate(code)) Replace(i, 6, "\\uFFFD");
                i += 5;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < json.Length && char.IsLowSurrogate(json[i + 1]))
            {
                i++;
            }
            else if (c == '\0' || char.IsSurrogate(c))
            {
                Replace(i, 1, Replacement.ToString());
            }
        }
        if (clean is null) return json;
        changed = true;
        return clean.Append(json, copied, json.Length - copied).ToString();
    }

    /// <summary>The character a <c>\uXXXX</c> escape at <paramref name="at"/> stands for; false when there is none there.</summary>
    private static bool TryEscaped(string json, int at, out char code)
    {
        code = '\0';
        if (at + 6 > json.Length || json[at] != '\\' || json[at + 1] != 'u') return false;
        if (!ushort.TryParse(json.AsSpan(at + 2, 4), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var value)) return false;
        code = (char)value;
        return true;
    }
}
