import type { Db } from '../../db/connection.js';
import { countWindow } from './trace-reader.js';

/** How much an agent has been sending: for `flywheel agent list|show` and GET /api/agents. */
export interface AgentTraceActivity {
  /** When its newest stored trace started; null when none is stored. */
  lastTraceAt: Date | null;
  /** Traces started in the last 7 days: exact up to EXACT_COUNT_LIMIT, the planner's estimate above. */
  last7Days: { count: number; exact: boolean };
}

/**
 * Cheap on any table size: the newest trace is one backward step of each partition's
 * (agent_id, started_at) index, and a large week is estimated rather than counted.
 */
export async function agentTraceActivity(db: Db, agent: string, now: Date): Promise<AgentTraceActivity> {
  const [newest, last7Days] = await Promise.all([
    db
      .selectFrom('traces')
      .select('started_at')
      .where('agent_id', '=', agent)
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst(),
    countWindow(db, {
      agent,
      windowStart: new Date(now.getTime() - 7 * 86_400_000).toISOString(),
      windowEnd: now.toISOString(),
    }),
  ]);
  return { lastTraceAt: newest?.started_at ?? null, last7Days };
}
