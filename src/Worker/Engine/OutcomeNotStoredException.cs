namespace Monolith.Worker.Engine;

/// <summary>
/// The database refused an attempt's outcome for its data, and refused it again when written as a failure of its
/// own (<see cref="AttemptRecorder"/>). The attempt is handed back: its row stays <c>running</c> under its ticket,
/// whose firing ends with this exception, so Quartz fires the ticket again and the job is recovered and run again
/// (the attempts it may take are bounded by its <c>maxAttempts</c>). The message names the database's error code and
/// reason, never the refused text.
/// </summary>
public sealed class OutcomeNotStoredException(string message, Exception? inner = null) : Exception(message, inner);
