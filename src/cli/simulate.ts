// `liangxin-gateway simulate`: the stateful simulator (tasks that progress, fail, call back,
// run out of credits) on a port, until Ctrl+C.
import { Option, type Command } from 'commander';
import type { SimulatorAccount, TimingName } from '../../mock/simulator/options.js';
import { reportError } from './exit.js';
import { closeOnSignal } from './lifecycle.js';
import { collect, parseNonNegativeInteger, parsePort } from './options.js';
import { printJson, printLines } from './output.js';
import { quickStartLines } from './quickstart.js';
import { startSimulator } from './servers.js';

interface SimulateOptions {
  port: number;
  host: string;
  timing: TimingName;
  apiKey: string;
  credits?: number;
  hmacKey?: string;
  quirk: string[];
  allowCallbackHost: string[];
  dialect: 'liangxin' | 'market';
  json: boolean;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run the stateful LiangXin simulator (tasks progress, fail, call back) until Ctrl+C')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', parsePort, 4011)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--timing <preset>', 'how long tasks take').choices(['fast', 'demo', 'realistic']).default('fast'))
    .option('--api-key <key>', "the account's API key", 'sk-sim-dev')
    .option('--credits <n>', "the account's credits (1 credit = USD 0.005; default 1,000,000)", parseNonNegativeInteger)
    .option('--hmac-key <key>', 'sign callbacks (X-Webhook-Signature) with this key')
    .option('--quirk <quirk>', 'misbehave, e.g. fail, slow=500, error=402, http=503, callback=late (repeatable)', collect, [])
    .option('--allow-callback-host <host>', "deliver callbacks to this host too, not only to this machine's (repeatable; '*' for any)", collect, [])
    .addOption(
      new Option('--dialect <name>', "the account's API: LiangXin's, or the public Market API it re-brands")
        .choices(['liangxin', 'market'])
        .default('liangxin'),
    )
    .option('--json', 'print {"baseUrl","apiKey"} as one JSON line', false)
    .action(async (options: SimulateOptions) => {
      const account: SimulatorAccount = {
        apiKey: options.apiKey,
        ...(options.credits !== undefined ? { credits: options.credits } : {}),
        ...(options.hmacKey !== undefined ? { hmacKey: options.hmacKey } : {}),
        ...(options.quirk.length > 0 ? { quirks: options.quirk } : {}),
        dialect: options.dialect,
      };
      try {
        const allowCallbackHosts = options.allowCallbackHost;
        const simulator = await startSimulator({
          port: options.port,
          host: options.host,
          timing: options.timing,
          accounts: [account],
          allowCallbackHosts,
          dialect: options.dialect,
        });
        closeOnSignal('simulator', () => simulator.close());
        if (options.json) return printJson({ baseUrl: simulator.url, apiKey: options.apiKey });
        printLines([
          `LiangXin simulator at ${simulator.url} (timing: ${options.timing})`,
          `API key: ${options.apiKey}${options.quirk.length > 0 ? `  (quirks: ${options.quirk.join(', ')})` : ''}`,
          `Callbacks: to this machine only${allowCallbackHosts.length > 0 ? ` and ${allowCallbackHosts.join(', ')}` : ' (--allow-callback-host HOST for others)'}`,
          '',
          `Try: ${quickStartLines(simulator.url, options.apiKey).cli.create}`,
          '',
          'Press Ctrl+C to stop.',
        ]);
      } catch (error) {
        reportError(error);
      }
    });
}
