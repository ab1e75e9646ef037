// Where the gateway's time goes under one operation at saturation, alone on the machine:
//   npx tsx bench/profile.ts [createTask|createTask-callback|recordInfo-final|recordInfo-pending] [seconds] [connections] [embedded|redis-pg]
// Starts the simulator and a gateway child, prepares tasks, then profiles the gateway's CPU over
// the measured window only (the inspector's profiler, started and stopped over IPC), and prints
// what each request cost in SQL statements (by text) and upstream calls, and the top self-time
// functions (bundled code named by its src/ file). The profile stays in bench/results/profiles/
// for Chrome DevTools or speedscope.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, runLoad } from './load.js';
import { OPERATIONS } from './measure.js';
import { printProfile, topAllocations, type HeapProfile, type Profile } from './profile-summary.js';
import { buildChildren, ROOT, startChild } from './processes/spawn.js';
import { freshBenchSchema } from './processes/postgres.js';
import { startBenchRedis } from './processes/redis.js';
import { gatewayConfig, startGatewayChild } from './scenarios/gateway-embedded.js';
import { prepareTasks, TENANT_KEY } from './scenarios/workload.js';
import { parseSettings } from './settings.js';

const [opId = 'createTask', seconds = '10', connections = '64', backend = 'embedded'] = process.argv.slice(2);
const op = OPERATIONS.find((o) => o.id === opId);
if (!op) throw new Error(`bench/profile: operation is one of ${OPERATIONS.map((o) => o.id).join(', ')}`);

const profileDir = join(ROOT, 'bench/results/profiles', `${opId}-${Date.now()}`);
const settings = parseSettings([]);
const tmpDir = mkdtempSync(join(tmpdir(), 'lxg-profile-'));
const removeBuild = await buildChildren(profileDir);
const upstream = await startChild('simulator', 'simulator');
const counters = async () => (await (await fetch(`${upstream.url}/_simulator/counters`)).json()) as { createTask: number; recordInfo: number };
// redis-pg: as the bench's Redis + PostgreSQL scenario (a private redis-server, a fresh schema).
const shared = backend === 'redis-pg' ? await Promise.all([startBenchRedis(), freshBenchSchema()]) : undefined;
try {
  const env = { settings, upstreamUrl: upstream.url, tmpDir };
  const config = shared && { ...gatewayConfig(env, shared[1].url), redis: { url: shared[0].url, prefix: 'lxg-profile' } };
  const { child } = await startGatewayChild(env, 'gateway', { childEnv: { BENCH_SQL_COUNTS: '1' }, ...(config ? { config } : {}) });
  const headers = { authorization: `Bearer ${TENANT_KEY}` };
  const target = { url: child.url, headers, tasks: await prepareTasks(child.url, headers, 2_000), notes: [], close: () => child.stop() };
  // Warm up first (JIT, pools), then profile and count over the measured window alone.
  await runLoad({ url: child.url, connections: Number(connections), durationMs: 1_000, request: op.request(target) });
  const [sqlBefore, upBefore] = [new Map(await child.sql()), await counters()];
  const stopProfile = await child.profile();
  const result = await runLoad({ url: child.url, connections: Number(connections), durationMs: Number(seconds) * 1000, request: op.request(target) });
  const file = join(profileDir, 'gateway.cpuprofile');
  mkdirSync(profileDir, { recursive: true });
  await stopProfile(file);
  const [sqlAfter, upAfter] = [await child.sql(), await counters()];
  const sent = result.ok + result.errors; // those in flight at the end are a handful of 64 × seconds × rps
  // Then where the allocations come from (the young generation's churn: scavenges, RSS), in a
  // window of its own so neither profiler weighs on the other's figures.
  const stopHeap = await child.profile('heap');
  const heapRun = await runLoad({ url: child.url, connections: Number(connections), durationMs: 3_000, request: op.request(target) });
  const heapFile = join(profileDir, 'gateway.heapprofile');
  await stopHeap(heapFile);
  await child.stop();

  console.log(`${op.label}: ${Math.round(result.rps)} req/s at ${connections} connections, ${result.errors} errors; profile in ${profileDir}`);
  // The tail at few connections (the one-connection createTask p99 when tasks end at once).
  const ms = (p: number) => percentile(result.latencies, p).toFixed(3);
  console.log(`latency: p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms, p99.9 ${ms(0.999)} ms, max ${ms(1)} ms`);
  console.log(
    `per request (${sent} answered): upstream createTask ${((upAfter.createTask - upBefore.createTask) / sent).toFixed(2)}, recordInfo ${((upAfter.recordInfo - upBefore.recordInfo) / sent).toFixed(2)}`,
  );
  for (const [sql, n] of sqlAfter
    .map(([sql, n]) => [sql, n - (sqlBefore.get(sql) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])) {
    console.log(`  ${(n / sent).toFixed(2)} × ${sql.length > 150 ? `${sql.slice(0, 150)}…` : sql}`);
  }
  printProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, 40);
  const allocations = topAllocations(JSON.parse(readFileSync(heapFile, 'utf8')) as HeapProfile);
  const perRequest = (bytes: number) => `${(bytes / (heapRun.ok + heapRun.errors) / 1024).toFixed(1)} KB/request`;
  console.log(`allocations (sampled, ${perRequest(allocations.reduce((a, r) => a + r.bytes, 0) / allocations.reduce((a, r) => a + r.share, 0))} in all):`);
  for (const row of allocations) console.log(`${(row.share * 100).toFixed(1).padStart(5)}%  ${perRequest(row.bytes).padStart(16)}  ${row.name}  ${row.where}`);
} finally {
  if (shared) await Promise.all([shared[0].close('lxg-profile'), shared[1].drop()]);
  await upstream.stop();
  rmSync(tmpDir, { recursive: true, force: true });
  removeBuild();
}
