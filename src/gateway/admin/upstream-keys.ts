// /admin/v1/upstream-keys: the provider keys' states, and keys managed without a restart: add
// (stored with its secret, which no answer shows), disable/enable (any key, config ones too),
// remove (keys added here; a config key is removed from the config). Each change is written to
// the store, then applied to this instance's pool at once (upstream-keys.ts); the other
// instances apply it within upstream.keySyncMs.
import { Router } from 'express';
import type { components } from '../../generated/gateway.js';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import type { KeyStatus } from '../keypool.js';
import { handle } from '../respond.js';
import type { UpstreamKeySync } from '../upstream-keys.js';
import type { AdminHelpers } from './routes.js';

type Schemas = components['schemas'];
const ok = (data: unknown) => ({ code: 200, msg: 'success', data });

export function upstreamKeysRouter(ctx: GatewayContext, { body }: AdminHelpers, keySync: UpstreamKeySync): Router {
  const router = Router();
  const configKey = (id: string) => ctx.config.upstream.keys.find((k) => k.id === id);
  const view = (status: KeyStatus): Schemas['UpstreamKeyStatus'] => ({ ...status, source: configKey(status.id) ? 'config' : 'admin' });
  const statusOf = (id: string) => ctx.pool.status().find((k) => k.id === id);
  const notFound = (id: string) => new GatewayError({ code: 404, msg: `No provider key ${id}`, reason: 'not_found' });

  router.get('/upstream-keys', (_req, res) => {
    res.json(ok(ctx.pool.status().map(view)));
  });

  router.post('/upstream-keys', handle(async (req, res) => {
    const input = body<Schemas['AddUpstreamKeyRequest']>(req, 'AddUpstreamKeyRequest');
    if (configKey(input.id)) throw new GatewayError({ code: 409, msg: `Provider key ${input.id} is defined in the config file`, reason: 'conflict' });
    if (ctx.pool.has(input.id)) throw new GatewayError({ code: 409, msg: `Provider key ${input.id} exists`, reason: 'conflict' });
    await ctx.store.putUpstreamKey(
      { id: input.id, apiKey: input.apiKey, webhookHmacKey: input.webhookHmacKey ?? null, createPer10s: input.createPer10s ?? null, recordInfoPerSecond: input.recordInfoPerSecond ?? null, disabled: false },
      ctx.clock.now(),
    );
    await keySync.sync();
    res.status(201).json(ok(view(statusOf(input.id)!)));
  }));

  router.patch('/upstream-keys/:keyId', handle(async (req, res) => {
    const id = req.params.keyId as string;
    const { disabled } = body<Schemas['UpdateUpstreamKeyRequest']>(req, 'UpdateUpstreamKeyRequest');
    if (!ctx.pool.has(id)) throw notFound(id);
    const stored = (await ctx.store.listUpstreamKeys()).find((k) => k.id === id && k.removedAt === null);
    // A config key gets a row of its own that only carries the operator's switch.
    const row = stored ?? { id, apiKey: null, webhookHmacKey: null, createPer10s: null, recordInfoPerSecond: null, disabled };
    await ctx.store.putUpstreamKey({ ...row, disabled }, ctx.clock.now());
    await keySync.sync();
    res.json(ok(view(statusOf(id)!)));
  }));

  router.delete('/upstream-keys/:keyId', handle(async (req, res) => {
    const id = req.params.keyId as string;
    if (configKey(id)) throw new GatewayError({ code: 409, msg: `Provider key ${id} is defined in the config file: remove it there, or disable it with PATCH`, reason: 'conflict' });
    if (!(await ctx.store.removeUpstreamKey(id, ctx.clock.now()))) throw notFound(id);
    await keySync.sync();
    res.json(ok(null));
  }));

  return router;
}
