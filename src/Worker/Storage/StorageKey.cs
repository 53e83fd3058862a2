namespace Monolith.Worker.Storage;

/// <summary>The one rule for a file store's keys: relative, slash-separated, no empty, <c>.</c> or <c>..</c> part, no backslash.</summary>
public static class StorageKey
{
    /// <summary>Returns <paramref name="key"/>, or throws <see cref="ArgumentException"/> when it breaks the rule.</summary>
    public static string Checked(string key) =>
        string.IsNullOrWhiteSpace(key) || key.Contains('\\') || key.Split('/').Any(part => part is "" or "." or "..")
            ? throw new ArgumentException($"Not a valid storage key: '{key}'.", nameof(key))
            : key;
}
