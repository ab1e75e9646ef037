// HTTP/1.1 written by hand on a TCP socket, for what fetch will not do: promise a body and not
// send it, hang up mid-body, hold a request's last byte back.
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server (or we) closed the connection. */
  closed: Promise<void>;
}

export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  // The server may reset a connection it refused mid-body; that is a close too.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

/** A request's head: request line, headers, blank line. */
export function head(method: string, path: string, headers: Record<string, string | number>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: gateway.test\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

/** Status and parsed JSON body of one complete answer on a connection the server closes after it. */
export function parseAnswer(text: string): { status: number; headers: string; body: any } {
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), headers: text.slice(0, split), body: JSON.parse(text.slice(split + 4)) };
}
