// `npm run bench [-- --quick] [-- --profile] [-- --out FILE] [-- --log-level LEVEL]`
// Starts the shared upstream (the simulator) and every scenario, measures them interleaved over
// several rounds, then the scale figures (recordInfo among many stored tasks, Redis round trips
// per admission, the gateway's RSS after many tasks, paced throughput, tenants polling many tasks
// through one key, idle keep-alive connections, revocation across instances, the admission queue,
// result copies and SSE fan-out), and prints one table (stdout) and writes the JSON. A scenario
// whose services are missing is skipped, with its reason in the table. Progress goes to stderr
// so stdout is the table alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureRound, OPERATIONS, summarize, type Measured, type RoundFigures } from './measure.js';
import { buildChildren, startChild } from './processes/spawn.js';
import { GATEWAY, GATEWAY_REDIS, judge, machineFacts, render, writeResults, type BenchResults } from './report.js';
import { measureIdleConnections } from './scale/idle-connections.js';
import { measurePacing } from './scale/pacing.js';
import { measurePolling } from './scale/polling.js';
import { measureQueue } from './scale/queue.js';
import { measureResultsEvents } from './scale/results-events.js';
import { measureRevocation } from './scale/revocation.js';
import { measureRedisRoundTrips } from './scale/redis-round-trips.js';
import { measureRss } from './scale/rss.js';
import { measureStoredTasks } from './scale/stored-tasks.js';
import { BASELINE, SCENARIOS } from './scenarios/index.js';
import { ScenarioSkipped, type BenchEnv } from './scenarios/types.js';
import { parseSettings } from './settings.js';

const settings = parseSettings(process.argv.slice(2));
const startedAt = new Date();
const loadAtStart = loadavg()[0]!;
const progress = (line: string) => process.stderr.write(`bench: ${line} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)\n`);

const tmpDir = mkdtempSync(join(tmpdir(), 'lxg-bench-'));
const removeBuild = await buildChildren(settings.profileDir);
const upstream = await startChild('simulator', 'simulator');
const env: BenchEnv = { settings, upstreamUrl: upstream.url, upstreamPid: upstream.pid, tmpDir };
const measured: Measured[] = [];
const skipped: BenchResults['skipped'] = [];

try {
  // Started side by side (nothing is measured yet); a scenario that fails to start still gets
  // the others closed.
  progress(`starting ${SCENARIOS.map((s) => s.label).join(', ')}`);
  const started = await Promise.allSettled(SCENARIOS.map((s) => s.start(env)));
  started.forEach((result, i) => {
    const { id, label } = SCENARIOS[i]!;
    if (result.status === 'fulfilled') measured.push({ scenario: id, target: result.value });
    else if (result.reason instanceof ScenarioSkipped) skipped.push({ id, label, reason: result.reason.message });
  });
  for (const s of skipped) progress(`skipping ${s.label}: ${s.reason}`);
  const failed = started.find((result) => result.status === 'rejected' && !(result.reason instanceof ScenarioSkipped));
  if (failed?.status === 'rejected') throw failed.reason;
  const scenarios = SCENARIOS.filter((s) => measured.some((m) => m.scenario === s.id));

  progress('warm-up round');
  await measureRound(measured, settings, 0, true);
  const rounds: RoundFigures[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    progress(`round ${round} of ${settings.rounds}`);
    rounds.push(await measureRound(measured, settings, round));
  }
  const results = summarize(
    rounds,
    scenarios.map((s) => s.id),
  );

  progress(`recordInfo among ${settings.storedTasks.toLocaleString('en-US')} stored tasks`);
  const targetOf = (id: string) => measured.find((m) => m.scenario === id)?.target;
  const storedTasks = await measureStoredTasks(targetOf(BASELINE)!, targetOf(GATEWAY)!, settings);
  // On the measured gateway, before it stops: its scripts loaded, its tenant seeded, as in steady state.
  progress(`Redis round trips over ${settings.roundTripTasks.toLocaleString('en-US')} createTask`);
  const redisRoundTrips = await measureRedisRoundTrips(targetOf(GATEWAY_REDIS), settings, skipped.find((s) => s.id === GATEWAY_REDIS)?.reason);
  const scenarioNotes = scenarios.map((s) => ({ id: s.id, label: s.label, notes: targetOf(s.id)!.notes }));
  // The scenarios are done: stop them so what follows has the machine to itself.
  await Promise.all(measured.splice(0).map((m) => m.target.close()));

  progress(`gateway RSS over ${settings.rssTasks.toLocaleString('en-US')} createTask`);
  const rss = await measureRss(env);
  // After, not beside: its gateways share this process with the load generator, and a starved
  // event loop would fire too few createTask to reach the allowance within the window.
  progress(`paced throughput, ${settings.pacedFireMs / 1000} s`);
  const paced = await measurePacing(settings);

  progress('tenants polling many running tasks through one key');
  const polling = await measurePolling(env);
  progress('idle keep-alive connections');
  const idle = await measureIdleConnections(env);
  progress('revocation across two instances');
  const revocation = await measureRevocation(env);
  progress(`admission queue: a backlog on a manual clock, accept latency with ${settings.queue.queuedForAccept.toLocaleString('en-US')} queued`);
  const queue = await measureQueue(env);
  progress(`result copies, and task events to ${settings.results.sseListeners.toLocaleString('en-US')} SSE listeners`);
  const resultsEvents = await measureResultsEvents(env);

  const scale = { storedTasks, rss, paced, redisRoundTrips, polling, idle, revocation, queue, resultsEvents };
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
    skipped,
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
