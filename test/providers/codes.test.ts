// The provider's body-code table, as a table: every code LiangXin's contract names has a row, and
// the one rule of sending holds in every row: a task goes to another key or another upstream only
// when the answer proves no task was started.
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/client/types.js';
import { loadLiangxinSpec, loadMarketSpec } from '../../src/spec/document.js';
import { CODE_TABLE, ruleOf, UNKNOWN_CODE } from '../../src/providers/liangxin/codes.js';
import { readCreateAnswer } from '../../src/providers/liangxin/index.js';
import type { CodeRule } from '../../src/providers/types.js';

const specCodes = (doc: ReturnType<typeof loadLiangxinSpec>) => (doc.components.schemas.ErrorCode as { enum: number[] }).enum;

// code → [started, key effect, who may take it next, tenant answer]
const EXPECTED: Record<ErrorCode, [CodeRule['started'], CodeRule['key'], CodeRule['next'], CodeRule['tenant']]> = {
  400: ['no', 'none', 'none', 'relay'],
  401: ['no', 'disabled', 'key', 'no_key'],
  402: ['no', 'exhausted', 'key', 'no_key'],
  403: ['no', 'exhausted', 'key', 'no_key'],
  404: ['unknown', 'none', 'none', 'unknown'],
  413: ['no', 'none', 'none', 'relay'],
  422: ['no', 'none', 'none', 'relay'],
  429: ['no', 'cooling', 'key', 'no_key'],
  433: ['no', 'exhausted', 'key', 'no_key'],
  455: ['no', 'maintenance', 'upstream', 'maintenance'],
  500: ['unknown', 'none', 'none', 'unknown'],
  501: ['unknown', 'none', 'none', 'unknown'],
  505: ['no', 'none', 'upstream', 'relay'],
};

describe('the body-code table', () => {
  it("has a row for every code of LiangXin's contract, and the Market API's codes are among them", () => {
    expect(Object.keys(CODE_TABLE).map(Number).sort()).toEqual([...specCodes(loadLiangxinSpec())].sort());
    for (const code of specCodes(loadMarketSpec())) expect(CODE_TABLE).toHaveProperty(String(code));
  });

  it.each(Object.entries(EXPECTED))('%s: started %j, key %j, next %j, tenant %j', (code, [started, key, next, tenant]) => {
    expect(CODE_TABLE[Number(code) as ErrorCode]).toMatchObject({ started, key, next, tenant });
  });

  it.each(Object.entries(CODE_TABLE))('%s moves the task on only if it proves no task was started', (_code, rule) => {
    if (rule.next !== 'none') expect(rule.started).toBe('no');
    if (rule.started !== 'no') expect(rule.tenant).toBe('unknown');
  });

  it.each([502, 503, 504, 200, 299, 0])('a code outside the table (%s) leaves the task unknown', (code) => {
    expect(ruleOf(code)).toBe(UNKNOWN_CODE);
    expect(UNKNOWN_CODE).toMatchObject({ started: 'unknown', next: 'none' });
  });
});

describe('a createTask answer read by the table', () => {
  const answer = (code: number, data: unknown = null, httpStatus = 200) => ({ httpStatus, code, msg: 'm', data, retryAfterMs: undefined });

  it('200 with a task id is created', () => {
    expect(readCreateAnswer(answer(200, { taskId: 't1' }))).toEqual({ kind: 'created', taskId: 't1' });
  });

  it.each([{}, { taskId: '' }, null])('200 without a task id (%j) proves nothing: unknown', (data) => {
    expect(readCreateAnswer(answer(200, data))).toMatchObject({ kind: 'not-created', rule: { started: 'unknown', next: 'none' } });
  });

  it('keeps what the tenant may be relayed: the code, message and HTTP status', () => {
    expect(readCreateAnswer(answer(400, null, 400))).toMatchObject({ kind: 'not-created', code: 400, msg: 'm', httpStatus: 400, rule: { tenant: 'relay' } });
  });
});
