// `liangxin-gateway mock`: Prism serving the contract, for trying requests against the spec.
import type { Command } from 'commander';
import { parsePort } from './options.js';

export function registerMockCommand(program: Command): void {
  program
    .command('mock')
    .description('serve openapi/liangxin.yaml with Prism (stateless: answers from the spec examples)')
    .option('-p, --port <port>', 'port to listen on', parsePort, 4010)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--dynamic', 'generate answers from the schemas instead of the examples', false)
    .action(async (options: { port: number; host: string; dynamic: boolean }) => {
      // Loaded here so the other commands do not pay for Prism's start-up. Its request log is
      // kept at warn: at info it prints every header, Authorization included.
      const { startPrism } = await import('../../mock/prism.js');
      const prism = await startPrism({ port: options.port, host: options.host, dynamic: options.dynamic, logLevel: 'warn' });
      console.log(`Prism is serving the LiangXin contract at ${prism.url}`);
      console.log(`Try: curl -s -H 'Authorization: Bearer any' '${prism.url}/api/v1/jobs/recordInfo?taskId=t1'`);
      const stop = () => void prism.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
