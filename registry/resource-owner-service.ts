import type { Db } from '../db/connection.js';
import { findQueue, itemQueueId } from '../annotation/store/annotation-reads.js';
import { findCycleAgent } from '../cycles/store/cycle-repository.js';
import { promptAgent } from './store/prompt-repository.js';
import { rolloutAgent } from '../release/store/rollout-repository.js';
import { traceAgent } from '../traces/store/trace-reader.js';
import { resolveVersion } from '../datasets/store/dataset-repository.js';
import { lineageOwner } from './store/lineage-owner.js';

/**
 * The agent that owns a prompt, cycle, rollout, queue, item, trace or lineage id: what authorization
 * checks a per-agent role or an agent token against. Undefined when there is no such thing.
 */
export const resourceOwners = {
  prompt: (db: Db, name: string) => promptAgent(db, name),
  cycle: (db: Db, id: string) => findCycleAgent(db, id),
  rollout: (db: Db, id: string) => rolloutAgent(db, id),
  queue: async (db: Db, id: string) => (await findQueue(db, id))?.agent_id,
  item: async (db: Db, id: string) => {
    const queueId = await itemQueueId(db, id);
    return queueId ? (await findQueue(db, queueId))?.agent_id : undefined;
  },
  trace: (db: Db, id: string) => traceAgent(db, id),
  /** A dataset version by id, dataset id or `<agent>/<name>`. */
  datasetVersion: async (db: Db, ref: string) => {
    try {
      return (await resolveVersion(db, ref)).agent_id;
    } catch {
      return undefined;
    }
  },
  /** Any id GET /api/lineage accepts: trace, cluster, annotation, example, candidate, gate report… */
  lineage: (db: Db, id: string) => lineageOwner(db, id),
};
