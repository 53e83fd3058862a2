using System.Text.RegularExpressions;
using Monolith.Tests.Infrastructure;

namespace Monolith.Tests.Worker.Engine;

/// <summary>
/// The engine's structure, read from the source (docs/engine.md, "Parts"): the generic engine names no job type and
/// nothing of Hosting (Hosting uses Engine, never the other way), and only <c>JobStore</c> and its hot-path part
/// <c>JobClaims</c> write the jobs table. Each failure names the file and line.
/// </summary>
public sealed class EngineStructureTests
{
    private static readonly string Src = Path.Combine(Repository.Root(), "src");

    /// <summary>A feature namespace (<c>Monolith.Worker.Jobs.Webhooks</c>, or <c>Jobs.Webhooks</c> from inside Monolith.Worker) or Hosting.</summary>
    private static readonly Regex FeatureOrHosting = new(
        @"\bWorker\.(Jobs|Hosting)\b|(?<![\w.])(Jobs\.[A-Z]|Hosting\.)", RegexOptions.Compiled);

    /// <summary>SQL that writes the jobs table (not job_attempts or others).</summary>
    private static readonly Regex JobsSql = new(@"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+jobs\b", RegexOptions.Compiled);

    /// <summary>EF Core writes through the Jobs set: tracked changes, or a bulk update or delete in the same statement.</summary>
    private static readonly Regex JobsSetChange = new(@"\bJobs\.(Add|AddRange|Update|UpdateRange|Remove|RemoveRange|Attach)\(", RegexOptions.Compiled);
    private static readonly Regex JobsSet = new(@"(?<![\w])(db\.)?Jobs\b(?!\.)|\.Jobs\b", RegexOptions.Compiled);
    private static readonly Regex BulkWrite = new(@"\.Execute(Update|Delete)(Async)?\(", RegexOptions.Compiled);

    [Fact]
    public void Engine_NamesNoJobType_AndNothingOfHosting()
    {
        var found = Lines(Path.Combine(Src, "Worker", "Engine"))
            .Where(l => FeatureOrHosting.IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Number}: {l.Text.Trim()}")
            .ToList();
        Assert.True(found.Count == 0, "The engine refers to a job type or to Hosting:\n" + string.Join('\n', found));
    }

    [Fact]
    public void OnlyJobStoreAndJobClaims_WriteTheJobsTable()
    {
        string[] writers = [Path.Combine("Domain", "Jobs", "JobStore.cs"), Path.Combine("Domain", "Jobs", "JobClaims.cs")];
        var migrations = Path.Combine("Domain", "Persistence", "Migrations");
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Src, file);
            if (writers.Contains(relative) || relative.StartsWith(migrations, StringComparison.Ordinal) || IsBuildOutput(relative)) continue;
            var text = File.ReadAllText(file);
            foreach (Match m in JobsSql.Matches(text)) found.Add($"{relative}:{LineOf(text, m.Index)}: {m.Value}");
            foreach (Match m in JobsSetChange.Matches(text)) found.Add($"{relative}:{LineOf(text, m.Index)}: {m.Value}");
            // A bulk write and the Jobs set in one statement (statements end at ';').
            var start = 0;
            foreach (var statement in text.Split(';'))
            {
                if (BulkWrite.IsMatch(statement) && JobsSet.IsMatch(statement))
                {
                    found.Add($"{relative}:{LineOf(text, start + BulkWrite.Match(statement).Index)}: {BulkWrite.Match(statement).Value} on Jobs");
                }
                start += statement.Length + 1;
            }
        }
        Assert.True(found.Count == 0, "The jobs table is written outside JobStore and JobClaims:\n" + string.Join('\n', found));
    }

    private static IEnumerable<(string File, int Number, string Text)> Lines(string folder) =>
        Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(Path.GetRelativePath(Src, f)))
            .SelectMany(f => File.ReadLines(f).Select((text, i) => (Path.GetRelativePath(Src, f), i + 1, text)));

    private static bool IsBuildOutput(string relative) =>
        relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj");

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;
}
