using Microsoft.Extensions.Options;
using Monolith.Domain.Secrets;

namespace Monolith.Tests.Domain;

public sealed class SecretProtectorTests
{
    private const string K1 = "a2V5LW9uZS1rZXktb25lLWtleS1vbmUta2V5LW9uZSE=";
    private const string K2 = "a2V5LXR3by1rZXktdHdvLWtleS10d28ta2V5LXR3byE=";

    private static SecretProtector Protector(string? current, params (string Id, string Key)[] keys) =>
        new(Options.Create(new SecretOptions { Keys = keys.ToDictionary(k => k.Id, k => k.Key), CurrentKeyId = current }));

    [Fact]
    public void Protect_RoundTrips_AndHidesThePlaintext()
    {
        var protector = Protector(null, ("k1", K1));

        var sealed_ = protector.Protect("Bearer abc", "transfer.headers");

        Assert.StartsWith("enc:v1:k1:", sealed_);
        Assert.DoesNotContain("abc", sealed_);
        Assert.NotEqual(sealed_, protector.Protect("Bearer abc", "transfer.headers")); // a fresh nonce each time
        Assert.Equal("Bearer abc", protector.Unprotect(sealed_, "transfer.headers"));
    }

    [Fact]
    public void Unprotect_Fails_ForAnotherPurpose()
    {
        var protector = Protector(null, ("k1", K1));
        var sealed_ = protector.Protect("Bearer abc", "transfer.headers");

        Assert.Throws<SecretUnreadableException>(() => protector.Unprotect(sealed_, "vendor.headers"));
    }

    [Fact]
    public void Unprotect_Fails_WhenTampered()
    {
        var protector = Protector(null, ("k1", K1));
        var sealed_ = protector.Protect("Bearer abc", "p");
        var blob = Convert.FromBase64String(sealed_["enc:v1:k1:".Length..]);
        blob[^1] ^= 1;

        Assert.Throws<SecretUnreadableException>(() => protector.Unprotect("enc:v1:k1:" + Convert.ToBase64String(blob), "p"));
        Assert.Throws<SecretUnreadableException>(() => protector.Unprotect("plain text", "p"));
    }

    [Fact]
    public void Rotation_KeepsOldValuesReadable_UntilTheirKeyIsRemoved()
    {
        var written = Protector("k1", ("k1", K1)).Protect("secret", "p");

        var rotated = Protector("k2", ("k1", K1), ("k2", K2));
        Assert.Equal("secret", rotated.Unprotect(written, "p"));
        Assert.StartsWith("enc:v1:k2:", rotated.Protect("secret", "p"));

        var removed = Protector("k2", ("k2", K2));
        var ex = Assert.Throws<SecretUnreadableException>(() => removed.Unprotect(written, "p"));
        Assert.Contains("k1", ex.Message);
    }
}
