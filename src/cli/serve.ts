// `liangxin-gateway serve --config FILE`: the gateway, as configured, until SIGTERM/SIGINT
// (then it drains: requests in flight finish, new ones are refused, the store is closed).
import type { Command } from 'commander';
import { CliError, ExitCode, reportError } from './exit.js';
import { closeOnSignal } from './lifecycle.js';
import { startGateway } from './servers.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the multi-tenant gateway described by a YAML config (see examples/gateway.yaml)')
    .requiredOption('-c, --config <file>', 'the gateway config (YAML; ${ENV} and ${ENV:-fallback} are expanded)')
    .action(async (options: { config: string }) => {
      try {
        const { ConfigError, loadConfigFile, publicUrlOf } = await import('../config/index.js');
        let config;
        try {
          config = loadConfigFile(options.config);
        } catch (error) {
          if (error instanceof ConfigError) throw new CliError(`invalid config ${error.message}`, ExitCode.usage);
          throw error;
        }
        const gateway = await startGateway(config);
        closeOnSignal('gateway', () => gateway.close());
        process.stdout.write(
          `liangxin-gateway listening on ${gateway.url} (public ${publicUrlOf(config)}; store ${config.store}; ` +
            `${config.upstream.keys.length} provider key(s), ${config.tenants.length} tenant(s) from the config` +
            `${config.admin ? '; admin API on /admin/v1' : ''})\n`,
        );
      } catch (error) {
        reportError(error);
      }
    });
}
