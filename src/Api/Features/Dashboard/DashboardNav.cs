namespace Monolith.Api.Features.Dashboard;

/// <summary>The dashboard's navigation: one line per page (its title and path), in the order shown.</summary>
public static class DashboardNav
{
    public static readonly IReadOnlyList<(string Title, string Path)> Pages =
    [
        ("Overview", "/dashboard"),
        ("Jobs", "/dashboard/jobs"),
        ("Datasets", "/dashboard/datasets"),
        ("Transfers", "/dashboard/transfers"),
        ("Syncs", "/dashboard/syncs"),
        ("Schedules", "/dashboard/schedules"),
        ("Imports", "/dashboard/imports"),
    ];
}
