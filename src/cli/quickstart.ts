// The copy-paste lines `liangxin-gateway start` prints. They must work as printed in bash, so
// every value is single-quoted and the task id is pulled out with sed (jq may not be installed).
export const QUICK_START_MODEL = 'z-image';
export const QUICK_START_INPUT = { prompt: 'A lighthouse at dawn, watercolor', aspect_ratio: '16:9' } as const;

/** Quotes a word for bash: nothing inside single quotes is expanded. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface QuickStartLines {
  curl: { createTask: string; recordInfo: string };
  cli: { create: string; get: string };
}

export function quickStartLines(baseUrl: string, apiKey: string): QuickStartLines {
  const origin = baseUrl.replace(/\/+$/, '');
  const auth = `-H ${shQuote(`Authorization: Bearer ${apiKey}`)}`;
  const body = JSON.stringify({ model: QUICK_START_MODEL, input: QUICK_START_INPUT });
  // Tolerates `"taskId": "…"` with spaces too, in case the server pretty-prints.
  const extract = `sed -n ${shQuote('s/.*"taskId" *: *"\\([^"]*\\)".*/\\1/p')}`;
  const createTask =
    `TASK_ID=$(curl -sS -X POST ${shQuote(`${origin}/api/v1/jobs/createTask`)} ${auth} ` +
    `-H 'Content-Type: application/json' -d ${shQuote(body)} | ${extract}); echo "TASK_ID=$TASK_ID"`;
  const recordInfo = `curl -sS ${auth} ${shQuote(`${origin}/api/v1/jobs/recordInfo?taskId=`)}"$TASK_ID"`;
  const connection = `--base-url ${shQuote(origin)} --api-key ${shQuote(apiKey)}`;
  return {
    curl: { createTask, recordInfo },
    cli: {
      create: `npx liangxin-gateway create ${QUICK_START_MODEL} --input ${shQuote(JSON.stringify(QUICK_START_INPUT))} --wait ${connection}`,
      get: `npx liangxin-gateway get "$TASK_ID" ${connection}`,
    },
  };
}
