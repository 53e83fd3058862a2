using System.Buffers;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Monolith.Worker.Jobs.HttpRequests;

/// <summary>
/// AES-256-GCM decryption of what WebCrypto's <c>encrypt({name: "AES-GCM", iv}, key, data)</c> writes (the cipher
/// text, then the 16-byte tag; no additional data) as a stream, in chunks of <see cref="ChunkBytes"/>: the document
/// is never whole in memory and its plain bytes never on a disk.
/// <para>.NET's <c>AesGcm</c> decrypts only whole messages, so this uses BouncyCastle's <see cref="GcmBlockCipher"/>
/// (hardware AES and carry-less multiplication where the CPU has them). GCM can tell a wrong key, IV or cipher text
/// only at the end, from the tag; so a caller that must not release a single plain byte before that runs it twice:
/// <see cref="VerifyAsync"/> first (the plain bytes are dropped), then <see cref="DecryptAsync"/> with a sink. The
/// second pass checks the tag again and withholds the last block until it matches, so a stored file changed between
/// the two passes never arrives whole.</para>
/// </summary>
public static class DocumentCipher
{
    public const int TagBytes = 16;
    public const int ChunkBytes = 81_920;

    /// <summary>Reads <paramref name="cipher"/> to its end and checks its tag; throws <see cref="DocumentUnreadableException"/> when it does not match.</summary>
    public static Task VerifyAsync(Stream cipher, byte[] key, byte[] iv, long cipherLength, CancellationToken ct) =>
        DecryptAsync(cipher, key, iv, cipherLength, sink: null, ct);

    /// <summary>
    /// Decrypts <paramref name="cipher"/> (exactly <paramref name="cipherLength"/> bytes, tag included) into
    /// <paramref name="sink"/>, chunk by chunk; the final bytes are handed over only once the tag matched. Throws
    /// <see cref="DocumentUnreadableException"/> for a wrong key, IV or cipher text, or a stored file of another length.
    /// </summary>
    public static async Task DecryptAsync(
        Stream cipher, byte[] key, byte[] iv, long cipherLength, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? sink, CancellationToken ct)
    {
        var gcm = new GcmBlockCipher(AesUtilities.CreateEngine());
        gcm.Init(false, new AeadParameters(new KeyParameter(key), TagBytes * 8, iv));
        var input = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var output = ArrayPool<byte>.Shared.Rent(gcm.GetUpdateOutputSize(ChunkBytes) + TagBytes);
        try
        {
            long total = 0;
            int read;
            while ((read = await cipher.ReadAsync(input.AsMemory(0, ChunkBytes), ct)) > 0)
            {
                total += read;
                if (total > cipherLength) throw new DocumentUnreadableException($"the stored cipher text is longer than the {cipherLength:N0} bytes uploaded.");
                var plain = gcm.ProcessBytes(input, 0, read, output, 0);
                if (sink is not null && plain > 0) await sink(output.AsMemory(0, plain), ct);
            }
            if (total != cipherLength) throw new DocumentUnreadableException($"the stored cipher text has {total:N0} of the {cipherLength:N0} bytes uploaded.");
            int last;
            try
            {
                last = gcm.DoFinal(output, 0);
            }
            catch (InvalidCipherTextException)
            {
                throw new DocumentUnreadableException(
                    "the AES-GCM tag does not match: a wrong key or IV, or a cipher text that was changed (or is not AES-GCM output with a 128-bit tag).");
            }
            if (sink is not null && last > 0) await sink(output.AsMemory(0, last), ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output, clearArray: true); // plain bytes: not left for the pool's next user
        }
    }

    /// <summary>The <see cref="DocumentUnreadableException"/> behind <paramref name="ex"/> (HttpClient may wrap what a request body throws).</summary>
    public static DocumentUnreadableException? FindUnreadable(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is DocumentUnreadableException unreadable) return unreadable;
        }
        return null;
    }
}

/// <summary>A document that cannot be decrypted as it is stored; the message says why (never the key or the bytes).</summary>
public sealed class DocumentUnreadableException(string reason) : Exception(reason);
