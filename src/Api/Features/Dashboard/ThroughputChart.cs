using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Html;
using Monolith.Domain.Jobs;

namespace Monolith.Api.Features.Dashboard;

/// <summary>The overview's chart: the last hour's attempts per minute as an inline SVG, drawn on the server (no script, works offline).</summary>
public static class ThroughputChart
{
    public const int Minutes60 = 60;

    public static DateTimeOffset Since(DateTimeOffset now) => Truncate(now).AddMinutes(-(Minutes60 - 1));

    /// <summary>Sixty minutes, oldest first, the current one last; minutes without attempts are zeros.</summary>
    public static List<MinuteThroughput> Minutes(IEnumerable<MinuteThroughput> measured, DateTimeOffset now)
    {
        var byMinute = measured.ToDictionary(m => Truncate(m.Minute));
        var first = Since(now);
        return Enumerable.Range(0, Minutes60)
            .Select(i => first.AddMinutes(i))
            .Select(minute => byMinute.GetValueOrDefault(minute) ?? new MinuteThroughput(minute, 0, 0))
            .ToList();
    }

    /// <summary>Stacked bars: succeeded (green) under failed (red), each with a tooltip naming its minute and counts.</summary>
    public static IHtmlContent Svg(IReadOnlyList<MinuteThroughput> minutes)
    {
        const int width = 720, height = 160, barWidth = width / Minutes60;
        var max = Math.Max(1, minutes.Max(m => m.Succeeded + m.Failed));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg id="throughput" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 36}" role="img" aria-label="Attempts per minute over the last hour">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="0" y="12" font-size="11" fill="#6b7280">max {max}/min</text>""");
        for (var i = 0; i < minutes.Count; i++)
        {
            var m = minutes[i];
            var ok = (double)m.Succeeded / max * height;
            var failed = (double)m.Failed / max * height;
            var x = i * barWidth;
            var title = $"{m.Minute:HH:mm} UTC: {m.Succeeded} succeeded, {m.Failed} failed";
            svg.Append(CultureInfo.InvariantCulture,
                $"""<g><title>{title}</title><rect x="{x}" y="{20 + height - ok:0.#}" width="{barWidth - 1}" height="{ok:0.#}" fill="#10b981"/>""");
            svg.Append(CultureInfo.InvariantCulture,
                $"""<rect x="{x}" y="{20 + height - ok - failed:0.#}" width="{barWidth - 1}" height="{failed:0.#}" fill="#ef4444"/></g>""");
        }
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="0" y="{height + 34}" font-size="11" fill="#6b7280">{minutes[0].Minute:HH:mm} UTC</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{width}" y="{height + 34}" font-size="11" fill="#6b7280" text-anchor="end">now</text>""");
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) =>
        new(t.UtcDateTime.Year, t.UtcDateTime.Month, t.UtcDateTime.Day, t.UtcDateTime.Hour, t.UtcDateTime.Minute, 0, TimeSpan.Zero);
}
