// `liangxin-gateway create MODEL --input JSON`: checks the body against the contract before
// anything is sent (so a typo costs no credits), creates the task, and with --wait follows it to
// the end and prints (or downloads) the results. Against the gateway the wait follows its live
// task events (the client learns from the createTask answer that they are offered) and the
// result URLs are the gateway's durable copies; against the provider it polls.
import type { Command } from 'commander';
import { parseResult, type CreateTaskRequest, type TaskRecord } from '../client/index.js';
import { addConnectionOptions, connect, type ConnectionFlags } from './connection.js';
import { downloadResults, prepareDownloadDir } from './download.js';
import { CliError, ExitCode, reportError, usageError, type ErrorContext } from './exit.js';
import { readJsonInput } from './input.js';
import { parsePositiveInteger, parseSeconds } from './options.js';
import { createProgressReporter, printJson, printLines } from './output.js';

interface CreateOptions extends ConnectionFlags {
  input: string;
  callbackUrl?: string;
  wait: boolean;
  download?: string;
  timeout: number;
  pollInterval?: number;
  json: boolean;
}

/** The body, checked against the contract; throws a usage error naming the failing fields. */
export async function buildCreateBody(model: string, options: Pick<CreateOptions, 'input' | 'callbackUrl'>): Promise<CreateTaskRequest> {
  const input = await readJsonInput(options.input);
  const body = { model, ...(options.callbackUrl !== undefined ? { callBackUrl: options.callbackUrl } : {}), input };
  const { createSpecValidator, formatFieldErrors } = await import('../spec/validator.js');
  const result = createSpecValidator(undefined, { eager: false }).validateCreateTask<CreateTaskRequest>(body);
  if (result.ok) return result.value;
  const errors = result.errors.map((e) => (e.path === 'model' && e.keyword === 'enum' ? { ...e, message: `${e.message} (got ${JSON.stringify(model)})` } : e));
  throw usageError(formatFieldErrors(errors, result));
}

/** What `--json` prints for a finished task. */
function summary(record: TaskRecord) {
  const parsed = parseResult(record);
  return {
    taskId: parsed.taskId,
    model: parsed.model,
    state: parsed.state,
    resultUrls: parsed.resultUrls,
    ...(parsed.resultObject !== undefined ? { resultObject: parsed.resultObject } : {}),
    failCode: parsed.failCode,
    failMsg: parsed.failMsg,
    costTime: record.costTime,
    ...(record.creditsConsumed !== undefined ? { creditsConsumed: record.creditsConsumed } : {}),
  };
}

async function runCreate(model: string, options: CreateOptions, context: ErrorContext): Promise<void> {
  const body = await buildCreateBody(model, options);
  const { client } = connect(options, context);
  const downloadDir = options.download !== undefined ? await prepareDownloadDir(options.download) : undefined;
  const { taskId } = await client.createTask(body);

  if (!options.wait && downloadDir === undefined) {
    if (options.json) printJson({ taskId });
    else printLines([taskId]);
    return;
  }

  const reporter = createProgressReporter(taskId);
  let record: TaskRecord;
  try {
    record = await client.waitForTask(taskId, {
      timeoutMs: options.timeout * 1000,
      ...(options.pollInterval !== undefined ? { initialDelayMs: options.pollInterval } : {}),
      onProgress: (r) => reporter.update(r),
    });
  } finally {
    reporter.done();
  }

  const result = summary(record);
  if (result.state === 'fail') {
    if (options.json) printJson(result);
    throw new CliError(`task ${taskId} failed: ${result.failCode ?? 'no failCode'} ${result.failMsg ?? ''}`.trimEnd(), ExitCode.refused);
  }
  const files = downloadDir !== undefined ? await downloadResults(taskId, result.resultUrls, downloadDir) : undefined;
  if (options.json) return printJson({ ...result, ...(files ? { files } : {}) });
  if (files) return printLines(files);
  if (result.resultUrls.length > 0) return printLines(result.resultUrls);
  if (result.resultObject !== undefined) return printLines([JSON.stringify(result.resultObject, null, 2)]);
  process.stderr.write(`task ${taskId} succeeded without result URLs\n`);
}

export function registerCreateCommand(program: Command): void {
  const command = program
    .command('create')
    .description('create a task (the body is checked against the contract first); prints its taskId, or with --wait its result URLs')
    .argument('<model>', 'model name, see `liangxin-gateway models`')
    .requiredOption('--input <json|@file>', "the model's input as JSON, or @path to a JSON file")
    .option('--callback-url <url>', 'where the provider posts the result when the task ends')
    .option('--wait', "follow the task until it ends (the gateway's live events, else polling), then print its result URLs", false)
    .option('--download <dir>', 'save the results into DIR as <taskId>-<n>.<ext> and print the paths (implies --wait; through the gateway, its durable copies)')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 3)', parseSeconds, 900)
    .option('--poll-interval <ms>', "with --wait: first poll after MS, then back off (default 2500, the provider's advice)", parsePositiveInteger)
    .option('--json', 'print JSON: {"taskId"}, or with --wait the outcome with resultUrls', false);
  addConnectionOptions(command).action(async (model: string, options: CreateOptions) => {
    const context: ErrorContext = {};
    try {
      await runCreate(model, options, context);
    } catch (error) {
      reportError(error, context);
    }
  });
}
