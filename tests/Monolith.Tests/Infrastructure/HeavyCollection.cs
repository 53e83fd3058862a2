namespace Monolith.Tests.Infrastructure;

/// <summary>
/// In-process tests that keep both cores busy for a minute or more (the 145-year names zip parsed twice, the fuzz
/// test's thousands of requests): they run one class at a time, after the parallel tests, so that they neither starve
/// the timing-sensitive tests running beside them (the dashboard's browser tests) nor are starved themselves.
/// </summary>
[CollectionDefinition("Heavy", DisableParallelization = true)]
public sealed class HeavyCollection;
