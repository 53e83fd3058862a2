namespace Monolith.Worker.Jobs.Datasets;

/// <summary>
/// Which country and format a new dataset is of: the client's country (required) and format (optional: else told by the
/// file's name, else the country's default), checked against one another and against the file's name. Errors are
/// keyed by the request field (<c>country</c>, <c>format</c>), as <c>POST /v1/datasets</c> answers them.
/// </summary>
public static class DatasetFormatChoice
{
    /// <summary>A country as given (<c>us</c>, <c> US </c>) in the form it is stored and compared in (<c>US</c>).</summary>
    public static string Normalize(string country) => country.Trim().ToUpperInvariant();

    /// <summary>The normalized country; an unknown one adds its error to <paramref name="errors"/>.</summary>
    public static string CheckCountry(string country, IDictionary<string, string[]> errors)
    {
        var code = Normalize(country);
        if (!DatasetFormats.Countries.Contains(code)) errors["country"] = [$"Unknown country. Countries: {string.Join(", ", DatasetFormats.Countries)}."];
        return code;
    }

    /// <summary>Country (required when <paramref name="requireCountry"/>) and format: known, and of one another.</summary>
    public static void Check(string? country, string? format, IDictionary<string, string[]> errors, bool requireCountry)
    {
        DatasetFormat? known = null;
        if (format is not null)
        {
            known = DatasetFormats.Find(format);
            if (known is null) errors["format"] = [$"Unknown format. Formats: {string.Join(", ", DatasetFormats.All.Select(f => f.Name))}."];
        }
        if (country is null)
        {
            if (requireCountry) errors["country"] = ["A country is required (ISO 3166-1 alpha-2, e.g. US)."];
            return;
        }
        var code = CheckCountry(country, errors);
        if (known is not null && DatasetFormats.Countries.Contains(code) && known.Country != code)
        {
            errors["format"] = [$"Format {known.Name} is for {known.Country}, not {code}."];
        }
    }

    /// <summary>
    /// The format of a file named <paramref name="fileName"/>: the one given, else the one its name tells (yob2020.txt,
    /// AK.TXT, nat2022.csv, with or without .gz), else the country's default (a zip). Null, with the errors added, when
    /// the country or format is wrong, or the name tells a format of another country.
    /// </summary>
    public static DatasetFormat? Resolve(string? country, string? format, string fileName, IDictionary<string, string[]> errors)
    {
        Check(country, format, errors, requireCountry: true);
        if (errors.Count > 0) return null;
        var code = Normalize(country!);
        var detected = format is null ? DatasetFormats.Detect(fileName) : null;
        if (detected is not null && detected.Country != code)
        {
            errors["country"] = [$"The file '{fileName}' is of format {detected.Name}, which is for {detected.Country}, not {code}."];
            return null;
        }
        return format is not null ? DatasetFormats.Find(format)! : detected ?? DatasetFormats.DefaultFor(code)!;
    }
}
