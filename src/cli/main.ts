#!/usr/bin/env node
// The `liangxin-gateway` command. Thin by design: parse, call a factory, print.
import { Command } from 'commander';
import { registerCreateCommand } from './create.js';
import { EXIT_CODES_HELP, ExitCode } from './exit.js';
import { registerGetCommand } from './get.js';
import { registerMockCommand } from './mock.js';
import { registerModelsCommand } from './models.js';
import { registerServeCommand } from './serve.js';
import { registerSimulateCommand } from './simulate.js';
import { registerStartCommand } from './start.js';

const program = new Command()
  .name('liangxin-gateway')
  .description('Contract, client, simulator and multi-tenant gateway for the LiangXin task API')
  .version('0.1.0')
  .showHelpAfterError()
  // Commander exits 1 on a usage error; here 1 means "the API refused", so usage errors get 2.
  // Set before the commands are added: subcommands inherit it.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage))
  .addHelpText(
    'after',
    `${EXIT_CODES_HELP}

Environment:
  LIANGXIN_BASE_URL  default for --base-url (otherwise http://127.0.0.1:8080)
  LIANGXIN_API_KEY   default for --api-key`,
  );

registerStartCommand(program);
registerServeCommand(program);
registerModelsCommand(program);
registerCreateCommand(program);
registerGetCommand(program);
registerSimulateCommand(program);
registerMockCommand(program);

await program.parseAsync(process.argv);
