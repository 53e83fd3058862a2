using Monolith.Domain.Jobs;

namespace Monolith.Worker.Engine;

/// <summary>A job that has just reached a terminal state, with what ended it (<see cref="IJobEndedHandler"/>).</summary>
/// <param name="Job">The job as it was claimed or read before it ended (its state is the one it left).</param>
/// <param name="State">The terminal state it reached: succeeded, failed or cancelled.</param>
/// <param name="Error">The last error (failed) or why it was cancelled; null when it succeeded.</param>
/// <param name="ResultJson">The handler's result as stored (possibly encrypted); null when there is none.</param>
public sealed record TerminalJob(Job Job, JobState State, string? Error, string? ResultJson);
