using System.Text;
using Monolith.Domain.Imports;
using nietras.SeparatedValues;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>One row of a CSV/TSV file: its fields (unquoted) and the line it starts on (from 1).</summary>
public sealed record CsvRow(string[] Fields, int Line);

/// <summary>
/// Reads a CSV/TSV text stream row by row with Sep (nietras): RFC 4180 quoting (fields with the delimiter, quotes and
/// line breaks inside), any one-character delimiter, UTF-8 (its BOM skipped) or Latin-1. Rows of any column count come
/// back as they are (the import judges them); blank lines are skipped. Invalid UTF-8 is decoded to U+FFFD, which the
/// import reports as a bad row (<see cref="HasBadEncoding"/>).
/// </summary>
public sealed class CsvRows : IDisposable
{
    private readonly StreamReader _text;
    private readonly SepReader _reader;

    public CsvRows(Stream content, char delimiter, string encoding)
    {
        _text = encoding == ImportEncodings.Latin1
            ? new StreamReader(content, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024)
            : new StreamReader(content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false),
                detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        _reader = Sep.Reader(o => o with
        {
            Sep = new Sep(delimiter),
            HasHeader = false,
            Unescape = true,
            DisableColCountCheck = true,
        }).From(_text);
    }

    /// <summary>The next non-blank row, or null at the end.</summary>
    public CsvRow? Next()
    {
        while (_reader.MoveNext())
        {
            var row = _reader.Current;
            if (row.ColCount == 1 && row[0].Span.IsWhiteSpace()) continue;
            var fields = new string[row.ColCount];
            for (var i = 0; i < fields.Length; i++) fields[i] = row[i].ToString();
            return new CsvRow(fields, row.LineNumberFrom);
        }
        return null;
    }

    /// <summary>Whether a field holds U+FFFD, what invalid UTF-8 decodes to.</summary>
    public static bool HasBadEncoding(CsvRow row) => row.Fields.Any(f => f.Contains('\uFFFD'));

    public void Dispose()
    {
        _reader.Dispose();
        _text.Dispose();
    }
}
