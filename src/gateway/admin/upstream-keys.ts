// /admin/v1/upstreams (each upstream's health) and /admin/v1/upstream-keys: the provider keys' states, and keys managed without a restart: add
// (to one upstream, stored with its secret, which no answer shows), disable/enable (any key,
// config ones too), remove (keys added here; a config key is removed from the config). Each
// change is written to the store, then applied to this instance's pools at once
// (gateway/upstream-keys.ts); the other instances apply it within upstream.keySyncMs.
import { Router } from 'express';
import { upstreamsOf } from '../../config/index.js';
import type { GatewayContext } from '../context.js';
import { refusal } from '../errors.js';
import type { KeyStatus } from '../keypool.js';
import { handle } from '../respond.js';
import { configKeyOf, type UpstreamKeySync } from '../upstream-keys.js';
import { type Api, ok } from './parts.js';
import type { AdminHelpers } from './parts.js';

export function upstreamKeysRouter(ctx: GatewayContext, { body }: AdminHelpers, keySync: UpstreamKeySync): Router {
  const router = Router();
  const isConfigKey = (id: string) => configKeyOf(ctx.config, id) !== undefined;
  const view = (upstream: string, status: KeyStatus): Api['UpstreamKeyStatus'] => ({
    ...status,
    upstream,
    source: isConfigKey(status.id) ? 'config' : 'admin',
  });
  const all = () => ctx.upstreams.list.flatMap((u) => u.pool.status().map((k) => view(u.id, k)));
  const statusOf = (id: string) => all().find((k) => k.id === id);
  /** The upstream whose pool holds this key (ids are unique across upstreams). */
  const holderOf = (id: string) => ctx.upstreams.list.find((u) => u.pool.has(id));
  const notFound = (id: string) => refusal('not_found', `No provider key ${id}`);

  router.get('/upstreams', (_req, res) => {
    res.json(ok(ctx.upstreams.health()));
  });

  router.get('/upstream-keys', (_req, res) => {
    res.json(ok(all()));
  });

  router.post(
    '/upstream-keys',
    handle(async (req, res) => {
      const input = body<Api['AddUpstreamKeyRequest']>(req, 'AddUpstreamKeyRequest');
      const upstream = input.upstream ?? upstreamsOf(ctx.config)[0]!.id;
      if (!ctx.upstreams.byId(upstream)) throw refusal('not_found', `No upstream ${upstream}`);
      if (isConfigKey(input.id)) throw refusal('conflict', `Provider key ${input.id} is defined in the config file`);
      if (holderOf(input.id)) throw refusal('conflict', `Provider key ${input.id} exists`);
      await ctx.store.putUpstreamKey(
        {
          id: input.id,
          upstreamId: upstream,
          apiKey: input.apiKey,
          webhookHmacKey: input.webhookHmacKey ?? null,
          createPer10s: input.createPer10s ?? null,
          recordInfoPerSecond: input.recordInfoPerSecond ?? null,
          disabled: false,
        },
        ctx.clock.now(),
      );
      await keySync.sync();
      res.status(201).json(ok(statusOf(input.id)!));
    }),
  );

  router.patch(
    '/upstream-keys/:keyId',
    handle(async (req, res) => {
      const id = req.params.keyId as string;
      const { disabled } = body<Api['UpdateUpstreamKeyRequest']>(req, 'UpdateUpstreamKeyRequest');
      const holder = holderOf(id);
      if (!holder) throw notFound(id);
      const stored = (await ctx.store.listUpstreamKeys()).find((k) => k.id === id && k.removedAt === null);
      // A config key gets a row of its own that only carries the operator's switch.
      const row = stored ?? { id, upstreamId: holder.id, apiKey: null, webhookHmacKey: null, createPer10s: null, recordInfoPerSecond: null, disabled };
      await ctx.store.putUpstreamKey({ ...row, disabled }, ctx.clock.now());
      await keySync.sync();
      res.json(ok(statusOf(id)!));
    }),
  );

  router.delete(
    '/upstream-keys/:keyId',
    handle(async (req, res) => {
      const id = req.params.keyId as string;
      if (isConfigKey(id)) throw refusal('conflict', `Provider key ${id} is defined in the config file: remove it there, or disable it with PATCH`);
      if (!(await ctx.store.removeUpstreamKey(id, ctx.clock.now()))) throw notFound(id);
      await keySync.sync();
      res.json(ok(null));
    }),
  );

  return router;
}
