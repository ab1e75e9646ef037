// Type-level tests: `npm run typecheck` (run by test/types/typecheck.test.ts) compiles this file.
// Each `@ts-expect-error` line must be a compile error; if the client's types ever let one of
// them through, tsc reports the directive as unused and the test fails.
import { createLiangxinClient, type CreateTaskRequest, type ModelInput, type ModelName } from '../../src/client/index.js';

const client = createLiangxinClient({ baseUrl: 'http://127.0.0.1:4010', apiKey: 'k' });

export async function narrowing() {
  // Valid bodies for every kind of model compile; a field with a default may be left out.
  await client.createTask({ model: 'z-image', input: { prompt: 'x' } });
  await client.createTask({ model: 'z-image', callBackUrl: '', input: { prompt: 'x', image_size: 'square_hd', seed: 12345 } });
  await client.createTask({ model: 'seedream-v4-5', input: { prompt: 'x', aspect_ratio: 'widescreen_16_9' } });
  await client.createTask({ model: 'seedream-v4-5-edit', input: { prompt: 'x', image_urls: ['https://a.b/c.png'], aspect_ratio: '21:9' } });
  await client.createTask({ model: 'imagen4-fast', input: { prompt: 'x', num_images: '2', seed: 1 } });
  await client.createTask({ model: 'imagen4-ultra', input: { prompt: 'x', seed: 1, aspect_ratio: 'square_1_1' } });
  await client.createTask({ model: 'nano-banana-pro', input: { prompt: 'xy', resolution: 'low', reference_images: ['https://a.b/c.webp'] } });
  await client.createTask({ model: 'flux-2-pro', input: { prompt: 'x', width: 1024, height: 768 } });
  await client.createTask({ model: 'kling-v3-pro', callBackUrl: 'https://h.example.org', input: { prompt: 'x', duration: 5, cfg_scale: 0.5 } });
  await client.createTask({ model: 'kling-v3-pro', input: { multi_prompt: [{ prompt: 'x', duration: 3 }] } });

  // A wrong enum value.
  // @ts-expect-error '5:4' is not a Seedream aspect ratio
  await client.createTask({ model: 'seedream-v4-5', input: { prompt: 'x', aspect_ratio: '5:4' } });
  // @ts-expect-error 'jpg' is not a Nano Banana Pro output format (png only)
  await client.createTask({ model: 'nano-banana-pro', input: { prompt: 'xy', output_format: 'jpg' } });

  // A field of another model, or of the public API.
  // @ts-expect-error quality is the public API's Seedream field, not LiangXin's
  await client.createTask({ model: 'seedream-v4-5', input: { prompt: 'x', quality: 'high' } });
  // @ts-expect-error num_images belongs to Imagen 4 Fast, not Ultra
  await client.createTask({ model: 'imagen4-ultra', input: { prompt: 'x', num_images: '2' } });
  // @ts-expect-error Flux-2 Pro has no resolution on LiangXin
  await client.createTask({ model: 'flux-2-pro', input: { prompt: 'abc', resolution: '1K' } });

  // An unknown model, or a public API id.
  // @ts-expect-error dall-e-3 is not sold here
  await client.createTask({ model: 'dall-e-3', input: { prompt: 'x' } });
  // @ts-expect-error the public API's id; LiangXin's is seedream-v4-5
  await client.createTask({ model: 'seedream/4.5-text-to-image', input: { prompt: 'x' } });

  // A wrong type.
  // @ts-expect-error num_images is a string ("2"), not a number
  await client.createTask({ model: 'imagen4-fast', input: { prompt: 'x', num_images: 2 } });
  // @ts-expect-error Imagen 4 Ultra's seed is an integer
  await client.createTask({ model: 'imagen4-ultra', input: { prompt: 'x', seed: 'abc' } });
  // @ts-expect-error Kling's duration is a number
  await client.createTask({ model: 'kling-v3-pro', input: { prompt: 'x', duration: '5' } });

  // A missing required field.
  // @ts-expect-error an edit needs its images
  await client.createTask({ model: 'seedream-v4-5-edit', input: { prompt: 'x' } });

  // Exactly one of Kling's prompt kinds.
  // @ts-expect-error prompt and multi_prompt together
  await client.createTask({ model: 'kling-v3-pro', input: { prompt: 'x', multi_prompt: [{ prompt: 'y', duration: 3 }] } });
  // @ts-expect-error neither prompt nor multi_prompt
  await client.createTask({ model: 'kling-v3-pro', input: { duration: 5 } });
}

// Narrowing by model in the consumer's own code.
export function inputOf(body: CreateTaskRequest): string | undefined {
  if (body.model === 'imagen4-fast') return body.input.num_images; // typed as the enum
  if (body.model === 'kling-v3-pro') return 'prompt' in body.input ? body.input.prompt : undefined;
  // @ts-expect-error after narrowing to Z-Image there is no num_images
  if (body.model === 'z-image') return body.input.num_images;
  return undefined;
}

export const models: ModelName[] = ['z-image', 'kling-v3-pro', 'gemini-2.5-flash-image-preview'];
// @ts-expect-error not a model name
export const notAModel: ModelName = 'google/nano-banana';
export const klingInput: ModelInput<'kling-v3-pro'> = { prompt: 'x', generate_audio: false };
// @ts-expect-error Z-Image has no duration
export const zInput: ModelInput<'z-image'> = { prompt: 'x', duration: 5 };
