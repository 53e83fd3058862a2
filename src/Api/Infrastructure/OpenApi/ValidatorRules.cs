using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FluentValidation;
using FluentValidation.Validators;
using Microsoft.OpenApi;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>
/// A FluentValidation validator read into the OpenAPI schema of the type it validates, so that the document states
/// the rules the server enforces instead of a copy of them:
/// <list type="bullet">
/// <item>Limits: <c>Length</c>/<c>MaximumLength</c> (maxLength, or maxItems on a list), <c>NotEmpty</c> (minLength or
/// minItems 1), <c>InclusiveBetween</c> and comparisons with a constant (minimum, maximum), <c>Matches</c> (pattern).
/// A rule that only holds under a condition is still a limit on the value when it is given.</item>
/// <item>Required: a property is required when leaving it out of an otherwise empty request (its parent objects
/// present) is an error naming it. Rules under a condition that an empty request does not meet (an upload source's
/// <c>uploadId</c>) do not make a property required.</item>
/// </list>
/// Rules written as lambdas (<c>Must</c>, <c>Custom</c>) cannot be read; where they bound something a client must know,
/// the contract carries an annotation with the validator's own constant.
/// </summary>
public static class ValidatorRules
{
    private const int MaxDepth = 4;

    public static async Task ApplyAsync(OpenApiDocument document, OpenApiSchema schema, Type modelType, IValidator validator, CancellationToken ct)
    {
        ApplyLimits(document, schema, validator);
        await ApplyRequiredAsync(document, validator, modelType, schema, modelType, [], ct);
    }

    private static void ApplyLimits(OpenApiDocument document, OpenApiSchema root, IValidator validator)
    {
        foreach (var member in validator.CreateDescriptor().GetMembersWithValidators())
        {
            if (Property(document, root, member.Key) is not { } target) continue;
            foreach (var (rule, _) in member) Apply(target, rule);
        }
    }

    private static void Apply(OpenApiSchema target, IPropertyValidator rule)
    {
        var isArray = target.Type is { } type && type.HasFlag(JsonSchemaType.Array);
        switch (rule)
        {
            case ILengthValidator length:
                if (isArray)
                {
                    if (length.Max > 0) target.MaxItems = length.Max;
                    if (length.Min > 0) target.MinItems = length.Min;
                }
                else
                {
                    if (length.Max > 0) target.MaxLength = length.Max;
                    if (length.Min > 0) target.MinLength = length.Min;
                }
                break;
            case INotEmptyValidator when isArray:
                target.MinItems = Math.Max(target.MinItems ?? 0, 1);
                break;
            case INotEmptyValidator when target.Type is { } t && t.HasFlag(JsonSchemaType.String):
                target.MinLength = Math.Max(target.MinLength ?? 0, 1);
                break;
            case IBetweenValidator between when rule.Name == "InclusiveBetweenValidator":
                target.Minimum = Number(between.From);
                target.Maximum = Number(between.To);
                break;
            case IComparisonValidator { ValueToCompare: { } value, MemberToCompare: null } comparison:
                if (comparison.Comparison == Comparison.GreaterThanOrEqual) target.Minimum = Number(value);
                else if (comparison.Comparison == Comparison.LessThanOrEqual) target.Maximum = Number(value);
                break;
            case IRegularExpressionValidator regex:
                target.Pattern = regex.Expression;
                break;
        }
    }

    private static string? Number(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture);

    /// <summary>The inline schema of the property at <paramref name="path"/> (<c>Source.Pagination.PageSize</c>), through references.</summary>
    private static OpenApiSchema? Property(OpenApiDocument document, OpenApiSchema root, string path)
    {
        var current = root;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            var property = current.Properties?.FirstOrDefault(p => string.Equals(p.Key, parts[i], StringComparison.OrdinalIgnoreCase)).Value;
            if (property is null) return null;
            if (i == parts.Length - 1) return property as OpenApiSchema;
            if (SchemaLookup.Resolve(document, property) is not { } next) return null;
            current = next;
        }
        return null;
    }

    /// <summary>
    /// Validates the root type with the objects of <paramref name="chain"/> present and everything else left out; each
    /// error on a direct property of <paramref name="type"/> makes that property required. Then the same one level down.
    /// </summary>
    private static async Task ApplyRequiredAsync(
        OpenApiDocument document, IValidator validator, Type rootType, OpenApiSchema schema, Type type, List<PropertyInfo> chain, CancellationToken ct)
    {
        if (schema.Properties is not { Count: > 0 } properties) return;
        FluentValidation.Results.ValidationResult result;
        try
        {
            result = await validator.ValidateAsync(new ValidationContext<object>(Probe(rootType, chain)), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return; // a rule that cannot look at an empty request: nothing learnt at this level
        }

        var prefix = string.Concat(chain.Select(p => p.Name + "."));
        foreach (var error in result.Errors)
        {
            if (!error.PropertyName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
            var name = error.PropertyName[prefix.Length..].Split('.', '[')[0];
            if (properties.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) is { } key)
            {
                (schema.Required ??= new HashSet<string>()).Add(key);
                NotNull(properties[key]); // left out and null read the same: an error either way
            }
        }

        if (chain.Count >= MaxDepth) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!IsObject(property.PropertyType) || !property.CanWrite) continue;
            var nested = SchemaLookup.Resolve(document, properties.Find(JsonNamingPolicy.CamelCase.ConvertName(property.Name)));
            if (nested is null || ReferenceEquals(nested, schema)) continue;
            await ApplyRequiredAsync(document, validator, rootType, nested, property.PropertyType, [.. chain, property], ct);
        }
    }

    private static void NotNull(IOpenApiSchema property)
    {
        if (property is not OpenApiSchema { Type: { } type } schema || !type.HasFlag(JsonSchemaType.Null)) return;
        var rest = type & ~JsonSchemaType.Null;
        schema.Type = rest == 0 ? null : rest;
        schema.Enum = schema.Enum?.Where(v => v is not null).ToList();
    }

    /// <summary>A class of the model (not text, not a list or map, not raw JSON): a nested request object.</summary>
    private static bool IsObject(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type) && type.Namespace?.StartsWith("Monolith", StringComparison.Ordinal) == true;

    private static object Probe(Type rootType, List<PropertyInfo> chain)
    {
        var root = Empty(rootType);
        var current = root;
        foreach (var property in chain)
        {
            var value = Empty(property.PropertyType);
            property.SetValue(current, value);
            current = value;
        }
        return root;
    }

    /// <summary>An instance with every member left out, as deserializing <c>{}</c> would make it: constructor defaults, else null or zero.</summary>
    private static object Empty(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var arguments = constructor.GetParameters()
            .Select(p => p.HasDefaultValue ? p.DefaultValue : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null)
            .ToArray();
        return constructor.Invoke(arguments);
    }
}
