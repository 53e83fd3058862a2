namespace Monolith.Domain.Transfers;

/// <summary>
/// What a client asks a transfer to do: the input of <c>TransferCommands.CreateAsync</c>. Header and form values are in
/// plain text here; the command encrypts them before the row is written.
/// </summary>
/// <param name="Metadata">Text fields sent with the document (form fields of a multipart POST); null: none.</param>
/// <param name="CallbackUrl">Where the job's signed event goes when it ends (docs/webhooks.md); null: none.</param>
public sealed record NewTransfer(
    TransferSource Source, TransferDestination Destination, IReadOnlyDictionary<string, string>? Metadata = null, string? CallbackUrl = null);
