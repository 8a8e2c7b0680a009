import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { AgentConfig } from '../schemas/agent-config.js';
import type { Db } from './connection.js';

export async function agentConfig(db: Db, agent: string): Promise<AgentConfig> {
  const row = await db.selectFrom('agents').select('config').where('id', '=', agent).executeTakeFirst();
  if (!row) {
    throw ApplicationFailure.nonRetryable(
      `Unknown agent "${agent}". Register it first (flywheel dev seeds "demo"; flywheel ingest creates agents from traces).`,
      'InvalidInput',
    );
  }
  return AgentConfig.parse(row.config);
}

export async function ensureAgent(
  db: Db,
  agent: string,
  config: z.input<typeof AgentConfig> | null = null,
): Promise<void> {
  await db
    .insertInto('agents')
    .values({ id: agent, config: JSON.stringify(AgentConfig.parse(config ?? {})) })
    .onConflict((oc) =>
      config
        ? oc.column('id').doUpdateSet({ config: JSON.stringify(AgentConfig.parse(config)) })
        : oc.column('id').doNothing(),
    )
    .execute();
}
