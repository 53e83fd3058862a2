using Monolith.Api;
using Monolith.Api.Features.Admin;
using Monolith.Api.Features.Dashboard;
using Monolith.Api.Features.Datasets;
using Monolith.Api.Features.Jobs;
using Monolith.Api.Features.Names;
using Monolith.Api.Features.Queues;
using Monolith.Api.Features.Transfers;
using Monolith.Api.Features.Uploads;
using Monolith.Api.Features.Snapshots;
using Monolith.Api.Features.Syncs;
using Monolith.Domain;
using Monolith.Worker;
using Monolith.Worker.Hosting;

// Content root = the build output, where appsettings.json (kept at the repository root) is copied.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var serviceType = builder.AddApi();
if (serviceType.ServesApi()) builder.Services.AddDashboard();
builder.Services.AddDomain(builder.Configuration);
builder.Services.AddWorker(builder.Configuration, serviceType);

var app = builder.Build();
app.UseApi(serviceType);
if (serviceType.ServesApi())
{
    app.MapJobsApi();
    app.MapAdminApi();
    app.MapQueuesApi();
    app.MapDatasetsApi();
    app.MapNamesApi();
    app.MapUploadsApi();
    app.MapTransfersApi();
    app.MapDashboard();
    app.MapSyncsApi();
    app.MapSnapshotsApi();
}
app.Run();

/// <summary>Public so that tests can start the service with WebApplicationFactory&lt;Program&gt;.</summary>
public partial class Program;
