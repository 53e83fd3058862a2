using System.Text;
using Monolith.Domain.Imports;
using Monolith.Worker.Engine;
using nietras.SeparatedValues;

namespace Monolith.Worker.Jobs.Imports;

/// <summary>One row of a CSV/TSV file: its fields (unquoted) and the line it starts on (from 1).</summary>
public sealed record CsvRow(string[] Fields, int Line);

/// <summary>
/// Reads a CSV/TSV text stream row by row with Sep (nietras): RFC 4180 quoting (fields with the delimiter, quotes and
/// line breaks inside), any one-character delimiter, UTF-8 (its BOM skipped) or Latin-1. Rows of any column count come
/// back as they are (the import judges them); blank lines are skipped. Invalid UTF-8 is decoded to U+FFFD, which the
/// import reports as a bad row (<see cref="HasBadEncoding"/>). A row is parsed whole, so one longer than
/// <see cref="MaxRowChars"/> (an unclosed quote runs to the end of the file) fails the import rather than filling memory.
/// </summary>
public sealed class CsvRows : IDisposable
{
    /// <summary>Most characters one row may span (its quoted line breaks included).</summary>
    public const int MaxRowChars = 4 * 1024 * 1024;

    private readonly StreamReader _text;
    private readonly RowBoundedReader _bounded;
    private readonly SepReader _reader;
    private int _lastLine = 1;

    public CsvRows(Stream content, char delimiter, string encoding)
    {
        _text = encoding == ImportEncodings.Latin1
            ? new StreamReader(content, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024)
            : new StreamReader(content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false),
                detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        _bounded = new RowBoundedReader(_text, this);
        _reader = Sep.Reader(o => o with
        {
            Sep = new Sep(delimiter),
            HasHeader = false,
            Unescape = true,
            DisableColCountCheck = true,
        }).From(_bounded);
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
            _lastLine = row.LineNumberToExcl;
            _bounded.RowEnded();
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

    /// <summary>
    /// The text as Sep reads it, counting the characters taken since the last row was handed out: past twice
    /// <see cref="MaxRowChars"/> (room for the parser's read-ahead) the row cannot be one a person meant.
    /// </summary>
    private sealed class RowBoundedReader(TextReader inner, CsvRows rows) : TextReader
    {
        private long _sinceRow;

        public void RowEnded() => _sinceRow = 0;

        public override int Read(Span<char> buffer) => Counted(inner.Read(buffer));
        public override int Read(char[] buffer, int index, int count) => Counted(inner.Read(buffer, index, count));
        public override int Read()
        {
            var c = inner.Read();
            if (c >= 0) Counted(1);
            return c;
        }

        public override int Peek() => inner.Peek();

        private int Counted(int n)
        {
            if (n <= 0) return n;
            _sinceRow += n;
            if (_sinceRow > 2L * MaxRowChars)
            {
                throw new PermanentJobException(
                    $"The row from line {rows._lastLine:N0} on is longer than {MaxRowChars:N0} characters (an unclosed quote?); nothing after it was read.");
            }
            return n;
        }
    }
}
