using Monolith.Worker.Engine;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// Reads a text stream line by line with bounded memory: a line longer than <see cref="MaxLineLength"/> comes back
/// as too long (and is skipped to its end) instead of growing a buffer. A NUL character in the first kilobyte
/// means the file is not text: that fails the job (<see cref="PermanentJobException"/>).
/// </summary>
public sealed class LineReader(TextReader reader, string fileName)
{
    public const int MaxLineLength = 1_000;
    public const int TextCheckLength = 1_024;

    private readonly char[] _buffer = new char[64 * 1024];
    private int _position;
    private int _length;
    private long _charsRead;

    /// <summary>The next line without its end (<c>\n</c> or <c>\r\n</c>), or null at the end of the file.</summary>
    public async ValueTask<(string? Line, bool TooLong)> ReadLineAsync(CancellationToken ct)
    {
        System.Text.StringBuilder? pieces = null;
        var tooLong = false;
        var any = false;
        while (true)
        {
            if (_position == _length && !await FillAsync(ct))
            {
                if (!any) return (null, false);
                break;
            }
            any = true;
            var newline = Array.IndexOf(_buffer, '\n', _position, _length - _position);
            var end = newline < 0 ? _length : newline;
            var count = end - _position;
            if (newline >= 0 && pieces is null && count <= MaxLineLength && !tooLong)
            {
                var line = new string(_buffer, _position, count); // the usual case: the whole line is in the buffer
                _position = newline + 1;
                return (line.EndsWith('\r') ? line[..^1] : line, false);
            }
            if (!tooLong)
            {
                pieces ??= new System.Text.StringBuilder();
                if (pieces.Length + count > MaxLineLength + 1) tooLong = true;
                else pieces.Append(_buffer, _position, count);
            }
            _position = newline < 0 ? _length : newline + 1;
            if (newline >= 0) break;
        }
        if (tooLong) return ("", true);
        var text = pieces!.ToString();
        return (text.EndsWith('\r') ? text[..^1] : text, false);
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _length = await reader.ReadAsync(_buffer, ct);
        _position = 0;
        if (_charsRead < TextCheckLength)
        {
            var check = (int)Math.Min(_length, TextCheckLength - _charsRead);
            if (Array.IndexOf(_buffer, '\0', 0, check) >= 0)
            {
                throw new PermanentJobException($"'{fileName}' is not a text file (it holds NUL bytes).");
            }
        }
        _charsRead += _length;
        return _length > 0;
    }
}
