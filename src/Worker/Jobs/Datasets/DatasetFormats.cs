using System.Globalization;
using System.Text.RegularExpressions;
using Monolith.Domain.Datasets;

namespace Monolith.Worker.Jobs.Datasets;

/// <summary>One parsed line, before it is copied into <c>name_records</c>.</summary>
/// <param name="Region">The state of a US by-state row; null for a national one.</param>
public readonly record struct NameRow(int? Year, string Sex, string Name, int Count, string Kind, string? Region = null);

/// <summary>Reads one line of a file; false with a reason for a bad line.</summary>
public delegate bool LineParser(string line, out NameRow row, out string reason);

/// <summary>
/// A names file format: its stable name, its country, and how to read a file of it. <see cref="ForFile"/> gets the
/// file's name (inside a zip, the entry's) and returns the line parser for it, or null when the name does not fit
/// the format (the year of a US national file comes from its name, the state of a by-state file too). A format with a
/// <see cref="Header"/> needs it as the first non-blank line of each file.
/// </summary>
public sealed record DatasetFormat(string Name, string Country, string Description, Func<string, LineParser?> ForFile, string? Header = null);

/// <summary>The formats the service reads; a country is known when it has one. The first of a country is its default.</summary>
public static partial class DatasetFormats
{
    public const string UsYob = "us_yob";
    public const string UsState = "us_state";
    public const string FrNational = "fr_national";

    /// <summary>France's rare-names total: an aggregate row, not a name.</summary>
    public const string FrenchRareNames = "_PRENOMS_RARES";

    public static readonly IReadOnlyList<DatasetFormat> All =
    [
        new(UsYob, "US", "US national, one file per year named yobYYYY.txt, lines Name,Sex,Count (Olivia,F,15270)", UsYobParser),
        new(UsState, "US", "US by state, one file per state named XX.TXT, lines State,Sex,Year,Name,Count (AK,F,1910,Mary,14)", UsStateParser),
        new(FrNational, "FR", "France national, nat*.csv with the header sexe;preusuel;annais;nombre, lines 2;MARIE;1900;48713", FrNationalParser,
            Header: "sexe;preusuel;annais;nombre"),
    ];

    /// <summary>The format a file name shows (a <c>.gz</c> suffix aside), or null (a zip's name shows none).</summary>
    public static DatasetFormat? Detect(string fileName)
    {
        var inner = fileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? fileName[..^3] : fileName;
        return All.FirstOrDefault(f => f.ForFile(inner) is not null);
    }

    /// <summary>The two-letter codes of the US by-state files: the 50 states and DC.</summary>
    public static readonly IReadOnlySet<string> UsStates = new HashSet<string>(StringComparer.Ordinal)
    {
        "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA",
        "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR",
        "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
    };

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
            if (!TryCount(fields[2], out var count, out reason)) return false;
            row = new NameRow(year, fields[1], name, count, NameRecordKinds.Name);
            return true;
        };
    }

    [GeneratedRegex(@"^(?<state>[A-Za-z]{2})\.txt$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex StateFileName();

    /// <summary>
    /// <c>XX.TXT</c> (XX a state code): lines <c>State,Sex,Year,Name,Count</c>; a line of another state than the
    /// file's is rejected. Rows are stored with the state as their region.
    /// </summary>
    private static LineParser? UsStateParser(string fileName)
    {
        var match = StateFileName().Match(fileName);
        if (!match.Success) return null;
        var state = match.Groups["state"].Value.ToUpperInvariant();
        if (!UsStates.Contains(state)) return null;
        return (string line, out NameRow row, out string reason) =>
        {
            row = default;
            var fields = line.Split(',');
            if (fields.Length != 5)
            {
                reason = $"Expected 5 comma-separated fields (state,sex,year,name,count), found {fields.Length}.";
                return false;
            }
            if (fields[0] != state)
            {
                reason = $"The state '{Clip(fields[0])}' differs from the file's ({state}).";
                return false;
            }
            if (fields[1] is not ("F" or "M"))
            {
                reason = $"Sex must be F or M, not '{Clip(fields[1])}'.";
                return false;
            }
            if (!TryYear(fields[2], out var year, out reason)) return false;
            if (!TryName(fields[3], out var name, out reason)) return false;
            if (!TryCount(fields[4], out var count, out reason)) return false;
            row = new NameRow(year, fields[1], name, count, NameRecordKinds.Name, state);
            return true;
        };
    }

    [GeneratedRegex(@"^nat\d*\.csv$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FrenchFileName();

    /// <summary>
    /// <c>nat2022.csv</c>: after the header, lines <c>sexe;preusuel;annais;nombre</c>, sex 1 (M) or 2 (F). A row
    /// named <c>_PRENOMS_RARES</c> or of year <c>XXXX</c> (stored with no year) is an aggregate.
    /// </summary>
    private static LineParser? FrNationalParser(string fileName)
    {
        if (!FrenchFileName().IsMatch(fileName)) return null;
        return (string line, out NameRow row, out string reason) =>
        {
            row = default;
            var fields = line.Split(';');
            if (fields.Length != 4)
            {
                reason = $"Expected 4 ';'-separated fields (sexe;preusuel;annais;nombre), found {fields.Length}.";
                return false;
            }
            var sex = fields[0] switch { "1" => "M", "2" => "F", _ => null };
            if (sex is null)
            {
                reason = $"Sex must be 1 or 2, not '{Clip(fields[0])}'.";
                return false;
            }
            var aggregate = false;
            string name;
            if (fields[1] == FrenchRareNames)
            {
                name = FrenchRareNames;
                aggregate = true;
            }
            else if (!TryName(fields[1], out name, out reason)) return false;
            int? year = null;
            if (fields[2] == "XXXX") aggregate = true;
            else if (TryYear(fields[2], out var parsed, out reason)) year = parsed;
            else return false;
            if (!TryCount(fields[3], out var count, out reason)) return false;
            row = new NameRow(year, sex, name, count, aggregate ? NameRecordKinds.Aggregate : NameRecordKinds.Name);
            return true;
        };
    }

    private static bool TryYear(string value, out int year, out string reason)
    {
        reason = "";
        if (value.Length == 4 && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out year) && year >= 1000) return true;
        year = 0;
        reason = $"The year must have four digits, not '{Clip(value)}'.";
        return false;
    }

    private static bool TryCount(string value, out int count, out string reason)
    {
        reason = "";
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count > 0) return true;
        reason = $"Count must be a whole number above 0, not '{Clip(value)}'.";
        return false;
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
