using Monolith.Worker.Outbound;

namespace Monolith.Tests.Worker.Outbound;

/// <summary><c>Outbound:Proxy</c> is checked at start; what it refuses, and that no message repeats a password.</summary>
public sealed class OutboundProxyOptionsTests
{
    private const string Secret = "s3cret-pass-91ab";

    private static string? Failure(string? address, string? username = null, string? password = null)
    {
        var result = new OutboundProxyOptions.Validator().Validate(null, new OutboundProxyOptions { Address = address, Username = username, Password = password });
        return result.Failed ? result.FailureMessage : null;
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("", null, null)]
    [InlineData("http://proxy.internal:3128", null, null)]
    [InlineData("http://10.0.0.5:3128/", "monolith", Secret)]
    [InlineData("http://[fd00::5]:8080", "monolith", Secret)]
    public void Accepts(string? address, string? username, string? password) => Assert.Null(Failure(address, username, password));

    [Theory]
    [InlineData("https://proxy.internal:3128", null, null, "absolute http:// URL")]
    [InlineData("proxy.internal:3128", null, null, "absolute http:// URL")]
    [InlineData("socks5://proxy.internal:1080", null, null, "absolute http:// URL")]
    [InlineData("http://monolith:" + Secret + "@proxy.internal:3128", null, null, "may not hold credentials")]
    [InlineData("http://proxy.internal:3128/path", null, null, "no path or query")]
    [InlineData("http://proxy.internal:3128", "monolith", null, "go together")]
    [InlineData("http://proxy.internal:3128", null, Secret, "go together")]
    [InlineData("http://proxy.internal:3128", "mono:lith", Secret, "may not contain ':'")]
    [InlineData("http://proxy.internal:3128", "monolith", "line\r\nX-Injected: 1", "control characters")]
    [InlineData(null, "monolith", Secret, "Address is not")]
    public void Refuses_WithoutRepeatingThePassword(string? address, string? username, string? password, string reason)
    {
        var failure = Failure(address, username, password);

        Assert.NotNull(failure);
        Assert.Contains(reason, failure);
        Assert.DoesNotContain(Secret, failure);
    }
}
