using System.Reflection;
using System.Text.Json;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// The only values a string property takes, for the OpenAPI document (<see cref="EnumValuesSchemaFilter"/>): the
/// names of an enum as the API writes them (<c>timed_out</c>), a static list of strings, or the values given.
/// Documentation only: what is accepted or returned is decided by the code that reads or writes the property.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class EnumValuesAttribute : Attribute
{
    /// <summary>The names of <paramref name="enumType"/>, lower-case with underscores between words (as <c>ToName()</c> writes them).</summary>
    public EnumValuesAttribute(Type enumType) => Values = NamesOf(enumType);

    /// <summary>The strings of a static field or property <paramref name="member"/> of <paramref name="type"/>.</summary>
    public EnumValuesAttribute(Type type, string member) =>
        Values = ((type.GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                   ?? type.GetProperty(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)) as IEnumerable<string>
                  ?? throw new ArgumentException($"{type.Name}.{member} is not a public static list of strings.", nameof(member))).ToList();

    public EnumValuesAttribute(params string[] values) => Values = values;

    public IReadOnlyList<string> Values { get; }

    public static IReadOnlyList<string> NamesOf(Type enumType) =>
        Enum.GetNames(enumType).Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToList();

    public static IReadOnlyList<string> NamesOf<TEnum>() where TEnum : struct, Enum => NamesOf(typeof(TEnum));
}
