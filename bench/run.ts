// `npm run bench [-- --quick] [-- --profile] [-- --out FILE] [-- --log-level LEVEL]`
// Starts the shared upstream (the simulator) and every scenario, measures them interleaved over
// several rounds, then the scale figures (recordInfo among many stored tasks, the gateway's RSS
// after many tasks, paced throughput), and prints one table (stdout) and writes the JSON.
// Progress goes to stderr so stdout is the table alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureRound, OPERATIONS, summarize, type Measured, type RoundFigures } from './measure.js';
import { buildChildren, startChild } from './processes/spawn.js';
import { GATEWAY, judge, machineFacts, render, writeResults, type BenchResults } from './report.js';
import { measurePacing } from './scale/pacing.js';
import { measureRss } from './scale/rss.js';
import { measureStoredTasks } from './scale/stored-tasks.js';
import { BASELINE, SCENARIOS } from './scenarios/index.js';
import type { BenchEnv } from './scenarios/types.js';
import { parseSettings } from './settings.js';

const settings = parseSettings(process.argv.slice(2));
const startedAt = new Date();
const loadAtStart = loadavg()[0]!;
const progress = (line: string) => process.stderr.write(`bench: ${line} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)\n`);

const tmpDir = mkdtempSync(join(tmpdir(), 'lxg-bench-'));
const removeBuild = await buildChildren(settings.profileDir);
const upstream = await startChild('simulator', 'simulator');
const env: BenchEnv = { settings, upstreamUrl: upstream.url, tmpDir };
const measured: Measured[] = [];

try {
  // Started side by side (nothing is measured yet); a scenario that fails to start still gets
  // the others closed.
  progress(`starting ${SCENARIOS.map((s) => s.label).join(', ')}`);
  const started = await Promise.allSettled(SCENARIOS.map((s) => s.start(env)));
  started.forEach((result, i) => {
    if (result.status === 'fulfilled') measured.push({ scenario: SCENARIOS[i]!.id, target: result.value });
  });
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;

  progress('warm-up round');
  await measureRound(measured, settings, 0, true);
  const rounds: RoundFigures[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    progress(`round ${round} of ${settings.rounds}`);
    rounds.push(await measureRound(measured, settings, round));
  }
  const results = summarize(rounds, SCENARIOS.map((s) => s.id));

  progress(`recordInfo among ${settings.storedTasks.toLocaleString('en-US')} stored tasks`);
  const targetOf = (id: string) => measured.find((m) => m.scenario === id)!.target;
  const storedTasks = await measureStoredTasks(targetOf(BASELINE), targetOf(GATEWAY), settings);
  const scenarioNotes = SCENARIOS.map((s) => ({ id: s.id, label: s.label, notes: targetOf(s.id).notes }));
  // The scenarios are done: stop them so what follows has the machine to itself.
  await Promise.all(measured.splice(0).map((m) => m.target.close()));

  progress(`gateway RSS over ${settings.rssTasks.toLocaleString('en-US')} createTask`);
  const rss = await measureRss(env);
  // After, not beside: its gateways share this process with the load generator, and a starved
  // event loop would fire too few createTask to reach the allowance within the window.
  progress(`paced throughput, ${settings.pacedFireMs / 1000} s`);
  const paced = await measurePacing(settings);

  const scale = { storedTasks, rss, paced };
  const report: BenchResults = {
    version: 1,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    mode: settings.mode,
    machine: machineFacts(loadAtStart),
    method: {
      rounds: settings.rounds,
      warmupRound: settings.warmupRound,
      warmupMs: settings.warmupMs,
      latencyConnections: settings.latencyConnections,
      latencyMs: settings.latencyMs,
      saturationConnections: settings.saturationConnections,
      saturationMs: settings.saturationMs,
      tasksPerKind: settings.tasksPerKind,
      profiled: settings.profileDir !== undefined,
    },
    gatewayLogLevel: settings.logLevel,
    scenarios: scenarioNotes,
    operations: OPERATIONS.map((op) => ({ id: op.id, label: op.label })),
    results,
    scale,
    targets: judge(results, scale),
  };
  process.stdout.write(`${render(report)}\n`);
  writeResults(settings.out, report);
  progress(`results in ${settings.out}`);
} finally {
  await Promise.all(measured.map((m) => m.target.close()));
  await upstream.stop();
  rmSync(tmpDir, { recursive: true, force: true });
  removeBuild();
}
