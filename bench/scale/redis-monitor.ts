// What a Redis server is sent, counted rather than inferred: MONITOR echoes every command a
// client sends (and, marked `lua`, every command a script runs inside Redis), with the client's
// address. INFO commandstats counts EVALSHA but cannot tell one script from another; MONITOR
// shows the script's SHA1, which names it (the gateway's scripts are hashed here as ioredis
// hashes them). A control connection's ECHO marks where a window starts and ends: Redis feeds
// monitors in execution order, so once the marker is seen every command run before it was too.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import * as scripts from '../../src/quota/scripts.js';
import { oneShotClient } from '../processes/redis.js';

export interface SeenCommand {
  /** The client's address, or `lua` for a command a script ran. */
  source: string;
  /** The command, lower case; a script call as `evalsha admit` (`eval admit` when sent whole). */
  name: string;
  args: string[];
}

export interface RedisMonitor {
  /** Resolves once every command Redis ran before this call has been seen; returns how many were (markers left out). */
  sync(): Promise<number>;
  commands: SeenCommand[];
  stop(): Promise<void>;
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** sha1 → script name (admit, settle, …), from every script the quota backend defines. */
const SCRIPT_NAMES = new Map(
  Object.entries(scripts as Record<string, unknown>).flatMap(([name, lua]) =>
    typeof lua === 'string' ? [[sha1(lua), name.toLowerCase().replace(/_/g, '-')] as const] : [],
  ),
);

/** MONITOR prints arguments escaped (sdscatrepr); ioredis has put the quotes back already. */
const unescapeArg = (arg: string) =>
  arg.replace(/\\(x[0-9a-f]{2}|[nrtab\\"])/g, (_, c: string) =>
    c.startsWith('x') ? String.fromCharCode(parseInt(c.slice(1), 16)) : (({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[c] ?? c),
  );

function nameOf(args: string[]): string {
  const command = (args[0] ?? '').toLowerCase();
  if (command === 'evalsha') return `evalsha ${SCRIPT_NAMES.get(args[1] ?? '') ?? `script ${args[1]?.slice(0, 8)}`}`;
  if (command === 'eval') return `eval ${SCRIPT_NAMES.get(sha1(unescapeArg(args[1] ?? ''))) ?? "script (not the gateway's)"}`;
  return command;
}

/** Starts monitoring `url`; rejects when the server refuses MONITOR (a managed Redis may). */
export async function monitorRedis(url: string): Promise<RedisMonitor> {
  // The control connection is up before MONITOR starts, so its handshake is not in the record.
  const control = oneShotClient(url);
  await control.connect();
  let monitor: Redis;
  try {
    monitor = await control.monitor();
  } catch (error) {
    control.disconnect();
    throw error;
  }
  monitor.on('error', () => undefined);

  const commands: SeenCommand[] = [];
  const waiting = new Map<string, () => void>();
  let controlSource: string | undefined;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === 'echo' && waiting.has(args[1] ?? '')) {
      controlSource = source;
      waiting.get(args[1]!)!();
      waiting.delete(args[1]!);
      return;
    }
    if (source === controlSource) return;
    commands.push({ source, name: nameOf(args), args });
  });

  return {
    commands,
    async sync() {
      const marker = `lxg-bench-marker-${randomUUID()}`;
      let timer: NodeJS.Timeout | undefined;
      const seen = new Promise<void>((resolve, reject) => {
        waiting.set(marker, resolve);
        timer = setTimeout(() => reject(new Error('bench: MONITOR did not echo the marker within 120 s')), 120_000);
      });
      try {
        await control.echo(marker);
        await seen;
      } finally {
        clearTimeout(timer);
        waiting.delete(marker);
      }
      return commands.length;
    },
    async stop() {
      monitor.disconnect();
      control.disconnect();
    },
  };
}
