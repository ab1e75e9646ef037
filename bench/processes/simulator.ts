// Child: the stateful simulator as "the upstream", configured never to refuse (rate limits and
// credits out of reach) with image tasks final at once and video tasks generating for a week, so
// the bench has final tasks (z-image) and non-final ones (kling-v3-pro) side by side.
import { createSimulator } from '../../mock/simulator/index.js';
import { serveChild } from './child.js';
import { SIMULATOR_OPTIONS } from '../scenarios/workload.js';

const sim = await createSimulator(SIMULATOR_OPTIONS);
serveChild(sim.url, () => sim.close());
