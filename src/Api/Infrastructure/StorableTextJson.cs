using System.Text.Json;
using System.Text.Json.Serialization;
using Monolith.Domain.Text;

namespace Monolith.Api.Infrastructure;

/// <summary>
/// The boundary check for text in JSON bodies, in one place for every endpoint: with these converters in the HTTP
/// JSON options, a string (a property, an array item, a dictionary's key or value) or a <see cref="JsonElement"/>
/// (a job's <c>payload</c>, anywhere inside it, property names included) holding text PostgreSQL cannot store
/// (<see cref="StorableText"/>: NUL, a lone surrogate; or text that is not even valid UTF-8) fails binding with an
/// <see cref="UnstorableJsonTextException"/>. System.Text.Json adds the path it was reading, and
/// <see cref="BadRequestExceptionHandler"/> answers 400 naming the field (<c>payload.items[2].name</c>).
/// </summary>
public static class StorableTextJson
{
    /// <summary>Adds the converters to the HTTP JSON options.</summary>
    public static void AddTo(JsonSerializerOptions options)
    {
        options.Converters.Add(new StringConverter());
        options.Converters.Add(new ElementConverter());
    }

    /// <summary>Strings as the framework reads them, refused when they cannot be stored.</summary>
    private sealed class StringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            // A number or an object where a string belongs keeps the framework's own "wrong type" error.
            if (reader.TokenType != JsonTokenType.String) return reader.GetString();
            return Checked(ref reader);
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Checked(ref reader);

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WritePropertyName(value);

        private static string Checked(ref Utf8JsonReader reader)
        {
            string text;
            try
            {
                text = reader.GetString()!;
            }
            catch (InvalidOperationException)
            {
                throw new UnstorableJsonTextException(""); // invalid UTF-8, or an escaped lone surrogate
            }
            return StorableText.IsStorable(text) ? text : throw new UnstorableJsonTextException("");
        }
    }

    /// <summary>Any JSON value, kept as it came, refused when a string or property name in it cannot be stored.</summary>
    private sealed class ElementConverter : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = JsonElement.ParseValue(ref reader);
            return StorableText.FirstUnstorablePath(element, "") is { } inner ? throw new UnstorableJsonTextException(inner) : element;
        }

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => value.WriteTo(writer);
    }
}

/// <summary>
/// A JSON string or property name that cannot be stored. <see cref="JsonException.Path"/> (set by System.Text.Json)
/// is where the value being bound sits; <see cref="InnerPath"/> is where inside it (<c>items[2].name</c>), empty when
/// the value itself is the bad string.
/// </summary>
public sealed class UnstorableJsonTextException(string innerPath) : JsonException
{
    /// <summary>What a client is told about the value.</summary>
    public const string Reason =
        "The value contains a NUL character (\\u0000), an unpaired UTF-16 surrogate or bytes that are not UTF-8, which cannot be stored.";

    public string InnerPath => innerPath;

    /// <summary>The field as the client wrote it: <c>$.payload</c> and <c>items[2]</c> make <c>payload.items[2]</c>.</summary>
    public string Field
    {
        get
        {
            var outer = Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "";
            if (innerPath.Length == 0) return outer;
            if (outer.Length == 0 || innerPath.StartsWith('[')) return outer + innerPath;
            return $"{outer}.{innerPath}";
        }
    }
}
