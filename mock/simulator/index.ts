// A stateful LiangXin provider for development and tests: accounts with keys and credits, tasks
// that move through their states on a clock, real result files, signed callbacks, the provider's
// rate limits, and its quirks on demand (see options.ts). Library and command alike:
//
//   const sim = await createSimulator({ timing: 'fast' });   // listens on a free port
//   const client = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' });
//   ...
//   await sim.close();
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inputDefaults } from '../../src/spec/defaults.js';
import { createSpecValidator } from '../../src/spec/validator.js';
import { createAccounts, type AccountPatch, type AccountView } from './accounts.js';
import { createCallbackHostPolicy } from './callback-hosts.js';
import { createCallbackSender, type CallbackAttempt } from './callbacks.js';
import { control, summarizeTasks, type TaskSummary } from './control-api.js';
import { createDialects } from './dialect.js';
import { envelope, send, SERVER_TIMEOUTS } from './http.js';
import { TIMINGS, type SimulatorAccount, type SimulatorOptions, type Timing } from './options.js';
import { createTask, recordInfo, resultFile } from './provider-api.js';
import { BoundedCache, type SimulatorState } from './state.js';
import { recordAt } from './tasks.js';

export * from './options.js';
export type { AccountView, CallbackAttempt, TaskSummary };

export interface RunningSimulator {
  url: string;
  close(): Promise<void>;
  accounts(): AccountView[];
  addAccount(account: SimulatorAccount & { id?: string }): AccountView;
  updateAccount(id: string, patch: AccountPatch): AccountView;
  tasks(accountId?: string): TaskSummary[];
  /** How many createTask and recordInfo calls arrived, answered or refused. */
  counters(): { createTask: number; recordInfo: number; createTask429: number; recordInfo429: number };
  /** Every callback attempt so far, in the order they were answered. */
  callbacks: readonly CallbackAttempt[];
  setMaintenance(on: boolean): void;
  /** Makes a task's result files (every task's without an id) answer 404 from now on, as expired provider links do. */
  expireResults(taskId?: string): void;
}

function resolveTiming(timing: SimulatorOptions['timing']): Timing {
  if (timing === undefined || typeof timing === 'string') return { ...TIMINGS[timing ?? 'fast'] };
  return { ...TIMINGS.fast, ...timing };
}

export async function createSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const now = options.now ?? Date.now;
  const dialects = createDialects(createSpecValidator());
  const callbacks = createCallbackSender({
    now,
    payload: dialects.liangxin.callbackPayload,
    hosts: createCallbackHostPolicy(options.allowCallbackHosts),
    warn:
      options.warn ??
      ((line) =>
        void process.stderr.write(`${line}
`)),
  });
  const finalizers = new Set<NodeJS.Timeout>();

  const state: SimulatorState = {
    accounts: createAccounts(options.accounts),
    tasks: new Map(),
    timing: resolveTiming(options.timing),
    createPer10s: options.createPer10s ?? 20,
    recordInfoPerSecond: options.recordInfoPerSecond ?? 10,
    publicUrl: '',
    maintenance: options.maintenance ?? false,
    defaults: inputDefaults(),
    dialects,
    dialect: dialects[options.dialect ?? 'liangxin'],
    now,
    fileCache: new BoundedCache(500),
    expiredFiles: new Set(),
    counters: { createTask: 0, recordInfo: 0, createTask429: 0, recordInfo429: 0 },
    onCreated(task, account, quirks) {
      // An absent or empty callBackUrl ("", as clients of the public API send it) means no callback.
      const callBackUrl = task.body.callBackUrl || undefined;
      if (!task.willFail && !callBackUrl) return; // nothing happens at the end
      const delay = Math.max(0, task.endAt - now());
      if (task.willFail) {
        const timer = setTimeout(() => {
          finalizers.delete(timer);
          account.credits += task.credits; // a failed generation is not charged
        }, delay);
        finalizers.add(timer);
      }
      const dialect = dialects[account.dialect];
      if (callBackUrl) {
        // The records are made when sent, not now: most tasks of a long run never get there.
        callbacks.schedule(
          {
            url: callBackUrl,
            record: () => recordAt(task, task.endAt, { publicUrl: state.publicUrl, noFailure: dialect.noFailure }),
            staleRecord: () => recordAt(task, task.generatingAt, { publicUrl: state.publicUrl, noFailure: dialect.noFailure, state: 'generating' }),
            hmacKey: account.hmacKey,
            quirks: quirks.callback,
            payload: dialect.callbackPayload,
          },
          delay,
          state.timing.lateCallbackMs,
        );
      }
    },
  };

  const server = createServer(SERVER_TIMEOUTS, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const route = `${req.method} ${url.pathname}`;
    const handle = async () => {
      if (route === 'POST /api/v1/jobs/createTask') {
        state.counters.createTask++;
        return createTask(state, req, res);
      }
      if (route === 'GET /api/v1/jobs/recordInfo') {
        state.counters.recordInfo++;
        return recordInfo(state, req, res, url);
      }
      const file = /^GET \/files\/([^/]+)\/([^/]+)$/.exec(route);
      if (file) return resultFile(state, res, decodeURIComponent(file[1]!), decodeURIComponent(file[2]!));
      if (url.pathname.startsWith('/_simulator/')) return control(state, callbacks.log, req, res, url);
      envelope(res, 404, 404, `No route ${route}`);
    };
    handle().catch((error: unknown) => {
      // A caller that went away mid-request is not the simulator's fault: nothing to answer.
      if (req.destroyed || (error as Error).message === 'aborted') return void res.destroy();
      // A bug in the simulator must show, but as an answer, not a dead server.
      console.error('simulator: unexpected error', error);
      if (!res.headersSent) send(res, 500, { code: 500, msg: 'Simulator error', data: null });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  state.publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');

  return {
    url,
    callbacks: callbacks.log,
    accounts: () => state.accounts.list(),
    addAccount: (account) => state.accounts.list().find((a) => a.id === state.accounts.add(account).id)!,
    updateAccount(id, patch) {
      const account = state.accounts.update(id, patch);
      if (!account) throw new Error(`simulator: no account ${id}`);
      return state.accounts.list().find((a) => a.id === id)!;
    },
    tasks: (accountId) => summarizeTasks(state, accountId),
    counters: () => ({ ...state.counters }),
    setMaintenance(on) {
      state.maintenance = on;
    },
    expireResults(taskId) {
      state.expiredFiles.add(taskId ?? '*');
    },
    async close() {
      callbacks.close();
      for (const timer of finalizers) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
