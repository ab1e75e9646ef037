// `liangxin-gateway start` (what `npm start` runs): a local stack with a fresh key, and lines to
// paste that create a task and read it back.
import type { Command } from 'commander';
import { reportError } from './exit.js';
import { closeOnSignal } from './lifecycle.js';
import { parsePort } from './options.js';
import { printJson, printLines } from './output.js';
import { quickStartLines } from './quickstart.js';
import { startQuickStartStack, type QuickStartStack } from './servers.js';

export function formatQuickStart(stack: QuickStartStack): string[] {
  const lines = quickStartLines(stack.baseUrl, stack.apiKey);
  return [
    `Running ${stack.description}.`,
    '',
    `  Base URL:  ${stack.baseUrl}`,
    `  API key:   ${stack.apiKey}`,
    `  (send it as the header "Authorization: Bearer ${stack.apiKey}")`,
    '',
    'Try it with curl (bash). 1. Create a task; its id goes into $TASK_ID:',
    '',
    `  ${lines.curl.createTask}`,
    '',
    '2. Read it. Repeat this line until "state":"success", then open or download the URL in resultJson',
    '   (until the provider has started on it, it answers "state":"waiting": that is normal):',
    '',
    `  ${lines.curl.recordInfo}`,
    '',
    'Or with the CLI (waits, then prints the result URL):',
    '',
    `  ${lines.cli.create}`,
    `  ${lines.cli.get}`,
    '',
    `Callbacks: add "callBackUrl" (http://localhost receivers are allowed here); each is signed per`,
    `Standard Webhooks with ${stack.webhookSecret} (verifyGatewayWebhook in liangxin-gateway/client checks it).`,
    '',
    `Dashboard: ${stack.dashboardUrl}  (sign in with the admin token ${stack.adminToken})`,
    '',
    'See every model and its fields: npx liangxin-gateway models',
    'Press Ctrl+C to stop.',
  ];
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('quick start: run a local LiangXin API with a fresh key and print ready-to-paste curl and CLI lines')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--json', 'print {"baseUrl","apiKey","dashboardUrl","adminToken","curl":{"createTask","recordInfo"},"cli":{…}} as one JSON line', false)
    .action(async (options: { port: number; host: string; json: boolean }) => {
      try {
        const stack = await startQuickStartStack({ port: options.port, host: options.host });
        closeOnSignal('quick start', () => stack.close());
        if (options.json)
          printJson({
            baseUrl: stack.baseUrl,
            apiKey: stack.apiKey,
            webhookSecret: stack.webhookSecret,
            dashboardUrl: stack.dashboardUrl,
            adminToken: stack.adminToken,
            ...quickStartLines(stack.baseUrl, stack.apiKey),
          });
        else printLines(formatQuickStart(stack));
      } catch (error) {
        reportError(error);
      }
    });
}
