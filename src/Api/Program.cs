using Monolith.Api;
using Monolith.Domain;
using Monolith.Worker;

// Content root = the build output, where appsettings.json (kept at the repository root) is copied.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var serviceType = builder.AddApi(); // on api and all nodes with the API's surface: features, Swagger, dashboard
builder.Services.AddDomain(builder.Configuration);
builder.Services.AddWorker(builder.Configuration, serviceType);

var app = builder.Build();
app.UseApi(serviceType);
app.Run();

/// <summary>Public so that tests can start the service with WebApplicationFactory&lt;Program&gt;.</summary>
public partial class Program;
