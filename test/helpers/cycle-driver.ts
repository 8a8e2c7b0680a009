import type { Client } from '@temporalio/client';
import { cycleStatus } from '../../cycles/cycle-service.js';
import type { CycleStage } from '../../schemas/cycle-input.js';
import type { CycleStatus } from '../../schemas/cycle-status.js';

/** Polls the status query until the cycle reaches one of `stages` (or fails loudly). */
export async function waitForStage(
  client: Client,
  cycleId: string,
  stages: CycleStage[],
  timeoutMs = 120_000,
): Promise<CycleStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: CycleStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await cycleStatus(client, cycleId);
      if (stages.includes(last.stage)) return last;
    } catch {
      // The first workflow task may not have run yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `cycle ${cycleId} did not reach ${stages.join('|')} within ${timeoutMs} ms; last stage ${last?.stage ?? 'unknown'}`,
  );
}
