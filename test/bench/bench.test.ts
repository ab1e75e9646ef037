// `npm run bench -- --quick` as a process, so the benchmark cannot rot: every scenario and figure
// is in the JSON, every number is a number, and the figures that are counts, not speeds (paced
// throughput, tasks created, errors), are exact. Speeds are only checked to be positive: this is a
// smoke run on whatever machine runs the tests, not a performance gate.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'lxg-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCENARIOS = ['upstream', 'proxy', 'gateway-embedded'];
const OPERATIONS = ['createTask', 'recordInfo-final', 'recordInfo-pending'];

const positive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;
const finite = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

describe('npm run bench -- --quick', () => {
  it('measures every scenario and figure and writes them as JSON', { timeout: 180_000 }, () => {
    const out = join(dir, 'quick.json');
    const started = Date.now();
    const run = spawnSync('npm', ['run', '--silent', 'bench', '--', '--quick', '--out', out], { encoding: 'utf8', timeout: 170_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const seconds = (Date.now() - started) / 1000;

    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.mode).toBe('quick');
    expect(results.machine.node).toBe(process.version);
    expect(positive(results.machine.cores)).toBe(true);
    expect(results.gatewayLogLevel).toBe('warn');
    expect(results.scenarios.map((s: { id: string }) => s.id)).toEqual(SCENARIOS);

    for (const operation of OPERATIONS) {
      for (const scenario of SCENARIOS) {
        const row = results.results.find((r: { operation: string; scenario: string }) => r.operation === operation && r.scenario === scenario);
        expect(row, `${operation} / ${scenario}`).toBeDefined();
        expect(row.errors, `${operation} / ${scenario} errors`).toBe(0);
        for (const figure of ['p50Ms', 'p99Ms', 'rps']) expect(positive(row[figure]), `${operation} / ${scenario} ${figure} = ${row[figure]}`).toBe(true);
        const base = scenario === 'upstream';
        for (const figure of ['addedP50Ms', 'addedP99Ms']) expect(base ? row[figure] === null : finite(row[figure]), `${operation} / ${scenario} ${figure}`).toBe(true);
        expect(base ? row.ratioToProxy === null : positive(row.ratioToProxy)).toBe(true);
      }
    }

    const { storedTasks, rss, paced } = results.scale;
    expect(storedTasks.storedTasks).toBeGreaterThanOrEqual(10_000);
    expect(storedTasks.errors).toBe(0);
    for (const figure of ['p50Ms', 'p99Ms', 'insertSeconds']) expect(positive(storedTasks[figure]), `storedTasks.${figure}`).toBe(true);
    for (const figure of ['addedP50Ms', 'addedP99Ms']) expect(finite(storedTasks[figure]), `storedTasks.${figure}`).toBe(true);
    expect(rss.tasks).toBe(5_000);
    expect(rss.errors).toBe(0);
    for (const figure of ['startMb', 'rssMb', 'peakMb']) expect(positive(rss[figure]), `rss.${figure}`).toBe(true);
    // Counts, not speeds: exact on any machine.
    expect(paced.map((p: { keys: number }) => p.keys)).toEqual([1, 2, 4]);
    for (const p of paced) {
      expect(p.perWindow, `${p.keys} keys`).toEqual([p.keys * 20]);
      expect(p.accepted).toBe(p.expected);
      expect(p.refused).toBeGreaterThan(0);
    }

    const targets = results.targets as Array<{ id: string; value: number; pass: boolean }>;
    expect(targets.map((t) => t.id)).toEqual(expect.arrayContaining(['createTask-added-p50', 'createTask-added-p99', 'stored-tasks-added-p99', 'rss', 'paced-1', 'paced-2', 'paced-4']));
    for (const t of targets) expect(finite(t.value), t.id).toBe(true);

    // The table went to stdout, with the machine facts first.
    expect(run.stdout).toMatch(/machine: node v\d+/);
    expect(run.stdout).toMatch(/gateway \(embedded\)/);
    console.log(`bench --quick took ${seconds.toFixed(0)} s`);
  });
});
