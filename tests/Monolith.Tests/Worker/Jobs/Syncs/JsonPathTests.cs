using System.Text.Json;
using Monolith.Worker.Jobs.Syncs;

namespace Monolith.Tests.Worker.Jobs.Syncs;

public sealed class JsonPathTests
{
    private static readonly JsonElement Page = JsonDocument.Parse("""
        {"data": {"items": [{"id": 7, "meta": {"uuid": "a-1"}}, {"id": "x"}]}, "next": null, "empty": "", "total": "42"}
        """).RootElement;

    [Theory]
    [InlineData("data.items.0.id", "7")]
    [InlineData("data.items.0.meta.uuid", "a-1")]
    [InlineData("data.items.1.id", "x")]
    [InlineData("total", "42")]
    [InlineData("next", null)]          // null is absent
    [InlineData("empty", null)]         // so is an empty string
    [InlineData("data.items", null)]    // not a scalar
    [InlineData("data.items.2.id", null)]
    [InlineData("data.missing", null)]
    public void FindText_ReadsScalarsByDottedPath(string path, string? expected) => Assert.Equal(expected, JsonPath.FindText(Page, path));

    [Fact]
    public void Find_EmptyPath_IsTheValueItself() => Assert.Equal(JsonValueKind.Object, JsonPath.Find(Page, "")!.Value.ValueKind);

    [Fact]
    public void FindLong_ReadsNumbersAndDigitStrings()
    {
        Assert.Equal(42, JsonPath.FindLong(Page, "total"));
        Assert.Equal(7, JsonPath.FindLong(Page, "data.items.0.id"));
        Assert.Null(JsonPath.FindLong(Page, "data.items.1.id"));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("id", true)]
    [InlineData("data.items.0", true)]
    [InlineData("a..b", false)]
    [InlineData(".a", false)]
    [InlineData("a.", false)]
    [InlineData(" a", false)]
    public void IsValid_AcceptsDotJoinedNames(string path, bool valid) => Assert.Equal(valid, JsonPath.IsValid(path));
}
