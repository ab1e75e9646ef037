// The invalidation bus on PostgreSQL LISTEN/NOTIFY, for instances that share a PostgreSQL store
// and no Redis. One dedicated connection (not from the store's pool: a pooled connection would
// stop listening when handed back) listens and notifies. The channel is shared by every schema
// of the database; the payload names the schema, so gateways on other schemas ignore it. Lost,
// the connection is opened again after a second; live again, it tells the listeners.
import pg from 'pg';
import type { Logger } from 'pino';
import { splitSchema } from '../../store/postgres.js';
import type { InvalidationBus } from './types.js';

const CHANNEL = 'lxg_auth_changed';
const RECONNECT_MS = 1000;

export interface PostgresBusOptions {
  /** The store's URL (`?schema=` included). */
  url: string;
  logger?: Logger;
}

export function createPostgresBus(options: PostgresBusOptions): InvalidationBus {
  const { url, schema } = splitSchema(options.url, undefined);
  const listeners: Array<() => void> = [];
  const tell = () => {
    for (const listener of listeners) listener();
  };
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  function lost(error?: unknown): void {
    if (closed) return;
    if (live && error)
      options.logger?.warn({ err: error }, 'auth cache: lost the PostgreSQL invalidation listener; keys are looked up in the store until it is back');
    live = false;
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    client?.end().catch(() => undefined);
    client = undefined;
    clearTimeout(timer);
    timer = setTimeout(open, RECONNECT_MS);
    timer.unref();
  }

  function open(): void {
    if (closed) return;
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    client = next;
    next.on('error', lost);
    next.on('end', () => lost());
    next.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload === schema) tell();
    });
    next
      .connect()
      .then(() => next.query(`LISTEN ${CHANNEL}`))
      .then(() => {
        if (client !== next) return;
        live = true;
        tell();
      }, lost);
  }
  open();

  return {
    kind: 'postgres',
    async publish() {
      if (!client || !live) throw new Error('the PostgreSQL invalidation connection is down');
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, schema]);
    },
    onInvalidate: (listener) => void listeners.push(listener),
    live: () => live,
    async close() {
      closed = true;
      live = false;
      clearTimeout(timer);
      const last = client;
      client = undefined;
      last?.removeAllListeners();
      last?.on('error', () => undefined);
      await last?.end().catch(() => undefined);
    },
  };
}
