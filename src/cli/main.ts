#!/usr/bin/env node
// The `liangxin-gateway` command. Thin by design: parse, call a factory, print.
import { Command } from 'commander';
import { registerMockCommand } from './mock.js';

const program = new Command()
  .name('liangxin-gateway')
  .description('Contract, client, simulator and multi-tenant gateway for the LiangXin task API')
  .version('0.1.0')
  .showHelpAfterError();

registerMockCommand(program);

await program.parseAsync(process.argv);
