namespace Monolith.Worker.Engine;

/// <summary>Thrown by a handler when trying again cannot help (bad input, a 4xx from a vendor): the job fails at once.</summary>
public class PermanentJobException(string message, Exception? inner = null) : Exception(message, inner);
