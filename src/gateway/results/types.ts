// What the rest of the gateway sees of result copies (the context holds one): a seam of its own,
// so the context's type does not import the module that builds it (no import cycle).
import type { IncomingMessage } from 'node:http';
import type { TaskRecord } from '../../client/types.js';
import type { ApiResponse } from '../http/types.js';
import type { PresentedRecord } from './view.js';

export interface ResultCopies {
  /** The record as the tenant is shown it: a success with its copy's links; anything else as it is. */
  present(record: TaskRecord, taskId: string): Promise<PresentedRecord>;
  /** How long a task's callback waits for its copy, from now (0: send at once). */
  callbackHoldMs(record: TaskRecord): number;
  /** GET /results/{taskId}/{index} (the directory store's links); absent with S3. */
  serve?: (req: IncomingMessage, res: ApiResponse, rest: string, query: URLSearchParams) => Promise<void>;
  /** Deletes every copy expired by now; how many. */
  sweep(): Promise<number>;
  /** Starts the copy worker and the sweeper on this instance. */
  startWorkers(): { stop(): Promise<void> };
  close(): Promise<void>;
}
