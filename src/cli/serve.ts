// `liangxin-gateway serve --config FILE`: the gateway, as configured, until SIGTERM/SIGINT
// (then it drains: requests in flight finish, new ones are refused, the store is closed).
// SIGHUP reads the file again and applies what can change in place (src/gateway/reload.ts); a
// bad file is reported on stderr and the running config kept.
import type { Command } from 'commander';
import type { Config } from '../config/index.js';
import { upstreamsOf } from '../config/upstreams.js';
import { redactUrl } from '../store/url.js';
import { CliError, ExitCode, reportError } from './exit.js';
import { closeOnSignal } from './lifecycle.js';
import { parsePort } from './options.js';
import { startGateway, type RunningGatewayServer } from './servers.js';

/** What is running, in one line; the store URL without its password (an operator's log keeps this line). */
export function banner(config: Config, publicUrl: string, gateway: RunningGatewayServer): string {
  const upstreams = upstreamsOf(config);
  const keys = upstreams.reduce((n, u) => n + u.keys.length, 0);
  const ops = gateway.opsUrl ? `/readyz and /metrics on ${gateway.opsUrl}` : '/readyz and /metrics here';
  return (
    `liangxin-gateway listening on ${gateway.url} (public ${publicUrl}; store ${redactUrl(config.store)}; ` +
    `${keys} provider key(s)${upstreams.length > 1 ? ` on ${upstreams.length} upstreams` : ''}, ${config.tenants.length} tenant(s) from the config` +
    `${config.admin ? '; admin API on /admin/v1' : ''}; ${ops}${config.ops.token ? ' (ops token required)' : ''})`
  );
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the multi-tenant gateway described by a YAML config (see examples/gateway.yaml)')
    .requiredOption('-c, --config <file>', 'the gateway config (YAML; ${ENV} and ${ENV:-fallback} are expanded)')
    .option('-p, --port <port>', 'port to listen on, instead of listen.port (0 picks a free one)', parsePort)
    .option('--host <host>', 'address to listen on, instead of listen.host')
    .action(async (options: { config: string; port?: number; host?: string }) => {
      try {
        const { ConfigError, loadConfigFile, publicUrlOf } = await import('../config/index.js');
        let config: ReturnType<typeof loadConfigFile>;
        try {
          config = loadConfigFile(options.config, process.env, { host: options.host, port: options.port });
        } catch (error) {
          if (error instanceof ConfigError) throw new CliError(`invalid config ${error.message}`, ExitCode.usage);
          throw error;
        }
        const loadConfig = () => loadConfigFile(options.config, process.env, { host: options.host, port: options.port });
        const gateway = await startGateway(config, { portFromFlags: options.port !== undefined, hostFromFlags: options.host !== undefined, loadConfig });
        closeOnSignal('gateway', () => gateway.close());
        process.on('SIGHUP', () => {
          gateway.reload().then(
            (outcome) =>
              process.stderr.write(
                `SIGHUP: config reloaded${outcome.restartNeeded.length ? ` (a restart is needed for: ${outcome.restartNeeded.join(', ')})` : ''}\n`,
              ),
            (error: unknown) =>
              process.stderr.write(`SIGHUP: config not reloaded, the running one is kept: ${error instanceof Error ? error.message : String(error)}\n`),
          );
        });
        process.stdout.write(`${banner(config, publicUrlOf(config), gateway)}\n`);
      } catch (error) {
        reportError(error);
      }
    });
}
