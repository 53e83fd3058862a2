using System.IO.Compression;
using System.Text;

namespace Monolith.Tests.Features.Datasets;

/// <summary>
/// A stand-in for the public US national names history ("names.zip": <c>yob1880.txt</c> … <c>yob2024.txt</c> and a
/// read-me), generated deterministically because nothing can be downloaded here. Shaped like the real one: 145
/// yearly files of <c>Name,Sex,Count</c> lines with CRLF ends, girls first then boys, each by falling count; about
/// 2,000 names in 1880 rising to about 32,000 in 2007 and a little fewer after, about 2.1 million rows in all;
/// counts long-tailed (a few large, most near the floor of 5 below which the real files list nobody), and the same
/// names coming back year after year in other ranks. Standalone on purpose: bench/Monolith.Bench compiles this file
/// too (scenario 7).
/// </summary>
public static class NamesHistory
{
    public const int FirstYear = 1880;
    public const int LastYear = 2024;
    public const int Years = LastYear - FirstYear + 1;

    /// <summary>The read-me entry the real zip carries beside the yearly files (skipped by the parse).</summary>
    public const string ReadMe = "NationalReadMe.pdf";

    /// <summary>How many names a year lists (both sexes), from points read off the real files, linear between them.</summary>
    private static readonly (int Year, int Names)[] Shape =
    [
        (1880, 2_000), (1910, 4_700), (1920, 10_800), (1950, 9_600), (1980, 18_800), (2000, 29_800), (2007, 32_000), (2024, 29_500),
    ];

    /// <summary>Distinct names to draw from; a prime, so each year's ranks map to distinct names.</summary>
    private const int Pool = 100_003;

    public static int NamesIn(int year)
    {
        for (var i = 1; i < Shape.Length; i++)
        {
            var (y0, n0) = Shape[i - 1];
            var (y1, n1) = Shape[i];
            if (year <= y1) return n0 + (int)((long)(n1 - n0) * (year - y0) / (y1 - y0));
        }
        throw new ArgumentOutOfRangeException(nameof(year));
    }

    /// <summary>Every year's rows: about 2.1 million.</summary>
    public static long RowCount { get; } = RowsThrough(LastYear);

    /// <summary>A year's lines: its girls' names (55 %) then its boys', each by falling count.</summary>
    public static IEnumerable<string> Lines(int year)
    {
        var total = NamesIn(year);
        var girls = total * 55 / 100;
        foreach (var (sex, count, salt) in new[] { ("F", girls, 0), ("M", total - girls, 50_000) })
        {
            var top = 3.0 * total;
            for (var rank = 0; rank < count; rank++)
            {
                var name = NameAt((int)(((long)rank * 7_919 + (long)year * 104_729 + salt) % Pool));
                yield return $"{name},{sex},{Math.Max(5, (int)(top / Math.Pow(rank + 1, 1.05)))}";
            }
        }
    }

    /// <summary>The rows of the years <see cref="FirstYear"/> to <paramref name="lastYear"/>.</summary>
    public static long RowsThrough(int lastYear) => Enumerable.Range(FirstYear, lastYear - FirstYear + 1).Sum(y => (long)NamesIn(y));

    /// <summary>
    /// Writes the zip: one deflated <c>yobYYYY.txt</c> per year, oldest first, then the read-me; with
    /// <paramref name="lastYear"/>, only the years up to it (a smaller history, for tests that need it quick).
    /// </summary>
    public static void WriteZip(string path, int lastYear = LastYear)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        for (var year = FirstYear; year <= lastYear; year++)
        {
            using var writer = new StreamWriter(zip.CreateEntry($"yob{year}.txt").Open(), new UTF8Encoding(false), 64 * 1024);
            foreach (var line in Lines(year))
            {
                writer.Write(line);
                writer.Write("\r\n");
            }
        }
        using var readMe = new StreamWriter(zip.CreateEntry(ReadMe).Open());
        readMe.Write("National data on the relative frequency of given names in the population of U.S. births (stand-in).");
    }

    /// <summary>The i-th name: letters only, capitalised (Aab, Aac, …), distinct for every i.</summary>
    private static string NameAt(int i)
    {
        var letters = new StringBuilder();
        for (var n = i + 26 * 26; n > 0; n /= 26) letters.Insert(0, (char)('a' + n % 26));
        return char.ToUpperInvariant(letters[0]) + letters.ToString(1, letters.Length - 1);
    }
}
