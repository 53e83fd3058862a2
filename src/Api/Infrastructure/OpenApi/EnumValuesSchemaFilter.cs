using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Monolith.Api.Infrastructure.OpenApi;

/// <summary>Gives the properties marked <see cref="EnumValuesAttribute"/> their <c>enum</c> in a type's schema.</summary>
public sealed class EnumValuesSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties: { Count: > 0 } properties }) return;
        foreach (var property in context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<EnumValuesAttribute>() is not { } values) continue;
            if (properties.Find(JsonNamingPolicy.CamelCase.ConvertName(property.Name)) is OpenApiSchema target)
            {
                SetEnum(target, values.Values);
            }
        }
    }

    /// <summary>Sets <paramref name="values"/> as the schema's enum (and null among them when the schema is nullable and <paramref name="nullable"/>).</summary>
    public static void SetEnum(OpenApiSchema schema, IEnumerable<string> values, bool nullable = true)
    {
        var list = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();
        if (nullable && schema.Type is { } type && type.HasFlag(JsonSchemaType.Null)) list.Add(null!);
        schema.Enum = list;
    }
}
