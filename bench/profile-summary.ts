// Top self-time functions of a V8 .cpuprofile:
//   npx tsx bench/profile-summary.ts FILE.cpuprofile [N]
// Self time is the time a function itself was on the CPU (not its callees), summed over its call
// sites. Locations in node_modules are shortened to ~/package; locations in a bench bundle are
// mapped back to the source file through esbuild's `// path/to/file.ts` section markers.
import { existsSync, readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const bundles = new Map<string, Array<{ line: number; file: string }>>();

/** The source file a bundle line came from (the last `// src/…` marker above it). */
function sourceOf(path: string, line: number): string | undefined {
  let markers = bundles.get(path);
  if (!markers) {
    markers = [];
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const marker = /^\/\/ ((?:src|mock|bench)\/\S+\.ts)$/.exec(text);
        if (marker) markers!.push({ line: i, file: marker[1]! });
      });
    bundles.set(path, markers);
  }
  return markers.filter((m) => m.line <= line).at(-1)?.file;
}

function locate(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  if (path.includes('/node_modules/')) return `~/${path.replace(/^.*node_modules\//, '')}:${line + 1}`;
  if (path.endsWith('.mjs') && existsSync(path)) return sourceOf(path, line) ?? path;
  return `${path}:${line + 1}`;
}

export function topSelfTime(profile: Profile, limit = 30): Array<{ name: string; where: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  // Shares of busy time: the idle loop is not work.
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const busy = [...self.values()].reduce((a, b) => a + b, 0) - idle;
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const where = locate(url, lineNumber);
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  return [
    { name: '(busy, all functions)', where: `idle ${(idle / 1000).toFixed(0)} ms`, ms: busy / 1000, share: 1 },
    ...[...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, limit)
      .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: e.us / busy })),
  ];
}

/** Self time by package (node_modules), source file (src/, mock/) or Node internals: where to look first. */
export function selfTimeByOwner(profile: Profile, limit = 15): Array<{ owner: string; ms: number; share: number }> {
  const rows = topSelfTime(profile, Number.MAX_SAFE_INTEGER).slice(1);
  const busy = rows.reduce((a, r) => a + r.ms, 0);
  const owners = new Map<string, number>();
  for (const row of rows) {
    const owner = row.where.startsWith('~/')
      ? row.where
          .slice(2)
          .split('/')
          .slice(0, row.where.startsWith('~/@') ? 2 : 1)
          .join('/')
      : row.where.startsWith('node:')
        ? 'node internals (http, net, streams, events)'
        : row.where === ''
          ? `V8/native: ${row.name}`
          : row.where.replace(/:\d+$/, '');
    owners.set(owner, (owners.get(owner) ?? 0) + row.ms);
  }
  return [...owners]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([owner, ms]) => ({ owner, ms, share: ms / busy }));
}

/** A sampling heap profile (V8's HeapProfiler.stopSampling): allocation sites as a tree. */
export interface HeapProfile {
  head: HeapNode;
}
interface HeapNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated by function (self, not callees), largest first. */
export function topAllocations(profile: HeapProfile, limit = 25): Array<{ name: string; where: string; bytes: number; share: number }> {
  const byFunction = new Map<string, { name: string; where: string; bytes: number }>();
  let total = 0;
  const visit = (node: HeapNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = locate(url, lineNumber);
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, bytes: 0 };
    entry.bytes += node.selfSize;
    total += node.selfSize;
    byFunction.set(key, entry);
    node.children.forEach(visit);
  };
  visit(profile.head);
  return [...byFunction.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit)
    .map((e) => ({ ...e, share: e.bytes / total }));
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const [file, limit] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [N]');
  printProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(limit ?? 30));
}

export function printProfile(profile: Profile, limit = 30): void {
  console.log('by owner (self time):');
  for (const row of selfTimeByOwner(profile)) console.log(`${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.owner}`);
  console.log('top functions (self time):');
  for (const row of topSelfTime(profile, limit)) {
    console.log(`${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}  ${row.where}`);
  }
}
