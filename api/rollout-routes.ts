import type { IncomingMessage } from 'node:http';
import type { Client } from '@temporalio/client';
import { controlRollout, rolloutState } from '../release/rollout-service.js';

const ACTIONS = {
  promote: 'promote',
  pause: 'pause',
  resume: 'resume',
  abort: 'abort',
  weight: 'setWeight',
} as const;

/**
 * GET /api/rollouts/:id (the rollout's live state) and POST /api/rollouts/:id/<action> for
 * promote, pause, resume, abort and weight. `:id` is the rollout's workflow ID or its cycle's.
 */
export async function handleRolloutRoute(
  deps: { temporal: Client },
  req: IncomingMessage,
  parts: string[],
  readJson: () => Promise<unknown>,
): Promise<{ status: number; body: unknown } | null> {
  if (parts[0] !== 'api' || parts[1] !== 'rollouts' || !parts[2]) return null;
  if (req.method === 'GET' && parts.length === 3)
    return { status: 200, body: await rolloutState(deps.temporal, parts[2]) };
  const action = ACTIONS[parts[3] as keyof typeof ACTIONS] as
    (typeof ACTIONS)[keyof typeof ACTIONS] | undefined;
  if (req.method === 'POST' && parts.length === 4 && action)
    return { status: 200, body: await controlRollout(deps.temporal, parts[2], action, await readJson()) };
  return null;
}
