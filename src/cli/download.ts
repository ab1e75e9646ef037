// `--download DIR`: result URLs saved as `<taskId>-<n>.<ext>`. The URLs are public and short-lived
// (about 24 h), so they are fetched without the API key: it is never sent to a file host.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, ExitCode } from './exit.js';
import { extensionOfType } from '../blobs/extensions.js';

/** The extension from the URL's path when it has one, else from the content type, else `bin`. */
export function extensionFor(url: string, contentType: string | null): string {
  let path = '';
  try {
    path = new URL(url).pathname;
  } catch {
    // not a URL: fall through to the content type
  }
  const fromPath = /\.([a-z0-9]{1,5})$/i.exec(path)?.[1];
  if (fromPath) return fromPath.toLowerCase();
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return extensionOfType(type);
}

const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Creates the folder and returns its absolute path. Called before the task is created, so a
 * folder that cannot be written is a usage error that costs no credits.
 */
export async function prepareDownloadDir(dir: string): Promise<string> {
  const target = resolve(dir);
  try {
    await mkdir(target, { recursive: true });
  } catch (error) {
    throw new CliError(`--download ${dir}: cannot create the folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`, ExitCode.usage);
  }
  return target;
}

/** Downloads every URL into `target` (from prepareDownloadDir) and returns the file paths. */
export async function downloadResults(taskId: string, urls: readonly string[], target: string): Promise<string[]> {
  // A task id comes from the server: keep it from naming a path outside the folder.
  const safeId = taskId.replace(/[^A-Za-z0-9._-]/g, '_');
  const files: string[] = [];
  for (const [index, url] of urls.entries()) {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
    } catch (error) {
      throw new CliError(`download ${url}: could not reach the file host (${(error as Error).message})`, ExitCode.unreachable);
    }
    if (!response.ok || !response.body) {
      throw new CliError(`download ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd(), ExitCode.refused);
    }
    const file = join(target, `${safeId}-${index + 1}.${extensionFor(url, response.headers.get('content-type'))}`);
    try {
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(file));
    } catch (error) {
      await rm(file, { force: true });
      throw new CliError(`download ${url}: ${(error as Error).message}`, ExitCode.unreachable);
    }
    files.push(file);
  }
  return files;
}
