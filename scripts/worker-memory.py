#!/usr/bin/env python3
"""What a worker node holds in memory, to compare settings side by side (docs/performance.md, "Memory").

    python3 scripts/worker-memory.py [--jobs N] [--dll PATH] [--label L] [VAR=value ...]

On its own PostgreSQL (name `memory`, port 55437, left running: stop it with
`bash -c 'source scripts/postgres.sh && monolith_stop_postgres memory'`), a fresh database; then:
- idle: one `worker` node (WORKER_CONCURRENCY=16), its VmRSS (and RssAnon / RssFile / RssShmem) 10 s after
  /health/ready first answers 200, before any job exists, and the number of .dll files it maps;
- with --jobs N (default 20000; 0 for idle only): an `api` node queues N noop jobs through POST /v1/jobs/batch
  (1,000 a request, 4 clients) and stops, then a second worker drains them: its VmRSS sampled every 200 ms (the
  peak), jobs/s from its ready to the last success (read by SQL), its CPU (utime + stime) per job, and VmRSS 10 s
  after the drain.
VAR=value pairs are set on the worker only (e.g. DOTNET_gcServer=0). Build first: dotnet build Monolith.sln -c Release.
One line per run, with the load average: this machine is shared, so compare settings in alternation, in one window.
"""
import base64, json, os, random, subprocess, sys, threading, time, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = 55437
args = sys.argv[1:]
jobs, dll, label, extra = 20000, os.path.join(REPO, "src/Api/bin/Release/net10.0/Monolith.Api.dll"), "worker", {}
while args:
    a = args.pop(0)
    if a == "--jobs": jobs = int(args.pop(0))
    elif a == "--dll": dll = os.path.abspath(args.pop(0))
    elif a == "--label": label = args.pop(0)
    elif "=" in a: k, v = a.split("=", 1); extra[k] = v
    else: sys.exit(__doc__)
if jobs % 4000: sys.exit("--jobs must be a multiple of 4,000 (4 clients, batches of 1,000)")

subprocess.run(["bash", "-c", f"source '{REPO}/scripts/postgres.sh' && monolith_start_postgres memory {PORT} >/dev/null"], check=True)
server = f"postgres://postgres@127.0.0.1:{PORT}"
database = f"memory_{os.getpid()}_{random.randint(0, 99999)}"
admin_key = "memory-admin-key-0123456789"
logs = os.path.join(REPO, ".local", "worker-memory")
os.makedirs(logs, exist_ok=True)


def sql(query, db="postgres"):
    return subprocess.run(["psql", f"{server}/{db}", "-tAc", query], capture_output=True, text=True, check=True).stdout.strip()


def status(pid):
    return {k: int(v.split()[0]) // 1024 for k, _, v in (l.partition(":") for l in open(f"/proc/{pid}/status"))
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem")}


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def start(service_type, env_extra):
    port = random.randint(20000, 40000)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASPNETCORE_", "SERVICE_TYPE", "DATABASE_URL", "INSTANCE_ID", "WORKER_", "Worker__", "Logging__"))}
    env.update({"DATABASE_URL": f"{server}/{database}", "SERVICE_TYPE": service_type, "WORKER_CONCURRENCY": "16",
                "ASPNETCORE_URLS": f"http://127.0.0.1:{port}", "ADMIN_API_KEY": admin_key,
                "Secrets__Keys__memory": base64.b64encode(b"worker-memory-key-0123456789abcd").decode(),
                "INSTANCE_ID": f"memory-{service_type}-{os.getpid()}"})
    env.update(env_extra)
    log = open(os.path.join(logs, f"{label}-{service_type}.log"), "w")
    process = subprocess.Popen(["dotnet", dll], env=env, stdout=log, stderr=subprocess.STDOUT)
    began = time.time()
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as answer:
                if answer.status == 200: return process, port, time.time() - began
        except OSError:
            pass
        if process.poll() is not None: sys.exit(f"the {service_type} node exited; see {log.name}")
        if time.time() - began > 120: process.kill(); sys.exit(f"the {service_type} node was not ready in 120 s")
        time.sleep(0.05)


def stop(process):
    process.terminate()
    process.wait()


sql(f"CREATE DATABASE {database}")
try:
    worker, _, ready_s = start("worker", extra)
    time.sleep(10)
    idle = status(worker.pid)
    dlls = {line.split()[5] for line in open(f"/proc/{worker.pid}/maps") if line.rstrip().endswith(".dll")}
    stop(worker)
    line = (f"{label}: idle RSS {idle['VmRSS']} MB (anon {idle['RssAnon']}, file {idle['RssFile']}, shmem {idle['RssShmem']}),"
            f" {len(dlls)} assemblies, ready in {ready_s:.2f} s")
    if jobs:
        api, api_port, _ = start("api", {})
        body = json.dumps({"jobs": [{"type": "noop", "payload": {}}] * 1000}).encode()

        def submit(count):
            for _ in range(count):
                request = urllib.request.Request(f"http://127.0.0.1:{api_port}/v1/jobs/batch", data=body,
                                                 headers={"X-Api-Key": admin_key, "Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=120).read()

        clients = [threading.Thread(target=submit, args=(jobs // 4000,)) for _ in range(4)]
        [c.start() for c in clients]
        [c.join() for c in clients]
        stop(api)
        load_before = load()
        worker, _, _ = start("worker", extra)
        ready_at = sql("SELECT now()", database)
        cpu_before, peak, last_count = cpu_seconds(worker.pid), 0, 0.0
        while True:
            peak = max(peak, status(worker.pid)["VmRSS"])
            if time.time() - last_count > 0.5:
                last_count = time.time()
                if int(sql("SELECT count(*) FROM jobs WHERE state = 'succeeded'", database)) >= jobs: break
            time.sleep(0.2)
        cpu_ms = 1000 * (cpu_seconds(worker.pid) - cpu_before) / jobs
        seconds = float(sql(f"SELECT extract(epoch FROM max(finished_at) - '{ready_at}'::timestamptz) FROM jobs", database))
        time.sleep(10)
        after = status(worker.pid)["VmRSS"]
        stop(worker)
        line += (f"; drain of {jobs:,} noop: peak RSS {peak} MB, {after} MB 10 s after, {jobs / seconds:,.0f} jobs/s,"
                 f" worker CPU {cpu_ms:.3f} ms/job; load {load_before} -> {load()}")
    else:
        line += f"; load {load()}"
    print(line, flush=True)
finally:
    sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
