// `liangxin-gateway get TASK_ID`: one recordInfo read. Exits 0 whenever the record was read,
// whatever the task's state; the state is in the output.
import type { Command } from 'commander';
import { LiangxinError, parseResult, type TaskRecord } from '../client/index.js';
import { addConnectionOptions, connect, type ConnectionFlags } from './connection.js';
import { CliError, ExitCode, reportError, type ErrorContext } from './exit.js';
import { formatTime, printJson, printLines, table } from './output.js';

export function formatRecord(record: TaskRecord): string[] {
  const parsed = parseResult(record);
  const rows: Array<[string, string | undefined]> = [
    ['task', record.taskId],
    ['model', record.model],
    ['state', record.state],
    ['progress', typeof record.progress === 'number' ? `${record.progress}%` : undefined],
    ['created', formatTime(record.createTime)],
    ['updated', formatTime(record.updateTime)],
    ['completed', formatTime(record.completeTime)],
    ['cost time', record.costTime !== null && record.costTime !== undefined ? `${record.costTime} s` : undefined],
    ['credits', record.creditsConsumed !== undefined ? String(record.creditsConsumed) : undefined],
  ];
  if (parsed.state === 'fail') rows.push(['failure', `${parsed.failCode ?? '?'} ${parsed.failMsg ?? ''}`.trimEnd()]);
  for (const [i, url] of parsed.resultUrls.entries()) rows.push([i === 0 ? 'result' : '', url]);
  if (parsed.resultObject !== undefined) rows.push(['result', JSON.stringify(parsed.resultObject)]);
  return table(rows.filter((row): row is [string, string] => row[1] !== undefined));
}

/** The provider hides a new task for a moment (and answers an unknown id the same way). */
function notVisibleYet(error: LiangxinError): CliError {
  return new CliError(`${error.code} ${error.msg}; a task created a moment ago is not visible yet, try again shortly`, ExitCode.refused);
}

export function registerGetCommand(program: Command): void {
  const command = program
    .command('get')
    .description("read a task's record (recordInfo): state, progress, times, result URLs or failure")
    .argument('<taskId>', 'the id createTask returned')
    .option('--json', 'print the raw record as JSON', false);
  addConnectionOptions(command).action(async (taskId: string, options: ConnectionFlags & { json: boolean }) => {
    const context: ErrorContext = {};
    try {
      const { client } = connect(options, context);
      const record = await client.getTask(taskId);
      if (options.json) printJson(record);
      else printLines(formatRecord(record));
    } catch (error) {
      reportError(error instanceof LiangxinError && error.code === 422 ? notVisibleYet(error) : error, context);
    }
  });
}
