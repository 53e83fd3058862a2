using System.Text.RegularExpressions;

namespace Monolith.Domain.Syncs;

/// <summary>What a snapshot may be called (syncs and imports write to one by name).</summary>
public static partial class SnapshotNames
{
    public const string Rule = "1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit.";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    public static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);
}
