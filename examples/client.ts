// Against `npm start` (it prints the base URL and a key), or any LiangXin API: the provider, the
// simulator (`npx liangxin-gateway simulate`, key sk-sim-dev) or a gateway.
//   LIANGXIN_BASE_URL=http://127.0.0.1:8080 LIANGXIN_API_KEY=sk-dev-… npx tsx examples/client.ts
import { createLiangxinClient, parseResult, LiangxinError } from 'liangxin-client';

const client = createLiangxinClient({
  baseUrl: process.env.LIANGXIN_BASE_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.LIANGXIN_API_KEY ?? '',
});

try {
  // The body's type narrows by `model`: a wrong enum, another model's field or an unknown
  // model is a compile error.
  const { taskId } = await client.createTask({
    model: 'kling-v3-pro',
    input: { prompt: 'A cinematic coffee commercial', aspect_ratio: '16:9', duration: 5, generate_audio: true },
  });
  // Polls the way the provider advises (from 2.5 s, backing off, honouring Retry-After). A real
  // Kling video takes minutes; the quick start's simulated one about 10 s.
  const record = await client.waitForTask(taskId, {
    timeoutMs: 15 * 60_000,
    onProgress: (r) => console.log(r.state, r.progress ?? ''),
  });
  const { state, resultUrls, failMsg } = parseResult(record);
  console.log(state === 'success' ? resultUrls : failMsg);
} catch (error) {
  // One error type whether the refusal came inside HTTP 200 or as a real HTTP error.
  if (error instanceof LiangxinError) console.error(error.code, error.msg, error.httpStatus);
  else throw error;
  process.exitCode = 1;
}
