namespace Monolith.Worker.Engine;

/// <summary>
/// A payload with parts that must never be stored in plain text (credentials in headers, personal data). Make the
/// payload record implement it and the engine does the rest, the same way for every job type: the submitted payload
/// is validated in plain text, then <see cref="Protect"/> encrypts its secret parts before the job row is written
/// (<see cref="JobTypeDefinition.PreparePayload"/>), and <see cref="Unprotect"/> decrypts them just before the
/// handler runs. Both must touch the same parts; they are found from fields that stay readable (header names, the
/// list of sensitive paths), so the stored payload says which of its values are cipher text.
/// </summary>
public interface ISecretPayload<out TSelf>
{
    /// <summary>This payload with every secret part replaced by cipher text.</summary>
    TSelf Protect(PayloadSecrets secrets);

    /// <summary>This payload with every secret part decrypted.</summary>
    TSelf Unprotect(PayloadSecrets secrets);
}
