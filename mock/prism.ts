// Prism serving openapi/liangxin.yaml in this process: the contract mock. It answers each request
// on its own from the spec's examples (or generated data with `dynamic`), validates requests
// (refusals carry the violations in the `sl-violations` header) and checks the bearer scheme.
// It plays no state: tasks that progress, fail and call back are the simulator's job.
// People run Prism's own command (`npm run mock`, `npx prism mock|proxy`, @stoplight/prism-cli,
// pinned to these same libraries); this in-process form is for the tests and `liangxin-gateway
// mock`: no child process to spawn and reap, a port-0 listener, and a start in 0.1–0.3 s where the
// command takes 2–6 s (measured on the project's 2-core machine).
import { createLogger } from '@stoplight/prism-core';
import { getHttpOperationsFromSpec } from '@stoplight/prism-http';
import { createServer } from '@stoplight/prism-http-server';
import { liangxinSpecPath } from '../src/spec/files.js';

export interface PrismOptions {
  /** OpenAPI document to serve; default openapi/liangxin.yaml. */
  specPath?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Generate responses from the schemas instead of serving the examples. */
  dynamic?: boolean;
  /** Answer with an error instead of a warning header when a response breaks the spec. */
  errors?: boolean;
  /**
   * Proxy mode: forward every request to this origin (a provider, the simulator, the gateway) and
   * check both the request and the answer against the spec. With `errors`, an answer that breaks
   * the contract is replaced by a 500 problem+json naming the violations.
   */
  upstream?: string;
  /** pino level of Prism's own log; silent by default so tests stay quiet. */
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
}

export interface RunningPrism {
  url: string;
  close(): Promise<void>;
}

export async function startPrism(options: PrismOptions = {}): Promise<RunningPrism> {
  const operations = await getHttpOperationsFromSpec(options.specPath ?? liangxinSpecPath);
  const logger = createLogger('PRISM', { level: options.logLevel ?? 'silent' });
  const shared = {
    mock: { dynamic: options.dynamic ?? false },
    validateRequest: true,
    validateResponse: true,
    checkSecurity: true,
    errors: options.errors ?? false,
    upstreamProxy: undefined,
  };
  const server = createServer(operations, {
    cors: true,
    components: { logger },
    config: options.upstream ? { ...shared, isProxy: true, upstream: new URL(options.upstream) } : { ...shared, isProxy: false },
  });
  const address = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return { url: address, close: () => server.close() };
}
