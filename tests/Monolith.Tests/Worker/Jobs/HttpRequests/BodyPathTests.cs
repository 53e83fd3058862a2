using System.Text.Json.Nodes;
using Monolith.Worker.Jobs.HttpRequests;

namespace Monolith.Tests.Worker.Jobs.HttpRequests;

public sealed class BodyPathTests
{
    private static JsonNode Body() => JsonNode.Parse("""{"ssn":"1","person":{"dob":"2"},"items":[{"id":3},{"id":4}],"n":5,"empty":null}""")!;

    [Theory]
    [InlineData("ssn", "\"1\"")]
    [InlineData("$.ssn", "\"1\"")]
    [InlineData("person.dob", "\"2\"")]
    [InlineData("$.items[1].id", "4")]
    [InlineData("items[0]", "{\"id\":3}")]
    [InlineData("n", "5")]
    [InlineData("empty", "null")]
    public void Replace_FindsTheValue_AtAPath(string text, string expected)
    {
        var body = Body();
        var path = BodyPath.Parse(text, out var error);
        string? found = null;

        Assert.Null(error);
        Assert.True(path!.Replace(body, v => { found = v?.ToJsonString() ?? "null"; return JsonValue.Create("x"); }));
        Assert.Equal(expected, found);
        Assert.True(path.ExistsIn(body));
        Assert.Contains("\"x\"", body.ToJsonString());
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("person.name")]
    [InlineData("items[2].id")]
    [InlineData("ssn.deeper")]
    public void ExistsIn_IsFalse_ForAValueTheBodyDoesNotHave(string text)
    {
        var path = BodyPath.Parse(text, out _)!;

        Assert.False(path.ExistsIn(Body()));
        Assert.False(path.Replace(Body(), v => v));
    }

    [Theory]
    [InlineData("")]
    [InlineData("$")]
    [InlineData("a..b")]
    [InlineData("a.")]
    [InlineData("items[x]")]
    [InlineData("items[-1]")]
    [InlineData("items[0")]
    [InlineData("a]b")]
    public void Parse_RefusesWhatIsNotAPath(string text)
    {
        Assert.Null(BodyPath.Parse(text, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("a", "a.b", true)]
    [InlineData("a.b", "a", true)]
    [InlineData("a", "a", true)]
    [InlineData("a.b", "a.c", false)]
    [InlineData("items[0]", "items[1].id", false)]
    public void Overlaps_WhenOnePathLiesInsideTheOther(string left, string right, bool overlaps) =>
        Assert.Equal(overlaps, BodyPath.Parse(left, out _)!.Overlaps(BodyPath.Parse(right, out _)!));

    [Theory]
    [InlineData("person.photo", true)] // a new field of an existing object
    [InlineData("ssn", true)] // an existing value
    [InlineData("items[1]", true)]
    [InlineData("items[2]", false)] // past the array's end
    [InlineData("missing.photo", false)] // no parent
    [InlineData("n.photo", false)] // the parent is not an object
    public void Set_WritesTheValue_WhenThePathsParentExists(string text, bool set)
    {
        var body = Body();

        Assert.Equal(set, BodyPath.Parse(text, out _)!.Set(body, JsonValue.Create("scan")));

        if (!set) Assert.Equal(Body().ToJsonString(), body.ToJsonString());
        else Assert.True(BodyPath.Parse(text, out _)!.ExistsIn(body) && body.ToJsonString().Contains("\"scan\""), body.ToJsonString());
    }
}
