// Makes a short MP4 clip last any whole number of seconds without an encoder: its samples are
// played again and again, by rewriting the `moov` sample tables, not by touching the pictures.
// This works because each asset's video is one closed GOP (one sync sample, the first; baseline
// H.264, so no frame refers forward): every repetition starts at an IDR frame, which a decoder
// needs nothing before. AAC frames decode on their own (a loop point may click: the overlap
// between frames is cut there). Checked with ffprobe and an ffmpeg decode (1 to 15 s, no
// error); test/simulator/video.test.ts reads the tables back.
// The result has one chunk per track (video samples, then audio), tables with one entry where
// the source's have one, and no sample groups (the AAC roll group only names the source's count).
// Only what the assets use is supported (version-0 boxes, one edit per track, no ctts); anything
// else is an Mp4LoopError, since the assets are ours and fixed.

export class Mp4LoopError extends Error {
  override readonly name = 'Mp4LoopError';
  readonly code = 'MP4_UNSUPPORTED' as const;
}

interface Box {
  type: string;
  /** A leaf's contents after the 8-byte header; containers have children instead. */
  payload?: Buffer;
  children?: Box[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);
/** Sample groups (AAC's roll group) count the source's samples; optional, so dropped. */
const DROPPED = new Set(['sgpd', 'sbgp', 'free']);

function parseBoxes(buf: Buffer, start = 0, end = buf.length): Box[] {
  const boxes: Box[] = [];
  for (let at = start; at < end; ) {
    const size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > end) throw new Mp4LoopError(`box ${type} at ${at}: size ${size} not supported`);
    boxes.push(CONTAINERS.has(type) ? { type, children: parseBoxes(buf, at + 8, at + size) } : { type, payload: buf.subarray(at + 8, at + size) });
    at += size;
  }
  return boxes;
}

function serialize(boxes: readonly Box[]): Buffer {
  return Buffer.concat(
    boxes.map((box) => {
      const body = box.children ? serialize(box.children) : box.payload!;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(body.length + 8);
      header.write(box.type, 4, 'latin1');
      return Buffer.concat([header, body]);
    }),
  );
}

function child(box: Box, type: string): Box {
  const found = box.children?.find((c) => c.type === type);
  if (!found) throw new Mp4LoopError(`no ${type} in ${box.type}`);
  return found;
}

const path = (box: Box, ...types: string[]) => types.reduce(child, box);

/** A full box's payload (version and flags first); only version 0 is supported. */
function v0(box: Box): Buffer {
  if (box.payload![0] !== 0) throw new Mp4LoopError(`${box.type} version ${box.payload![0]} not supported`);
  return box.payload!;
}

/** Version 0, no flags, then 32-bit words. */
function fullBox(type: string, words: readonly number[]): Box {
  const payload = Buffer.alloc(4 + words.length * 4);
  for (const [i, word] of words.entries()) payload.writeUInt32BE(word, 4 + i * 4);
  return { type, payload };
}

/** A table's entries (after version/flags and the count) as rows of `width` 32-bit words. */
function table(box: Box, width: number, countAt = 4): number[][] {
  const payload = v0(box);
  const count = payload.readUInt32BE(countAt);
  return Array.from({ length: count }, (_, i) => Array.from({ length: width }, (_, w) => payload.readUInt32BE(countAt + 4 + (i * width + w) * 4)));
}

interface TrackPlan {
  trak: Box;
  /** The samples played in a loop, and the duration each lasts in the track's timescale. */
  cycle: Buffer[];
  delta: number;
  /** Sample indices within the cycle that are sync samples; undefined when every one is. */
  sync: Set<number> | undefined;
  /** Samples in the result. */
  count: number;
}

function samplesOf(stbl: Box, source: Buffer): Buffer[] {
  const stsz = v0(child(stbl, 'stsz'));
  const fixed = stsz.readUInt32BE(4);
  const sizes = Array.from({ length: stsz.readUInt32BE(8) }, (_, i) => fixed || stsz.readUInt32BE(12 + i * 4));
  const offsets = table(child(stbl, 'stco'), 1).map(([offset]) => offset!);
  const runs = table(child(stbl, 'stsc'), 3);
  const samples: Buffer[] = [];
  offsets.forEach((offset, chunk) => {
    const run = runs.filter(([first]) => first! <= chunk + 1).at(-1)!;
    for (let i = 0, at = offset; i < run[1]! && samples.length < sizes.length; i++) {
      const size = sizes[samples.length]!;
      samples.push(source.subarray(at, at + size));
      at += size;
    }
  });
  return samples;
}

function planTrack(trak: Box, source: Buffer, seconds: number): TrackPlan {
  const mdia = child(trak, 'mdia');
  const stbl = path(mdia, 'minf', 'stbl');
  if (stbl.children!.some((c) => c.type === 'ctts' || c.type === 'co64')) throw new Mp4LoopError('ctts/co64 not supported');
  const timescale = v0(child(mdia, 'mdhd')).readUInt32BE(12);
  const samples = samplesOf(stbl, source);
  // The loop is the run of samples at the main pace; a short last one (AAC's tail) is left out.
  const [[cycleLength, delta]] = table(child(stbl, 'stts'), 2) as [[number, number]];
  const stss = stbl.children!.find((c) => c.type === 'stss');
  const sync = stss ? new Set(table(stss, 1).map(([n]) => n! - 1)) : undefined;
  if (sync && !sync.has(0)) throw new Mp4LoopError('the clip does not start with a sync sample');
  // Enough samples to cover the requested length after the edit list's skipped start (priming).
  const elst = table(path(trak, 'edts', 'elst'), 3);
  if (elst.length !== 1) throw new Mp4LoopError('one edit per track expected');
  const skipped = elst[0]![1]!;
  return { trak, cycle: samples.slice(0, cycleLength), delta, sync, count: Math.ceil((seconds * timescale + skipped) / delta) };
}

function rewriteTrack(plan: TrackPlan, offset: number, movieDuration: number): void {
  const { trak, cycle, delta, sync, count } = plan;
  const mdia = child(trak, 'mdia');
  const stbl = path(mdia, 'minf', 'stbl');
  const original = (i: number) => i % cycle.length;
  const tables: Record<string, Box> = {
    stts: fullBox('stts', [1, count, delta]),
    stsz: fullBox('stsz', [0, count, ...Array.from({ length: count }, (_, i) => cycle[original(i)]!.length)]),
    stsc: fullBox('stsc', [1, 1, count, 1]),
    stco: fullBox('stco', [1, offset]),
  };
  if (sync) {
    const indices = Array.from({ length: count }, (_, i) => i).filter((i) => sync.has(original(i)));
    tables.stss = fullBox('stss', [indices.length, ...indices.map((i) => i + 1)]);
  }
  stbl.children = stbl.children!.filter((c) => !DROPPED.has(c.type)).map((c) => tables[c.type] ?? c);
  v0(child(mdia, 'mdhd')).writeUInt32BE(count * delta, 16);
  v0(child(trak, 'tkhd')).writeUInt32BE(movieDuration, 20);
  v0(path(trak, 'edts', 'elst')).writeUInt32BE(movieDuration, 8);
}

/** `source` played for `seconds`: its samples repeated, its tables rewritten. */
export function loopMp4(source: Buffer, seconds: number): Buffer {
  // Copied: the durations are written in place, and the source is cached by the caller.
  const boxes = parseBoxes(Buffer.from(source)).filter((b) => !DROPPED.has(b.type) && b.type !== 'mdat');
  const moov = boxes.find((b) => b.type === 'moov');
  if (!moov || boxes[0]?.type !== 'ftyp') throw new Mp4LoopError('ftyp then moov expected');
  const mvhd = v0(child(moov, 'mvhd'));
  const movieDuration = Math.round(seconds * mvhd.readUInt32BE(12));
  mvhd.writeUInt32BE(movieDuration, 16);
  const plans = moov.children!.filter((c) => c.type === 'trak').map((trak) => planTrack(trak, source, seconds));
  const data = plans.map((p) => Buffer.concat(Array.from({ length: p.count }, (_, i) => p.cycle[i % p.cycle.length]!)));
  // The tables' sizes do not depend on the offsets in them: lay out once, then write the offsets.
  for (const plan of plans) rewriteTrack(plan, 0, movieDuration);
  let offset = serialize(boxes).length + 8;
  plans.forEach((plan, i) => {
    rewriteTrack(plan, offset, movieDuration);
    offset += data[i]!.length;
  });
  return serialize([...boxes, { type: 'mdat', payload: Buffer.concat(data) }]);
}
