// Where to send requests and with which key: flags first, then LIANGXIN_BASE_URL and
// LIANGXIN_API_KEY, then the default origin. Shared by every command that calls the API.
import { Option, type Command } from 'commander';
import { createLiangxinClient, type LiangxinClient } from '../client/index.js';
import { usageError, type ErrorContext } from './exit.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

export interface ConnectionFlags {
  baseUrl: string;
  apiKey?: string;
}

export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--base-url <url>', 'origin of the API (provider, simulator or gateway)').env('LIANGXIN_BASE_URL').default(DEFAULT_BASE_URL))
    .addOption(new Option('--api-key <key>', 'API key, sent as "Authorization: Bearer <key>"').env('LIANGXIN_API_KEY'));
}

export interface Connection {
  baseUrl: string;
  apiKey: string;
  client: LiangxinClient;
}

/**
 * Checks the flags and builds the client. Fills `context` as soon as the values are known so an
 * error line can say where it tried to go and can keep the key out.
 */
export function connect(flags: ConnectionFlags, context: ErrorContext): Connection {
  const apiKey = flags.apiKey?.trim();
  if (apiKey) context.secrets = [apiKey];
  if (!apiKey) throw usageError('no API key: pass --api-key or set LIANGXIN_API_KEY');
  let url: URL;
  try {
    url = new URL(flags.baseUrl);
  } catch {
    throw usageError(`--base-url "${flags.baseUrl}" is not a URL (e.g. ${DEFAULT_BASE_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--base-url must be http:// or https://, not ${url.protocol}`);
  }
  const baseUrl = flags.baseUrl.replace(/\/+$/, '');
  context.baseUrl = baseUrl;
  return { baseUrl, apiKey, client: createLiangxinClient({ baseUrl, apiKey }) };
}
