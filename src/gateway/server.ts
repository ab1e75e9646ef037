// Runs a gateway on a port, and stops it gracefully: on close it reports "stopping" (so a load
// balancer drains it), refuses new tenant requests, lets requests in flight finish, and closes
// idle connections; after `graceMs` whatever is left is cut. A client slow to send its request is
// cut too: listen.headersTimeoutMs and listen.requestTimeoutMs (Node answers it 408).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Listenable } from './index.js';

export interface RunningGateway {
  url: string;
  server: Server;
  close(options?: { graceMs?: number }): Promise<void>;
}

export async function listenGateway(gateway: Listenable, listen: { host: string; port: number }): Promise<RunningGateway> {
  const { headersTimeoutMs, requestTimeoutMs } = gateway.timeouts;
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node looks for expired requests this often (30 s by default, which would let a 10 s
      // timeout run to 40 s): a quarter of the shorter timeout, at least every second.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4))),
    },
    gateway.handler,
  );
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  gateway.listening(url);

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close(options = {}) {
      closing ??= (async () => {
        gateway.beginShutdown();
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections go idle as their last response is written: close them as they do.
        server.closeIdleConnections();
        const sweeper = setInterval(() => server.closeIdleConnections(), 50);
        const timer = setTimeout(() => server.closeAllConnections(), options.graceMs ?? 10_000);
        await drained;
        clearInterval(sweeper);
        clearTimeout(timer);
        await gateway.close();
      })();
      return closing;
    },
  };
}
