// Accounts of the simulated provider: one API key each, with credits that run down, a sub-key
// task limit, quirks, and the provider's per-account rate limits (sliding windows).
import { DEFAULT_ACCOUNT, type DialectName, type Quirk, type SimulatorAccount } from './options.js';
import { parseQuirks } from './quirks.js';

const DIALECTS: readonly DialectName[] = ['liangxin', 'market'];

/** A control-API patch the simulator cannot apply (answered 400). */
export class AccountError extends Error {
  override readonly name = 'AccountError';
}

export interface Account {
  /** Stable name for the control API and logs (never the key). */
  id: string;
  apiKey: string;
  credits: number;
  hmacKey: string | undefined;
  taskLimit: number | undefined;
  quirks: Quirk[];
  dialect: DialectName;
  tasksCreated: number;
  createCalls: number[];
  readCalls: number[];
}

export type AccountPatch = Partial<Pick<Account, 'credits' | 'hmacKey' | 'taskLimit' | 'quirks' | 'dialect'>>;

export interface AccountView {
  id: string;
  credits: number;
  tasksCreated: number;
  taskLimit: number | null;
  quirks: Quirk[];
  dialect: DialectName;
  signsCallbacks: boolean;
}

export function createAccounts(initial: SimulatorAccount[] | undefined) {
  const byKey = new Map<string, Account>();
  const byId = new Map<string, Account>();

  function add(account: SimulatorAccount & { id?: string }): Account {
    parseQuirks(account.quirks ?? []); // refuse unknown quirks at start, not at the first request
    const id = account.id ?? `account-${byId.size + 1}`;
    const created: Account = {
      id,
      apiKey: account.apiKey,
      credits: account.credits ?? DEFAULT_ACCOUNT.credits,
      hmacKey: account.hmacKey,
      taskLimit: account.taskLimit,
      quirks: [...(account.quirks ?? [])],
      dialect: account.dialect ?? 'liangxin',
      tasksCreated: 0,
      createCalls: [],
      readCalls: [],
    };
    byKey.set(created.apiKey, created);
    byId.set(id, created);
    return created;
  }

  for (const account of initial ?? [DEFAULT_ACCOUNT]) add(account);

  return {
    add,
    byKey: (apiKey: string) => byKey.get(apiKey),
    byId: (id: string) => byId.get(id),
    update(id: string, patch: AccountPatch): Account | undefined {
      const account = byId.get(id);
      if (!account) return undefined;
      if (patch.quirks) parseQuirks(patch.quirks);
      if (patch.dialect !== undefined && !DIALECTS.includes(patch.dialect)) throw new AccountError(`dialect must be one of ${DIALECTS.join(', ')}`);
      Object.assign(account, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
      return account;
    },
    list: (): AccountView[] => [...byId.values()].map(view),
  };
}

export function view(account: Account): AccountView {
  return {
    id: account.id,
    credits: account.credits,
    tasksCreated: account.tasksCreated,
    taskLimit: account.taskLimit ?? null,
    quirks: account.quirks,
    dialect: account.dialect,
    signsCallbacks: account.hmacKey !== undefined,
  };
}

/**
 * A sliding-window limit: at most `limit` calls in any `windowMs`. Returns 0 when the call is
 * admitted (and records it), else the milliseconds until a slot frees.
 */
export function admit(calls: number[], limit: number, windowMs: number, now: number): number {
  while (calls.length > 0 && calls[0]! <= now - windowMs) calls.shift();
  if (calls.length >= limit) return calls[0]! + windowMs - now;
  calls.push(now);
  return 0;
}
