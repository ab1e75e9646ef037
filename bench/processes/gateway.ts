// Child: the gateway as `serve` runs it (createGateway + listenGateway on its store, default
// process metrics on), configured by BENCH_GATEWAY_CONFIG (a ConfigInput as JSON). Logs go to
// /dev/null through pino's own destination, so the level decides the cost, not the terminal.
//   node --import tsx bench/processes/gateway.ts   (prints nothing; answers over IPC)
import { pino } from 'pino';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import { serveChild } from './child.js';
import { countSql, sqlCounts } from './sql-counts.js';

if (process.env.BENCH_SQL_COUNTS === '1') countSql();

const config = parseConfig(JSON.parse(process.env.BENCH_GATEWAY_CONFIG!) as ConfigInput);
const store = await openStore(config.store);
const destination = pino.destination({ dest: '/dev/null', sync: true }) as unknown as NodeJS.WritableStream;
const gateway = await createGateway(config, { store, logger: createLogger({ level: config.log.level, destination }) });
const running = await listenGateway(gateway, config.listen);

serveChild(
  running.url,
  async () => {
    await running.close({ graceMs: 100 });
    await store.close();
  },
  () => [...sqlCounts],
);
