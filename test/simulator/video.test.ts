// Kling's MP4 lasts what `duration` asked for (it was always the 3 s asset). Read back here with
// a reader of its own, independent of mock/simulator/mp4.ts: the durations in mvhd, tkhd, mdhd
// and elst, the sample counts, a sync sample at the start of every repetition, and every sample
// inside the file. (Checked by hand with ffprobe and `ffmpeg -f null` too: 1, 3, 4, 5 and 15 s
// decode without an error; ffmpeg is not a test dependency.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { videoFor } from '../../mock/simulator/media.js';
import { loopMp4, Mp4LoopError } from '../../mock/simulator/mp4.js';
import { createLiangxinClient, parseResult } from '../../src/client/index.js';
import { packageRoot } from '../../src/spec/files.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Finds a box by path (`moov/trak`), the n-th of its type at the last step. */
function box(buf: Buffer, path: string, nth = 0, start = 0, end = buf.length): { body: number; end: number } {
  const [head, ...rest] = path.split('/');
  let seen = 0;
  for (let at = start; at < end; at += buf.readUInt32BE(at)) {
    if (buf.toString('latin1', at + 4, at + 8) !== head) continue;
    const found = { body: at + 8, end: at + buf.readUInt32BE(at) };
    if (rest.length > 0) return box(buf, rest.join('/'), nth, found.body, found.end);
    if (seen++ === nth) return found;
  }
  throw new Error(`no ${path}`);
}

interface Track {
  seconds: number;
  samples: number;
  syncSamples: number[] | undefined;
  tkhdMs: number;
  elstMs: number;
  /** [offset, total size] of its one chunk. */
  chunk: [number, number];
}

function readMp4(buf: Buffer) {
  const mvhd = box(buf, 'moov/mvhd');
  const movieScale = buf.readUInt32BE(mvhd.body + 12);
  const tracks: Track[] = [0, 1].map((n) => {
    const trak = box(buf, 'moov/trak', n);
    const inTrak = (path: string) => box(buf, path, 0, trak.body, trak.end);
    const mdhd = inTrak('mdia/mdhd');
    const stbl = (name: string) => inTrak(`mdia/minf/stbl/${name}`);
    const stsz = stbl('stsz');
    const samples = buf.readUInt32BE(stsz.body + 8);
    const sizes = Array.from({ length: samples }, (_, i) => buf.readUInt32BE(stsz.body + 12 + i * 4));
    let syncSamples: number[] | undefined;
    try {
      const stss = stbl('stss');
      syncSamples = Array.from({ length: buf.readUInt32BE(stss.body + 4) }, (_, i) => buf.readUInt32BE(stss.body + 8 + i * 4));
    } catch {
      syncSamples = undefined;
    }
    const stco = stbl('stco');
    expect(buf.readUInt32BE(stco.body + 4)).toBe(1); // one chunk
    return {
      seconds: buf.readUInt32BE(mdhd.body + 16) / buf.readUInt32BE(mdhd.body + 12),
      samples,
      syncSamples,
      tkhdMs: (buf.readUInt32BE(inTrak('tkhd').body + 20) / movieScale) * 1000,
      elstMs: (buf.readUInt32BE(inTrak('edts/elst').body + 8) / movieScale) * 1000,
      chunk: [buf.readUInt32BE(stco.body + 8), sizes.reduce((a, b) => a + b, 0)] as [number, number],
    };
  });
  return { movieMs: (buf.readUInt32BE(mvhd.body + 16) / movieScale) * 1000, video: tracks[0]!, audio: tracks[1]! };
}

const asset = readFileSync(join(packageRoot, 'mock/simulator/assets/video-16x9.mp4'));

describe('the simulator video', () => {
  it.each([1, 3, 5, 15])('lasts %i s, every table saying so', (seconds) => {
    const mp4 = videoFor('16:9', seconds);
    const { movieMs, video, audio } = readMp4(mp4);
    expect(movieMs).toBe(seconds * 1000);
    expect(video.seconds).toBe(seconds);
    expect(video.samples).toBe(seconds * 12); // 12 frames a second
    // The asset is one GOP of 36 frames: each repetition starts with its sync sample.
    expect(video.syncSamples).toEqual(Array.from({ length: Math.ceil((seconds * 12) / 36) }, (_, i) => 1 + i * 36));
    expect(audio.syncSamples).toBeUndefined();
    // The audio covers the length after the 1,024 priming samples its edit list skips.
    expect(audio.seconds).toBeGreaterThanOrEqual(seconds + 1024 / 44_100);
    expect(audio.seconds).toBeLessThan(seconds + (2 * 1024) / 44_100 + 1e-9);
    for (const track of [video, audio]) {
      expect(track.tkhdMs).toBe(seconds * 1000);
      expect(track.elstMs).toBe(seconds * 1000);
      expect(track.chunk[0] + track.chunk[1]).toBeLessThanOrEqual(mp4.length);
    }
    const mdat = box(mp4, 'mdat');
    expect(video.chunk[0]).toBe(mdat.body);
    expect(audio.chunk[0]).toBe(video.chunk[0] + video.chunk[1]);
    expect(audio.chunk[0] + audio.chunk[1]).toBe(mdat.end);
  });

  it('repeats the clip’s own frames: every repetition opens with the asset’s first frame', () => {
    const mp4 = videoFor('16:9', 7);
    // The asset's first video sample: where its first chunk starts, as long as stsz says.
    const offset = asset.readUInt32BE(box(asset, 'moov/trak/mdia/minf/stbl/stco').body + 8);
    const size = asset.readUInt32BE(box(asset, 'moov/trak/mdia/minf/stbl/stsz').body + 12);
    const idr = asset.subarray(offset, offset + size);
    let found = 0;
    for (let at = mp4.indexOf(idr); at !== -1; at = mp4.indexOf(idr, at + 1)) found++;
    expect(found).toBe(3); // 7 s = 2 whole repetitions of 3 s and a third one begun
  });

  it('clamps to the provider’s range, and leaves the cached asset alone', () => {
    expect(readMp4(videoFor('1:1', 40)).movieMs).toBe(15_000);
    expect(readMp4(videoFor('1:1', 0)).movieMs).toBe(1000);
    expect(readMp4(videoFor('9:16', Number.NaN)).movieMs).toBe(1000);
    const before = Buffer.from(asset);
    loopMp4(asset, 9);
    expect(asset.equals(before)).toBe(true);
  });

  it('refuses what it cannot loop, with a typed error', () => {
    expect(() => loopMp4(Buffer.from('not an mp4 at all'), 5)).toThrow(Mp4LoopError);
  });

  it('is what a Kling task serves, as long as its duration, or its shots', async () => {
    sim = await createSimulator();
    const client = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' });
    const lengthOf = async (input: Parameters<typeof client.createTask>[0]['input']) => {
      const { taskId } = await client.createTask({ model: 'kling-v3-pro', input } as Parameters<typeof client.createTask>[0]);
      const [url] = parseResult(await client.waitForTask(taskId, { initialDelayMs: 20 })).resultUrls;
      return readMp4(Buffer.from(await (await fetch(url!)).arrayBuffer())).movieMs;
    };
    expect(await lengthOf({ prompt: 'x', duration: 10, aspect_ratio: '9:16' })).toBe(10_000);
    expect(await lengthOf({ prompt: 'x' })).toBe(5000); // the provider's default
    expect(
      await lengthOf({
        multi_prompt: [
          { prompt: 'a', duration: 4 },
          { prompt: 'b', duration: 2 },
        ],
      }),
    ).toBe(6000);
  });
});
