using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Monolith.Worker.Blockers;
using Monolith.Domain;
using Monolith.Domain.Jobs;
using Monolith.Worker.Engine;
using Monolith.Worker.Hosting;
using Monolith.Worker.Jobs;
using Monolith.Worker.Jobs.Datasets;
using Monolith.Worker.Jobs.Transfers;
using Monolith.Worker.Jobs.Imports;
using Monolith.Worker.Jobs.Syncs;
using Monolith.Worker.Jobs.HttpRequests;
using Monolith.Worker.Jobs.Webhooks;
using Monolith.Worker.Maintenance;
using Monolith.Worker.Outbound;
using Monolith.Worker.Schedules;
using Monolith.Worker.Uploads;
using Quartz;
using Quartz.Impl;

namespace Monolith.Worker;

public static class WorkerExtensions
{
    /// <summary>
    /// The engine: job types, Quartz clustered on the service's PostgreSQL, and on nodes that execute jobs the
    /// notification listener and graceful shutdown. Every node can submit, cancel and retry jobs; only
    /// <c>worker</c> and <c>all</c> nodes start the scheduler and run them.
    /// </summary>
    public static IServiceCollection AddWorker(this IServiceCollection services, IConfiguration configuration, ServiceType serviceType)
    {
        var options = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        if (int.TryParse(configuration["WORKER_CONCURRENCY"], out var concurrency)) options.Concurrency = concurrency;
        if (options.Concurrency < 1) throw new InvalidOperationException("WORKER_CONCURRENCY must be at least 1.");
        services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section)
            .Configure(o => o.Concurrency = options.Concurrency);
        var retention = configuration.GetSection(RetentionOptions.Section).Get<RetentionOptions>() ?? new RetentionOptions();
        if (!retention.IsValid(out var retentionError)) throw new InvalidOperationException(retentionError);
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section);

        var node = new NodeIdentity(NodeIdentity.Resolve(configuration["INSTANCE_ID"] ?? configuration["POD_NAME"]), serviceType.ExecutesJobs(), serviceType.ServesApi());
        services.AddSingleton(node);
        services.AddSingleton(JobTypes.Register(new JobTypeRegistry()));
        services.AddDatasets(configuration);
        services.AddTransfers(configuration);
        services.AddDirectUploads(configuration);
        services.AddSyncs();
        services.AddImports(configuration);
        services.AddOutboundHttp();
        services.AddWebhooks();
        services.AddSchedules();
        services.AddSingleton<QueueSelector>();
        services.AddSingleton<RunningJobs>();
        services.AddSingleton<JobClaims>();
        services.AddSingleton<JobSlots>();
        services.AddSingleton<NodeDispatcher>();
        services.AddSingleton<FiringRecovery>();
        services.AddSingleton<AttemptRecorder>();
        services.AddSingleton<ProgressWriter>();
        services.AddSingleton<JobExecutor>();
        services.AddSingleton<DispatchTickets>();
        services.AddScoped<JobClient>();
        services.AddScoped<QueuePausing>();
        services.AddScoped<ClusterNodes>();
        services.AddScoped<JobBlockers>();
        services.AddSingleton<JobSecrets>();
        services.AddSingleton<JobWaiters>();
        services.AddHttpRequests(configuration);
        services.AddSingleton<SubmitCoalescer>();
        services.AddHostedService(sp => sp.GetRequiredService<SubmitCoalescer>());
        services.AddHostedService<QueueDepthMetrics>();

        // Start-up order matters: the schema first, then Quartz (which validates it), then the rest. Hosted services
        // start in registration order, and ASP.NET Core registers some before ours (Data Protection's reads its key
        // ring, a table of ours, when it starts): the schema's goes first of all.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, SchemaSetup>());
        AddQuartz(services, configuration, options, retention, node);
        services.AddHostedService<DispatchJobSetup>();
        // Every node listens: worker nodes for wake-ups and cancels, every node for its clients waiting on jobs.
        services.AddHostedService<EngineNotifications>();
        if (serviceType.ExecutesJobs())
        {
            services.AddHostedService(sp => sp.GetRequiredService<AttemptRecorder>());
            services.AddHostedService(sp => sp.GetRequiredService<ProgressWriter>());
            services.AddHealthChecks().AddCheck<OutcomeWriterHealthCheck>("outcomes");
            services.AddHostedService<GracefulShutdown>();
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownGraceSeconds + 15));
        }
        return services;
    }

    /// <summary>Quartz's threads on an executing node (see AddQuartz).</summary>
    private const int QuartzThreads = 8;

    private static void AddQuartz(IServiceCollection services, IConfiguration configuration, WorkerOptions options, RetentionOptions retention, NodeIdentity node)
    {
        var executes = node.ExecutesJobs;
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = options.ClusterName;
                s.InstanceId = node.Id;
                s.IdleWaitTime = TimeSpan.FromSeconds(Math.Max(1, options.IdleWaitSeconds));
                s.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            });
            // Quartz's threads run firings, not jobs: the standing dispatch firing (one, for the node's life), tickets
            // (each a wake-up that ends at once), recovered firings and the maintenance jobs. Jobs run in JobSlots.
            if (executes) q.UseDefaultThreadPool(maxConcurrency: QuartzThreads);
            else q.UseThreadPool<ZeroSizeThreadPool>();

            q.UsePersistentStore(store =>
            {
                store.UsePostgres(DomainExtensions.ResolveConnectionString(configuration));
                store.UseDataSource(ds => ds.UseRegisteredDataSource = true);
                store.UseClustering(c =>
                {
                    c.CheckinInterval = TimeSpan.FromSeconds(options.CheckinIntervalSeconds);
                    c.CheckinMisfireThreshold = TimeSpan.FromSeconds(options.CheckinMisfireThresholdSeconds);
                });
                store.UseSystemTextJsonSerializer();
                store.ConfigureStore(o =>
                {
                    o.TablePrefix = SchemaSetup.QuartzTablePrefix;
                    // A ticket waiting behind a backlog is not a misfire: keep the threshold far above any backlog age,
                    // or acquisition skips old tickets (quartz-4.md gotcha 2). The handler still runs often, because a
                    // recovered ticket of a job that ran longer than the threshold goes through it.
                    o.MisfireThreshold = TimeSpan.FromHours(6);
                    o.MisfireHandlerFrequency = TimeSpan.FromSeconds(5);
                    o.RecoverFiringsCancelledByShutdown = true;
                    o.AcceptEnlistedTransactions = true;
                    o.LockOnInsert = false; // see DispatchTickets: new tickets need no cluster lock

                });
            });
            // The standing dispatch firing: stored durable with recovery, and fired once at every start of an executing
            // node, pinned to it (StandingDispatchJob).
            q.AddJob<StandingDispatchJob>(job => job.WithIdentity(StandingDispatchJob.Key).StoreDurably().RequestRecovery());
            if (executes) q.RunAtStartup(StandingDispatchJob.Key);
            // Every schedule's trigger fires this one durable job (ScheduleTriggers); recovery re-fires a dead node's firing.
            q.AddJob<ScheduleFiring>(job => job.WithIdentity(ScheduleFiring.Key).StoreDurably().RequestRecovery());
            q.ScheduleJob<TicketRescuer>(trigger => trigger
                .WithIdentity(nameof(TicketRescuer))
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(TicketRescuer.Interval).RepeatForever()));
            q.ScheduleJob<QueueCountsCompactor>(trigger => trigger
                .WithIdentity(nameof(QueueCountsCompactor))
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(QueueCountsCompactor.Interval).RepeatForever()));
            q.ScheduleJob<ExpiredResultCleaner>(trigger => trigger
                .WithIdentity(nameof(ExpiredResultCleaner))
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(ExpiredResultCleaner.Interval).RepeatForever()));
            q.ScheduleJob<PendingUploadCleaner>(trigger => trigger
                .WithIdentity(nameof(PendingUploadCleaner)).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(PendingUploadCleaner.Interval).RepeatForever()));
            q.ScheduleJob<JobCleaner>(
                trigger => trigger.WithIdentity(nameof(JobCleaner)).WithCronSchedule(retention.Schedule),
                job => job.WithIdentity(JobCleaner.Key));
            if (executes) q.AddQuartzHealthChecks(_ => { });
        });
        services.AddQuartzHostedService(o =>
        {
            o.AutoStart = executes;
            o.WaitForJobsToComplete = true;
            o.AwaitApplicationStarted = true;
        });
    }
}
