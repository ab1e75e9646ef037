// What `simulate` and `start` run, behind small factories so the commands only print. `start`
// prints whatever base URL its stack answers on: today the simulator, later the gateway in front.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { SimulatorOptions } from '../../mock/simulator/options.js';
import type { Config } from '../config/index.js';
import type { ReloadOutcome } from '../gateway/reload.js';
import { CliError, ExitCode } from './exit.js';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Where a listener's address is set, for the hint: a flag, or a config key. */
interface ListenSetting {
  port: number | undefined;
  /** `--port`, or `listen.port`. */
  portName: string;
  hostName: string;
}

const FLAGS: ListenSetting = { port: undefined, portName: '--port', hostName: '--host' };

/** Turns a failed start into a line that says what to change. */
function startError(error: unknown, what: string, where: ListenSetting): CliError {
  const code = (error as { code?: unknown }).code;
  const port = where.port;
  if (code === 'EADDRINUSE') return new CliError(`port ${port} is in use; pick another with ${where.portName} (0 picks a free one)`, ExitCode.usage);
  if (code === 'EACCES') return new CliError(`not allowed to listen on port ${port}; pick another with ${where.portName}`, ExitCode.usage);
  if (code === 'EADDRNOTAVAIL') return new CliError(`cannot listen on that address; pick another with ${where.hostName}`, ExitCode.usage);
  if (code === 'BAD_QUIRK') return new CliError((error as Error).message, ExitCode.usage);
  return new CliError(`could not start the ${what}: ${(error as Error).message ?? String(error)}`, ExitCode.refused);
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningServer> {
  // Loaded here so the other commands do not load the simulator.
  const { createSimulator } = await import('../../mock/simulator/index.js');
  try {
    return await createSimulator(options);
  } catch (error) {
    throw startError(error, 'simulator', { ...FLAGS, port: options.port });
  }
}

/** A development key: recognisable (`sk-dev-`), and unguessable enough for a local port. */
export function generateDevKey(): string {
  return `sk-dev-${randomBytes(12).toString('hex')}`;
}

export interface QuickStartStack {
  baseUrl: string;
  apiKey: string;
  /** Signs the gateway's callbacks to this tenant (Standard Webhooks); verify with verifyGatewayWebhook. */
  webhookSecret: string;
  /** What is answering at baseUrl, for the banner. */
  description: string;
  /** The operator's dashboard, signed in with adminToken. */
  dashboardUrl: string;
  adminToken: string;
  close(): Promise<void>;
}

export interface RunningGatewayServer extends RunningServer {
  /** Where /readyz and /metrics are served when the config gives them a listener (ops.listen). */
  opsUrl?: string;
  /** Reads the config file again (serve's SIGHUP); see src/gateway/reload.ts. */
  reload(): Promise<ReloadOutcome>;
}

/** The gateway of a config on its store: what `serve` runs, and the front of the quick start. */
/** `portFromFlags`/`hostFromFlags`: the listen address came from --port/--host, so a failure names those. */
/** `loadConfig`: reads the config file again, for reload. */
export async function startGateway(
  config: Config,
  options: { portFromFlags?: boolean; hostFromFlags?: boolean; loadConfig?: () => Config } = {},
): Promise<RunningGatewayServer> {
  const [{ openStore }, { createGateway }, { listenGateway }] = await Promise.all([
    import('../store/index.js'),
    import('../gateway/index.js'),
    import('../gateway/server.js'),
  ]);
  const store = await openStore(config.store);
  let gateway: Awaited<ReturnType<typeof createGateway>> | undefined;
  let where: ListenSetting = {
    port: config.listen.port,
    portName: options.portFromFlags ? FLAGS.portName : 'listen.port (or serve --port)',
    hostName: options.hostFromFlags ? FLAGS.hostName : 'listen.host (or serve --host)',
  };
  // Closed in this order: the tenant listener drains (and closes the gateway), then the ops one.
  const listeners: Array<Awaited<ReturnType<typeof listenGateway>>> = [];
  try {
    gateway = await createGateway(config, { store, loadConfig: options.loadConfig });
    const built = gateway;
    listeners.push(await listenGateway(gateway, config.listen));
    if (config.ops.listen) {
      where = { port: config.ops.listen.port, portName: 'ops.listen.port', hostName: 'ops.listen.host' };
      listeners.push(await listenGateway(gateway.ops, config.ops.listen));
    }
    return {
      url: listeners[0]!.url,
      opsUrl: listeners[1]?.url,
      reload: () => built.reload(),
      async close() {
        for (const listener of listeners) await listener.close();
        await store.close();
      },
    };
  } catch (error) {
    // Its workers and connections would keep the process alive after the error is reported.
    for (const listener of listeners) await listener.close({ graceMs: 0 });
    if (listeners.length === 0) await gateway?.close();
    await store.close();
    throw startError(error, 'gateway', where);
  }
}

/** Where the quick start keeps its records: a throwaway file, emptied at every start. */
const QUICK_START_STORE = './.data/quickstart.db';

export async function startQuickStartStack(options: { port: number; host: string }): Promise<QuickStartStack> {
  const apiKey = generateDevKey();
  const upstreamKey = generateDevKey();
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const adminToken = `adm-dev-${randomBytes(16).toString('hex')}`;
  const { isLoopbackHost, parseConfig } = await import('../config/index.js');
  // The provider, offline: the simulator on a free port, playing one account the gateway holds.
  // It calls back the gateway's URL, whose host is --host (0.0.0.0 in a container): allowed.
  const allowCallbackHosts = isLoopbackHost(options.host) ? [] : [options.host];
  const simulator = await startSimulator({ port: 0, host: '127.0.0.1', timing: 'demo', accounts: [{ apiKey: upstreamKey }], allowCallbackHosts });
  try {
    await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${QUICK_START_STORE}${suffix}`, { force: true })));
    const config = parseConfig({
      listen: { host: options.host, port: options.port },
      store: `sqlite:${QUICK_START_STORE}`,
      upstream: { baseUrl: simulator.url, keys: [{ id: 'simulator', apiKey: upstreamKey }] },
      tenants: [{ id: 'dev', apiKeys: [apiKey], webhookSecret }],
      // A local development stack: callbacks to receivers on this machine are fine.
      callbacks: { allowHttp: true, allowHosts: ['localhost', '127.0.0.1', '::1'] },
      log: { level: 'warn' },
      // The admin API and its dashboard (/dashboard/), with a fresh token printed in the banner.
      admin: { token: adminToken },
      // Listening beyond this machine (--host 0.0.0.0, in a container): /readyz and /metrics stay on loopback.
      ...(isLoopbackHost(options.host) ? {} : { ops: { listen: { host: '127.0.0.1', port: 0 } } }),
    });
    const gateway = await startGateway(config, { portFromFlags: true, hostFromFlags: true });
    const ops = gateway.opsUrl ? `, /readyz and /metrics on ${gateway.opsUrl}` : '';
    return {
      baseUrl: gateway.url,
      apiKey,
      webhookSecret,
      dashboardUrl: `${gateway.url}/dashboard/`,
      adminToken,
      description: `liangxin-gateway (tenant "dev", embedded store ${QUICK_START_STORE}${ops}) in front of the LiangXin simulator (timing: demo)`,
      async close() {
        await gateway.close();
        await simulator.close();
      },
    };
  } catch (error) {
    await simulator.close();
    throw error;
  }
}
