// `npm run bench -- --quick` as a process, so the benchmark cannot rot: every scenario and figure
// is in the JSON, every number is a number, and the figures that are counts, not speeds (paced
// throughput, tasks created, errors, Redis round trips per admission, the queue's dispatch on its
// manual clock), are exact. Speeds are only checked to be positive: this is a smoke run on
// whatever machine runs the tests, not a performance gate. The Redis + PostgreSQL scenario runs where both can be had (here, and in CI);
// elsewhere it must be skipped with its reason, in the JSON and in the table.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../bench/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'lxg-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REDIS_PG = 'gateway-redis-pg';
const NGINX = 'nginx';
/** nginx runs where its binary is (skipped, saying why, elsewhere). */
const hasNginx = spawnSync('nginx', ['-v'], { stdio: 'ignore' }).error === undefined;
const ALWAYS = hasNginx ? ['upstream', NGINX, 'proxy', 'gateway-embedded'] : ['upstream', 'proxy', 'gateway-embedded'];
const OPERATIONS = ['createTask', 'createTask-callback', 'recordInfo-final', 'recordInfo-pending'];

const positive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;
const finite = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

describe('npm run bench -- --quick', () => {
  // The timeout is a hang guard only: about a minute on a quiet machine, several on a busy one.
  it('measures every scenario and figure and writes them as JSON', { timeout: 1_200_000 }, async () => {
    const out = join(dir, 'quick.json');
    const started = Date.now();
    const run = await promisify(execFile)('npm', ['run', '--silent', 'bench', '--', '--quick', '--out', out], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ status: error.code ?? 1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    );
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const seconds = (Date.now() - started) / 1000;

    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.mode).toBe('quick');
    expect(results.machine.node).toBe(process.version);
    expect(positive(results.machine.cores)).toBe(true);
    expect(results.gatewayLogLevel).toBe('warn');
    const skipped = (results.skipped as Array<{ id: string; label: string; reason: string }>).find((s) => s.id === REDIS_PG);
    const SCENARIOS = skipped ? ALWAYS : [...ALWAYS, REDIS_PG];
    expect(results.scenarios.map((s: { id: string }) => s.id)).toEqual(SCENARIOS);
    expect(results.skipped.map((s: { id: string }) => s.id).sort()).toEqual([...(hasNginx ? [] : [NGINX]), ...(skipped ? [REDIS_PG] : [])].sort());

    for (const operation of OPERATIONS) {
      for (const scenario of SCENARIOS) {
        const row = results.results.find((r: { operation: string; scenario: string }) => r.operation === operation && r.scenario === scenario);
        expect(row, `${operation} / ${scenario}`).toBeDefined();
        expect(row.errors, `${operation} / ${scenario} errors`).toBe(0);
        // cpuUsPerRequest: the server's own CPU at saturation, read from /proc (this suite runs on Linux).
        for (const figure of ['p50Ms', 'p99Ms', 'rps', 'cpuUsPerRequest'])
          expect(positive(row[figure]), `${operation} / ${scenario} ${figure} = ${row[figure]}`).toBe(true);
        const base = scenario === 'upstream';
        for (const figure of ['addedP50Ms', 'addedP99Ms'])
          expect(base ? row[figure] === null : finite(row[figure]), `${operation} / ${scenario} ${figure}`).toBe(true);
        expect(base ? row.ratioToProxy === null : positive(row.ratioToProxy)).toBe(true);
      }
    }

    const { storedTasks, rss, paced } = results.scale;
    expect(storedTasks.storedTasks).toBeGreaterThanOrEqual(10_000);
    expect(storedTasks.errors).toBe(0);
    for (const figure of ['p50Ms', 'p99Ms', 'insertSeconds']) expect(positive(storedTasks[figure]), `storedTasks.${figure}`).toBe(true);
    for (const figure of ['addedP50Ms', 'addedP99Ms']) expect(finite(storedTasks[figure]), `storedTasks.${figure}`).toBe(true);
    expect(rss.tasks).toBe(2_000);
    expect(rss.errors).toBe(0);
    for (const figure of ['startMb', 'rssMb', 'peakMb']) expect(positive(rss[figure]), `rss.${figure}`).toBe(true);
    // Counts, not speeds: exact on any machine.
    expect(paced.map((p: { keys: number }) => p.keys)).toEqual([1, 2, 4]);
    for (const p of paced) {
      // One window unless the machine stalled the firing past it (the load stretches until it
      // has been refused once); never more than the allowance in any window.
      expect(p.perWindow[0], `${p.keys} keys`).toBe(p.keys * 20);
      for (const n of p.perWindow) expect(n, `${p.keys} keys`).toBeLessThanOrEqual(p.keys * 20);
      expect(p.accepted).toBe(p.perWindow.reduce((a: number, b: number) => a + b, 0));
      expect(p.refused).toBeGreaterThan(0);
    }

    // Polling many running tasks through one key: counts that hold on any machine.
    const { polling, idle, revocation } = results.scale;
    expect(polling.polls).toBeGreaterThan(0);
    expect(polling.unknownShare).toBe(0);
    for (const figure of ['pollP99Ms', 'upstreamReadsPerSecond', 'cpuUsPerPoll']) expect(positive(polling[figure]), `polling.${figure}`).toBe(true);
    expect(idle.held).toBe(idle.connections);
    expect(idle.freshErrors).toBe(0);
    if (!('skipped' in revocation)) for (const figure of ['p50Ms', 'p99Ms', 'maxMs']) expect(positive(revocation[figure]), `revocation.${figure}`).toBe(true);

    // The admission queue on a manual clock: its pacing figures are counts, exact on any machine.
    const { queue, resultsEvents } = results.scale;
    const quick = parseSettings(['--quick']);
    expect(queue.efficiency.perWindow).toEqual(Array.from({ length: queue.efficiency.windows }, () => queue.efficiency.allowance));
    expect(queue.efficiency.peak).toBeLessThanOrEqual(1);
    expect(queue.fairness.dispatched).toBe(quick.queue.fairnessTasks);
    expect(queue.fairness.error).toBeLessThanOrEqual(0.05);
    expect(queue.lightWait.tasks).toBeGreaterThan(0);
    expect(queue.accept.queued).toBe(quick.queue.queuedForAccept);
    for (const figure of ['p50Ms', 'p99Ms']) expect(positive(queue.accept[figure]), `queue.accept.${figure}`).toBe(true);
    // Result copies and SSE: every copy made, every event at every listener.
    expect(resultsEvents.successToDurable.tasks).toBe(quick.results.tasks);
    expect(positive(resultsEvents.copy.mbPerSecond)).toBe(true);
    expect(resultsEvents.sse.listeners).toBe(quick.results.sseListeners);
    expect(resultsEvents.sse.eventsWritten).toBeGreaterThan(0);
    expect(resultsEvents.sse.delivered).toBeGreaterThanOrEqual(resultsEvents.sse.eventsWritten * quick.results.sseListeners);
    for (const figure of ['eventsPerSecond', 'rssWithListenersMb']) expect(positive(resultsEvents.sse[figure]), `sse.${figure}`).toBe(true);
    expect(run.stdout).toMatch(/admission queue \(SQLite/);
    expect(run.stdout).toContain(`task events over SSE to ${quick.results.sseListeners} listeners`);

    const targets = results.targets as Array<{ id: string; value: number; pass: boolean }>;
    expect(targets.map((t) => t.id)).toEqual(
      expect.arrayContaining([
        'createTask-added-p50',
        'createTask-added-p99',
        'stored-tasks-added-p99',
        'rss',
        'paced-1',
        'paced-2',
        'paced-4',
        'createTask-callback-p99',
        'polling-unknown',
        'polling-429',
        'idle-fresh-errors',
        'queue-efficiency',
        'queue-efficiency-peak',
        'queue-fairness',
      ]),
    );
    for (const t of targets) expect(finite(t.value), t.id).toBe(true);

    const trips = results.scale.redisRoundTrips;
    if (skipped) {
      console.log(`bench --quick skipped ${skipped.label}: ${skipped.reason}`);
      expect(skipped.reason).toMatch(/Redis|PostgreSQL|redis-server/);
      expect(trips.skipped).toBe(skipped.reason);
      expect(results.results.filter((r: { scenario: string }) => r.scenario === REDIS_PG)).toEqual([]);
      expect(targets.map((t) => t.id)).not.toContain('redis-round-trips');
      expect(run.stdout).toContain(`skipped: gateway (Redis + PostgreSQL): ${skipped.reason}`);
    } else {
      expect(targets.map((t) => t.id)).toEqual(expect.arrayContaining(['createTask-added-p50-redis', 'redis-round-trips']));
      // Counted with MONITOR: every createTask is one EVALSHA of the admission script, nothing more.
      expect(trips.createTasks).toBe(200);
      expect(trips.errors).toBe(0);
      expect(trips.sent['evalsha admit']).toBe(200);
      expect(trips.perCreateTask.admission).toBe(1);
      expect(targets.find((t) => t.id === 'redis-round-trips')!.pass).toBe(true);
      // Every task's callback is accounted for: settled, or refused (and counted) by the gateway.
      const refused = Object.values(trips.refusedCallbacks as Record<string, number>).reduce((a, b) => a + b, 0);
      expect((trips.sent['evalsha settle'] ?? 0) + refused).toBe(200);
      for (const figure of ['settle', 'other', 'total']) expect(finite(trips.perCreateTask[figure]), `perCreateTask.${figure}`).toBe(true);
      expect(positive(trips.insideScriptsPerCreateTask)).toBe(true);
      expect(run.stdout).toMatch(/gateway \(Redis \+ PostgreSQL\)/);
      expect(run.stdout).toMatch(/Redis round trips per createTask \(200 createTask, counted with MONITOR\): [\d.]+ = admission 1\.000/);
      // The run's PostgreSQL schema is gone.
      const schema = /schema (lxg_bench_\w+)/.exec(results.scenarios.find((s: { id: string }) => s.id === REDIS_PG).notes.join(' '))![1];
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      try {
        expect((await client.query('select 1 from pg_namespace where nspname = $1', [schema])).rowCount).toBe(0);
      } finally {
        await client.end();
      }
    }

    // The table went to stdout, with the machine facts first.
    expect(run.stdout).toMatch(/machine: node v\d+/);
    expect(run.stdout).toMatch(/gateway \(embedded\)/);
    console.log(`bench --quick took ${seconds.toFixed(0)} s`);
  });
});
