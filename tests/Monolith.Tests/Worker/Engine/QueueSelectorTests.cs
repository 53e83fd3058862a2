using Microsoft.Extensions.Options;
using Monolith.Worker.Engine;

namespace Monolith.Tests.Worker.Engine;

public sealed class QueueSelectorTests
{
    [Fact]
    public void NextOrder_PutsEachQueueFirst_InProportionToItsWeight()
    {
        var selector = new QueueSelector(Options.Create(new WorkerOptions()));

        var firsts = Enumerable.Range(0, 10_000).Select(_ => selector.NextOrder()[0]).GroupBy(q => q)
            .ToDictionary(g => g.Key, g => g.Count());

        // Weights 6 : 3 : 1 → 60 %, 30 %, 10 %.
        Assert.InRange(firsts["critical"], 5_600, 6_400);
        Assert.InRange(firsts["default"], 2_650, 3_350);
        Assert.InRange(firsts["low"], 800, 1_200);
    }

    [Fact]
    public void NextOrder_AlwaysListsEveryQueueOnce()
    {
        var selector = new QueueSelector(Options.Create(new WorkerOptions()));

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(["critical", "default", "low"], selector.NextOrder().Order());
        }
    }
}

public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 2.0)]
    [InlineData(3, 4.0)]
    [InlineData(5, 16.0)]
    public void Delay_DoublesPerAttempt_WithinTwentyPercentJitter(int attempt, double expectedSeconds)
    {
        for (var i = 0; i < 200; i++)
        {
            Assert.InRange(Backoff.Delay(1, attempt).TotalSeconds, expectedSeconds * 0.8, expectedSeconds * 1.2);
        }
    }

    [Fact]
    public void Delay_IsCappedAtOneHour()
    {
        Assert.Equal(Backoff.MaxDelay, Backoff.Delay(60, 30));
    }
}
