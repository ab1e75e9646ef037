// The store alone, one task at a time (insert, confirm, final update with its delivery: what a
// createTask whose task ends at once writes), for the tail that a one-connection createTask
// shows: per-task latency p50/p99/p99.9/max and the slow ones by task number, so a stall that
// recurs at the same count (the file or its WAL growing) tells itself from the machine's noise.
//   npx tsx bench/store-tail.ts [tasks=20000] [file|memory]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';

const [tasksArg = '20000', where = 'file'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const dir = mkdtempSync(join(tmpdir(), 'lxg-store-tail-'));
const store = await openStore(where === 'memory' ? 'sqlite::memory:' : `sqlite:${join(dir, 'gateway.db')}`);
await store.upsertTenant({ id: 't', models: null, disabled: false, source: 'config' }, 0);
const param = JSON.stringify({ model: 'z-image', input: { prompt: 'A lighthouse at dawn, volumetric light, 35 mm', aspect_ratio: '16:9' } });
const record = JSON.stringify({
  taskId: 'x',
  model: 'z-image',
  state: 'success',
  param,
  resultJson: JSON.stringify({ resultUrls: ['https://example.org/a.png'] }),
  failCode: null,
  failMsg: null,
  costTime: 1,
  completeTime: 1,
  createTime: 1,
  updateTime: 1,
});
const times: number[] = [];
const slow: string[] = [];
try {
  for (let i = 0; i < tasks; i++) {
    const started = performance.now();
    const id = `gt_${i.toString().padStart(12, '0')}`;
    await store.insertTask({
      taskId: id,
      gatewayTaskId: id,
      tenantId: 't',
      upstreamKeyId: 'k',
      model: 'z-image',
      callBackUrl: null,
      state: 'sending',
      record: null,
      param,
      createdAt: i,
      updatedAt: 0,
      finalAt: null,
      slotId: id,
      estimatedCostMicros: 4000,
      actualCostMicros: null,
      callbackTokenHash: 'a'.repeat(64),
      nextCheckAt: 1e12,
      checks: 0,
    });
    await store.confirmTask(id, { providerTaskId: `task_${i}`, upstreamKeyId: 'k', nextCheckAt: 1e12 });
    await store.updateTask(
      id,
      { state: 'success', record, updatedAt: i + 1, finalAt: i + 1, actualCostMicros: 4000 },
      { id: `msg_${i}`, tenantId: 't', url: 'https://example.org/cb', payload: record, createdAt: i },
    );
    const ms = performance.now() - started;
    times.push(ms);
    if (ms > 5) slow.push(`${i}:${ms.toFixed(1)}`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const at = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))]!.toFixed(3);
console.log(`${tasks} tasks (${where}): p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, p99.9 ${at(0.999)} ms, max ${at(1)} ms`);
console.log(`over 5 ms: ${slow.length} (task:ms) ${slow.slice(0, 40).join(' ')}`);
