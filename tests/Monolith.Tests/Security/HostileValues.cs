using System.Text;

namespace Monolith.Tests.Security;

/// <summary>
/// What a hostile or careless client sends, as the fuzz test uses it: text PostgreSQL cannot store (NUL, lone
/// surrogates), control and direction characters, invalid UTF-8, paths out of a root, very long text, numbers past
/// every limit, values of the wrong type, deep nesting, bad cursors and ids, bad media types and broken multipart.
/// </summary>
public static class HostileValues
{
    /// <summary>Text for a query, path or header value (unescaped; the request escapes what a URI needs).</summary>
    public static readonly string[] Texts =
    [
        "\0", "a\0b", "\u0001\u0002\u001f\u007f", "\ud800", "x\udc00y", "\u202Egnp.exe", "\ufeffBOM", "", " ", "\t",
        "../../../etc/passwd", "..\\..\\boot.ini", "%00", "%", "' OR '1'='1' --", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
        "😀", "\r\nX-Injected: 1", "-1", "0", "99999999999999999999", "1e400", "NaN", "null", "true", "[]", "{}",
        "00000000-0000-0000-0000-000000000000", "not-a-guid", "AA", "AAAA", "!!!", "=", new string('a', 5_000), new string('é', 2_000),
    ];

    /// <summary>Query-string values already percent-encoded: bytes that are not UTF-8, NUL, an encoded surrogate, an overlong form.</summary>
    public static readonly string[] EncodedQueryValues =
        ["%00", "a%00b", "%FF%FE", "%C3%28", "%ED%A0%80", "%C0%80", "%E2%80", "%25%30%30", "%0D%0ASet-Cookie:x=1", "%F0%9F%98%80"];

    /// <summary>How many of the first <see cref="Json"/> values (NUL, control characters, lone surrogates) are tried at every place.</summary>
    public const int AlwaysJson = 5;

    /// <summary>JSON values, as raw JSON text (so that escapes such as a lone <c>\ud800</c> reach the server as sent).</summary>
    public static readonly string[] Json =
    [
        "\"\\u0000\"", "\"a\\u0000b\"", "\"\\u0001\\u001f\\u007f\"", "\"\\ud800\"", "\"x\\udc00\"", "\"\\u202egnp.exe\"", "\"\\ufeffx\"", "\"\"",
        "\" \"", "\"../../../etc/passwd\"", "\"..\\\\..\\\\x\"", "\".hidden\"", "\"/abs/path\"", "\"' OR 1=1 --\"", "\"\\r\\nX-Injected: 1\"",
        "\"😀\"", "\"http://127.0.0.1:1/\"", "\"http://169.254.169.254/latest\"", "\"file:///etc/passwd\"", "\"javascript:alert(1)\"",
        "0", "-1", "-2147483649", "2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e308", "-1e308",
        "1.5", "1e-400", "123456789012345678901234567890", "null", "true", "false", "{}", "[]", "[1,2,3]", "{\"a\":\"\\u0000\"}",
        "{\"\\u0000\":1}", "\"1e400\"", "\"-1\"", "\"2026-13-45T99:99:99Z\"", "\"not-a-guid\"",
    ];

    /// <summary>A JSON string of about a megabyte.</summary>
    public static string MegabyteString() => "\"" + new string('m', 1 << 20) + "\"";

    /// <summary>A JSON array nested <paramref name="depth"/> deep.</summary>
    public static string DeepArray(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>A JSON object nested <paramref name="depth"/> deep.</summary>
    public static string DeepObject(int depth)
    {
        var text = new StringBuilder();
        for (var i = 0; i < depth; i++) text.Append("{\"a\":");
        text.Append('1').Append('}', depth);
        return text.ToString();
    }

    /// <summary>Whole bodies that are not the JSON the operation reads.</summary>
    public static IEnumerable<(string Label, byte[] Bytes)> Bodies(string validJson)
    {
        var utf8 = Encoding.UTF8.GetBytes(validJson);
        yield return ("empty body", []);
        yield return ("null", "null"u8.ToArray());
        yield return ("array", "[]"u8.ToArray());
        yield return ("string", "\"x\""u8.ToArray());
        yield return ("open brace", "{"u8.ToArray());
        yield return ("truncated", utf8[..(utf8.Length / 2)]);
        yield return ("raw NUL byte", [.. "{\"a\":\""u8, 0, .. "\"}"u8]);
        yield return ("invalid UTF-8 in a string", Replace(validJson, (byte)0xFF));
        yield return ("overlong NUL (C0 80)", [.. "{\"type\":\""u8, 0xC0, 0x80, .. "\"}"u8]);
        yield return ("lone surrogate as UTF-8 (ED A0 80)", [.. "{\"type\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8]);
        yield return ("UTF-8 BOM first", [0xEF, 0xBB, 0xBF, .. utf8]);
        yield return ("UTF-16", Encoding.Unicode.GetBytes(validJson));
        yield return ("duplicate keys", Encoding.UTF8.GetBytes(validJson.Length > 2 ? "{\"a\":1,\"a\":2," + validJson[1..] : validJson));
        yield return ("deep array", Encoding.UTF8.GetBytes(DeepArray(100_000)));
        yield return ("deep object", Encoding.UTF8.GetBytes(DeepObject(5_000)));
        yield return ("megabyte of whitespace", [.. Encoding.UTF8.GetBytes(new string(' ', 1 << 20)), .. utf8]);
        yield return ("trailing garbage", [.. utf8, .. "}}]]\0"u8]);
        yield return ("comments", Encoding.UTF8.GetBytes("/* c */" + validJson + "// c"));
    }

    /// <summary>Media types for a body the operation reads as JSON.</summary>
    public static readonly string?[] ContentTypes =
    [
        null, "application/json; charset=bogus", "application/json; charset=utf-16", "application/json; charset=\"", "text/plain",
        "application/xml", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=zz",
        "application/json; boundary=\0", "application/*", "*/*", "application/problem+json", "application/json;;;", "\u00e9/\u00e9",
    ];

    /// <summary>API keys that are no key: NUL, control characters, very long, not ASCII.</summary>
    public static readonly string[] ApiKeys = ["\0", "mk_\0\0", "\u0001\u007f", new string('k', 10_000), "ключ", "' OR 1=1 --", " "];

    /// <summary>Range and conditional headers: not bytes, inverted, past every length, many ranges, garbage validators.</summary>
    public static readonly (string Header, string Value)[] ConditionalHeaders =
    [
        ("Range", "items=0-1"), ("Range", "bytes=5-1"), ("Range", "bytes=-0"), ("Range", "bytes=99999999999999999999-"),
        ("Range", "bytes=" + string.Join(',', Enumerable.Range(0, 500).Select(i => $"{i}-{i}"))), ("Range", "bytes=0-0,-1"), ("Range", "bytes"),
        ("If-Range", "\"nope\""), ("If-None-Match", "*"), ("If-Match", "\"nope\""), ("If-Modified-Since", "not a date"),
        ("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ];

    /// <summary>File names for a multipart part or a Content-Disposition.</summary>
    public static readonly string[] FileNames =
    [
        "a\0b.txt", "\0", "../../../x.txt", "..\\..\\x.txt", ".hidden", "\u202Etxt.exe", "\ufeffbom.txt", "con", new string('n', 300) + ".txt",
        "\u0001\u001f.txt", "\ud800.txt", "😀.txt", " ", "yob2020.txt",
    ];

    /// <summary>Multipart bodies with boundary <c>b</c> that end early or are malformed.</summary>
    public static IEnumerable<(string Label, byte[] Bytes)> BrokenMultipart()
    {
        static byte[] Ascii(string text) => Encoding.UTF8.GetBytes(text);
        yield return ("no closing boundary", Ascii("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"yob2020.txt\"\r\n\r\nOlivia,F,1\r\n"));
        yield return ("headers cut", Ascii("--b\r\nContent-Disposition: form-data; name=\"file\"; filena"));
        yield return ("boundary only", Ascii("--b"));
        yield return ("garbage part headers", Ascii("--b\r\nGarbage\r\n\r\nx\r\n--b--\r\n"));
        yield return ("no part headers end", Ascii("--b\r\nContent-Disposition: form-data; name=\"country\"\r\nUS\r\n--b--"));
        yield return ("wrong boundary", Ascii("--c\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nx\r\n--c--\r\n"));
        yield return ("empty", []);
        yield return ("NUL in field name", [.. Ascii("--b\r\nContent-Disposition: form-data; name=\"co"), 0, .. Ascii("untry\"\r\n\r\nUS\r\n--b--\r\n")]);
        yield return ("huge header line", Ascii("--b\r\nContent-Disposition: form-data; name=\"" + new string('h', 40_000) + "\"\r\n\r\nx\r\n--b--\r\n"));
        yield return ("NUL in field value", [.. Ascii("--b\r\nContent-Disposition: form-data; name=\"country\"\r\n\r\nU"), 0, .. Ascii("S\r\n--b--\r\n")]);
    }

    private static byte[] Replace(string json, byte bad)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var quote = Array.IndexOf(bytes, (byte)'"', Array.IndexOf(bytes, (byte)':') + 1);
        if (quote < 0) return [.. bytes, bad];
        return [.. bytes[..(quote + 1)], bad, .. bytes[(quote + 1)..]];
    }
}
