using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Monolith.Worker.Engine;

/// <summary>
/// The standing dispatch firing: one long-lived Quartz firing per worker node, in which that node's jobs run.
/// <list type="bullet">
/// <item>Quartz starts it: <c>RunAtStartup</c> schedules a one-shot trigger at every start of a node, pinned to that node
/// (<c>PreferredNode</c>), so only that node fires it while it lives.</item>
/// <item>While it runs, the node's <see cref="NodeDispatcher"/> claims jobs into the node's slots under the firing's id
/// (<see cref="FiringId"/>, derived from the trigger), with no Quartz acquire or fire per wake-up.</item>
/// <item>Quartz recovers it (<c>RequestRecovery</c>): if the node dies or freezes past the check-in bound, a peer's Quartz
/// re-fires it there as recovering, and that firing takes back the jobs carrying its id (<see cref="FiringRecovery"/>)
/// and ends. A trigger that fails over to another node before it fired (its node died first) does the same.</item>
/// <item>On a graceful stop it ends once the node's jobs are done and its buffer is handed back; when the grace period
/// runs out, Quartz hands the firing back with the jobs still running, and a peer recovers it at once.</item>
/// </list>
/// </summary>
public sealed class StandingDispatchJob(
    NodeDispatcher dispatcher, FiringRecovery recovery, RunningJobs running, NodeIdentity node, ILogger<StandingDispatchJob> logger) : IJob
{
    /// <summary>The durable Quartz job every node's standing trigger fires.</summary>
    public static readonly JobKey Key = new("StandingDispatch", "monolith");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        using var inFlight = running.BeginDispatch(); // a graceful shutdown waits for this firing
        var original = context.Recovering && context.RecoveringTriggerKey is { } recovering ? recovering : context.Trigger.Key;
        var firingId = FiringId(original);
        if (context.Recovering || context.Trigger.PreferredNode.Node != node.Id)
        {
            await recovery.RunAsync(firingId, ct);
            return;
        }

        var work = new FiringWork(ct);
        bool fenced;
        try
        {
            fenced = await dispatcher.RunAsync(firingId, context.FireInstanceId, work, ct);
        }
        finally
        {
            await work.WhenDoneAsync();
        }
        if (fenced)
        {
            // This node came back after Quartz recovered its firing elsewhere: it needs a standing firing of its own again.
            await context.Scheduler.ScheduleJob(NewTrigger(node.Id), new ScheduleJobOptions(), ct);
            logger.LogInformation("Scheduled a new standing dispatch firing for this node");
        }
    }

    /// <summary>
    /// The id a standing firing's jobs carry (<c>jobs.ticket_id</c>): derived from its trigger's key, so the recovered
    /// firing, which knows the original trigger's key, finds them.
    /// </summary>
    public static Guid FiringId(TriggerKey key) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes($"{key.Group}\n{key.Name}")).AsSpan(0, 16));

    /// <summary>A standing trigger for <paramref name="nodeId"/>, due now and pinned to it, as a start would schedule.</summary>
    public static ITrigger NewTrigger(string nodeId) => TriggerBuilder.Create()
        .ForJob(Key)
        .WithIdentity($"{nodeId}.{Guid.NewGuid():N}", SchedulerConstants.StartupGroup)
        .WithPreferredNode(PreferredNode.For(nodeId))
        .StartNow()
        .Build();
}
