// The provider returns the result and the original request as JSON *strings* inside the record
// (`resultJson`, `param`); this parses them once into the typed shapes the spec describes.
import { LiangxinParseError } from './errors.js';
import type { TaskParam, TaskRecord, TaskResult, TaskState } from './types.js';

export interface ParsedResult {
  taskId: string;
  model: string;
  state: TaskState;
  /** URLs of the generated files (empty before success and on failure). Expire within about 24 h. */
  resultUrls: string[];
  /** Text models answer an object instead of URLs. */
  resultObject: Record<string, unknown> | undefined;
  /** The original createTask body, with `input` parsed too when it was itself a JSON string. */
  param: (Omit<TaskParam, 'input'> & { input?: Record<string, unknown> }) | undefined;
  /** Null unless the task failed: LiangXin sends `""` ("Empty unless state is fail"), the public API null. */
  failCode: string | null;
  failMsg: string | null;
}

function parseJson(field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LiangxinParseError(field, error);
  }
}

function parseParam(text: string): ParsedResult['param'] {
  if (!text) return undefined;
  const param = parseJson('param', text) as TaskParam;
  if (typeof param !== 'object' || param === null) throw new LiangxinParseError('param', 'not an object');
  const input = typeof param.input === 'string' ? parseJson('param.input', param.input) : param.input;
  return { ...param, input: input as Record<string, unknown> | undefined };
}

export function parseResult(record: TaskRecord): ParsedResult {
  const result: TaskResult = record.resultJson ? (parseJson('resultJson', record.resultJson) as TaskResult) : {};
  return {
    taskId: record.taskId,
    model: record.model,
    state: record.state,
    resultUrls: Array.isArray(result.resultUrls) ? result.resultUrls : [],
    resultObject: result.resultObject,
    param: parseParam(record.param),
    failCode: record.failCode || null,
    failMsg: record.failMsg || null,
  };
}
