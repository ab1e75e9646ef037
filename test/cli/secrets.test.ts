// `serve` as an operator runs it, with secrets in play (issue 13, items 9 and 11): a PostgreSQL
// store URL with a password and provider callbacks carrying their tasks' tokens. Everything the
// process writes (banner, request log, shutdown) is searched for both; and with ops.listen the
// banner says where /readyz and /metrics went.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { createLiangxinClient } from '../../src/client/index.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { runCli } from './run-cli.js';
import { pollUntil } from '../helpers/wait.js';

const KEY = 'lxg_test_secrets_0123456789abcdef';
let sim: RunningSimulator | undefined;
let gateway: GatewayProcess | undefined;
let pg: FreshPostgres | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gateway?.kill('SIGKILL');
  await sim?.close();
  await pg?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
  sim = gateway = pg = dir = undefined;
});

/** Polls until `probe` holds; the ceiling is generous (a busy machine is slow, never wrong). */
/** Polls until the probe gives a value (the suite's one ceiling: never the machine's speed). */
const until = pollUntil;

/** DATABASE_URL on a fresh schema, with its own password or one made up (a trusting server ignores it). */
function withPassword(url: string, fallback: string): { url: string; password: string } {
  const parsed = new URL(url);
  parsed.password ||= fallback;
  return { url: parsed.toString(), password: decodeURIComponent(parsed.password) };
}

describe('serve keeps its secrets', () => {
  it('prints the store URL without its password and logs callbacks without their tokens', async () => {
    pg = await freshPostgres();
    const store = withPassword(pg.url, 'Serve-Secret-pw-42');
    sim = await createSimulator({ timing: 'fast' }); // its default account: sk-sim-dev
    gateway = await spawnGateway(
      {
        listen: { host: '127.0.0.1', port: 0 },
        store: store.url,
        upstream: { baseUrl: sim.url, keys: [{ id: 'sim', apiKey: 'sk-sim-dev' }] },
        tenants: [{ id: 'acme', apiKeys: [KEY] }],
        ops: { listen: { host: '127.0.0.1', port: 0 } },
        log: { level: 'info' },
      },
      { timeoutMs: 60_000 },
    );
    const banner = gateway
      .output()
      .split('\n')
      .find((line) => line.includes('listening on'))!;
    expect(banner).toMatch(/store postgres(ql)?:\/\/[^:@/]*:\*\*\*@/);
    const opsUrl = /\/readyz and \/metrics on (http:\/\/\S+?)\)?$/.exec(banner)?.[1];
    expect(opsUrl, banner).toBeDefined();

    const client = createLiangxinClient({ baseUrl: gateway.url, apiKey: KEY });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.createTask({ model: 'z-image', input: { prompt: `x${i}`, aspect_ratio: '1:1' } })).taskId);
    const callbacks = await until('every provider callback answered', () => {
      // The simulator names the provider's id; the callback URL the gateway gave it names the gateway's.
      const done = sim!.callbacks.filter((c) => ids.some((id) => c.url.includes(`/${id}/`)) && c.status === 200);
      return done.length === ids.length && done;
    });
    await until('the callbacks in the request log', () => gateway!.output().split('/callbacks/liangxin/[redacted]').length - 1 >= ids.length);

    // /metrics (tenant names) moved to the ops listener.
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
    expect(await (await fetch(`${opsUrl}/metrics`)).text()).toContain('tenant="acme"');

    await gateway.kill('SIGTERM');
    const output = gateway.output();
    expect(output).toContain('SIGTERM: stopping the gateway');
    expect(output).not.toContain(store.password);
    expect(output).not.toContain(encodeURIComponent(store.password));
    for (const { url } of callbacks) expect(output).not.toContain(url.slice(url.lastIndexOf('/') + 1));
  });

  it('stops start-up without printing the password, even one WHATWG URL cannot read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lxg-secrets-'));
    const path = join(dir, 'gateway.yaml');
    const password = 'Start#up-Secret-pw';
    await writeFile(
      path,
      stringify({ store: `postgres://gateway:${password}@127.0.0.1:1/gateway`, upstream: { baseUrl: 'http://127.0.0.1:1', keys: [{ id: 'a', apiKey: 'k' }] } }),
    );
    const result = await runCli(['serve', '--config', path], { timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: store postgres:\/\/gateway:\*\*\*@127\.0\.0\.1:1\/gateway could not be opened: /);
    expect(result.stdout + result.stderr).not.toContain('Secret-pw');
  });
});
