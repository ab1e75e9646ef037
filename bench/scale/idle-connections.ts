// Many idle keep-alive connections: a fresh embedded gateway, N sockets each sending one request
// and then staying open, idle (as clients behind a pool or a load balancer keep them); the
// gateway's RSS before and with them, then fresh requests on a new connection while they are
// held: answered (errors) and how fast (p99).
import { connect, type Socket } from 'node:net';
import { rawRequest, runLoad, percentile } from '../load.js';
import { memoryOf } from '../processes/spawn.js';
import { startGatewayChild } from '../scenarios/gateway-embedded.js';
import type { BenchEnv } from '../scenarios/types.js';
import { OPEN_TASK_BODY, TENANT_KEY } from '../scenarios/workload.js';

export interface IdleFigure {
  connections: number;
  /** Connections still open when the fresh requests ran. */
  held: number;
  rssStartMb: number;
  rssHeldMb: number;
  freshRequests: number;
  freshErrors: number;
  freshP99Ms: number;
}

const BATCH = 250;

/** One request on a new socket; resolves with the socket, open, once its answer has come. */
function openIdle(url: URL, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => socket.write(request));
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.on('data', () => undefined); // idle from now on
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

export async function measureIdleConnections(env: BenchEnv): Promise<IdleFigure> {
  const connections = env.settings.mode === 'quick' ? 1000 : 5000;
  const { child } = await startGatewayChild(env, 'gateway-idle');
  const sockets: Socket[] = [];
  try {
    const rssStart = memoryOf(child.pid).rssMb;
    const url = new URL(child.url);
    const request = rawRequest('GET', child.url, '/api/v1/jobs/recordInfo?taskId=gt_none', { authorization: `Bearer ${TENANT_KEY}` });
    for (let i = 0; i < connections; i += BATCH) {
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, connections - i) }, () => openIdle(url, request)))));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssHeld = memoryOf(child.pid).rssMb;
    const create = rawRequest('POST', child.url, '/api/v1/jobs/createTask', { authorization: `Bearer ${TENANT_KEY}` }, OPEN_TASK_BODY);
    const fresh = await runLoad({ url: child.url, connections: 1, warmupMs: 100, durationMs: env.settings.latencyMs, request: () => create, minAnswers: 20 });
    return {
      connections,
      held: sockets.filter((s) => !s.destroyed).length,
      rssStartMb: rssStart,
      rssHeldMb: rssHeld,
      freshRequests: fresh.ok + fresh.errors,
      freshErrors: fresh.errors,
      freshP99Ms: percentile(fresh.latencies, 0.99),
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await child.stop();
  }
}
