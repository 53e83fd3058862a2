using System.Globalization;
using System.Text.RegularExpressions;
using Monolith.Domain.Datasets;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>One parsed line, before it is copied into <c>name_records</c>.</summary>
public readonly record struct NameRow(int? Year, string Sex, string Name, int Count, string Kind);

/// <summary>Reads one line of a file; false with a reason for a bad line.</summary>
public delegate bool LineParser(string line, out NameRow row, out string reason);

/// <summary>
/// A names file format: its stable name, its country, and how to read a file of it. <see cref="ForFile"/> gets the
/// file's name (inside a zip, the entry's) and returns the line parser for it, or null when the name does not fit
/// the format (the year of a US national file comes from its name).
/// </summary>
public sealed record DatasetFormat(string Name, string Country, string Description, Func<string, LineParser?> ForFile);

/// <summary>The formats the service reads; a country is known when it has one. The first of a country is its default.</summary>
public static partial class DatasetFormats
{
    public const string UsYob = "us_yob";

    public static readonly IReadOnlyList<DatasetFormat> All =
    [
        new(UsYob, "US", "US national, one file per year named yobYYYY.txt, lines Name,Sex,Count (Olivia,F,15270)", UsYobParser),
    ];

    public static IReadOnlyList<string> Countries { get; } = All.Select(f => f.Country).Distinct().ToList();

    public static DatasetFormat? Find(string name) => All.FirstOrDefault(f => f.Name == name);

    public static DatasetFormat? DefaultFor(string country) => All.FirstOrDefault(f => f.Country == country);

    public const int MaxNameLength = 100;

    [GeneratedRegex(@"^yob(?<year>\d{4})\.txt$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex YobFileName();

    /// <summary><c>yobYYYY.txt</c>: lines <c>Name,Sex,Count</c>; the year comes from the file name.</summary>
    private static LineParser? UsYobParser(string fileName)
    {
        var match = YobFileName().Match(fileName);
        if (!match.Success) return null;
        var year = int.Parse(match.Groups["year"].Value, CultureInfo.InvariantCulture);
        return (string line, out NameRow row, out string reason) =>
        {
            row = default;
            var fields = line.Split(',');
            if (fields.Length != 3)
            {
                reason = $"Expected 3 comma-separated fields (name,sex,count), found {fields.Length}.";
                return false;
            }
            if (!TryName(fields[0], out var name, out reason)) return false;
            if (fields[1] is not ("F" or "M"))
            {
                reason = $"Sex must be F or M, not '{Clip(fields[1])}'.";
                return false;
            }
            if (!int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count <= 0)
            {
                reason = $"Count must be a whole number above 0, not '{Clip(fields[2])}'.";
                return false;
            }
            row = new NameRow(year, fields[1], name, count, NameRecordKinds.Name);
            reason = "";
            return true;
        };
    }

    private static bool TryName(string value, out string name, out string reason)
    {
        name = value.Trim();
        reason = "";
        if (name.Length == 0) reason = "The name is empty.";
        else if (name.Length > MaxNameLength) reason = $"The name is longer than {MaxNameLength} characters.";
        else if (!name.All(c => char.IsLetter(c) || c is '-' or '\'' or ' ')) reason = $"The name '{Clip(name)}' holds characters other than letters, '-', ''' and spaces.";
        return reason.Length == 0;
    }

    /// <summary>A value quoted in an error, cut short.</summary>
    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
