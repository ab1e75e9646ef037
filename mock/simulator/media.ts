// Real result files, so a client can download what a task "generated": a PNG or JPEG of the
// requested aspect ratio for image models, a playable MP4 of the requested length for video.
// Images are drawn on first request and cached; they differ per task (the colours come from the
// task id). The MP4s in assets/ are 3 s H.264/AAC test patterns made once with
//   ffmpeg -f lavfi -i testsrc2=size=WxH:rate=12:duration=3 -f lavfi -i sine=frequency=440:duration=3 \
//          -c:v libx264 -profile:v baseline -pix_fmt yuv420p -crf 36 -c:a aac -b:a 24k -movflags +faststart
// (encoding video in JavaScript is out of scope for a mock), and looped to the requested length
// by mp4.ts: the test pattern's clock starts again every 3 s.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { packageRoot } from '../../src/spec/files.js';
import { loopMp4 } from './mp4.js';

export type ImageFormat = 'png' | 'jpeg';

/** The long side of a generated image, in pixels: small, so tests and benchmarks stay fast. */
const LONG_SIDE = 256;

/**
 * Width and height of a ratio (`16:9`, `1024:768`) or of a name that ends in one
 * (`widescreen_16_9`, `social_story_9_16`, `landscape_4_3`); a `portrait_` size names its ratio
 * long side first (`portrait_16_9` is 9:16). `auto`, `square_hd` or anything unreadable: 1:1.
 */
function ratioOf(shape: string): [number, number] {
  const match = /(\d+)[:_](\d+)$/.exec(shape);
  if (!match) return [1, 1];
  const [w, h] = [Number(match[1]), Number(match[2])];
  if (w <= 0 || h <= 0) return [1, 1];
  return shape.startsWith('portrait_') && w > h ? [h, w] : [w, h];
}

/** `16:9` → 256×144; `auto` or anything unreadable → square. */
export function dimensions(aspectRatio: string | undefined): { width: number; height: number } {
  const [w, h] = ratioOf(aspectRatio ?? '');
  return w >= h
    ? { width: LONG_SIDE, height: Math.max(1, Math.round((LONG_SIDE * h) / w)) }
    : { width: Math.max(1, Math.round((LONG_SIDE * w) / h)), height: LONG_SIDE };
}

/** A diagonal gradient between two colours derived from `seed`. */
export function renderImage(seed: string, aspectRatio: string | undefined, format: ImageFormat): Buffer {
  const { width, height } = dimensions(aspectRatio);
  const digest = createHash('sha256').update(seed).digest();
  const from = [digest[0]!, digest[1]!, digest[2]!];
  const to = [digest[3]!, digest[4]!, digest[5]!];
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      const offset = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[offset + c] = Math.round(from[c]! + (to[c]! - from[c]!) * t);
      data[offset + 3] = 255;
    }
  }
  if (format === 'jpeg') return jpeg.encode({ data, width, height }, 80).data;
  const png = new PNG({ width, height });
  data.copy(png.data);
  return PNG.sync.write(png);
}

/** The provider's range for Kling (3 to 15 s); a multi-shot sum past it is the provider's to refuse. */
export const VIDEO_SECONDS = { min: 1, max: 15 } as const;

const clips = new Map<string, Buffer>();
/** Per aspect ratio and length: at most 3 × 15 entries of tens of KB. */
const videos = new Map<string, Buffer>();

function clipFor(name: string): Buffer {
  let clip = clips.get(name);
  if (!clip) {
    clip = readFileSync(join(packageRoot, 'mock', 'simulator', 'assets', `video-${name}.mp4`));
    clips.set(name, clip);
  }
  return clip;
}

/** The MP4 closest to the requested aspect ratio (16:9, 9:16 or 1:1), `seconds` long (whole seconds, within VIDEO_SECONDS). */
export function videoFor(aspectRatio: string | undefined, seconds: number): Buffer {
  const [w, h] = ratioOf(aspectRatio ?? '16:9');
  const name = w < h ? '9x16' : w === h ? '1x1' : '16x9';
  const length = Math.min(VIDEO_SECONDS.max, Math.max(VIDEO_SECONDS.min, Math.round(Number.isFinite(seconds) ? seconds : VIDEO_SECONDS.min)));
  const key = `${name}/${length}`;
  let video = videos.get(key);
  if (!video) {
    video = loopMp4(clipFor(name), length);
    videos.set(key, video);
  }
  return video;
}
