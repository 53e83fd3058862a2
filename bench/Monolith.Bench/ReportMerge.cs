namespace Monolith.Bench;

/// <summary>
/// Updates an existing bench/RESULTS.md with the scenarios of one <c>--only</c> run, so a scenario run on its own does not
/// wipe the others' figures or what was added by hand. A scenario's section is a <c>### N. …</c> heading and the lines up to
/// the next heading; a targets row is a table line starting with <c>| key |</c>.
/// </summary>
public static class ReportMerge
{
    /// <summary>
    /// Replaces each section of <paramref name="sections"/> (id, text starting with its <c>### </c> heading) in
    /// <paramref name="existing"/>, or inserts it in number order under <c>## Scenarios</c>; replaces or appends the targets
    /// rows this run measured.
    /// </summary>
    public static string Merge(string existing, IReadOnlyList<(string Id, string Text)> sections, IReadOnlyList<Bench.TargetRow> targets)
    {
        var lines = existing.Replace("\r\n", "\n").Split('\n').ToList();
        foreach (var (id, text) in sections)
        {
            var replacement = text.Trim('\n').Split('\n').Append("").ToList();
            var start = lines.FindIndex(l => l.StartsWith($"### {id}. ", StringComparison.Ordinal));
            if (start >= 0)
            {
                var end = start + 1;
                while (end < lines.Count && !IsHeading(lines[end])) end++;
                lines.RemoveRange(start, end - start);
                lines.InsertRange(start, replacement);
                continue;
            }
            var scenarios = lines.FindIndex(l => l.TrimEnd() == "## Scenarios");
            if (scenarios < 0)
            {
                lines.AddRange(["## Scenarios", ""]);
                scenarios = lines.Count - 2;
            }
            var at = lines.Count;
            for (var i = scenarios + 1; i < lines.Count; i++)
            {
                if (lines[i].StartsWith("## ", StringComparison.Ordinal) || (SectionNumber(lines[i]) is { } n && n > int.Parse(id, System.Globalization.CultureInfo.InvariantCulture)))
                {
                    at = i;
                    break;
                }
            }
            lines.InsertRange(at, replacement);
        }

        foreach (var row in targets.Where(r => r.Measured))
        {
            var index = lines.FindIndex(l => l.StartsWith($"| {row.Key} |", StringComparison.Ordinal));
            if (index >= 0)
            {
                lines[index] = row.Line;
                continue;
            }
            var header = lines.FindIndex(l => l.StartsWith("## Targets", StringComparison.Ordinal));
            if (header < 0) continue;
            var i = header + 1;
            while (i < lines.Count && !lines[i].StartsWith('|')) i++;
            while (i < lines.Count && lines[i].StartsWith('|')) i++;
            lines.Insert(i, row.Line);
        }
        return string.Join('\n', lines);
    }

    private static bool IsHeading(string line) => line.StartsWith("### ", StringComparison.Ordinal) || line.StartsWith("## ", StringComparison.Ordinal);

    private static int? SectionNumber(string line)
    {
        if (!line.StartsWith("### ", StringComparison.Ordinal)) return null;
        var dot = line.IndexOf('.', 4);
        return dot > 4 && int.TryParse(line.AsSpan(4, dot - 4), out var n) ? n : null;
    }
}
