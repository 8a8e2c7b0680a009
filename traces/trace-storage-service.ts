import type { Db } from '../db/connection.js';
import { TraceWriter } from './store/trace-writer.js';

/**
 * Trace storage as the processes see it: the writer that ingest paths share (one per process,
 * so its partition cache is shared too), the day partitions the dev launcher prepares, and the
 * retention commands.
 */
export function createTraceWriter(db: Db): TraceWriter {
  return new TraceWriter(db);
}

export {
  dropExpiredTracePartitions,
  listTracePartitions,
  TracePartitions,
} from './store/trace-partitions.js';
