// How long a key revoked on one instance is still accepted by another: two gateway children on
// one PostgreSQL schema (and one Redis when there is one: pub/sub, else LISTEN/NOTIFY), each
// caching tenant keys. Per sample: a key issued on A and used once on B (so B has it cached),
// then revoked on A; from A's answer, B is asked with it back to back until it refuses. The
// target: p99 ≤ 100 ms. Skipped, saying why, without PostgreSQL.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { percentile } from '../load.js';
import { freshBenchSchema, type BenchSchema } from '../processes/postgres.js';
import { startBenchRedis, Unavailable } from '../processes/redis.js';
import { gatewayConfig, startGatewayChild } from '../scenarios/gateway-embedded.js';
import type { BenchEnv } from '../scenarios/types.js';

export type RevocationFigure =
  | { skipped: string }
  | { samples: number; bus: 'redis' | 'postgres'; p50Ms: number; p99Ms: number; maxMs: number; stillAcceptedP99: number };

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const GIVE_UP_MS = 30_000;

export async function measureRevocation(env: BenchEnv): Promise<RevocationFigure> {
  const samples = env.settings.mode === 'quick' ? 20 : 200;
  let schema: BenchSchema;
  try {
    schema = await freshBenchSchema();
  } catch (error) {
    if (error instanceof Unavailable) return { skipped: error.message };
    throw error;
  }
  const redis = await startBenchRedis().catch((error: unknown) => (error instanceof Unavailable ? undefined : Promise.reject(error)));
  const prefix = `lxg-bench-revoke-${randomBytes(3).toString('hex')}`;
  const config = { ...gatewayConfig(env, schema.url), admin: { token: ADMIN_TOKEN }, ...(redis ? { redis: { url: redis.url, prefix } } : {}) };
  const children = [];
  const pools: Pool[] = [];
  try {
    for (const name of ['gateway-revoke-a', 'gateway-revoke-b']) children.push((await startGatewayChild(env, name, { config })).child);
    const [a, b] = children.map((child) => new Pool(child.url, { connections: 2 }));
    pools.push(a!, b!);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const use = async (pool: Pool, secret: string) => {
      const { statusCode, body } = await pool.request({
        method: 'GET',
        path: '/api/v1/jobs/recordInfo?taskId=gt_none',
        headers: { authorization: `Bearer ${secret}` },
      });
      await body.dump();
      return statusCode;
    };
    const latencies: number[] = [];
    const accepted: number[] = [];
    for (let i = 0; i < samples; i++) {
      const issued = await a!.request({ method: 'POST', path: '/admin/v1/tenants/bench/keys', headers: admin, body: JSON.stringify({ label: `revoke-${i}` }) });
      const { data } = (await issued.body.json()) as { data: { id: string; secret: string } };
      if ((await use(b!, data.secret)) === 401) throw new Error('bench: B refused a key A just issued');
      const revoked = await a!.request({ method: 'DELETE', path: `/admin/v1/tenants/bench/keys/${data.id}`, headers: admin });
      await revoked.body.dump();
      const from = performance.now();
      let stillAccepted = 0;
      while ((await use(b!, data.secret)) !== 401) {
        stillAccepted++;
        if (performance.now() - from > GIVE_UP_MS) throw new Error(`bench: B still accepted a key revoked on A ${GIVE_UP_MS / 1000} s later`);
      }
      latencies.push(performance.now() - from);
      accepted.push(stillAccepted);
    }
    const sorted = Float64Array.from(latencies).sort();
    return {
      samples,
      bus: redis ? 'redis' : 'postgres',
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: percentile(sorted, 1),
      stillAcceptedP99: percentile(Float64Array.from(accepted).sort(), 0.99),
    };
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await Promise.all(children.map((child) => child.stop()));
    await redis?.close(prefix);
    await schema.drop().catch(() => undefined);
  }
}
