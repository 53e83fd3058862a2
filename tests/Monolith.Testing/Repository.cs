namespace Monolith.Testing;

/// <summary>Where this repository is on disk.</summary>
public static class Repository
{
    /// <summary>
    /// The repository root: the nearest folder holding Monolith.sln above the running assembly (tests, bench), else
    /// above the current directory.
    /// </summary>
    public static string Root()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Monolith.sln"))) return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No Monolith.sln above {AppContext.BaseDirectory} nor the current directory.");
    }
}
