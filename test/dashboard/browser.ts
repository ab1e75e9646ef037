// A headless Debian chromium driven by playwright-core (no browser download: the system's own,
// by executablePath), with a fresh profile each time and nothing it would fetch by itself
// (updates, sync, QUIC probes): the only requests it makes are the test's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { HANG_CEILING_MS } from '../helpers/wait.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<Browser> {
  // playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
  const profile = await mkdtemp(join(tmpdir(), 'lxg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    acceptDownloads: true,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  // Waiting for an element is bounded by the suite's hang ceiling, not playwright's 30 s.
  context.setDefaultTimeout(HANG_CEILING_MS);
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
