// Child: the stateful simulator as "the upstream", configured never to refuse (rate limits and
// credits out of reach) with image tasks final at once and video tasks generating for a week, so
// the bench has final tasks (z-image) and non-final ones (kling-v3-pro) side by side.
import { createSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { serveChild } from './child.js';
import { SIMULATOR_OPTIONS } from '../scenarios/workload.js';

// A figure that needs the provider's real limits (the polling one) passes them in BENCH_SIMULATOR_OPTIONS.
const overrides = process.env.BENCH_SIMULATOR_OPTIONS ? (JSON.parse(process.env.BENCH_SIMULATOR_OPTIONS) as Partial<SimulatorOptions>) : {};
const sim = await createSimulator({ ...SIMULATOR_OPTIONS, ...overrides });
serveChild(sim.url, () => sim.close());
