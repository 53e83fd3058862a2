namespace Monolith.Worker.Uploads;

/// <summary>Why the bytes a client PUT are not the ones it declared: the field of its request they contradict, and how.</summary>
public sealed record UploadMismatch(string Field, string Message);
