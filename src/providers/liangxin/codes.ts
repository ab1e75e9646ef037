// LiangXin's body codes (the generated ErrorCode: every code its contract names), and what each
// means for a createTask: whether a task was started, what it says about the key, who may take
// the task next and what the tenant is told. This table is the one place the rule "another key
// or upstream only when the answer proves no task was started" is stated; a code the table does
// not know (a 5xx page, a 2xx without an envelope) leaves the task unknown and is never resent.
// The public Market API's codes are a subset (market/ reuses this table).
import type { ErrorCode } from '../../client/types.js';
import type { CodeRule } from '../types.js';

const judged = (note: string): CodeRule => ({ started: 'no', key: 'none', next: 'none', tenant: 'relay', note });
const keyRefused = (key: CodeRule['key'], note: string): CodeRule => ({ started: 'no', key, next: 'key', tenant: 'no_key', note });
const unknown = (note: string): CodeRule => ({ started: 'unknown', key: 'none', next: 'none', tenant: 'unknown', note });

export const CODE_TABLE: Readonly<Record<ErrorCode, CodeRule>> = {
  // The request itself was judged: another key (or upstream, validating the same contract) would judge it the same.
  400: judged('invalid request or content policy'),
  413: judged('request body too large'),
  422: judged('upstream validation rejected the request'),
  // The key (its account) cannot start tasks now; another key may.
  401: keyRefused('disabled', 'key refused'),
  402: keyRefused('exhausted', 'out of credits'),
  403: keyRefused('exhausted', 'insufficient quota or access denied'),
  429: keyRefused('cooling', 'rate limited'),
  433: keyRefused('exhausted', 'sub-key limit'),
  // The whole upstream takes nothing now: another upstream may.
  455: { started: 'no', key: 'maintenance', next: 'upstream', tenant: 'maintenance', note: 'in maintenance' },
  // This account's upstream has the feature off: another upstream may have it on.
  505: { started: 'no', key: 'none', next: 'upstream', tenant: 'relay', note: 'feature disabled' },
  // Nothing proves the task was not started.
  404: unknown('not found'),
  500: unknown('server error'),
  501: unknown('generation failed'),
};

/** A code outside the table (an HTML 502 page, a 2xx without an envelope): the task's fate is unknown. */
export const UNKNOWN_CODE = unknown('unexpected answer');

export function ruleOf(code: number): CodeRule {
  return Object.hasOwn(CODE_TABLE, code) ? CODE_TABLE[code as ErrorCode] : UNKNOWN_CODE;
}
