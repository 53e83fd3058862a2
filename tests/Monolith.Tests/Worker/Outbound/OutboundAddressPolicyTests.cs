using System.Net;
using Microsoft.Extensions.Options;
using Monolith.Worker.Outbound;

namespace Monolith.Tests.Worker.Outbound;

public sealed class OutboundAddressPolicyTests
{
    private static OutboundAddressPolicy Policy(params string[] allowed) =>
        new(Options.Create(new OutboundOptions { AllowedHosts = [.. allowed] }));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("2002:0808:0808::1")] // 6to4 of 8.8.8.8
    [InlineData("2606:4700::5efe:808:808")] // ISATAP interface id holding 8.8.8.8, under a public prefix
    public void IsPublic_IsTrue_ForPublicAddresses(string address) => Assert.True(OutboundAddressPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("192.168.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("::ffff:127.0.0.1")] // IPv4-mapped loopback
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("2002:0a00:0001::1")] // 6to4 of 10.0.0.1
    [InlineData("2002:7f00:0001::1")] // 6to4 of 127.0.0.1
    [InlineData("::7f00:1")] // IPv4-compatible (deprecated) 127.0.0.1
    [InlineData("::a00:1")] // IPv4-compatible 10.0.0.1
    [InlineData("::169.254.169.254")] // IPv4-compatible metadata address
    [InlineData("::808:808")] // IPv4-compatible, even of a public address: the whole ::/96 is refused
    [InlineData("::ffff:0:7f00:1")] // SIIT (IPv4-translated) 127.0.0.1
    [InlineData("::ffff:0:a9fe:a9fe")] // SIIT 169.254.169.254
    [InlineData("::ffff:0:808:808")] // SIIT of a public address: the whole ::ffff:0:0/96 is refused
    [InlineData("64:ff9b::7f00:1")] // NAT64 of 127.0.0.1
    [InlineData("64:ff9b::808:808")] // NAT64 of a public address: the gateway is ours to reach, not the tenant's
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe")] // Teredo (its client address is 127.0.0.1, obfuscated)
    [InlineData("2606:4700::5efe:7f00:1")] // ISATAP interface id holding 127.0.0.1
    [InlineData("2606:4700::200:5efe:a00:1")] // ISATAP (universal bit) holding 10.0.0.1
    [InlineData("2002:a9fe:a9fe::1")] // 6to4 of 169.254.169.254
    public void IsPublic_IsFalse_ForLoopbackPrivateLinkLocalAndReserved(string address) =>
        Assert.False(OutboundAddressPolicy.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void AllowList_ByAddressAndNetwork_ExemptsOnlyThose()
    {
        var policy = Policy("127.0.0.1", "10.1.0.0/16");

        Assert.True(policy.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.True(policy.IsAllowed(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.True(policy.IsAllowed(IPAddress.Parse("10.1.200.3")));
        Assert.False(policy.IsAllowed(IPAddress.Parse("127.0.0.2")));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.2.0.1")));
        Assert.False(policy.IsAllowed(IPAddress.Parse("::1")));
    }

    [Fact]
    public async Task CheckAsync_RefusesLiteralsAndNames_ResolvingToInternalAddresses()
    {
        var policy = Policy("127.0.0.1");

        Assert.Null(await policy.CheckAsync(new Uri("http://127.0.0.1:9/x"), CancellationToken.None));
        Assert.Contains("link-local", await policy.CheckAsync(new Uri("http://169.254.169.254/"), CancellationToken.None));
        Assert.NotNull(await policy.CheckAsync(new Uri("http://[::1]/"), CancellationToken.None));
        Assert.NotNull(await policy.CheckAsync(new Uri("http://127.0.0.2/"), CancellationToken.None));
        Assert.NotNull(await policy.CheckAsync(new Uri("http://[::ffff:10.0.0.1]/"), CancellationToken.None));
        Assert.NotNull(await policy.CheckAsync(new Uri("http://[::7f00:1]/"), CancellationToken.None));
        Assert.NotNull(await policy.CheckAsync(new Uri("http://[::ffff:0:7f00:1]/"), CancellationToken.None));
        Assert.NotNull(await policy.CheckAsync(new Uri("ftp://example.com/"), CancellationToken.None));
        Assert.Contains("Credentials", await policy.CheckAsync(new Uri("http://user:pw@127.0.0.1/"), CancellationToken.None));
    }

    [Fact]
    public async Task AllowList_ByHostName_ExemptsTheName()
    {
        var policy = Policy("localhost");

        Assert.Null(await policy.CheckAsync(new Uri("http://localhost:9/"), CancellationToken.None));
        Assert.NotEmpty(await policy.ResolveAsync("localhost", CancellationToken.None));
        await Assert.ThrowsAsync<OutboundAddressRefusedException>(() => policy.ResolveAsync("127.0.0.1", CancellationToken.None));
    }
}
