// Child: the floor. A bare pass-through proxy (node:http in, an undici Pool out, the same client
// library and connection count the gateway uses), with nothing else: no auth, no parsing, no
// logging. What any Node proxy in front of the provider costs.
import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { serveChild } from './child.js';

const upstream = new Pool(new URL(process.env.BENCH_UPSTREAM_URL!).origin, { connections: 64, keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
    upstream
      .request({ method: req.method as Dispatcher.HttpMethod, path: req.url!, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json'), 'content-length': body.length });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      });
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };

serveChild(`http://127.0.0.1:${port}`, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await upstream.close();
});
