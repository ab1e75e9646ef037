// recordInfo of final tasks with many stored: bulk-load clones of a final task into the embedded
// gateway's file (after the interleaved rounds, so they are not affected), then read random ones
// among all of them, alternating with the upstream alone to take the added latency per round.
import SqliteDatabase from 'better-sqlite3';
import { encodeCursor } from '../../src/gateway/tasks/list.js';
import { rawRequest } from '../load.js';
import { latencyRun, median } from '../measure.js';
import type { ScenarioTarget } from '../scenarios/types.js';
import type { Settings } from '../settings.js';
import { cloneTask } from './bulk-insert.js';

export interface StoredTasksFigure {
  storedTasks: number;
  insertSeconds: number;
  p50Ms: number;
  p99Ms: number;
  addedP50Ms: number;
  addedP99Ms: number;
  errors: number;
  /** GET /api/v1/jobs/list (50 a page) of the tenant holding every stored task: its first page, and one from the middle by cursor. */
  list?: { firstP50Ms: number; firstP99Ms: number; deepP50Ms: number; deepP99Ms: number; errors: number };
}

/** The first page of the tenant's tasks, and one deep in them (the cursor of the middle clone). */
async function measureList(gateway: ScenarioTarget, bulk: { prefix: string; inserted: number }, template: string, sqlitePath: string, settings: Settings) {
  const db = new SqliteDatabase(sqlitePath, { readonly: true });
  let createdAt: number;
  try {
    createdAt = Number((db.prepare('select created_at from tasks where task_id = ?').get(template) as { created_at: number }).created_at);
  } finally {
    db.close();
  }
  const deep = encodeCursor({ createdAt, taskId: `${bulk.prefix}${Math.floor(bulk.inserted / 2)}` });
  const first = await latencyRun(gateway.url, () => rawRequest('GET', gateway.url, '/api/v1/jobs/list?limit=50', gateway.headers), settings);
  const later = await latencyRun(gateway.url, () => rawRequest('GET', gateway.url, `/api/v1/jobs/list?limit=50&cursor=${deep}`, gateway.headers), settings);
  return { firstP50Ms: first.p50Ms, firstP99Ms: first.p99Ms, deepP50Ms: later.p50Ms, deepP99Ms: later.p99Ms, errors: first.errors + later.errors };
}

export async function measureStoredTasks(upstream: ScenarioTarget, gateway: ScenarioTarget, settings: Settings): Promise<StoredTasksFigure> {
  if (!gateway.sqlitePath) throw new Error('bench: the stored-tasks figure needs a gateway on an SQLite file');
  const bulk = await cloneTask(gateway.sqlitePath, gateway.tasks.final[0]!, settings.storedTasks);
  const path = (taskId: string) => `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`;
  const random = () => `${bulk.prefix}${1 + Math.floor(Math.random() * bulk.inserted)}`;
  const gatewayRequest = () => rawRequest('GET', gateway.url, path(random()), gateway.headers);
  const finals = upstream.tasks.final;
  const upstreamRequest = (i: number) => rawRequest('GET', upstream.url, path(finals[i % finals.length]!), upstream.headers);

  type Run = Awaited<ReturnType<typeof latencyRun>>;
  const rounds: Array<{ base: Run; gw: Run }> = [];
  for (let r = 0; r < settings.scaleRounds; r++) {
    const runBase = () => latencyRun(upstream.url, upstreamRequest, settings);
    const runGateway = () => latencyRun(gateway.url, gatewayRequest, settings);
    // Alternate which goes first, as the main rounds rotate.
    let base: Run;
    let gw: Run;
    if (r % 2 === 0) {
      base = await runBase();
      gw = await runGateway();
    } else {
      gw = await runGateway();
      base = await runBase();
    }
    rounds.push({ base, gw });
  }
  const list = await measureList(gateway, bulk, gateway.tasks.final[0]!, gateway.sqlitePath, settings);
  return {
    list,
    storedTasks: bulk.storedTasks,
    insertSeconds: bulk.seconds,
    p50Ms: median(rounds.map((r) => r.gw.p50Ms)),
    p99Ms: median(rounds.map((r) => r.gw.p99Ms)),
    addedP50Ms: median(rounds.map((r) => r.gw.p50Ms - r.base.p50Ms)),
    addedP99Ms: median(rounds.map((r) => r.gw.p99Ms - r.base.p99Ms)),
    errors: rounds.reduce((n, r) => n + r.gw.errors + r.base.errors, 0),
  };
}
